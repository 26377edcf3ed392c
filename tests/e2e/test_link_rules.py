"""The exam page's connection rules in real Chromium (issue 11, points 1 and 3; PREAMBLE contract).

The page is signed out only when the server says so clearly (an HTTP 401 whose JSON says
`signedOut`); an HTML error page, a redirect to the login page, a 503 with Retry-After or a network
failure is retried with back-off, and the answers wait on the page until a save gets through. With
its WebSocket refused, the page saves over HTTP only after the socket has been down 5 s, one POST at
a time, and dials the socket at once when an HTTP answer shows the server is up.

MOCKS, named as such: the WebSocket is refused by Playwright's `route_web_socket` (a network that
blocks WebSockets), and `page.route` answers some save POSTs with fabricated failures (the answers
an overloaded or restarting server gives, which the real one cannot be made to give on cue). Every
other request, and every save the mock lets through, goes to the real Daphne server, and the
answers are read back from the database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from exams.models import ItemKind
from tests.e2e import test_candidate_journey as journey
from tests.e2e.test_candidate_journey import ExamPage, slots_of, stored_answers

pytestmark = [pytest.mark.e2e]

exam = journey.exam
room = journey.room
running_attempt = journey.running_attempt

SAVE_URL = "**/attempts/*/responses/"  # exams:attempt_save
FALLBACK_AFTER = 5.0  # seconds the socket must have been down before the page saves over HTTP
SIGNED_OUT = "You are signed out"


@dataclass
class SaveTraffic:
    """The page's save POSTs as Chromium sent them: when each started, and how many were in flight."""

    started: list[float] = field(default_factory=list)
    bodies: list[dict] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    def watch(self, page: Page) -> SaveTraffic:
        page.on("request", self._sent)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)
        return self

    @staticmethod
    def _is_save(request) -> bool:
        return request.method == "POST" and request.url.endswith("/responses/")

    def _sent(self, request) -> None:
        if self._is_save(request):
            self.started.append(time.monotonic())
            self.bodies.append(json.loads(request.post_data))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _ended(self, request) -> None:
        if self._is_save(request):
            self.in_flight -= 1


