"""The candidate's exam and result pages in real Chromium, as issue 10 found them wanting.

Typing survives a redraw (a proctor's extension, a network drop), the whole exam can be sat by
keyboard alone, an extension is told with its reason and new end, the chat stays usable while
the exam is paused, a practice result says what a practice is, a published result page runs
without a script error, and axe finds nothing on the exam page (R-TAKE-4, R-TAKE-5, R-TAKE-7).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from exams.models import Attempt, AttemptItem, AttemptStatus, BlueprintEntry, ItemKind
from exams.services import AnswerChange, attempt_start, practice_attempt_start, responses_save
from grading.services import attempt_score, sitting_results_publish
from proctoring import services as proctoring
from proctoring.models import Message, RoomSession
from tests.e2e import test_candidate_journey as journey
from tests.e2e.axe import axe_violations, describe
from tests.e2e.test_candidate_journey import (
    ExamPage,
    _csrf_token,
    device_context,
    slots_of,
    stored_answers,
)
from tests.factories import UserFactory, enrol, make_bank, make_exam, make_sitting

pytestmark = [pytest.mark.e2e]

# The journey's exam (two items of every kind, one with a picture), its room, and Alice's attempt
# open on her exam page.
exam = journey.exam
room = journey.room
running_attempt = journey.running_attempt

ACTIVE = """() => { const e = document.activeElement;
  return { tag: e.tagName, id: e.id, type: e.type || '', cls: String(e.className || ''),
           inAnswer: !!e.closest('#answer'), index: e.closest('#answer') ? [...document.querySelectorAll('#answer input, #answer textarea')].indexOf(e) : -1,
           start: e.selectionStart ?? null, end: e.selectionEnd ?? null }; }"""


def active(page: Page) -> dict:
    """Return what has the keyboard focus."""
    return page.evaluate(ACTIVE)


def press_until(page: Page, key: str, wanted, *, limit: int = 20) -> dict:
    """Press `key` until the focused element satisfies `wanted`; fail after `limit` presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = active(page)
        if wanted(now):
            return now
        seen.append(f"{now['tag']}#{now['id']}.{now['cls']}")
    raise AssertionError(f"{limit} × {key} never reached the element; focus went {seen}")


@pytest.fixture
def proctor(live_server_proc, new_context, login, room) -> Page:
    """A signed-in proctor of Alice's room, acting through the same endpoints as the room page."""
    room.proctors.add(UserFactory(username="proctor_a", first_name="Pat", last_name="Proctor"))
    page = new_context().new_page()
    login(page, "proctor_a")
    return page


def proctor_action(proctor: Page, base: str, attempt: Attempt, action: str, **body) -> None:
    response = proctor.request.post(
        f"{base}/proctoring/attempts/{attempt.pk}/{action}/",
        data=body,
        headers={"X-CSRFToken": _csrf_token(proctor)},
    )
    assert response.ok and response.json()["ok"], response.text()


# --- point 1: a redraw never takes the field being edited ---------------------------------------


def test_typing_goes_on_while_the_proctor_extends(live_server_proc, running_attempt, proctor):
    """Issue 10, point 1: the proctor extends while the candidate types a free-text answer;
    focus and caret stay in the field and every character typed reaches the server."""
    attempt, page = running_attempt
    exam_page = ExamPage(page)
    free_text = slots_of(attempt)[ItemKind.FREE_TEXT][0]
    exam_page.go(free_text.position)
    field = page.locator("#answer textarea")
    field.click()
    end_before = page.get_by_test_id("end-time").inner_text()
    first = "Airway, breathing, circulation; "
    page.keyboard.type(first, delay=15)
    proctor_action(
        proctor,
        live_server_proc.url,
        attempt,
        "extend",
        minutes=10,
        reason="Lost time to a power cut",
    )
    second = "two wide-bore cannulas, bloods and cross-match, then endoscopy within 24 hours."
    page.keyboard.type(second, delay=35)  # ~3 s: the new clock arrives while the keys go in
    expect(page.get_by_test_id("end-time")).not_to_have_text(end_before)  # the redraw did happen
    third = " Reassess."
    page.keyboard.type(third, delay=15)
    typed = first + second + third

    exam_page.wait_all_saved()
    focus = active(page)
    assert (focus["tag"], focus["inAnswer"]) == ("TEXTAREA", True), f"focus went to {focus}"
    assert focus["start"] == focus["end"] == len(typed), "the caret moved"
    assert field.input_value() == typed
    assert stored_answers(attempt)[free_text.position] == (typed, False)


