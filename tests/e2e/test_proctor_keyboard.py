"""Issue 12, point 4 (WCAG 2.2 AA): a proctor admits, pauses, resumes and extends with the keyboard alone.

After signing in and opening the room page, the proctor's page is driven by page.keyboard only
(Tab, Shift+Tab, Enter, Space, arrow keys, Escape, typing): no click, no fill. After every step
the test reads the database to see that the server really did it, and checks that the keyboard
focus stayed on something sensible: a control that is hidden by its own action (Admit, Pause,
Resume) must hand the focus on, not drop it on the page's body, where a keyboard or screen-reader
user would have to start again from the top.

Real Chromium and a real Daphne server in the embedded mode. In that mode a push sent by this
test process never reaches the server's in-memory channel layer, so what the room must learn
live (the candidate starting, another proctor's incident) is done through the server, by the
candidate's or the other proctor's own browser context.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from exams.models import Attempt, AttemptEvent, Room
from proctoring import services
from proctoring.models import CheckIn, Incident, IncidentKind, RoomSession
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, enrol, make_sitting
from tests.servers import wait_until

pytestmark = pytest.mark.e2e

WAIT = 20_000
# The side panel holds the whole focus view beside the grid at this size, as a proctor's screen does.
ROOM_VIEWPORT = {"width": 1500, "height": 950}

# Samples the focus at every frame once armed: a focus dropped on the body and given back later
# in the same task is never seen by anyone, but one a frame shows is lost to the user.
WATCH_FOCUS = """
window.__focusLost = [];
window.__watchFocus = false;
(() => {
  let last = '';
  const name = (el) => {
    if (!el || el === document.body) return 'body';
    const action = el.dataset?.action ? `[data-action=${el.dataset.action}]` : '';
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${action}`;
  };
  const look = () => {
    const active = document.activeElement;
    if (window.__watchFocus && (!active || active === document.body)) {
      window.__focusLost.push(`lost after ${last}`);
    } else {
      last = name(active);
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""

# The focused element as a short name for failure messages: tag, id, action, and its text.
DESCRIBE_ACTIVE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'body';
  const id = el.id ? '#' + el.id : '';
  const action = el.dataset.action ? `[data-action=${el.dataset.action}]` : '';
  const tile = el.closest('.tile') ? `(tile ${el.closest('.tile').dataset.enrolment})` : '';
  const text = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim().slice(0, 40);
  return `${el.tagName.toLowerCase()}${id}${action}${tile} "${text}"`;
}"""


@pytest.fixture
def contexts(media_browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def _page(contexts: list[BrowserContext], browser: Browser, viewport: dict | None = None) -> Page:
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 860}, locale="en-GB"
    )
    context.set_default_timeout(WAIT)
    contexts.append(context)
    return context.new_page()


def _csrf_token(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


@pytest.fixture
def room_with_two(exam):
    """Room A with its proctor, and Alice and Bold in its waiting room (Bold's tile is one more stop for Tab)."""
    sitting = make_sitting(exam, starts_in=timedelta(minutes=-1), proctored=True)
    room = Room.objects.create(sitting=sitting, name="Room A", seats=20)
    proctor = UserFactory(username="proctor_a", first_name="Pat", last_name="Proctor")
    room.proctors.add(proctor)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    bold = UserFactory(username="bold", first_name="Bold", last_name="Dorj")
    enrolment = enrol(sitting, room, alice)
    services.checkin_arrive(enrolment_id=enrolment.pk, candidate=alice)
    services.checkin_arrive(enrolment_id=enrol(sitting, room, bold).pk, candidate=bold)
    return room, proctor, enrolment


# --- the keyboard ----------------------------------------------------------------------------------
def _here(page: Page) -> str:
    return page.evaluate(DESCRIBE_ACTIVE)


def _press_until(page: Page, key: str, selector: str, what: str, *, limit: int = 60) -> None:
    """Press `key` until the focused element matches `selector`; fail with where the focus went."""
    trail = []
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(s) => Boolean(document.activeElement?.matches(s))", selector):
            return
        trail.append(_here(page))
    pytest.fail(
        f"{what} is never reached by {key} in {limit} presses; the focus went:\n  "
        + "\n  ".join(trail)
    )


def _tab_to(page: Page, selector: str, what: str) -> None:
    _press_until(page, "Tab", selector, what)


def _back_to(page: Page, selector: str, what: str) -> None:
    _press_until(page, "Shift+Tab", selector, what)


def _watch_focus(page: Page) -> None:
    page.evaluate("() => { window.__focusLost = []; window.__watchFocus = true; }")


def _focus_was_kept(page: Page, after: str) -> None:
    """Fail if any frame since _watch_focus showed the focus on the body, or it is there now."""
    page.wait_for_timeout(100)  # a few frames after the last redraw
    lost = page.evaluate("() => { window.__watchFocus = false; return window.__focusLost; }")
    assert not lost, f"after {after} the focus fell to the page's body: {lost[:3]}"
    assert _here(page) != "body", f"after {after} nothing has the focus"


def _expect_focus(page: Page, selector: str, after: str) -> None:
    try:
        expect(page.locator(selector)).to_be_focused()
    except AssertionError as exc:
        raise AssertionError(
            f"after {after} the focus is on {_here(page)}, not on {selector}"
        ) from exc


def _axe_clean(page: Page, view: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{view}:\n" + describe(violations)


# --- the test --------------------------------------------------------------------------------------
def test_proctor_admits_pauses_resumes_and_extends_with_the_keyboard_alone(
    live_server_proc, media_browser, contexts, room_with_two
):
    """Issue 12, point 4: Tab to the candidate, Enter opens her; Space admits (the server records the
    admission); Shift+Tab to the room's step, Enter twice starts the room; once the candidate has
    started, a typed reason and Enter pause her attempt, Enter on Resume resumes it (the deadline
    moves by the pause), arrow keys set the minutes and Enter extends it (the deadline moves by
    them); Escape closes her panel. The focus is never lost, lands where the next step is, and no
    Tab is trapped in the panel; axe finds nothing with the panel open, before and in the exam."""
    base = live_server_proc.url
    room, proctor, enrolment = room_with_two
    tile_button = f".tile[data-enrolment='{enrolment.pk}'] .open-tile"

    page = _page(contexts, media_browser, ROOM_VIEWPORT)
    page.add_init_script(WATCH_FOCUS)
    sign_in(page, base, "proctor_a")
    page.goto(f"{base}/proctoring/rooms/{room.pk}/")
    expect(page.locator(".tile")).to_have_count(2)
    expect(page.locator("#conn")).to_have_class("pill online")

    # Tab to Alice's tile; Enter opens her panel and takes the keyboard there.
    _tab_to(page, tile_button, "Alice's tile")
    _watch_focus(page)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("focus")).to_be_visible()
    expect(page.locator("#focus-name")).to_have_text("Alice Batbayar")
    _expect_focus(page, "#focus-name", "opening Alice")
    _focus_was_kept(page, "opening Alice")
    expect(page.locator(tile_button)).to_have_attribute("aria-pressed", "true")
    _axe_clean(page, "Alice's panel at check-in")

    # Space on Admit. Its row goes (she is decided), and the focus with it unless it is handed on.
    _tab_to(page, "[data-action=admit]", "Admit")
    _watch_focus(page)
    page.keyboard.press("Space")
    checkin = wait_until(
        lambda: CheckIn.objects.filter(enrolment=enrolment, status=CheckIn.Status.ADMITTED).first(),
        timeout=15,
        message="Alice admitted by keyboard",
    )
    assert checkin.decided_by == proctor
    expect(page.locator("[data-when=checkin]")).to_be_hidden()
    expect(page.locator(f".tile[data-enrolment='{enrolment.pk}'] .chip.status")).to_have_text(
        "Admitted"
    )
    _expect_focus(page, "#focus-name", "Admit")
    _focus_was_kept(page, "Admit")

    # Shift+Tab back to the room's step: Enter asks, Enter again starts the room.
    _back_to(page, "#next-step", "the room's next step")
    expect(page.locator("#next-step")).to_have_text("Start the room")
    _watch_focus(page)
    page.keyboard.press("Enter")
    expect(page.locator("#next-step")).to_contain_text(
        "Start the exam for every admitted candidate"
    )
    _expect_focus(page, "#next-step", "arming the room's start")
    page.keyboard.press("Enter")
    wait_until(
        lambda: RoomSession.objects.filter(room=room, stage=RoomSession.Stage.STARTED).exists(),
        timeout=15,
        message="the room started by keyboard",
    )
    expect(page.get_by_test_id("stage")).to_have_attribute("data-stage", "started")
    expect(page.locator("#next-step")).to_have_text("Collect all answers")
    _expect_focus(page, "#next-step", "starting the room")
    _focus_was_kept(page, "starting the room")

    # Alice starts in her own browser; the room is told over its socket and her panel, still
    # open, gains the attempt's controls without moving the proctor's focus.
    candidate = _page(contexts, media_browser)
    sign_in(candidate, base, "alice")
    started = candidate.request.post(
        f"{base}{reverse('exams:attempt_start', args=[enrolment.pk])}",
        form={"csrfmiddlewaretoken": _csrf_token(candidate), "start_code": ""},
        max_redirects=0,
    )
    attempt = Attempt.objects.filter(enrolment=enrolment).first()
    assert started.status == 302 and attempt is not None, (started.status, started.headers)
    _watch_focus(page)
    expect(page.locator("[data-action=pause]")).to_be_visible()
    _expect_focus(page, "#next-step", "the candidate's start redrew her panel")
    _focus_was_kept(page, "the candidate's start redrew her panel")

    # Tab on into her panel: the reason, then Enter on Pause. Pause gives way to Resume, which
    # is where the focus goes: the next thing the proctor will do.
    _tab_to(page, "#reason", "the reason field")
    page.keyboard.type("Power cut in the building")
    _tab_to(page, "[data-action=pause]", "Pause")
    deadline_before = Attempt.objects.get(pk=attempt.pk).deadline
    _watch_focus(page)
    page.keyboard.press("Enter")
    paused = wait_until(
        lambda: Attempt.objects.filter(pk=attempt.pk, paused_at__isnull=False).first(),
        timeout=15,
        message="the attempt paused by keyboard",
    )
    assert paused.pause_reason == "Power cut in the building"
    assert paused.deadline == deadline_before  # a pause moves the end only once it is over
    expect(page.locator(f".tile[data-enrolment='{enrolment.pk}'] .chip.status")).to_have_text(
        "Paused"
    )
    expect(page.locator("[data-action=pause]")).to_be_hidden()
    _expect_focus(page, "[data-action=resume]", "Pause")
    _focus_was_kept(page, "Pause")
    expect(page.get_by_test_id("reason")).to_have_value("")
    expect(page.locator("#focus-facts")).to_contain_text("Power cut in the building")
    _axe_clean(page, "Alice's panel, her attempt paused")

    # Enter on Resume: the deadline moves on by exactly the pause; the focus goes back to Pause.
    page.wait_for_timeout(1200)  # a pause long enough to see the deadline move
    _watch_focus(page)
    page.keyboard.press("Enter")
    resumed = wait_until(
        lambda: Attempt.objects.filter(pk=attempt.pk, paused_at__isnull=True).first(),
        timeout=15,
        message="the attempt resumed by keyboard",
    )
    event = AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.RESUMED)
    assert event.actor == proctor
    # Moved on by exactly the pause: from its start to the moment the resume was recorded.
    assert resumed.deadline - deadline_before == event.at - paused.paused_at >= timedelta(seconds=1)
    assert resumed.deadline.isoformat() == event.detail["new_deadline"]
    expect(page.locator(f".tile[data-enrolment='{enrolment.pk}'] .chip.status")).to_have_text(
        "Writing"
    )
    _expect_focus(page, "[data-action=pause]", "Resume")
    _focus_was_kept(page, "Resume")

    # Extend: Shift+Tab back to the reason, type it; Tab to the minutes, ArrowUp five times
    # (10 → 15); Tab to Extend, Enter. Extend stays where it is, and so does the focus.
    _back_to(page, "#reason", "the reason field, backwards")
    page.keyboard.type("Lost time to the power cut")
    _tab_to(page, "#minutes", "the minutes")
    for _ in range(5):
        page.keyboard.press("ArrowUp")
    expect(page.get_by_test_id("minutes")).to_have_value("15")
    _tab_to(page, "[data-action=extend]", "Extend")
    deadline_before = resumed.deadline
    _watch_focus(page)
    page.keyboard.press("Enter")
    extended = wait_until(
        lambda: AttemptEvent.objects.filter(
            attempt=attempt, kind=AttemptEvent.Kind.EXTENDED
        ).first(),
        timeout=15,
        message="the extension given by keyboard",
    )
    assert extended.actor == proctor and extended.detail["minutes"] == 15
    assert extended.detail["reason"] == "Lost time to the power cut"
    assert Attempt.objects.get(pk=attempt.pk).deadline - deadline_before == timedelta(minutes=15)
    expect(page.get_by_test_id("reason")).to_have_value("")  # cleared once the server took it
    expect(page.get_by_test_id("action-error")).to_be_empty()
    _expect_focus(page, "[data-action=extend]", "Extend")
    _focus_was_kept(page, "Extend")
    _axe_clean(page, "Alice's panel, her attempt extended")

    # No trap: Tab leads on out of the panel (the messages, then the incidents list).
    _tab_to(page, "body *:not(#focus, #focus *)", "anything after Alice's panel")

    # Escape closes the panel from inside it and gives the focus back to her tile.
    _back_to(page, "#focus *", "Alice's panel, backwards")
    _watch_focus(page)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("focus")).to_be_hidden()
    _expect_focus(page, tile_button, "Escape in the panel")
    _focus_was_kept(page, "Escape in the panel")
    expect(page.locator(tile_button)).to_have_attribute("aria-pressed", "false")


def test_focus_survives_a_redrawn_incident_list_and_the_rooms_last_step(
    live_server_proc, media_browser, contexts, room_with_two
):
    """The room redraws under the proctor's keyboard: an incident another proctor records rebuilds
    the incidents list, and the focus stays on the incident it was on (now second in the list);
    Enter there opens that candidate. The room's three steps by Enter, twice each (ask, confirm):
    the focus stays on the step's button, and the last step, which hides the button, hands the
    focus to the stage ("Ended") instead of dropping it."""
    base = live_server_proc.url
    room, proctor, enrolment = room_with_two
    bold = enrolment.sitting.enrolments.exclude(pk=enrolment.pk).get()
    first = services.incident_record(
        enrolment_id=enrolment.pk, by=proctor, kind=IncidentKind.TALKING, note="Spoke to someone"
    )
    colleague = UserFactory(username="proctor_c")
    room.proctors.add(colleague)

    page = _page(contexts, media_browser, ROOM_VIEWPORT)
    page.add_init_script(WATCH_FOCUS)
    sign_in(page, base, "proctor_a")
    page.goto(f"{base}/proctoring/rooms/{room.pk}/")
    expect(page.locator("#conn")).to_have_class("pill online")
    incidents = page.get_by_test_id("incidents").locator("li")
    expect(incidents).to_have_count(1)

    # Tab to Alice's incident; meanwhile the colleague records one about Bold, on the server.
    _tab_to(page, f"[data-key=incident-{first.pk}]", "Alice's incident")
    other = _page(contexts, media_browser)
    sign_in(other, base, "proctor_c")
    _watch_focus(page)
    answer = other.request.post(
        f"{base}/proctoring/candidates/{bold.pk}/incident/",
        data=json.dumps({"kind": IncidentKind.LOOKING_AWAY, "note": "Looked left"}),
        headers={"Content-Type": "application/json", "X-CSRFToken": _csrf_token(other)},
    )
    assert answer.ok, answer.text()
    assert Incident.objects.filter(enrolment=bold, raised_by=colleague).exists()
    expect(incidents).to_have_count(2)
    expect(incidents.first).to_have_attribute("data-kind", IncidentKind.LOOKING_AWAY)
    _expect_focus(page, f"[data-key=incident-{first.pk}]", "the list was redrawn")
    _focus_was_kept(page, "the list was redrawn")
    _axe_clean(page, "the room with two incidents")

    page.keyboard.press("Enter")
    expect(page.locator("#focus-name")).to_have_text("Alice Batbayar")
    _expect_focus(page, "#focus-name", "Enter on Alice's incident")

    # The room's steps, Enter twice each, the last hiding the button.
    _back_to(page, "#next-step", "the room's next step")
    _watch_focus(page)
    for stage, label in (
        (RoomSession.Stage.STARTED, "Collect all answers"),
        (RoomSession.Stage.COLLECTED, "End the room"),
        (RoomSession.Stage.ENDED, None),
    ):
        page.keyboard.press("Enter")
        expect(page.locator("#next-step")).to_have_class(re.compile(r"\barmed\b"))
        page.keyboard.press("Enter")
        wait_until(
            lambda stage=stage: RoomSession.objects.filter(room=room, stage=stage).exists(),
            timeout=15,
            message=f"the room {stage} by keyboard",
        )
        expect(page.get_by_test_id("stage")).to_have_attribute("data-stage", stage)
        if label:
            expect(page.locator("#next-step")).to_have_text(label)
            _expect_focus(page, "#next-step", f"the step to {stage}")
    expect(page.locator("#next-step")).to_be_hidden()
    _expect_focus(page, "#stage", "the room's last step")
    _focus_was_kept(page, "the room's steps")
    assert set(CheckIn.objects.filter(enrolment__room=room).values_list("status", flat=True)) == {
        CheckIn.Status.ABSENT
    }
