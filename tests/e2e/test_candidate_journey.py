"""A candidate's exam in real Chromium against a real Daphne server (R-TAKE-1…6, R-SEC-1).

Every test starts its own server on the test database; in Redis mode a real Celery worker
scores. The test reads the outcome back from the database: what the page shows must also be
what the server stored.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, expect

from exams.middleware import DEVICE_COOKIE
from exams.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    BlueprintEntry,
    Exam,
    ItemKind,
    ItemStatus,
    Response,
    Room,
    SubmittedBy,
    Topic,
)
from exams.services import attempt_start
from exams.services.bank import ItemContent, item_create
from grading.models import AttemptScore
from tests.factories import enrol, make_sitting

pytestmark = [pytest.mark.e2e]

ALL_SAVED = "All answers saved"
ANSWER_FIELDS = "#answer input, #answer textarea"  # options, a fill-in box or a free-text area
SAVE_TIMEOUT = 20_000  # ms: covers a reconnect after a server restart (back-off up to 5 s)


# --- the exam: two items of every kind, one with a picture --------------------------------------

def _options(*texts: str) -> list[dict[str, str]]:
    return [{"id": letter, "text": text} for letter, text in zip("ABCDE", texts, strict=True)]


def _diagram() -> ContentFile:
    image = Image.new("RGB", (480, 260), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, 472, 252], outline="#1f5f8b", width=3)
    points = [(40, 200), (120, 90), (200, 150), (280, 60), (360, 170), (440, 110)]
    draw.line(points, fill="#b3261e", width=4)
    for (x, y), letter in zip(points[1:], "ABCDE", strict=True):
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill="#1f5f8b")
        draw.text((x + 9, y - 18), letter, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name="pressure-curve.png")


def _contents() -> list[tuple[str, ItemContent]]:
    return [
        (ItemKind.SINGLE, ItemContent(
            stem="A 34-year-old presents with right iliac fossa pain for 18 hours, a temperature of 38.2 °C "
                 "and rebound tenderness. What is the most likely diagnosis?",
            options=_options("Acute cholecystitis", "Acute appendicitis", "Right renal colic",
                             "Ruptured ectopic pregnancy", "Mesenteric adenitis"),
            key=["B"])),
        (ItemKind.SINGLE, ItemContent(
            stem="The diagram shows the arterial pressure during induction of anaesthesia. "
                 "At which point was the vasopressor most likely given?",
            options=_options("Point A", "Point B", "Point C", "Point D", "Point E"), key=["C"], image=_diagram())),
        (ItemKind.MULTIPLE, ItemContent(
            stem="A 58-year-old has epigastric pain radiating to the back. Which investigations are indicated first?",
            options=_options("Serum lipase", "Diagnostic laparoscopy", "Upper endoscopy", "Abdominal ultrasound",
                             "Barium swallow"),
            key=["A", "D"])),
        (ItemKind.MULTIPLE, ItemContent(
            stem="Which drugs are part of a rapid sequence induction?",
            options=_options("Propofol", "Suxamethonium", "Metronidazole", "Rocuronium", "Omeprazole"),
            key=["A", "B", "D"])),
        (ItemKind.CAUSE_EFFECT, ItemContent(
            stem="Tranexamic acid is given within three hours of injury to a bleeding trauma patient.",
            reason="Tranexamic acid inhibits fibrinolysis.", key=["A"])),
        (ItemKind.CAUSE_EFFECT, ItemContent(
            stem="Suxamethonium is avoided in a patient with a crush injury of two weeks.",
            reason="Suxamethonium lowers the serum potassium.", key=["C"])),
        (ItemKind.FILL_IN, ItemContent(stem="The usual adult prophylactic dose of cefazolin is ____ g.", key=["2"])),
        (ItemKind.FILL_IN, ItemContent(stem="The eponym of the point one third of the way from the anterior "
                                            "superior iliac spine to the umbilicus is ____.", key=["McBurney"])),
        (ItemKind.FREE_TEXT, ItemContent(
            stem="Describe your assessment and first hour of management of a patient with haematemesis.",
            guide="Resuscitation; risk score; endoscopy timing; transfusion thresholds.")),
        (ItemKind.FREE_TEXT, ItemContent(
            stem="How do you obtain consent for an emergency laparotomy in a confused patient?",
            guide="Capacity; best interests; second opinion; documentation.")),
    ]


@pytest.fixture
def exam(transactional_db) -> Exam:
    topic = Topic.objects.create(code="surgery", name="General surgery")
    for n, (kind, content) in enumerate(_contents(), start=1):
        item_create(code=f"SURG-{n:04d}", topic=topic, kind=kind, content=content, status=ItemStatus.LIVE)
    exam = Exam.objects.create(code="surgeon-2026", title="Specialist surgeon — second grade, 2026",
                               item_count=10, duration_minutes=100)
    for kind in ItemKind.values:
        BlueprintEntry.objects.create(exam=exam, topic=topic, kind=kind, count=2)
    return exam


@pytest.fixture
def room(exam) -> Room:
    return Room.objects.create(sitting=make_sitting(exam), name="Room A", seats=20)


# --- helpers -----------------------------------------------------------------------------------

@dataclass(eq=False)  # compared and hashed by identity: one object per slot
class Slot:
    position: int
    kind: str
    option_order: list[str]
    key: list[str]

    def right(self) -> list[int]:
        """Return the display indexes of the right options."""
        return sorted(self.option_order.index(option_id) for option_id in self.key)

    def wrong(self) -> list[int]:
        """Return one display index that is not a right option."""
        return [next(i for i in range(len(self.option_order)) if i not in self.right())]

    def stored(self, value):
        """Return the value the server stores for what the page sent."""
        if isinstance(value, list):
            return sorted(self.option_order[i] for i in value) or None
        return value or None


def slots_of(attempt: Attempt) -> dict[str, list[Slot]]:
    """Return the attempt's slots by kind, in position order."""
    by_kind: dict[str, list[Slot]] = {kind: [] for kind in ItemKind.values}
    for slot in AttemptItem.objects.filter(attempt=attempt).select_related("item_version__item").order_by("position"):
        version = slot.item_version
        by_kind[version.item.kind].append(Slot(slot.position, version.item.kind, slot.option_order, version.key))
    return by_kind


