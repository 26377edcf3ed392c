"""A candidate's whole exam in Mongolian and in Chinese, and the e-mails they get (issue 12).

The board enrols two candidates from its CSV file: one whose row names the language, one whose row
does not. The second signs in with the details of their e-mail (in English: they had not chosen),
switches to the language with the switch, confirms their details, sits the exam, finishes and,
once the results are published, reads the result. No page on the way shows an English word of the
interface, and every page passes axe. The first candidate's sign-in e-mail and the second's result
e-mail are in the language.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone, translation
from playwright.sync_api import expect

from exams.enrolling import enrolment_import
from exams.models import Attempt, BlueprintEntry, Exam, ItemKind, Sitting, Topic
from grading.models import AttemptScore
from tests.e2e.test_every_page import CONTENT, ZONE, Visitor, World, _items, english_words
from tests.factories import UserFactory
from tests.servers import running_worker

pytestmark = pytest.mark.e2e

# Scored by the machine alone (a fill-in answer, even one that matches, is confirmed by the committee).
AUTO_SCORED = (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.CAUSE_EFFECT)
# Left out of the check for English: links, and the password (random letters, in any language).
URL = re.compile(r"https?://\S+|\b[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}\b")


@pytest.fixture(scope="module")
def mail_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def celery_worker(request, django_db_setup, mail_folder):
    """The module's worker (and, through the same environment, its servers) write their e-mails to
    files: the result e-mail goes out from the worker in Redis mode, from the server otherwise."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
        patch.setenv("EMAIL_FILE_PATH", str(mail_folder))
        with running_worker(f"{request.module.__name__}-worker") as worker:
            yield worker


