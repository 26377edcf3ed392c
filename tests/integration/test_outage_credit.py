"""A real Daphne server killed (SIGKILL) and restarted mid-exam: the candidate's deadline moves on
by the outage, the credit is recorded, the page is told, and nothing submitted the attempt while
the server was down (issue 10, point 25; R-TAKE-7; rule 002:1.4.3, 1.4.5)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from websockets.sync.client import connect as ws_connect

from exams.middleware import DEVICE_COOKIE
from exams.models import Attempt, AttemptEvent, AttemptStatus, AuditEntry, Outage, SiteHeartbeat
from exams.services import attempt_start, attempts_submit_overdue
from tests.servers import (
    DaphneServer,
    process_environment,
    running_daphne,
    wait_until,
)

pytestmark = [pytest.mark.integration]

DEVICE = "d" * 32
BEAT_SECONDS, OUTAGE_MIN_SECONDS = 1, 3
LEFT_AT_KILL = 4.0  # seconds the candidate has left when the server dies
DOWN_AT_LEAST = 10.0  # seconds the server stays down: the deadline (and its grace) pass meanwhile


@pytest.fixture
def server(request, transactional_db):
    env = process_environment() | {
        "SITE_HEARTBEAT_SECONDS": str(BEAT_SECONDS),
        "OUTAGE_MIN_SECONDS": str(OUTAGE_MIN_SECONDS),
    }
    with running_daphne(request, env) as daphne:
        yield daphne


def _page_socket(server: DaphneServer, attempt_id: int, session: str):
    return ws_connect(
        f"ws://127.0.0.1:{server.port}/ws/attempt/{attempt_id}/",
        origin=f"http://127.0.0.1:{server.port}",
        additional_headers={"Cookie": f"{DEVICE_COOKIE}={DEVICE}; sessionid={session}"},
        open_timeout=10,
    )


def test_a_killed_and_restarted_server_credits_the_lost_time_to_the_running_attempt(
    server, alice, alice_enrolment, settings
):
    """Issue 10, point 25: the server is killed mid-exam with seconds left and stays down past the
    deadline; the periodic job (another process) does not submit meanwhile; on restart the
    deadline has moved on by the outage, a system pause is in the timeline and the audit log, and
    the page's socket is told the new end with the reason."""
    settings.OUTAGE_MIN_SECONDS = OUTAGE_MIN_SECONDS  # this process's clock check, as the server's
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    client = Client()
    client.force_login(alice)
    session = client.cookies["sessionid"].value

    with _page_socket(server, attempt.pk, session) as socket:
        assert json.loads(socket.recv(timeout=10))["status"] == "in_progress"
    # The server beats: a beat younger than the interval (plus slack on a loaded machine).
    wait_until(
        lambda: SiteHeartbeat.objects.filter(
            beat_at__gt=timezone.now() - timedelta(seconds=3)
        ).exists(),
        timeout=20,
        message="the server's heartbeat",
    )

    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() + timedelta(seconds=LEFT_AT_KILL)
    )
    deadline_at_kill = Attempt.objects.get(pk=attempt.pk).deadline
    began = time.monotonic()
    server.kill()
    time.sleep(DOWN_AT_LEAST)
    # Time is up by the old deadline, grace included; the periodic job runs in another process:
    # it must wait for the outage to be credited, not submit.
    assert timezone.now() > deadline_at_kill + timedelta(seconds=settings.ANSWER_GRACE_SECONDS)
    assert attempts_submit_overdue() == []
    server.start()
    down = time.monotonic() - began
    # The credit ends at the restarted server's first beat, written while it loads (before it
    # listens); it starts at the last beat, at most one interval before the kill.
    respawned_after = server.spawned_at - began

    outage = wait_until(lambda: Outage.objects.first(), timeout=10, message="the outage recorded")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS
    credit = (attempt.deadline - deadline_at_kill).total_seconds()
    # At least the time no process was there; at most until /healthz answered, plus one interval
    # and a loaded machine's slack.
    assert respawned_after <= credit <= down + BEAT_SECONDS + 3, (credit, respawned_after, down)
    assert outage.credited == 1 and abs(outage.seconds - credit) <= 1
    [event] = AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.SYSTEM_PAUSED)
    assert (
        event.detail["outage"] == outage.pk
        and event.detail["new_deadline"] == attempt.deadline.isoformat()
    )
    assert AuditEntry.objects.filter(
        kind="attempt.system_paused", subject=f"attempt:{attempt.pk}"
    ).exists()

    # The page reconnects: the new end time, and why.
    with _page_socket(server, attempt.pk, session) as socket:
        state = json.loads(socket.recv(timeout=10))
    assert state["status"] == "in_progress"
    assert state["deadline"] == int(attempt.deadline.timestamp() * 1000)
    assert "unavailable" in state["notice"] and state["deadlineLabel"] in state["notice"]
    print(
        f"no server for {respawned_after:.1f} s, answering again after {down:.1f} s; credited {credit:.1f} s; outage {outage.started_at:%H:%M:%S}–{outage.ended_at:%H:%M:%S}"
    )