def stored_answers(attempt: Attempt) -> dict[int, tuple[object, bool]]:
    """Return {position: (value, flagged)} of the Response rows the server stored."""
    return {
        r.attempt_item.position: (r.value, r.flagged)
        for r in Response.objects.filter(attempt=attempt).select_related("attempt_item")
    }


def device_context(new_context, server_url: str) -> tuple[BrowserContext, str]:
    """Return a browser context that carries a known device cookie, and the device id."""
    device = secrets.token_hex(16)
    context = new_context()
    context.add_cookies([{"name": DEVICE_COOKIE, "value": device, "url": server_url}])
    return context, device


class ExamPage:
    """The exam page, driven the way a candidate does: the overview, the options, the text boxes."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def wait_ready(self) -> ExamPage:
        expect(self.page.get_by_test_id("connection")).to_have_text("Online")
        return self

    def total(self) -> int:
        return self.page.locator("#grid .cell").count()

    def go(self, position: int) -> None:
        self.page.locator(f"#grid .cell[data-pos='{position}']").click()
        expect(self.page.locator("#item-title")).to_have_text(f"Item {position} of {self.total()}")

    def answer(self, slot: Slot, value) -> None:
        self.go(slot.position)
        if slot.kind in ItemKind.choice_kinds():
            boxes = self.page.locator("#answer input")
            for index in range(boxes.count()):
                box = boxes.nth(index)
                if index in value:
                    box.check()
                elif slot.kind == ItemKind.MULTIPLE and box.is_checked():
                    box.uncheck()
        else:
            self.page.locator(ANSWER_FIELDS).fill(value)

    def flag(self, slot: Slot) -> None:
        self.go(slot.position)
        self.page.locator("#flag").click()
        expect(self.page.locator("#flag")).to_have_attribute("aria-pressed", "true")

    def shown(self, slot: Slot):
        """Return the answer the page shows for a slot: display indexes or text."""
        self.go(slot.position)
        if slot.kind in ItemKind.choice_kinds():
            boxes = self.page.locator("#answer input")
            return [i for i in range(boxes.count()) if boxes.nth(i).is_checked()]
        return self.page.locator(ANSWER_FIELDS).input_value()

    def shown_flag(self, slot: Slot) -> bool:
        self.go(slot.position)
        return self.page.locator("#flag").get_attribute("aria-pressed") == "true"

    def wait_all_saved(self, timeout: float = SAVE_TIMEOUT) -> None:
        expect(self.page.get_by_test_id("save-state")).to_have_text(ALL_SAVED, timeout=timeout)


def expected_percent(right: int, choice_items: int) -> int:
    """Return the auto-scored percent: every item weighs the same; rounded down, as AttemptScore does."""
    return right * 100 // choice_items


# --- (1) log in, confirm, start, answer every kind, flag, reload -------------------------------

def test_answers_of_every_kind_and_a_flag_survive_reloads(live_server_proc, new_context, login, screenshot, alice, room):
    enrolment = enrol(room.sitting, room, alice, confirmed=False)
    page = new_context().new_page()
    page.goto(f"{live_server_proc.url}/login/")
    page.get_by_label("Username").fill("alice")
    screenshot(page, "login")
    login(page, "alice")

    card = page.locator(f"section.exam-card[data-enrolment='{enrolment.pk}']")
    expect(card.get_by_role("link", name="Confirm your name and grade")).to_be_visible()
    screenshot(page, "home")
    card.get_by_role("link", name="Confirm your name and grade").click()
    expect(page.get_by_test_id("full-name")).to_have_text("Alice Batbayar")
    expect(page.get_by_test_id("grade")).to_have_text(enrolment.grade)
    screenshot(page, "confirm-identity")
    page.get_by_role("button", name="Yes, this is me").click()
    expect(page.get_by_text("Thank you, your identity is confirmed.")).to_be_visible()
    page.locator(f"section.exam-card[data-enrolment='{enrolment.pk}']").get_by_role("button", name="Start the exam").click()
    exam_page = ExamPage(page).wait_ready()

    attempt = Attempt.objects.get(candidate=alice)
    device = next(c["value"] for c in page.context.cookies() if c["name"] == DEVICE_COOKIE)
    assert attempt.device_id == device and attempt.status == AttemptStatus.IN_PROGRESS
    assert exam_page.total() == 10
    slots = slots_of(attempt)
    single, multiple, cause = slots[ItemKind.SINGLE][0], slots[ItemKind.MULTIPLE][0], slots[ItemKind.CAUSE_EFFECT][0]
    fill_in, free_text = slots[ItemKind.FILL_IN][0], slots[ItemKind.FREE_TEXT][0]
    given = {
        single: single.right(),
        multiple: multiple.right(),
        cause: cause.wrong(),
        fill_in: "2 g",
        free_text: "Two wide-bore cannulas, bloods and cross-match;\nGlasgow-Blatchford score; endoscopy within 24 h.",
    }
    for slot in (single, multiple, cause, fill_in):
        exam_page.answer(slot, given[slot])
    exam_page.flag(multiple)
    exam_page.wait_all_saved()
    exam_page.go(multiple.position)
    screenshot(page, "exam-page")

    page.reload()
    ExamPage(page).wait_ready()
    # Reloaded right after typing: typing is sent in a burst 600 ms after the last key, so the
    # answer is usually still only in localStorage, and the reloaded page must send it.
    exam_page.answer(free_text, given[free_text])
    page.reload()
    exam_page.wait_ready()
    exam_page.wait_all_saved()

    for slot, value in given.items():
        assert exam_page.shown(slot) == value, f"item {slot.position} ({slot.kind}) after reload"
        assert exam_page.shown_flag(slot) == (slot is multiple)
    expect(page.get_by_test_id("n-answered")).to_have_text("5")
    expect(page.get_by_test_id("n-unanswered")).to_have_text("5")
    expect(page.get_by_test_id("n-flagged")).to_have_text("1")
    assert page.locator("#grid .cell.answered").count() == 5
    assert page.locator(f"#grid .cell.flagged[data-pos='{multiple.position}']").count() == 1
    assert stored_answers(attempt) == {slot.position: (slot.stored(value), slot is multiple) for slot, value in given.items()}


# --- (2) an outage on the candidate's side ------------------------------------------------------

@pytest.fixture
def running_attempt(live_server_proc, new_context, login, alice, room):
    """Return (attempt, page): Alice's attempt, started, open on her device's exam page."""
    context, device = device_context(new_context, live_server_proc.url)
    attempt = attempt_start(candidate=alice, enrolment_id=enrol(room.sitting, room, alice).pk, device_id=device)
    page = context.new_page()
    login(page, "alice")
    page.goto(f"{live_server_proc.url}/attempts/{attempt.pk}/")
    ExamPage(page).wait_ready()
    return attempt, page


def test_answers_given_offline_are_sent_when_the_connection_returns(live_server_proc, running_attempt, screenshot):
    attempt, page = running_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    single, multiple, fill_in, cause = (slots[ItemKind.SINGLE][0], slots[ItemKind.MULTIPLE][0],
                                        slots[ItemKind.FILL_IN][0], slots[ItemKind.CAUSE_EFFECT][0])
    exam_page.answer(single, single.right())
    exam_page.wait_all_saved()

    # Chromium's offline emulation blocks new connections but leaves an open WebSocket alone (see
    # the next test), so the server is stopped too: that closes the socket as a real outage would.
    page.context.set_offline(True)
    live_server_proc.server.stop()
    expect(page.get_by_test_id("connection")).to_have_text("Offline")
    exam_page.answer(multiple, multiple.right())
    exam_page.answer(fill_in, "2")
    exam_page.answer(single, single.wrong())  # a change of mind while offline
    banner = page.get_by_test_id("banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You are offline")
    expect(banner).to_contain_text("3 waiting")
    expect(page.get_by_test_id("save-state")).to_have_text("3 answers waiting to be sent")
    screenshot(page, "offline-banner")
    assert stored_answers(attempt) == {single.position: (single.stored(single.right()), False)}

    live_server_proc.server.start()
    page.context.set_offline(False)
    exam_page.wait_all_saved()
    expect(page.get_by_test_id("connection")).to_have_text("Online")
    expect(page.get_by_test_id("banner")).to_be_hidden()
    exam_page.answer(cause, cause.right())
    exam_page.wait_all_saved()
    assert stored_answers(attempt) == {
        single.position: (single.stored(single.wrong()), False),
        multiple.position: (multiple.stored(multiple.right()), False),
        fill_in.position: ("2", False),
        cause.position: (cause.stored(cause.right()), False),
    }


def test_the_page_notices_a_connection_that_died_without_closing(running_attempt):
    attempt, page = running_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    page.context.set_offline(True)  # the socket stays open in Chromium, but nothing gets through
    assert page.evaluate("navigator.onLine") is False
    exam_page.answer(slots[ItemKind.SINGLE][0], slots[ItemKind.SINGLE][0].right())
    expect(page.get_by_test_id("connection")).to_have_text("Offline", timeout=12_000)
    expect(page.get_by_test_id("banner")).to_contain_text("You are offline")


def test_an_idle_exam_page_keeps_its_socket(running_attempt):
    _attempt, page = running_attempt
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.reload()
    ExamPage(page).wait_ready()
    page.wait_for_timeout(12_000)  # a candidate reading a long item
    assert len(sockets) == 1 and not sockets[0].is_closed(), f"{len(sockets)} sockets opened while idle"


# --- (3) the server is killed and restarted ----------------------------------------------------

def test_answers_survive_a_server_killed_and_restarted(live_server_proc, running_attempt):
    attempt, page = running_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    single, single_2 = slots[ItemKind.SINGLE]
    multiple, multiple_2 = slots[ItemKind.MULTIPLE]
    cause, _ = slots[ItemKind.CAUSE_EFFECT]
    fill_in, fill_in_2 = slots[ItemKind.FILL_IN]
    free_text, _ = slots[ItemKind.FREE_TEXT]
    given = {}

    def give(slot, value):
        exam_page.answer(slot, value)
        given[slot] = value

    give(single, single.right())
    give(free_text, "Resuscitate first.")
    exam_page.wait_all_saved()

    # kill -9 right after an answer (its save may or may not have reached the database), then
    # keep answering while the server is down.
    give(multiple, multiple.right())
    live_server_proc.server.kill()
    expect(page.get_by_test_id("connection")).to_have_text("Offline")
    give(cause, cause.wrong())
    give(fill_in, "2")
    give(single, single.wrong())  # a newer answer to an item already stored
    give(free_text, "Resuscitate first, then endoscopy within 24 hours.")
    expect(page.get_by_test_id("save-state")).not_to_have_text(ALL_SAVED)
    live_server_proc.server.start()
    exam_page.wait_all_saved()
    expect(page.get_by_test_id("connection")).to_have_text("Online")

    # Once more, killed with a save in flight and restarted at once; more answers while the page reconnects.
    give(multiple_2, multiple_2.wrong())
    down_for = live_server_proc.server.restart_after_kill()
    give(single_2, single_2.right())
    give(fill_in_2, "McBurney")
    exam_page.wait_all_saved()
    expect(page.get_by_test_id("connection")).to_have_text("Online")

    assert stored_answers(attempt) == {slot.position: (slot.stored(value), False) for slot, value in given.items()}, (
        f"server was down for {down_for:.1f} s")
    for slot, value in given.items():
        assert exam_page.shown(slot) == value


# --- (4) finishing, and the auto-scored part at once ------------------------------------------

def test_finish_asks_for_confirmation_and_shows_the_auto_scored_percent(live_server_proc, running_attempt, screenshot):
    attempt, page = running_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    (single, single_2), (multiple, multiple_2) = slots[ItemKind.SINGLE], slots[ItemKind.MULTIPLE]
    cause, _unanswered = slots[ItemKind.CAUSE_EFFECT]
    # Right: one single, one multiple. Wrong: the other single, a cause-effect, and a multiple
    # with only some of its right options (all-or-nothing). One cause-effect left unanswered.
    exam_page.answer(single, single.right())
    exam_page.answer(single_2, single_2.wrong())
    exam_page.answer(multiple, multiple.right())
    exam_page.answer(multiple_2, multiple_2.right()[:1])
    exam_page.answer(cause, cause.wrong())
    for slot in slots[ItemKind.FILL_IN]:
        exam_page.answer(slot, "2")
    exam_page.answer(slots[ItemKind.FREE_TEXT][0], "History, examination, resuscitation.")
    exam_page.flag(cause)
    exam_page.wait_all_saved()

    page.get_by_role("button", name="Finish the exam…").click()
    dialog = page.locator("#finish-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#finish-summary")).to_have_text("You answered 8 of 10 items; 2 unanswered, 1 flagged.")
    screenshot(page, "finish-dialog")
    dialog.get_by_role("button", name="Go back to the exam").click()
    expect(dialog).to_be_hidden()
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS

    page.get_by_role("button", name="Finish the exam…").click()
    dialog.get_by_role("button", name="Finish and submit").click()
    page.wait_for_url(f"**/attempts/{attempt.pk}/result/")
    percent = expected_percent(right=2, choice_items=6)
    expect(page.get_by_test_id("auto-percent")).to_have_text(f"{percent} %", timeout=20_000)
    expect(page.get_by_test_id("awaiting")).to_contain_text("4 fill-in and free-text items (40 points)")
    screenshot(page, "result")

    attempt.refresh_from_db()
    assert (attempt.status, attempt.submitted_by) == (AttemptStatus.SCORED, SubmittedBy.CANDIDATE)
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.auto_points, score.auto_max_points, score.auto_percent()) == (Decimal(20), Decimal(60), percent)


# --- (5) time runs out: the server submits ----------------------------------------------------

def test_the_server_submits_when_time_runs_out(live_server_proc, running_attempt):
    attempt, page = running_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    single, cause = slots[ItemKind.SINGLE][0], slots[ItemKind.CAUSE_EFFECT][0]
    exam_page.answer(single, single.right())
    exam_page.wait_all_saved()

    # Bring the end near: the page learns the deadline from the server on load.
    deadline = timezone.now() + timedelta(seconds=6)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=deadline)
    page.reload()
    exam_page.wait_ready()
    expect(page.get_by_test_id("time-left")).to_have_text(re.compile(r"^00:0[0-6]$"))
    exam_page.answer(cause, cause.right())
    exam_page.wait_all_saved()
    assert timezone.now() < deadline, "the machine was too slow to answer before the deadline"

    expect(page.get_by_test_id("time-left")).to_have_text("Time is up", timeout=10_000)
    exam_page.go(slots[ItemKind.MULTIPLE][0].position)
    expect(page.locator(ANSWER_FIELDS).first).to_be_disabled()
    # Nobody presses Finish: the server submits once the deadline and the grace have passed.
    page.wait_for_url(f"**/attempts/{attempt.pk}/result/", timeout=20_000)
    expect(page.get_by_text("The time ran out; the server submitted every answer saved until then.")).to_be_visible()
    expect(page.get_by_test_id("auto-percent")).to_have_text(f"{expected_percent(right=2, choice_items=6)} %", timeout=20_000)

    attempt.refresh_from_db()
    assert attempt.submitted_by == SubmittedBy.CLOCK
    assert attempt.submitted_at <= attempt.answers_close_at()
    late = page.request.post(
        f"{live_server_proc.url}/attempts/{attempt.pk}/responses/",
        data={"changes": [{"pos": single.position, "seq": 10_000, "value": single.wrong()}]},
        headers={"X-CSRFToken": _csrf_token(page)},
    )
    assert late.ok and late.json()["results"][0]["ok"] is False
    assert stored_answers(attempt)[single.position] == (single.stored(single.right()), False)


def open_socket(page: Page, path: str) -> dict:
    """Return how a WebSocket the page opens to `path` ends within 5 s.

    {"code": the close code, or None if still open; "messages": how many the server sent}.
    """
    return page.evaluate(
        """(path) => new Promise((resolve) => {
             let messages = 0;
             const socket = new WebSocket(`ws://${location.host}${path}`);
             socket.onmessage = () => { messages += 1; };
             socket.onclose = (event) => resolve({ code: event.code, messages });
             setTimeout(() => { resolve({ code: null, messages }); socket.close(); }, 5000);
           })""",
        path,
    )


def _csrf_token(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


# --- (6) a second device locks the attempt; the administrator hands it over --------------------

def open_on_second_device(new_context, login) -> tuple[Page, str]:
    """Return Alice's exam page on another computer (another device cookie), and its device id."""
    second = new_context().new_page()
    login(second, "alice")
    second.get_by_role("link", name="Continue the exam").click()
    return second, next(c["value"] for c in second.context.cookies() if c["name"] == DEVICE_COOKIE)