def _mails_to(address: str, mailoutbox, mail_folder) -> list[tuple[str, str]]:
    """(subject, body) of every e-mail to `address`: this process's outbox and the others' files."""
    found = [(m.subject, m.body) for m in mailoutbox if address in m.to]
    for path in sorted(mail_folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                message = message_from_bytes(chunk.strip(), policy=default_policy)
                if address in message.get("To", ""):
                    found.append((str(message["Subject"]).strip(), message.get_content()))
    return found


def _board(language: str) -> tuple[Sitting, World]:
    text = CONTENT[language]
    topic = Topic.objects.create(code="anatomy", name=text["topic"])
    _items(topic, text, "1")
    exam = Exam.objects.create(
        code="surgeon-2",
        title=text["exam"],
        item_count=len(AUTO_SCORED),
        duration_minutes=30,
        time_zone=ZONE,
    )
    for kind in AUTO_SCORED:
        BlueprintEntry.objects.create(exam=exam, topic=topic, kind=kind, count=1)
    sitting = Sitting.objects.create(
        exam=exam,
        name=text["sitting"],
        starts_at=timezone.now() - timedelta(minutes=5),
        late_entry_minutes=60,
        proctored=False,
    )
    sitting.rooms.create(
        name=text["room"], test_centre=text["centre"], region=text["region"], seats=10
    )
    world = World(
        language=language,
        exam=exam,
        sitting=sitting,
        proctored=sitting,
        usernames=["journey", "named", "chair"],
    )
    return sitting, world


def _enrol_from_the_boards_file(sitting: Sitting, language: str) -> None:
    text = CONTENT[language]
    (given, family), (given2, family2) = text["people"]["cand1"], text["people"]["cand2"]
    rows = (
        "ticket_number,username,given_name,family_name,email,room,seat,grade,language\n"
        f"2026-0001,journey,{given},{family},journey@example.org,{text['room']},1,{text['grade']},\n"
        f"2026-0002,named,{given2},{family2},named@example.org,{text['room']},2,{text['grade']},{language}\n"
    )
    enrolment_import(sitting=sitting, rows_source=rows)


def _label(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pytest.mark.parametrize("language", ["mn", "zh-hans"])
def test_a_candidate_switches_language_sits_the_exam_and_reads_the_result_in_it(
    live_server_proc, media_browser, mailoutbox, mail_folder, language
):
    for written in mail_folder.glob("*"):
        written.unlink()  # the module's other language wrote to the same addresses
    sitting, world = _board(language)
    base = live_server_proc.url
    _enrol_from_the_boards_file(sitting, language)

    # The row that named the language: the sign-in details come in it.
    ((subject, body),) = _mails_to("named@example.org", mailoutbox, mail_folder)
    assert subject == _label(language, "Your sign-in details for %(exam)s") % {
        "exam": world.exam.title
    }
    assert not english_words(URL.sub("", subject + body), world), body
    # The row that did not: in the site's language, English, with the password to sign in with.
    ((_subject, body),) = _mails_to("journey@example.org", mailoutbox, mail_folder)
    password = re.search(r"^Password: (\S+)$", body, re.MULTILINE).group(1)

    candidate = Visitor(media_browser, base, world, "journey", chosen=False)
    page = candidate.page
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "journey")
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The switch, by its name in the language itself.
    own_name = dict(settings.LANGUAGES)[language]
    page.get_by_role("button", name=own_name).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    candidate.check("/ (after the switch)")

    # Confirm the details, then start.
    page.locator("main a[href*='/confirm/']").click()
    page.wait_for_load_state("networkidle")
    candidate.check("confirm")
    page.locator("main button[value=yes]").click()
    page.wait_for_url(f"{base}/")
    candidate.check("/ (confirmed)")
    page.locator("main form[action*='/start/'] button").first.click()
    page.wait_for_selector("#grid .cell")
    expect(page.locator("#conn.online")).to_be_visible()
    candidate.check("exam page")

    # Every item answered with the mouse and keys as a candidate would, whatever the words.
    cells = page.locator("#grid .cell")
    for index in range(cells.count()):
        cells.nth(index).click()
        page.locator("#answer input[type=radio], #answer input[type=checkbox]").first.check()
    expect(page.locator("#save-state.saved")).to_be_visible()
    candidate.check("exam page, all answered")

    page.locator("#finish").click()
    expect(page.locator("#finish-dialog")).to_be_visible()
    candidate.check("finish dialog")
    page.locator("#finish-confirm").click()
    page.wait_for_url(re.compile(r"/attempts/\d+/result/"), timeout=30_000)
    page.wait_for_load_state("networkidle")
    candidate.check("result (waiting for publication)")

    # The board publishes once the entry has closed and the attempt is scored.
    attempt = Attempt.objects.get(candidate__username="journey")
    deadline = time.monotonic() + 60
    while not AttemptScore.objects.filter(attempt=attempt).exists():
        assert time.monotonic() < deadline, "the attempt was never scored"
        time.sleep(0.5)
    Sitting.objects.filter(pk=sitting.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    given, family = CONTENT[language]["people"]["chair"]
    chair = UserFactory(username="chair", first_name=given, last_name=family)
    chair.user_permissions.add(
        Permission.objects.get(content_type__app_label="grading", codename="chair_marking")
    )
    board = Visitor(media_browser, base, world, "chair")  # the chair reads the language too
    board.sign_in()
    board.open(f"/grading/sittings/{sitting.pk}/")
    board.page.get_by_test_id("publish").click()
    expect(board.page.get_by_test_id("publication")).to_be_visible()
    board.check("published")
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator("main")).to_contain_text("%")
    candidate.check("result (published)")

    # The result e-mail goes out in the language the candidate chose on the switch.
    deadline = time.monotonic() + 60
    while not (mails := _mails_to("journey@example.org", mailoutbox, mail_folder)[1:]):
        assert time.monotonic() < deadline, "no result e-mail"
        time.sleep(0.5)
    ((subject, body),) = mails
    assert subject == _label(language, "Your result: %(exam)s") % {"exam": world.exam.title}
    assert not english_words(URL.sub("", subject + body), world), body

    assert not candidate.failures + board.failures, "\n".join(candidate.failures + board.failures)