def test_the_field_keeps_focus_and_text_through_a_pause_and_resume(
    live_server_proc, running_attempt, proctor
):
    """Issue 10, point 1: a pause and a resume redraw the item; the free-text field keeps the
    focus and the caret (read-only while paused), and typing goes on after the resume."""
    attempt, page = running_attempt
    exam_page = ExamPage(page)
    free_text = slots_of(attempt)[ItemKind.FREE_TEXT][1]
    exam_page.go(free_text.position)
    field = page.locator("#answer textarea")
    field.click()
    first = "Capacity is assessed first; "
    page.keyboard.type(first, delay=15)
    proctor_action(proctor, live_server_proc.url, attempt, "pause", reason="Checking the room")
    expect(page.get_by_test_id("overlay-text")).to_contain_text("Checking the room")
    focus = active(page)
    assert (focus["tag"], focus["inAnswer"], focus["start"]) == ("TEXTAREA", True, len(first)), (
        f"paused: focus on {focus}"
    )
    proctor_action(proctor, live_server_proc.url, attempt, "resume")
    expect(page.locator("#overlay")).to_be_hidden()
    second = "then best interests, with a second consultant."
    page.keyboard.type(second, delay=15)

    exam_page.wait_all_saved()
    assert field.input_value() == first + second
    assert stored_answers(attempt)[free_text.position] == (first + second, False)
    expect(page.get_by_test_id("notice")).to_contain_text("The exam continues")


def test_typing_goes_on_across_a_network_drop(running_attempt):
    """Issue 10, point 1: the network drops for 1.5 s while the candidate types a fill-in answer;
    the page reconnects and redraws, and not one character is lost."""
    attempt, page = running_attempt
    exam_page = ExamPage(page)
    fill_in = slots_of(attempt)[ItemKind.FILL_IN][0]
    exam_page.go(fill_in.position)
    field = page.locator("#answer input[type=text]")
    field.click()
    typed = "McBurney "
    page.keyboard.type(typed, delay=15)

    page.context.set_offline(True)
    dropped = time.monotonic()
    words = iter(f"w{n} " for n in range(1000))
    while time.monotonic() - dropped < 1.5:
        word = next(words)
        page.keyboard.type(word, delay=20)
        typed += word
    page.context.set_offline(False)
    # Keep typing until the page is back online and has had the server's state (which redraws).
    back = time.monotonic()
    while (
        page.get_by_test_id("connection").inner_text() != "Online" and time.monotonic() - back < 20
    ):
        word = next(words)
        page.keyboard.type(word, delay=20)
        typed += word
    for _ in range(5):
        word = next(words)
        page.keyboard.type(word, delay=30)
        typed += word

    exam_page.wait_all_saved()
    focus = active(page)
    assert (focus["tag"], focus["inAnswer"]) == ("INPUT", True), f"focus went to {focus}"
    assert focus["start"] == len(typed), "the caret moved"
    assert field.input_value() == typed
    assert stored_answers(attempt)[fill_in.position] == (typed, False)


# --- point 2: the whole exam by keyboard -------------------------------------------------------