def hand_over_to_new_device(live_server_proc, new_context, login, attempt: Attempt) -> None:
    """The administrator moves the locked attempt to the new device on /staff/locked/."""
    staff = new_context().new_page()
    login(staff, "admin")
    staff.goto(f"{live_server_proc.url}/staff/locked/")
    card = staff.locator(f"section[data-attempt='{attempt.pk}']")
    expect(card).to_contain_text("Alice Batbayar")
    card.get_by_label("Reason").fill("First laptop failed; identity checked on camera")
    card.get_by_role("button", name="Move to the new device").click()
    expect(staff.get_by_text(f"Attempt {attempt.pk} unlocked.")).to_be_visible()
    expect(staff.get_by_text("No attempt is locked.")).to_be_visible()


def test_a_second_device_locks_the_attempt_until_staff_hand_it_over(
    live_server_proc, new_context, login, screenshot, running_attempt, administrator,
):
    attempt, first = running_attempt
    slots = slots_of(attempt)
    single, multiple = slots[ItemKind.SINGLE][0], slots[ItemKind.MULTIPLE][0]
    ExamPage(first).answer(single, single.right())
    ExamPage(first).wait_all_saved()

    second, second_device = open_on_second_device(new_context, login)
    for page in (first, second):
        expect(page.get_by_test_id("overlay-text")).to_be_visible()
        expect(page.get_by_test_id("overlay-text")).to_contain_text("opened on a second device")
        expect(page.locator("#overlay-title")).to_have_text("This attempt is locked")
        expect(page.locator(ANSWER_FIELDS).first).to_be_disabled()
    screenshot(second, "lock-overlay")
    attempt.refresh_from_db()
    assert attempt.locked_at is not None and attempt.pending_device_id == second_device
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.DEVICE_REFUSED).exists()

    hand_over_to_new_device(live_server_proc, new_context, login, attempt)
    expect(second.locator("#overlay")).to_be_hidden()
    expect(first.get_by_test_id("overlay-text")).to_have_text("The exam staff moved this attempt to another device.")
    expect(first.locator(ANSWER_FIELDS).first).to_be_disabled()
    continued = ExamPage(second)
    assert continued.shown(single) == single.right()  # the first device's answer is there
    continued.answer(multiple, multiple.right())
    continued.wait_all_saved()
    attempt.refresh_from_db()
    assert (attempt.device_id, attempt.locked_at) == (second_device, None)
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.HANDED_OVER, actor=administrator).exists()
    assert stored_answers(attempt) == {
        single.position: (single.stored(single.right()), False),
        multiple.position: (multiple.stored(multiple.right()), False),
    }


