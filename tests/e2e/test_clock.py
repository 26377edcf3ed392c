"""The server owns the clock (R-TAKE-3): a computer whose clock is wrong still shows the right time left."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("skew_minutes", [67, -45])
def test_time_left_follows_the_server_not_the_computer(live_server_proc, new_context, login, alice, alice_enrolment, skew_minutes):
    context = new_context()
    # The candidate's computer clock is off by over an hour: every Date.now() in the page is wrong.
    context.add_init_script(f"(() => {{ const real = Date.now; Date.now = () => real() + {skew_minutes * 60_000}; }})()")
    page = context.new_page()
    login(page, "alice")
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_selector("#grid .cell")
    expect(page.get_by_test_id("connection")).to_have_text("Online")
    page.wait_for_timeout(600)  # a ping/pong has refined the offset
    shown = page.inner_text("[data-testid=time-left]")
    hours, minutes, seconds = (int(part) for part in re.fullmatch(r"(\d+):(\d\d):(\d\d)", shown).groups())
    left = hours * 3600 + minutes * 60 + seconds
    duration = alice_enrolment.sitting.exam.duration_minutes * 60
    assert duration - 15 <= left <= duration, f"shows {shown} with the computer's clock {skew_minutes} min off"