def test_a_whole_exam_sat_by_keyboard_alone(live_server_proc, running_attempt):
    """Issue 10, point 2: a skip link leads to the answer; arrows in an option group act as the
    platform's (radios move, checkboxes stay) and never change the item; moving to an item puts
    focus on it; the exam is answered, flagged and finished with keys only, and stored so."""
    attempt, page = running_attempt
    slots = {
        slot.position: slot for kind_slots in slots_of(attempt).values() for slot in kind_slots
    }
    total = len(slots)
    page.reload()  # a fresh page: focus starts at the top
    ExamPage(page).wait_ready()
    title = page.locator("#item-title")
    expect(title).to_have_text(f"Item 1 of {total}")

    link = press_until(page, "Tab", lambda f: f["tag"] == "A", limit=3)
    assert "skip" in link["cls"], f"the first link is not a skip link: {link}"
    page.keyboard.press("Enter")
    assert active(page)["inAnswer"], f"the skip link led to {active(page)}"

    given, flagged = {}, set()
    for position in range(1, total + 1):
        slot = slots[position]
        expect(title).to_have_text(f"Item {position} of {total}")
        focus = active(page)
        if position > 1:
            assert focus["id"] == "item-title", (
                f"moving to item {position} left the focus on {focus}"
            )
            focus = press_until(page, "Tab", lambda f: f["id"] == "flag", limit=2)
            if position % 4 == 0:
                page.keyboard.press("Space")
                flagged.add(position)
                expect(page.locator("#flag")).to_have_attribute("aria-pressed", "true")
            focus = press_until(page, "Tab", lambda f: f["inAnswer"], limit=2)
        assert focus["index"] == 0, f"item {position}: the first answer field is not first: {focus}"

        if slot.kind in (ItemKind.SINGLE, ItemKind.CAUSE_EFFECT):
            choice = slot.right()[0] if position % 2 else slot.wrong()[0]
            if choice == 0:
                page.keyboard.press("Space")
            for _ in range(choice):
                page.keyboard.press("ArrowDown")
            # The platform's radio group: → moves to the next option and ← back; the item stays.
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowLeft")
            expect(title).to_have_text(f"Item {position} of {total}")
            focus = active(page)
            assert focus["inAnswer"] and focus["index"] == choice, (
                f"item {position}: arrows took the focus to {focus}"
            )
            given[position] = [choice]
        elif slot.kind == ItemKind.MULTIPLE:
            choices = slot.right()
            for index in range(5):
                if index in choices:
                    page.keyboard.press("Space")
                page.keyboard.press("ArrowRight")  # a checkbox ignores arrows
                expect(title).to_have_text(f"Item {position} of {total}")
                focus = active(page)
                assert focus["inAnswer"] and focus["index"] == index, (
                    f"item {position}: → took the focus to {focus}"
                )
                if index < 4:
                    page.keyboard.press("Tab")
            given[position] = choices
        else:
            text = f"Answer {position} typed by keyboard; arrows ← → stay in the text."
            page.keyboard.type(text)
            given[position] = text
        expect(
            page.locator("#answer :is(input:checked, input[type=text], textarea)").first
        ).to_be_attached()

        if position < total:
            press_until(page, "Tab", lambda f: f["id"] == "next", limit=6)
            page.keyboard.press("Enter")

    press_until(page, "Shift+Tab", lambda f: f["id"] == "finish", limit=8)
    page.keyboard.press("Enter")
    expect(page.locator("#finish-dialog")).to_be_visible()
    expect(page.locator("#finish-summary")).to_contain_text(
        f"You answered {total} of {total} items"
    )
    press_until(page, "Tab", lambda f: f["id"] == "finish-confirm", limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/attempts/{attempt.pk}/result/", timeout=20_000)

    assert Attempt.objects.get(pk=attempt.pk).status in (
        AttemptStatus.SUBMITTED,
        AttemptStatus.SCORED,
    )
    assert stored_answers(attempt) == {
        position: (slots[position].stored(value), position in flagged)
        for position, value in given.items()
    }


# --- point 3: an extension is told ---------------------------------------------------------------


def test_the_candidate_is_told_of_an_extension_with_its_reason_and_new_end(
    live_server_proc, running_attempt, proctor
):
    """Issue 10, point 3: the candidate sees and hears (a live region) that the proctor extended
    the time, why, and when the exam now ends."""
    attempt, page = running_attempt
    proctor_action(
        proctor,
        live_server_proc.url,
        attempt,
        "extend",
        minutes=15,
        reason="Camera failure at the start",
    )
    new_end = timezone.localtime(Attempt.objects.get(pk=attempt.pk).deadline).strftime("%H:%M")

    notice = page.get_by_test_id("notice")
    expect(notice).to_be_visible()
    for part in ("15", "Camera failure at the start", new_end):
        expect(notice).to_contain_text(part)
    expect(page.get_by_test_id("end-time")).to_have_text(new_end)
    announced = page.locator("[aria-live=polite], [role=status]").filter(
        has_text="Camera failure at the start"
    )
    expect(announced.first).to_contain_text(new_end)
    violations = axe_violations(page)  # the notice meets the page's rules too (point 10)
    assert not violations, describe(violations)


# --- point 4: the chat while paused --------------------------------------------------------------


@pytest.fixture
def proctored_attempt(live_server_proc, new_context, login, exam):
    """Return (attempt, page, proctor): Alice admitted in a proctored room, writing, on her exam page."""
    room = make_sitting(exam, proctored=True).rooms.create(name="Room A", seats=20)
    proctor = UserFactory(username="proctor_a", first_name="Pat", last_name="Proctor")
    room.proctors.add(proctor)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    enrolment = enrol(room.sitting, room, alice)
    proctoring.checkin_arrive(enrolment_id=enrolment.pk, candidate=alice)
    proctoring.checkin_admit(enrolment_id=enrolment.pk, by=proctor)
    session = proctoring.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.STARTED)
    context, device = device_context(new_context, live_server_proc.url)
    attempt = attempt_start(
        candidate=alice, enrolment_id=enrolment.pk, device_id=device, start_code=session.start_code
    )
    page = context.new_page()
    login(page, "alice")
    page.goto(f"{live_server_proc.url}/attempts/{attempt.pk}/")
    ExamPage(page).wait_ready()
    proctor_page = new_context().new_page()
    login(proctor_page, "proctor_a")
    return attempt, page, proctor_page


