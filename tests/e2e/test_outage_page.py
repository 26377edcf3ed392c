"""A server outage as the candidate sees it, in real Chromium (issue 10, point 25; R-TAKE-7).

The Daphne server under the candidate's exam page is killed (SIGKILL) and started again after
longer than the outage threshold; the page reconnects by itself, shows the new end time and says
why the end moved, and the database holds the system pause.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from exams.models import Attempt, AttemptEvent
from tests.e2e import test_candidate_journey as journey
from tests.servers import running_stack

pytestmark = [pytest.mark.e2e]

exam = journey.exam
room = journey.room
running_attempt = journey.running_attempt

BEAT_SECONDS, OUTAGE_MIN_SECONDS = 1, 3
DOWN_FOR = 6.0  # seconds without a server: past the threshold


@pytest.fixture
def live_server_proc(request, transactional_db, celery_worker, monkeypatch):
    """The usual stack, its server told to beat every second and to call 3 s without a beat an outage."""
    monkeypatch.setenv("SITE_HEARTBEAT_SECONDS", str(BEAT_SECONDS))
    monkeypatch.setenv("OUTAGE_MIN_SECONDS", str(OUTAGE_MIN_SECONDS))
    with running_stack(request, worker=celery_worker) as stack:
        yield stack


def test_the_page_tells_the_candidate_that_an_outage_was_credited(live_server_proc, running_attempt, screenshot):
    """Issue 10, point 25: killed and restarted mid-exam, the server credits the lost time; the page
    comes back by itself with the new end and the reason, on screen and to screen readers."""
    attempt, page = running_attempt
    deadline_before = attempt.deadline
    time.sleep(2 * BEAT_SECONDS)  # the server has beaten since the page opened

    live_server_proc.server.kill()
    expect(page.get_by_test_id("connection")).to_have_text("Offline")
    time.sleep(DOWN_FOR)
    live_server_proc.server.start()

    expect(page.get_by_test_id("connection")).to_have_text("Online", timeout=30_000)
    notice = page.get_by_test_id("notice")
    expect(notice).to_be_visible(timeout=15_000)
    expect(notice).to_contain_text("unavailable")
    # (The end is shown to the minute; a few seconds' credit may not change it.)
    new_end = page.get_by_test_id("end-time").inner_text()
    expect(notice).to_contain_text(new_end)
    expect(page.locator("#announcer")).to_contain_text("unavailable")

    attempt = Attempt.objects.get(pk=attempt.pk)
    credited = (attempt.deadline - deadline_before).total_seconds()
    assert DOWN_FOR <= credited <= DOWN_FOR + 20, credited  # a loaded machine restarts slowly
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.SYSTEM_PAUSED).count() == 1
    screenshot(page, "outage-credited")
