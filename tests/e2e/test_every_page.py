"""Every page of every role, in English, Mongolian and Chinese (issue 12, points 1, 4 and 5).

One world per language: a board whose exam, items, rooms and people are written in that language,
with a candidate who has finished (result, complaint), one in the middle of the exam, one in a
proctored room's waiting room, a proctor, the committee (marking, a key correction, item analysis,
complaints), the oversight council and the exam staff. Each role signs in and opens each of its
pages with the language chosen on the switch's cookie. On every page:

- `<html lang>` is the language;
- axe-core finds no violation at WCAG 2.2 AA (tests/e2e/axe.py);
- in Mongolian and Chinese, the page shows no English word: the board's content is written in the
  language, so any Latin word left is the interface's (a few names are the same in every language:
  file formats, the time zone's IANA name, usernames, the switch's "English").

The candidate's exam page, the proctor's room and the marking screen are photographed per language
(docs/screenshots/languages/ when UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from playwright.sync_api import Browser, BrowserContext, Page, expect

from complaints.services import complaint_file
from exams.exporting import export_items
from exams.middleware import DEVICE_COOKIE
from exams.models import (
    AttemptItem,
    AttemptStatus,
    BlueprintEntry,
    Enrolment,
    Exam,
    Item,
    ItemKind,
    ItemStatus,
    Sitting,
    Topic,
    Upload,
)
from exams.services import attempt_start, enrolment_confirm_identity
from exams.services.bank import ItemContent, item_create
from exams.uploading.services import upload_check, upload_create
from grading.models import ItemScore
from grading.services import attempt_score
from grading.services.corrections import key_correction_preview
from grading.services.marking import assignment_set
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import DOCS_SCREENSHOTS, VIEWPORT
from tests.factories import PASSWORD, UserFactory, answer_every_item, grant, right_answer
from tests.servers import artifact_dir

pytestmark = pytest.mark.e2e

LANGUAGES = ["en", "mn", "zh-hans"]
ZONE = "Asia/Ulaanbaatar"
# Latin words a Mongolian or Chinese page may show: the time zone's IANA name, the language switch's
# "English" (each language is named in itself), the browser's name, a unit, keys and a format. Codes in capitals
# (PDF, CSV, KR-20, the committee's anonymous answer codes) are the same in every language too.
SAME_IN_EVERY_LANGUAGE = {
    "English",
    "Google",
    "Chrome",
    "Mbps",
    *re.findall(r"[A-Za-z]+", ZONE),
    # Keys as the keyboard names them (the admin's hint for a multiple choice), and the name of
    # Unix's schedule format (the admin's periodic tasks), which IT staff know by it.
    "Control",
    "Command",
    # The spreadsheet program's name and its files' extension, on the chair's download links.
    "Excel",
    "xlsx",
    # The other systems' formats and the files' extensions a keeper uploads (Excel's "Unicode
    # text" is what its menu calls it).
    "Moodle",
    "QTI",
    "GIFT",
    "XML",
    "CSV",
    "Unicode",
    *"json csv xml zip gift txt".split(),
    "Mac",
    "Crontab",
    "crontab",
}
CODE = re.compile(r"[A-Z]{2,6}")
# The finished attempt's device: the case file shows a device's first characters, which in a hex id
# could spell a Latin "word".
DIGITS_DEVICE = "0123456789" * 3 + "01"
# Chrome has no Mongolian interface: a Mongolian candidate's Chrome names its button in English, and
# the page quotes it as the candidate sees it.
CHROMES_OWN_WORDS = {"mn": {"Entire", "screen"}}

# The board's own words, per language: the exam, the places, five items, the people.
CONTENT = {
    "en": {
        "exam": "Specialist surgeon, second grade",
        "sitting": "Spring sitting",
        "proctored": "Spring sitting, proctored",
        "room": "Room A",
        "room2": "Room B",
        "centre": "Ulaanbaatar Medical Centre",
        "region": "Ulaanbaatar",
        "topic": "Surgical anatomy",
        "grade": "Specialist surgeon",
        "single": (
            "Which sign is most typical of acute appendicitis?",
            ["Right iliac fossa pain", "Headache", "Cough", "Itching", "Red eyes"],
        ),
        "multiple": (
            "Which of these are signs of peritonitis?",
            ["Guarding", "Rebound tenderness", "Earache", "Absent bowel sounds", "Hiccups"],
        ),
        "cause": ("Morphine eases the pain of renal colic.", "Morphine is an opioid analgesic."),
        "fill": ("The normal adult respiratory rate is about ____ breaths a minute.", "16"),
        "free": (
            "Describe the first hour of care of a patient with an upper gastrointestinal bleed.",
            "Airway, access, bloods, resuscitation, endoscopy.",
        ),
        "answer": "Airway first, then two large cannulas, bloods and fluids.",
        "grounds": "My camera froze for ten minutes and the proctor paused my exam; I lost my concentration.",
        "people": {
            "cand1": ("Saraa", "Bold"),
            "cand2": ("Tuya", "Gantulga"),
            "cand3": ("Anu", "Dorj"),
            "proctor": ("Sarnai", "Tseren"),
            "chair": ("Enkhtuya", "Oyun"),
            "watcher": ("Ganzorig", "Purev"),
            "staff": ("Naraa", "Ochir"),
        },
    },
    "mn": {
        "exam": "Мэс заслын их эмч, хоёрдугаар зэрэг",
        "sitting": "Хаврын шалгалт",
        "proctored": "Хаврын хяналттай шалгалт",
        "room": "А танхим",
        "room2": "Б танхим",
        "centre": "Улаанбаатарын Анагаахын төв",
        "region": "Улаанбаатар",
        "topic": "Мэс заслын анатоми",
        "grade": "Мэс заслын их эмч",
        "single": (
            "Мухар олгойн цочмог үрэвслийн хамгийн түгээмэл шинж аль нь вэ?",
            [
                "Хэвлийн баруун доод хэсгийн өвдөлт",
                "Толгой өвдөх",
                "Ханиалгах",
                "Арьс загатнах",
                "Нүд улайх",
            ],
        ),
        "multiple": (
            "Аль нь хэвлийн гялтангийн үрэвслийн шинж вэ?",
            [
                "Хэвлийн булчин чангарах",
                "Даралтыг гэнэт авахад өвдөх",
                "Чих өвдөх",
                "Гэдэсний дуу сонсогдохгүй",
                "Эхэлгэх",
            ],
        ),
        "cause": (
            "Морфин бөөрний хатгалгааны өвдөлтийг намдаана.",
            "Морфин бол опиоид өвдөлт намдаагч юм.",
        ),
        "fill": ("Насанд хүрэгчийн амьсгалын хэвийн тоо минутад ойролцоогоор ____ байна.", "16"),
        "free": (
            "Ходоод гэдэсний дээд хэсгийн цус алдалттай өвчтөний эхний нэг цагийн тусламжийг тайлбарла.",
            "Амьсгалын зам, судас, цусны шинжилгээ, сэхээн амьдруулах, дуран.",
        ),
        "answer": "Эхлээд амьсгалын зам, дараа нь хоёр том судасны гуурс, шинжилгээ, шингэн.",
        "grounds": "Миний камер арван минут гацаж, шалгагч багш шалгалтыг түр зогсоосон; би анхаарлаа алдсан.",
        "people": {
            "cand1": ("Сараа", "Болд"),
            "cand2": ("Туяа", "Гантулга"),
            "cand3": ("Ану", "Дорж"),
            "proctor": ("Сарнай", "Цэрэн"),
            "chair": ("Энхтуяа", "Оюун"),
            "watcher": ("Ганзориг", "Пүрэв"),
            "staff": ("Нараа", "Очир"),
        },
    },
    "zh-hans": {
        "exam": "外科主治医师资格考试",
        "sitting": "春季场次",
        "proctored": "春季场次（远程监考）",
        "room": "第一试室",
        "room2": "第二试室",
        "centre": "北京医学考试中心",
        "region": "北京",
        "topic": "外科解剖学",
        "grade": "外科主治医师",
        "single": (
            "急性阑尾炎最典型的体征是什么？",
            ["右下腹痛", "头痛", "咳嗽", "皮肤瘙痒", "眼睛发红"],
        ),
        "multiple": (
            "下列哪些是腹膜炎的体征？",
            ["腹肌紧张", "反跳痛", "耳痛", "肠鸣音消失", "打嗝"],
        ),
        "cause": ("吗啡可缓解肾绞痛。", "吗啡是阿片类镇痛药。"),
        "fill": ("成人正常呼吸频率约为每分钟____次。", "16"),
        "free": ("请叙述上消化道出血患者第一小时的处理。", "气道、静脉通路、抽血、复苏、内镜。"),
        "answer": "先保持气道通畅，再建立两条大静脉通路，抽血并补液。",
        "grounds": "我的摄像头卡住了十分钟，监考暂停了我的考试，我因此无法集中精神。",
        "people": {
            "cand1": ("小明", "王"),
            "cand2": ("静", "陈"),
            "cand3": ("娜", "李"),
            "proctor": ("伟", "张"),
            "chair": ("磊", "赵"),
            "watcher": ("芳", "刘"),
            "staff": ("军", "杨"),
        },
    },
}


@dataclass
class World:
    language: str
    exam: Exam
    sitting: Sitting
    proctored: Sitting
    pages: dict[str, list[str]] = field(default_factory=dict)  # username → the paths they open
    exam_page: tuple[str, str] = ("", "")  # (path, device id) of the attempt in progress
    marking: str = ""
    room: str = ""
    third: Enrolment | None = None  # confirms their details, then waits in the proctored sitting
    usernames: list[str] = field(default_factory=list)  # shown as they are in every language
    codes: list[str] = field(default_factory=list)  # of the exam, topic and items: identifiers too


def _items(topic: Topic, text: dict, suffix: str) -> None:
    letters = "ABCDE"

    def options(texts):
        return [{"id": letter, "text": t} for letter, t in zip(letters, texts, strict=True)]

    stem, texts = text["single"]
    item_create(
        code=f"s-{suffix}",
        topic=topic,
        kind=ItemKind.SINGLE,
        status=ItemStatus.LIVE,
        content=ItemContent(stem=stem, options=options(texts), key=["A"]),
    )
    stem, texts = text["multiple"]
    item_create(
        code=f"m-{suffix}",
        topic=topic,
        kind=ItemKind.MULTIPLE,
        status=ItemStatus.LIVE,
        content=ItemContent(stem=stem, options=options(texts), key=["A", "B", "D"]),
    )
    assertion, reason = text["cause"]
    item_create(
        code=f"c-{suffix}",
        topic=topic,
        kind=ItemKind.CAUSE_EFFECT,
        status=ItemStatus.LIVE,
        content=ItemContent(stem=assertion, reason=reason, key=["A"]),
    )
    stem, key = text["fill"]
    item_create(
        code=f"f-{suffix}",
        topic=topic,
        kind=ItemKind.FILL_IN,
        status=ItemStatus.LIVE,
        content=ItemContent(stem=stem, key=[key]),
    )
    stem, guide = text["free"]
    item_create(
        code=f"t-{suffix}",
        topic=topic,
        kind=ItemKind.FREE_TEXT,
        status=ItemStatus.LIVE,
        content=ItemContent(stem=stem, guide=guide),
    )


def _answers(text: dict):
    """Each slot's answer: the key, and the world's written answer for the free-text item."""
    return lambda slot: (
        text["answer"] if slot.item_version.item.kind == ItemKind.FREE_TEXT else right_answer(slot)
    )


def _checked_upload(language: str, keeper) -> Upload:
    """The bank exported and uploaded again, one item cut to three options: a preview to read."""
    folder = Path(tempfile.mkdtemp(prefix="every-page-"))
    export_items(folder / "bank.json")
    records = json.loads((folder / "bank.json").read_text())
    single = next(record for record in records if record["kind"] == "single")
    single["options"] = single["options"][:3]
    data = json.dumps(records, ensure_ascii=False).encode()
    with translation.override(language):
        upload = upload_create(
            kind=Upload.Kind.ITEMS, file=SimpleUploadedFile("bank.json", data), by=keeper
        )
        upload_check(upload.pk)
    shutil.rmtree(folder)
    return upload


def build_world(language: str) -> World:
    text = CONTENT[language]
    people = {
        username: UserFactory(username=username, first_name=given, last_name=family)
        for username, (given, family) in text["people"].items()
    }
    topic = Topic.objects.create(code="anatomy", name=text["topic"])
    _items(topic, text, "1")
    exam = Exam.objects.create(
        code="surgeon-2", title=text["exam"], item_count=5, duration_minutes=60, time_zone=ZONE
    )
    BlueprintEntry.objects.create(exam=exam, topic=topic, count=5)
    sitting = Sitting.objects.create(
        exam=exam,
        name=text["sitting"],
        starts_at=timezone.now() - timedelta(minutes=30),
        late_entry_minutes=120,
        proctored=False,
    )
    proctored = Sitting.objects.create(
        exam=exam,
        name=text["proctored"],
        starts_at=timezone.now() + timedelta(minutes=5),
        late_entry_minutes=60,
        proctored=True,
    )
    room = sitting.rooms.create(
        name=text["room"], test_centre=text["centre"], region=text["region"], seats=10
    )
    proctored_room = proctored.rooms.create(
        name=text["room2"], test_centre=text["centre"], region=text["region"], seats=10
    )
    proctored_room.proctors.add(people["proctor"])
    room.proctors.add(people["proctor"])

    def enrol(sitting_, room_, who, seat, *, confirmed=True):
        return sitting_.enrolments.create(
            room=room_,
            candidate=people[who],
            ticket_number=f"2026-{seat:04d}",
            seat=str(seat),
            grade=text["grade"],
            identity_confirmed_at=timezone.now() if confirmed else None,
        )

    # Candidate 1 finished: scored (the written answer waits for the committee) and filed a complaint.
    first = enrol(sitting, room, "cand1", 1)
    attempt = attempt_start(
        candidate=people["cand1"], enrolment_id=first.pk, device_id=DIGITS_DEVICE
    )
    answer_every_item(attempt, _answers(text))
    type(attempt).objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by="candidate"
    )
    attempt_score(attempt_id=attempt.pk)
    complaint = complaint_file(
        enrolment_id=first.pk, candidate=people["cand1"], kind="conduct", grounds=text["grounds"]
    )

    # Candidate 2 is in the middle of the exam, on a device of their own.
    device = secrets.token_hex(16)
    running = attempt_start(
        candidate=people["cand2"],
        enrolment_id=enrol(sitting, room, "cand2", 2).pk,
        device_id=device,
    )

    # Candidate 3 has not confirmed their details yet; they will, then wait for the proctored sitting.
    third = enrol(proctored, proctored_room, "cand3", 3, confirmed=False)

    # The committee: the chair marks, corrects keys, reads the analysis and hands out complaints.
    chair = people["chair"]
    grant(chair, "grading", "chair_marking", "mark_answers", "correct_keys", "view_item_analysis")
    grant(chair, "complaints", "view_complaint", "decide_complaint", "assign_complaint")
    written = (
        ItemScore.objects.filter(attempt=attempt, method="committee")
        .select_related("attempt_item__item_version")
        .first()
    )
    assignment_set(
        sitting_id=sitting.pk,
        item_id=written.attempt_item.item_version.item_id,
        user=chair,
        role="marker",
        assigned=True,
        by=chair,
    )
    single = AttemptItem.objects.filter(
        attempt=attempt, item_version__item__kind=ItemKind.SINGLE
    ).first()
    correction = key_correction_preview(
        item_version_id=single.item_version_id,
        action="change_key",
        accepted_keys=[["B"]],
        reason=text["grounds"][:40],
        by=chair,
    ).correction
    # The oversight council's member and the exam staff.
    grant(people["watcher"], "exams", "manage_oversight", "view_absentees")
    staff = people["staff"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    grant(staff, "signin", "clear_signinthrottle")
    admin = UserFactory(
        username="admin", first_name="", last_name="", is_staff=True, is_superuser=True
    )
    upload = _checked_upload(language, admin)

    world = World(language=language, exam=exam, sitting=sitting, proctored=proctored)
    world.exam_page = (f"/attempts/{running.pk}/", device)
    world.marking = (
        f"/grading/sittings/{sitting.pk}/items/{written.attempt_item.item_version.item_id}/mark/"
    )
    world.room = f"/proctoring/rooms/{proctored_room.pk}/"
    world.pages = {
        "cand1": [
            "/",
            f"/attempts/{attempt.pk}/result/",
            "/complaints/",
            f"/complaints/{complaint.reference}/",
            "/proctoring/check/",
        ],
        "cand3": [f"/enrolments/{third.pk}/confirm/"],
        "chair": [
            "/grading/",
            f"/grading/sittings/{sitting.pk}/",
            world.marking,
            "/grading/corrections/",
            f"/grading/corrections/{correction.pk}/",
            "/grading/analysis/",
            f"/grading/analysis/sittings/{sitting.pk}/",
            "/complaints/committee/",
            f"/complaints/committee/{complaint.reference}/",
        ],
        "watcher": [
            "/oversight/",
            f"/oversight/sittings/{sitting.pk}/",
            f"/oversight/sittings/{sitting.pk}/absentees/",
        ],
        "staff": ["/staff/locked/", "/staff/outages/", "/signin/staff/throttles/"],
        # The administrator's bank and schedule are Django's admin, with the project's models.
        "admin": [
            "/admin/",
            "/admin/exams/exam/",
            f"/admin/exams/exam/{exam.pk}/change/",
            "/admin/exams/enrolment/",
            "/admin/exams/item/",
            f"/admin/exams/sitting/{sitting.pk}/change/",
            "/staff/uploads/new/items/",
            "/staff/uploads/new/enrolment/",
            f"/staff/uploads/{upload.pk}/",
        ],
    }
    world.third = third
    world.usernames = [*people, "admin"]
    world.codes = [
        exam.code,
        topic.code,
        upload.name,  # the keeper's file name, shown as it is
        *Item.objects.values_list("code", flat=True),
    ]
    return world


# --- the browser -------------------------------------------------------------------------------------


ENGLISH_OR_LATIN = re.compile(r"[A-Za-z]{2,}")
SHOWN_TEXT = """() => {
  const texts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt], [aria-description]')) {
    for (const name of ['title', 'aria-label', 'placeholder', 'alt', 'aria-description']) {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name));
    }
  }
  for (const option of document.querySelectorAll('select option')) texts.push(option.textContent);
  for (const button of document.querySelectorAll('input[type=submit], input[type=button]')) texts.push(button.value);
  return texts.join('\\n');
}"""


def english_words(text: str, world: World) -> list[str]:
    """The Latin words of `text` that a page or mail in the world's language should not hold."""
    # Usernames and the codes of the exam, topic and items are identifiers, the same in every language.
    codes = {
        word for code in [*world.usernames, *world.codes] for word in ENGLISH_OR_LATIN.findall(code)
    }
    allowed = SAME_IN_EVERY_LANGUAGE | CHROMES_OWN_WORDS.get(world.language, set()) | codes
    return sorted(
        {w for w in ENGLISH_OR_LATIN.findall(text) if w not in allowed and not CODE.fullmatch(w)}
    )


CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    `${event.effectiveDirective} ${event.blockedURI || ''} ${event.sourceFile || ''}:${event.lineNumber}`);
});
"""


class Visitor:
    """One person's browser, in the world's language; checks each page it opens."""

    def __init__(
        self,
        browser: Browser,
        base: str,
        world: World,
        username: str,
        *,
        device: str | None = None,
        chosen: bool = True,
    ) -> None:
        """`chosen`: the world's language is already chosen on this browser (its cookie); else the
        browser asks for English and the person uses the switch."""
        self.base, self.world, self.username = base, world, username
        self.context: BrowserContext = browser.new_context(viewport=VIEWPORT, locale="en-GB")
        self.context.set_default_timeout(20_000)
        cookies = (
            [{"name": "django_language", "value": world.language, "url": base}] if chosen else []
        )
        if device:
            cookies.append({"name": DEVICE_COOKIE, "value": device, "url": base})
        self.context.add_cookies(cookies)
        # Every page is served with a Content-Security-Policy (issue 13): anything it refuses (an
        # inline script or style, a source from elsewhere) is a violation the page reports.
        self.context.add_init_script(CSP_LISTENER)
        self.page: Page = self.context.new_page()
        self.failures: list[str] = []
        # A script error is a page that does not work, in any language.
        self.page.on(
            "pageerror",
            lambda error: self.failures.append(
                f"[{world.language}] {username} {self.page.url}: {error}"
            ),
        )

    def sign_in(self) -> None:
        self.open("/login/")
        # By the fields' names, not their labels: the labels are in the page's language.
        self.page.fill("input[name=username]", self.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.press("input[name=password]", "Enter")
        self.page.wait_for_url(f"{self.base}/")

    def open(self, path: str, *, ready: str | None = None) -> Page:
        answer = self.page.goto(self.base + path)
        assert answer is not None and answer.ok, (
            f"{self.username} {path}: HTTP {answer.status if answer else '—'}"
        )
        policy = answer.headers.get("content-security-policy", "")
        if "script-src 'self'" not in policy or "unsafe-inline" in policy:
            self.failures.append(f"{self.username} {path}: Content-Security-Policy {policy!r}")
        if ready:
            self.page.wait_for_selector(ready)
        self.page.wait_for_load_state("networkidle")
        self.check(path)
        return self.page

    def check(self, path: str) -> None:
        """Note what is wrong with the page as it is now: its language, axe, English words."""
        where = f"[{self.world.language}] {self.username} {path}"
        for violation in self.page.evaluate("window.__cspViolations || []"):
            self.failures.append(f"{where}: Content-Security-Policy refused {violation}")
        self.page.evaluate("window.__cspViolations = []")
        lang = self.page.evaluate("document.documentElement.lang")
        if lang != self.world.language:
            self.failures.append(f"{where}: <html lang={lang!r}>")
        violations = axe_violations(self.page)
        if violations:
            self.failures.append(f"{where}: axe\n{describe(violations)}")
        if self.world.language != "en":
            english = english_words(self.page.evaluate(SHOWN_TEXT), self.world)
            if english:
                self.failures.append(f"{where}: English words {english[:15]}")

    def screenshot(self, name: str) -> None:
        path = artifact_dir("screenshots") / "languages" / f"{name}.{self.world.language}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path))
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            (DOCS_SCREENSHOTS / "languages").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / "languages" / path.name)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_every_role_is_in_the_language_and_passes_axe(
    live_server_proc, media_browser, language
):
    world = build_world(language)
    base = live_server_proc.url
    failures: list[str] = []

    anonymous = Visitor(media_browser, base, world, "cand1")
    anonymous.open("/login/")
    anonymous.screenshot("sign-in-page")
    failures += anonymous.failures

    for username, paths in world.pages.items():
        visitor = Visitor(media_browser, base, world, username)
        visitor.sign_in()
        for path in paths:
            visitor.open(path)
            if path == world.marking:
                visitor.screenshot("marking")
        failures += visitor.failures

    # The candidate confirms their details, then waits in the proctored sitting's waiting room.
    third = Visitor(media_browser, base, world, "cand3")
    third.sign_in()
    third.open(f"/enrolments/{world.third.pk}/confirm/")
    enrolment_confirm_identity(enrolment_id=world.third.pk, candidate=world.third.candidate)
    third.open(f"/proctoring/enrolments/{world.third.pk}/waiting-room/")
    failures += third.failures

    path, device = world.exam_page
    candidate = Visitor(media_browser, base, world, "cand2", device=device)
    candidate.sign_in()
    page = candidate.open(path, ready="#grid .cell")
    expect(page.locator("#conn.online")).to_be_visible()
    candidate.check(path + " (online)")
    candidate.screenshot("exam-page")
    failures += candidate.failures

    proctor = Visitor(media_browser, base, world, "proctor")
    proctor.sign_in()
    proctor.open("/proctoring/rooms/")
    proctor.open(world.room, ready=".tile")
    proctor.screenshot("proctor-room-live")
    failures += proctor.failures

    assert not failures, "\n".join(failures)