def test_the_candidate_can_write_to_the_proctor_while_paused(live_server_proc, proctored_attempt):
    """Issue 10, point 4: the pause overlay leaves the chat usable: the candidate writes, the proctor gets it."""
    attempt, page, proctor_page = proctored_attempt
    proctor_action(proctor_page, live_server_proc.url, attempt, "pause", reason="Your video froze")
    expect(page.get_by_test_id("overlay-text")).to_contain_text("Your video froze")

    chat = page.get_by_test_id("chat")
    box = chat.get_by_role("textbox")
    box.click(timeout=5000)  # a covered box fails here: the overlay would take the click
    box.fill("My screen froze too; I am still here.")
    chat.get_by_role("button", name="Send").click(timeout=5000)
    expect(page.get_by_test_id("chat-list")).to_contain_text("My screen froze too", timeout=15_000)
    assert Message.objects.filter(
        enrolment=attempt.enrolment, from_proctor=False, text__startswith="My screen froze"
    ).exists()
    expect(
        page.get_by_test_id("overlay-text")
    ).to_be_visible()  # still paused: only the chat is usable


# --- point 6: a practice result --------------------------------------------------------------------


def test_a_practice_result_does_not_promise_marking_or_publication(
    live_server_proc, new_context, login
):
    """Issue 10, point 6: a practice attempt is never marked nor published, and its result page says so."""
    practice = make_exam(
        make_bank(topics=1, per_kind=2, is_sample=True),
        per_topic=10,
        is_practice=True,
        code="practice",
    )
    real = make_exam(make_bank(topics=1, per_kind=2), per_topic=10, code="real")
    sitting = make_sitting(real, starts_in=timedelta(days=7), practice_exam=practice)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    enrol(sitting, sitting.rooms.create(name="Room A"), alice)
    attempt = practice_attempt_start(candidate=alice, exam_id=practice.pk, device_id="p" * 32)
    assert (
        attempt.is_practice
        and AttemptItem.objects.filter(
            attempt=attempt, item_version__item__kind__in=[ItemKind.FREE_TEXT, ItemKind.FILL_IN]
        ).exists()
    )
    Attempt.objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by="candidate"
    )
    attempt_score(attempt_id=attempt.pk)

    page = new_context().new_page()
    login(page, "alice")
    page.goto(f"{live_server_proc.url}/attempts/{attempt.pk}/result/")
    expect(page.get_by_test_id("auto-percent")).to_be_visible()
    expect(page.get_by_test_id("practice-note")).to_contain_text("not marked")
    text = page.locator("main").inner_text()
    assert "committee" not in text.lower(), text


# --- point 8: a published result runs without errors ---------------------------------------------


def test_a_published_result_page_has_no_script_error(live_server_proc, new_context, login):
    """Issue 10, point 8: the published result page (no score box to poll) throws no JavaScript error."""
    bank = make_bank(topics=1, per_kind=2)
    exam = make_exam(bank, per_topic=2)
    BlueprintEntry.objects.filter(exam=exam).update(kind=ItemKind.SINGLE)
    sitting = make_sitting(exam)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    device = "r" * 32
    attempt = attempt_start(
        candidate=alice,
        enrolment_id=enrol(sitting, sitting.rooms.create(name="Room A"), alice).pk,
        device_id=device,
    )
    slots = AttemptItem.objects.filter(attempt=attempt).select_related("item_version")
    assert all(
        r.ok
        for r in responses_save(
            changes=[
                AnswerChange(
                    attempt_id=attempt.pk,
                    candidate_id=alice.pk,
                    device_id=device,
                    position=slot.position,
                    seq=n,
                    value=[slot.option_order.index(slot.item_version.key[0])],
                )
                for n, slot in enumerate(slots, start=1)
            ]
        )
    )
    Attempt.objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by="candidate"
    )
    attempt_score(attempt_id=attempt.pk)
    sitting_results_publish(sitting_id=sitting.pk, by=UserFactory(username="chair"))

    page = new_context().new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, "alice")
    page.goto(f"{live_server_proc.url}/attempts/{attempt.pk}/result/")
    expect(page.get_by_test_id("final-percent")).to_have_text("100 %")
    page.wait_for_timeout(2000)  # the score box's first poll was due after 0.5 s
    assert errors == []


