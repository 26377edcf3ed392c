"""One tab per attempt in a browser: two tabs numbering changes independently could get an answer
acknowledged that was never stored. The newest tab takes over; the older one stops."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from exams.models import Attempt, Response

pytestmark = pytest.mark.e2e


def test_a_second_tab_takes_over_and_the_first_stops(live_server_proc, new_context, login, alice, alice_enrolment):
    context = new_context()
    first = context.new_page()
    login(first, "alice")
    first.get_by_role("button", name="Start the exam").click()
    first.wait_for_selector("#grid .cell")
    expect(first.get_by_test_id("connection")).to_have_text("Online")
    first.locator(".option input").first.check() if first.locator(".option").count() else first.locator("#answer input, #answer textarea").fill("from the first tab")
    expect(first.get_by_test_id("save-state")).to_have_text("All answers saved")

    second = context.new_page()
    second.goto(first.url)
    second.wait_for_selector("#grid .cell")
    first.wait_for_selector("#overlay:not([hidden])")
    assert "another tab" in first.inner_text("#overlay")
    assert first.locator("#answer input, #answer textarea").first.is_disabled(), "the older tab takes no more answers"

    expect(second.get_by_test_id("connection")).to_have_text("Online")
    second.click("#next")
    if second.locator(".option").count():
        second.locator(".option input").first.check()
    else:
        second.locator("#answer input, #answer textarea").fill("from the second tab")
    expect(second.get_by_test_id("save-state")).to_have_text("All answers saved")
    attempt = Attempt.objects.get(candidate=alice)
    assert Response.objects.filter(attempt=attempt).count() == 2
    assert attempt.locked_at is None, "the same browser is one device: no lock"