class SocketSwitch:
    """A mock of a network that refuses the exam page's WebSocket, switched on and off by the test."""

    def __init__(self, page: Page) -> None:
        self.blocked = True
        self.dialled: list[float] = []
        page.route_web_socket("**/ws/attempt/**", self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        self.dialled.append(time.monotonic())
        if self.blocked:
            ws.close(code=1011, reason="blocked by the test")  # the page sees a handshake refused
        else:
            ws.connect_to_server()


def blocked_page(running_attempt) -> tuple[object, Page, SocketSwitch, SaveTraffic, float]:
    """Return (attempt, page, socket switch, save traffic, when it loaded): the exam page reloaded
    with its WebSocket refused."""
    attempt, page = running_attempt
    switch = SocketSwitch(page)
    traffic = SaveTraffic().watch(page)
    loaded = time.monotonic()
    page.reload()
    expect(page.get_by_test_id("connection")).to_have_text("Offline")
    return attempt, page, switch, traffic, loaded


def fail_first(page: Page, times: int, answer) -> list[float]:
    """Mock: answer the first `times` save POSTs with `answer(route)`, let the others through to
    the server. Return the list the mocked answers' times go into."""
    failed: list[float] = []

    def handle(route: Route) -> None:
        if len(failed) < times:
            failed.append(time.monotonic())
            answer(route)
        else:
            route.fallback()

    page.route(SAVE_URL, handle)
    return failed


def not_signed_out(page: Page) -> None:
    expect(page.locator("#overlay")).to_be_hidden()
    assert SIGNED_OUT not in page.locator("body").inner_text()


def json_answer(status: int, body: dict, headers: dict | None = None):
    return lambda route: route.fulfill(
        status=status, content_type="application/json", body=json.dumps(body), headers=headers or {}
    )


FAILURES = {
    # Django's own error page, as the overloaded server gave it (the cause of 491 pages signing out).
    "html_500": lambda route: route.fulfill(
        status=500,
        content_type="text/html",
        body="<!doctype html><title>Server Error (500)</title><h1>Server Error (500)</h1>",
    ),
    # What login_required answered before the fallback spoke JSON: not the server's word on the session.
    "redirect_to_login": lambda route: route.fulfill(
        status=302, headers={"Location": "/login/?next=/"}
    ),
    # An HTML 401 (a proxy's page): only JSON saying signedOut signs the page out.
    "html_401": lambda route: route.fulfill(
        status=401, content_type="text/html", body="<h1>Unauthorized</h1>"
    ),
    "json_500": json_answer(500, {"error": "Server error.", "code": "error"}),
    "network_failure": lambda route: route.abort("connectionreset"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_save_is_retried_with_back_off_never_read_as_a_sign_out(running_attempt, failure):
    attempt, page, _switch, traffic, _loaded = blocked_page(running_attempt)
    failed = fail_first(page, 2, FAILURES[failure])
    exam_page, slot = ExamPage(page), slots_of(attempt)[ItemKind.SINGLE][0]
    exam_page.answer(slot, slot.right())

    expect(page.get_by_test_id("save-state")).to_have_text("1 answers waiting to be sent")
    exam_page.wait_all_saved(timeout=40_000)  # 5 s down, then two back-offs of at most 3 s and 6 s
    not_signed_out(page)
    assert len(failed) == 2 and len(traffic.started) == 3, traffic.started
    assert traffic.most_in_flight == 1
    first, second, third = traffic.started
    # Jittered back-off: min(15 s, 3 s × 2^k) × uniform(0.5, 1), k = failures before.
    assert 1.4 <= second - first <= 3.5 + 1, traffic.started
    assert 2.9 <= third - second <= 6.5 + 1, traffic.started
    assert stored_answers(attempt) == {slot.position: (slot.stored(slot.right()), False)}


def test_a_503_with_retry_after_is_waited_out(running_attempt):
    attempt, page, _switch, traffic, _loaded = blocked_page(running_attempt)
    retry_after = 7  # longer than any jittered back-off after one failure (at most 3 s)
    fail_first(
        page,
        1,
        json_answer(
            503,
            {"error": "Unavailable.", "code": "unavailable", "retryAfter": retry_after},
            {"Retry-After": str(retry_after)},
        ),
    )
    exam_page, slot = ExamPage(page), slots_of(attempt)[ItemKind.SINGLE][0]
    exam_page.answer(slot, slot.right())

    exam_page.wait_all_saved(timeout=30_000)
    not_signed_out(page)
    assert len(traffic.started) == 2, traffic.started
    assert retry_after - 0.2 <= traffic.started[1] - traffic.started[0] <= retry_after + 2, (
        traffic.started
    )
    assert stored_answers(attempt) == {slot.position: (slot.stored(slot.right()), False)}


def test_a_401_that_says_signed_out_signs_the_page_out_and_keeps_the_answers(running_attempt):
    attempt, page, _switch, traffic, _loaded = blocked_page(running_attempt)
    fail_first(page, 10, json_answer(401, {"error": "Sign in again.", "signedOut": True}))
    exam_page, slot = ExamPage(page), slots_of(attempt)[ItemKind.SINGLE][0]
    exam_page.answer(slot, slot.right())

    expect(page.locator("#overlay")).to_be_visible(timeout=15_000)
    expect(page.locator("#overlay-title")).to_have_text(SIGNED_OUT)
    expect(page.get_by_role("link", name="Sign in again")).to_be_visible()
    page.wait_for_timeout(5_000)
    assert len(traffic.started) == 1, "a signed-out page kept sending"
    expect(page.get_by_test_id("save-state")).to_have_text("1 answers waiting to be sent")
    assert stored_answers(attempt) == {}


def test_a_csrf_refusal_reloads_the_page_and_the_answer_is_sent_after(running_attempt):
    attempt, page, _switch, _traffic, _loaded = blocked_page(running_attempt)
    fail_first(page, 1, json_answer(403, {"error": "Reload the page.", "code": "csrf"}))
    exam_page, slot = ExamPage(page), slots_of(attempt)[ItemKind.SINGLE][0]
    with page.expect_event("load", timeout=20_000):  # the reload
        exam_page.answer(slot, slot.right())
    exam_page.wait_all_saved(timeout=30_000)  # from localStorage, over HTTP again after 5 s
    not_signed_out(page)
    assert exam_page.shown(slot) == slot.right()
    assert stored_answers(attempt) == {slot.position: (slot.stored(slot.right()), False)}


def test_with_the_socket_refused_http_starts_after_5_s_one_post_at_a_time(running_attempt):
    attempt, page, _switch, traffic, loaded = blocked_page(running_attempt)
    held: list[Route] = []
    # Mock: the first POST hangs until the test lets it go.
    page.route(SAVE_URL, lambda route: held.append(route))
    exam_page, slots = ExamPage(page), slots_of(attempt)
    single, multiple, fill_in = (
        slots[ItemKind.SINGLE][0],
        slots[ItemKind.MULTIPLE][0],
        slots[ItemKind.FILL_IN][0],
    )
    exam_page.answer(single, single.right())

    page.wait_for_timeout(3_000)
    assert traffic.started == [], "saved over HTTP while the socket had been down less than 5 s"
    expect(page.get_by_test_id("save-state")).to_have_text("1 answers waiting to be sent")
    page.wait_for_timeout(4_000)
    assert len(traffic.started) == 1 and traffic.started[0] - loaded >= FALLBACK_AFTER, (
        traffic.started
    )
    # More answers while the first POST hangs: they wait for it.
    exam_page.answer(multiple, multiple.right())
    exam_page.answer(fill_in, "2")
    page.wait_for_timeout(2_000)
    assert len(traffic.started) == 1 and traffic.most_in_flight == 1

    page.unroute(SAVE_URL)
    held[0].fallback()
    exam_page.wait_all_saved()
    assert traffic.most_in_flight == 1 and len(traffic.started) >= 2
    assert {c["pos"] for c in traffic.bodies[0]["changes"]} == {single.position}
    assert {c["pos"] for body in traffic.bodies[1:] for c in body["changes"]} == {
        multiple.position,
        fill_in.position,
    }
    assert stored_answers(attempt) == {
        single.position: (single.stored(single.right()), False),
        multiple.position: (multiple.stored(multiple.right()), False),
        fill_in.position: ("2", False),
    }


def test_a_json_answer_over_http_dials_the_socket_at_once(running_attempt):
    attempt, page, switch, traffic, _loaded = blocked_page(running_attempt)
    held: list[Route] = []
    # Mock: the first POST waits until the test lets it go.
    page.route(SAVE_URL, lambda route: held.append(route))
    exam_page, slot = ExamPage(page), slots_of(attempt)[ItemKind.SINGLE][0]
    exam_page.answer(slot, slot.right())
    page.wait_for_timeout(6_000)
    assert len(held) == 1, traffic.started

    # The network lets sockets through again while the page is between redials (every 2-4 s by
    # now); the POST's JSON answer must make it dial at once, not at the end of its wait.
    switch.blocked = False
    page.unroute(SAVE_URL)
    held[0].fallback()
    released = time.monotonic()
    expect(page.get_by_test_id("connection")).to_have_text("Online", timeout=10_000)
    exam_page.wait_all_saved()
    dialled = [t for t in switch.dialled if t >= released]
    assert dialled and dialled[0] - released < 0.7, (released, switch.dialled)
    assert len(traffic.started) == 1
    assert stored_answers(attempt) == {slot.position: (slot.stored(slot.right()), False)}


def test_a_long_outbox_goes_in_messages_under_the_servers_size_cap(running_attempt):
    """40 answers of 20,000 Chinese characters (60 KB each in UTF-8) waiting on the page go in
    messages of at most 900 KiB, under the server's 1 MiB per body and per socket frame: a message
    over it would be refused for its size and sent again for ever. MOCK: every save POST is
    answered "saved" by the test (the size of what the page sends is the point here)."""
    attempt, page = running_attempt
    long_answer = "考" * 20_000
    outbox = {
        str(pos): {"pos": pos, "seq": pos, "value": long_answer, "flagged": False}
        for pos in range(1, 41)
    }
    page.evaluate(
        "([key, saved]) => localStorage.setItem(key, JSON.stringify(saved))",
        [
            f"exam-attempt:{attempt.pk}",
            {
                "seq": 40,
                "answers": {p: {**c, "seq": c["seq"]} for p, c in outbox.items()},
                "outbox": outbox,
                "refused": {},
            },
        ],
    )

    def saved(route: Route) -> None:
        changes = json.loads(route.request.post_data)["changes"]
        results = [{"seq": c["seq"], "ok": True, "code": "saved", "reason": ""} for c in changes]
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps({"results": results})
        )

    _attempt, page, _switch, traffic, _loaded = blocked_page(running_attempt)
    page.route(SAVE_URL, saved)
    ExamPage(page).wait_all_saved()
    sizes = [len(json.dumps(body, ensure_ascii=False).encode()) for body in traffic.bodies]
    assert len(sizes) >= 3 and max(sizes) <= 1024 * 1024, sizes
    assert sorted(c["seq"] for body in traffic.bodies for c in body["changes"]) == list(
        range(1, 41)
    )