def test_the_overlays_say_what_happened(live_server_proc, new_context, login, running_attempt, administrator):
    attempt, first = running_attempt
    second, _device = open_on_second_device(new_context, login)
    expect(second.locator("#overlay-title")).to_have_text("This attempt is locked")
    problems = []
    if second.locator("#overlay-link").is_visible():
        problems.append("the lock overlay offers 'See your result'")
    hand_over_to_new_device(live_server_proc, new_context, login, attempt)
    expect(first.get_by_test_id("overlay-text")).to_have_text("The exam staff moved this attempt to another device.")
    title = first.locator("#overlay-title").text_content()
    if title != "This attempt continues on another device":
        problems.append(f"the first device's overlay is titled {title!r} after the hand-over")
    if first.locator("#overlay-link").is_visible():
        problems.append("the 'moved' overlay offers 'See your result'")
    assert not problems, problems


# --- (7) one candidate never reaches another's attempt ---------------------------------------

def test_another_candidate_gets_404_for_the_attempt_its_data_and_its_pictures(
    live_server_proc, new_context, login, running_attempt, bob,
):
    attempt, alices_page = running_attempt
    picture = next(s for s in AttemptItem.objects.filter(attempt=attempt).select_related("item_version")
                   if s.item_version.image)
    base = f"{live_server_proc.url}/attempts/{attempt.pk}"
    image_url = f"{base}/items/{picture.position}/image/"
    # Alice herself reaches all of it.
    own = alices_page.request.get(image_url)
    assert own.status == 200 and own.headers["content-type"] == "image/png"
    assert alices_page.request.get(f"{base}/state/").status == 200

    page = new_context().new_page()
    login(page, "bob")
    headers = {"X-CSRFToken": _csrf_token(page)}
    for url in (f"{base}/", f"{base}/state/", f"{base}/result/", f"{base}/result/score/", image_url,
                f"{base}/items/1/image/"):
        assert page.request.get(url).status == 404, url
    save = page.request.post(f"{base}/responses/", data={"changes": [{"pos": 1, "seq": 99, "value": [0]}]}, headers=headers)
    assert save.status == 404
    assert page.request.post(f"{base}/finish/", headers=headers).status == 404
    socket = open_socket(page, f"/ws/attempt/{attempt.pk}/")
    assert socket["code"] == 4404 and socket["messages"] == 1, socket  # shut at once, told only the refusal
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.locked_at is None
    assert not Response.objects.filter(attempt=attempt).exists()



def test_a_refused_socket_tells_the_page_why(live_server_proc, new_context, login, running_attempt, bob):
    attempt, _page = running_attempt
    path = f"/ws/attempt/{attempt.pk}/"
    stranger = new_context().new_page()
    stranger.goto(f"{live_server_proc.url}/login/")
    signed_out = open_socket(stranger, path)
    login(stranger, "bob")
    foreign = open_socket(stranger, path)
    assert (signed_out["code"], foreign["code"]) == (4401, 4404), (signed_out, foreign)
    # Nothing but the refusal itself (which repeats the close code) reaches them.
    assert signed_out["messages"] == foreign["messages"] == 1