# --- point 10 (the exam page): axe ------------------------------------------------------------------


def test_axe_finds_nothing_on_the_exam_page(running_attempt):
    """Issue 10, point 10: axe reports no violation on the exam page, with an item of every kind
    shown, answered and unanswered items and flagged ones in the overview."""
    attempt, page = running_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    exam_page.answer(slots[ItemKind.SINGLE][0], slots[ItemKind.SINGLE][0].right())
    exam_page.answer(slots[ItemKind.FILL_IN][0], "2")
    exam_page.flag(slots[ItemKind.MULTIPLE][0])
    exam_page.flag(slots[ItemKind.FILL_IN][0])
    exam_page.wait_all_saved()
    found = {}
    for kind in ItemKind.values:
        for slot in slots[kind]:
            exam_page.go(slot.position)
            for violation in axe_violations(page):
                found.setdefault(violation["id"], violation)
    assert not found, describe(list(found.values()))


def test_axe_finds_nothing_on_the_proctored_exam_page(proctored_attempt):
    """Issue 10, point 10: the proctored exam page (a narrower overview beside the proctoring
    panel, where the cells were 19 × 24 px) has no axe violation either, paused or not."""
    attempt, page, _proctor = proctored_attempt
    exam_page, slots = ExamPage(page), slots_of(attempt)
    exam_page.flag(slots[ItemKind.SINGLE][0])
    exam_page.answer(slots[ItemKind.FREE_TEXT][0], "Resuscitate first.")
    exam_page.wait_all_saved()
    assert (
        min(
            page.eval_on_selector_all(
                "#grid .cell", "cells => cells.map((c) => Math.min(c.offsetWidth, c.offsetHeight))"
            )
        )
        >= 24
    )
    violations = axe_violations(page)
    assert not violations, describe(violations)


# --- issue 12, point 4: time warnings and what a screen reader is told ------------------------------


def test_ten_and_five_minutes_left_are_shown_and_announced_once_each(live_server_proc, running_attempt):
    attempt, page = running_attempt
    # 5 minutes and 4 seconds left when the page opens: past the 10-minute mark already, then the 5.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(minutes=5, seconds=4))
    page.reload()
    ExamPage(page).wait_ready()
    notice, announcer = page.get_by_test_id("notice"), page.locator("#announcer")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("10 minutes left: the exam ends at")
    expect(announcer).to_contain_text("10 minutes left")
    expect(notice).to_contain_text("5 minutes left: the exam ends at", timeout=10_000)
    expect(announcer).to_contain_text("5 minutes left")
    end = page.get_by_test_id("end-time").inner_text()
    assert end and end in notice.inner_text()
    said = page.evaluate("""() => new Promise((done) => {
        const seen = []; const region = document.getElementById('announcer');
        new MutationObserver(() => seen.push(region.textContent)).observe(region, {childList: true, characterData: true, subtree: true});
        setTimeout(() => done(seen.filter(Boolean)), 3000);
    })""")
    assert not [text for text in said if "minutes left" in text], f"said again: {said}"


def test_saving_and_the_connection_are_told_to_screen_readers(live_server_proc, running_attempt):
    attempt, page = running_attempt
    exam_page = ExamPage(page)
    single = slots_of(attempt)[ItemKind.SINGLE][0]
    exam_page.answer(single, single.right())
    exam_page.wait_all_saved()
    expect(page.locator("#announcer")).to_have_text("All answers saved", timeout=5_000)
    page.context.set_offline(True)
    live_server_proc.server.stop()
    expect(page.locator("#announcer")).to_have_text("Offline", timeout=10_000)
