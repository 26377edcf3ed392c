"""Server outages are credited to the attempts they stopped; a candidate's lost connection is only
recorded (issue 10, points 25 and 26; R-TAKE-7, R-TAKE-8; rule 002:1.4.2-1.4.5).

The real-server version (Daphne killed and restarted mid-exam) is tests/integration/test_outage_credit.py.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.utils import timezone

from exams.continuity import (
    connection_back,
    connection_lost,
    outage_settle,
    site_beat,
)
from exams.continuity import (
    services as continuity,
)
from exams.models import (
    Attempt,
    AttemptConnection,
    AttemptEvent,
    AttemptStatus,
    AuditEntry,
    Outage,
    SiteHeartbeat,
    SubmittedBy,
)
from exams.services import attempt_start, attempt_submit, attempts_submit_overdue
from proctoring.models import RoomEvent
from proctoring.selectors import candidate_tile, room_tiles
from tests.factories import UserFactory, enrol

DEVICE = "a" * 32


def _start(candidate, enrolment) -> Attempt:
    return attempt_start(candidate=candidate, enrolment_id=enrolment.pk, device_id=DEVICE)


def _events(attempt: Attempt, kind: str) -> list[AttemptEvent]:
    return list(AttemptEvent.objects.filter(attempt=attempt, kind=kind))


@pytest.mark.django_db
def test_an_outage_moves_every_running_deadline_on_by_its_length_and_is_recorded(
    alice, alice_enrolment, bob, bob_enrolment, django_capture_on_commit_callbacks
):
    """Issue 10, point 25: a gap in the heartbeat is a server outage; every attempt running at its
    start gets the lost time back (deadline + outage), recorded in its timeline and the audit log;
    a paused attempt (clock already stopped) gets nothing; settling twice credits once."""
    running, paused = _start(alice, alice_enrolment), _start(bob, bob_enrolment)
    began = timezone.now()
    Attempt.objects.filter(pk=paused.pk).update(
        paused_at=began - timedelta(minutes=1), pause_reason="camera"
    )
    deadline_before = Attempt.objects.get(pk=running.pk).deadline

    assert site_beat(now=began) is None  # the first beat ever: nothing to settle
    assert site_beat(now=began + timedelta(seconds=5)) is None  # a normal beat
    with django_capture_on_commit_callbacks(execute=True):
        outage = site_beat(now=began + timedelta(seconds=45))  # 40 s without a beat

    assert (
        outage is not None
        and outage.seconds == 40
        and outage.credited == 1
        and outage.interrupted == 0
    )
    running.refresh_from_db()
    assert running.deadline == deadline_before + timedelta(seconds=40)
    assert running.status == AttemptStatus.IN_PROGRESS
    [event] = _events(running, AttemptEvent.Kind.SYSTEM_PAUSED)
    assert event.detail["seconds"] == 40 and event.detail["outage"] == outage.pk
    assert event.detail["new_deadline"] == running.deadline.isoformat()
    assert (
        AuditEntry.objects.filter(
            kind="attempt.system_paused", subject=f"attempt:{running.pk}"
        ).count()
        == 1
    )
    assert not _events(paused, AttemptEvent.Kind.SYSTEM_PAUSED)
    assert AuditEntry.objects.get(kind="outage.settled").data["credited"] == 1
    # The proctor's room log says so (and the tile, refreshed by the same push, shows the new end).
    [room_event] = RoomEvent.objects.filter(enrolment=alice_enrolment, kind=RoomEvent.Kind.EXTENDED)
    assert room_event.actor is None and room_event.reason.startswith("Server outage: 40 s credited")

    # The proctor's room shows the credit on the candidate's tile, with the new end.
    tile = candidate_tile(alice_enrolment.pk)
    assert tile["systemPausedSeconds"] == 40 and [t for t in room_tiles(alice_enrolment.room) if t["enrolment"] == alice_enrolment.pk][0]["systemPausedSeconds"] == 40

    # The same gap again (another process that saw it): nothing more.
    assert outage_settle(started_at=outage.started_at, ended_at=outage.ended_at) is None
    running.refresh_from_db()
    assert running.deadline == deadline_before + timedelta(seconds=40)
    assert len(_events(running, AttemptEvent.Kind.SYSTEM_PAUSED)) == 1


@pytest.mark.django_db
def test_the_clock_does_not_submit_an_attempt_whose_time_ran_out_during_an_outage(
    alice, alice_enrolment, monkeypatch
):
    """Issue 10, point 25, the race: the deadline passed while the server was down. The periodic
    job (another process) must not submit it while the outage is unsettled; the serving process's
    own clock check settles the outage first; the candidate then still has the time left at the
    outage's start."""
    attempt = _start(alice, alice_enrolment)
    now = timezone.now()
    last_beat = now - timedelta(seconds=90)
    # Running for 10 minutes, 30 s left when the server went down 90 s ago: 60 s past its deadline.
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=now - timedelta(minutes=10), deadline=last_beat + timedelta(seconds=30)
    )
    SiteHeartbeat.objects.create(pk=1, beat_at=last_beat)

    # The Celery worker's periodic job: not a serving process, the heartbeat is stale: it waits.
    assert attempts_submit_overdue(now=now) == []
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS

    # The restarted server: its page asks "is time up?" before its heartbeat thread beat.
    monkeypatch.setattr(continuity, "_serving_process", True)
    attempt = attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CLOCK, now=now)
    assert attempt.status == AttemptStatus.IN_PROGRESS
    assert attempt.deadline == now + timedelta(seconds=30)  # the 30 s left at the outage's start
    assert len(_events(attempt, AttemptEvent.Kind.SYSTEM_PAUSED)) == 1

    # Once the credited time has run out, the clock submits as usual.
    later = attempt.answers_close_at() + timedelta(seconds=1)
    SiteHeartbeat.objects.update(beat_at=later - timedelta(seconds=1))  # the server beat all along
    assert (
        attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CLOCK, now=later).status
        == AttemptStatus.SUBMITTED
    )


@pytest.mark.django_db
def test_an_outage_of_two_hours_ends_the_sitting_and_lists_the_candidate_for_rescheduling(
    alice, alice_enrolment, administrator, bob
):
    """Issue 10, point 25 (002:1.4.3-1.4.4): 2 hours or more without the server ends the sitting
    for those affected: not scored as a finish, answers kept, listed for staff to reschedule."""
    attempt = _start(alice, alice_enrolment)
    began = timezone.now()
    site_beat(now=began)
    outage = site_beat(now=began + timedelta(hours=2))
    assert outage.interrupted == 1 and outage.credited == 0
    attempt.refresh_from_db()
    assert (
        attempt.status == AttemptStatus.INTERRUPTED and attempt.submitted_by == SubmittedBy.OUTAGE
    )
    assert attempt.submitted_at == began and "002:1.4.3" in attempt.end_reason
    [event] = _events(attempt, AttemptEvent.Kind.INTERRUPTED)
    assert event.detail["reschedule"] is True and event.detail["seconds"] == 7200
    # Never submitted, so never scored as a normal finish.
    assert not _events(attempt, AttemptEvent.Kind.SUBMITTED)

    candidate = Client()
    candidate.force_login(alice)
    result = candidate.get(f"/attempts/{attempt.pk}/result/").content.decode()
    assert 'data-testid="interrupted"' in result and "new date" in result

    staff = Client()
    staff.force_login(administrator)
    page = staff.get("/staff/outages/")
    assert page.status_code == 200
    assert (
        f'data-attempt="{attempt.pk}"' in page.content.decode() and "alice" in page.content.decode()
    )
    outsider = Client()
    outsider.force_login(bob)
    assert outsider.get("/staff/outages/").status_code == 302  # to the staff sign-in


@pytest.mark.django_db
def test_an_outage_that_pushes_the_end_past_the_exams_day_ends_the_sitting(alice, alice_enrolment):
    """Issue 10, point 25: an outage that cannot be made up the same day (in the exam's time zone)
    ends the sitting, even when shorter than 2 hours."""
    attempt = _start(alice, alice_enrolment)
    zone = ZoneInfo(attempt.exam.time_zone)
    late = datetime(2026, 6, 1, 23, 0, tzinfo=zone)
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=late, deadline=late + timedelta(minutes=55)
    )
    site_beat(now=late + timedelta(minutes=50))
    outage = site_beat(now=late + timedelta(minutes=70))  # 23:50-00:10: the end would be 00:15
    assert outage.interrupted == 1
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.INTERRUPTED


@pytest.mark.django_db(transaction=True)
def test_two_processes_beating_after_the_same_gap_credit_it_once(alice, alice_enrolment):
    """Issue 10, point 25: every serving process beats; two finding the same gap together must
    credit it once (the heartbeat row's lock; the outage's unique start as the backstop)."""
    attempt = _start(alice, alice_enrolment)
    deadline_before = attempt.deadline
    began = timezone.now()
    site_beat(now=began)
    barrier, errors = threading.Barrier(2), []

    def beat(offset_ms: int) -> None:
        try:
            barrier.wait()
            site_beat(now=began + timedelta(seconds=60, milliseconds=offset_ms))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Outage.objects.count() == 1
    attempt.refresh_from_db()
    assert len(_events(attempt, AttemptEvent.Kind.SYSTEM_PAUSED)) == 1
    assert (
        timedelta(seconds=60)
        <= attempt.deadline - deadline_before
        <= timedelta(seconds=60, milliseconds=1)
    )


@pytest.mark.django_db
def test_a_candidates_lost_connection_is_recorded_as_theirs_and_nothing_is_voided(
    alice, alice_enrolment, bob, bob_enrolment
):
    """Issue 10, point 26 (R-TAKE-8): only this candidate's page was away (the server stayed up):
    recorded as a failure on the candidate's side for the committee; the attempt goes on, nothing
    is voided. A reload is not recorded; a gap that a server outage covered is the server's."""
    attempt = _start(alice, alice_enrolment)
    now = timezone.now()
    connection_lost(attempt_id=attempt.pk, now=now)
    assert (
        connection_back(attempt_id=attempt.pk, now=now + timedelta(seconds=2)) is None
    )  # a reload

    connection_lost(attempt_id=attempt.pk, now=now + timedelta(seconds=10))
    event = connection_back(attempt_id=attempt.pk, now=now + timedelta(seconds=100))
    assert event is not None and event.kind == AttemptEvent.Kind.CONNECTION_LOST
    assert event.detail["side"] == "candidate" and event.detail["seconds"] == 90
    assert "committee" in event.detail["outcome"]
    assert AuditEntry.objects.filter(
        kind="attempt.connection_lost", subject=f"attempt:{attempt.pk}"
    ).exists()
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS
    assert AttemptConnection.objects.get(attempt=attempt).lost_at is None

    # Bob's page went away during a server outage: recorded as the server's side.
    other = _start(bob, bob_enrolment)
    connection_lost(attempt_id=other.pk, now=now)
    Outage.objects.create(
        started_at=now + timedelta(seconds=1), ended_at=now + timedelta(seconds=50), settled_at=now
    )
    assert (
        connection_back(attempt_id=other.pk, now=now + timedelta(seconds=60)).detail["side"]
        == "server"
    )


@pytest.mark.django_db(transaction=True)
async def test_the_exam_page_socket_records_a_long_absence_when_it_comes_back(
    alice, alice_enrolment, settings
):
    """Issue 10, point 26, through the page's real socket: closing it notes the loss; coming back
    after CONNECTION_LOST_MIN_SECONDS records it."""
    from tests.exams.test_consumer import connect, session_cookie

    settings.CONNECTION_LOST_MIN_SECONDS = 1
    attempt = await sync_to_async(_start)(alice, alice_enrolment)
    session = await sync_to_async(session_cookie)(alice)
    ws, connected, _ = await connect(attempt.pk, session=session, device=DEVICE)
    assert connected
    await ws.receive_json_from(timeout=5)
    await ws.disconnect()
    await sync_to_async(
        lambda: AttemptConnection.objects.filter(attempt=attempt).update(
            lost_at=timezone.now() - timedelta(seconds=5)
        )
    )()
    ws, connected, _ = await connect(attempt.pk, session=session, device=DEVICE)
    assert connected
    state = await ws.receive_json_from(timeout=5)
    assert state["t"] == "state" and state["status"] == "in_progress"
    await ws.disconnect()
    events = await sync_to_async(
        lambda: list(AttemptEvent.objects.filter(attempt=attempt, kind="connection_lost"))
    )()
    assert len(events) == 1 and events[0].detail["side"] == "candidate"


@pytest.mark.django_db
def test_most_of_a_sitting_losing_their_pages_together_is_the_servers_side_and_credited(
    sitting, room_a, alice, alice_enrolment, bob, bob_enrolment
):
    """Issue 10, point 25: "every socket of a sitting dropping together" with the server itself
    up (its network, a proxy) is a server-side failure: each attempt gets the time it was away when
    its page returns, and the clock waits for it meanwhile. One candidate of four dropping alone is
    their own side (point 26): recorded, not credited."""
    carol, dave = UserFactory(username="carol"), UserFactory(username="dave")
    attempts = [
        _start(user, enrolment)
        for user, enrolment in [
            (alice, alice_enrolment),
            (bob, bob_enrolment),
            (carol, enrol(sitting, room_a, carol)),
            (dave, enrol(sitting, room_a, dave)),
        ]
    ]
    now = timezone.now()
    SiteHeartbeat.objects.create(
        pk=1, beat_at=now + timedelta(minutes=5)
    )  # the server beat throughout

    # Dave alone, then back after a minute: his side.
    connection_lost(attempt_id=attempts[3].pk, now=now - timedelta(minutes=3))
    alone = connection_back(attempt_id=attempts[3].pk, now=now - timedelta(minutes=2))
    assert alone.detail["side"] == "candidate"
    assert not _events(attempts[3], AttemptEvent.Kind.SYSTEM_PAUSED)

    # Alice, Bob and Carol within 2 s of each other (3 of 4: most of the sitting).
    for offset, attempt in enumerate(attempts[:3]):
        connection_lost(attempt_id=attempt.pk, now=now + timedelta(seconds=offset))
    alice_deadline = Attempt.objects.get(pk=attempts[0].pk).deadline
    # Alice's deadline passes while she is away: the clock waits for her return.
    Attempt.objects.filter(pk=attempts[0].pk).update(deadline=now + timedelta(seconds=20))
    late = now + timedelta(seconds=60)
    assert (
        attempt_submit(attempt_id=attempts[0].pk, by=SubmittedBy.CLOCK, now=late).status
        == AttemptStatus.IN_PROGRESS
    )

    event = connection_back(attempt_id=attempts[0].pk, now=late)
    assert event.detail["side"] == "server_network"
    attempt = Attempt.objects.get(pk=attempts[0].pk)
    assert (
        attempt.deadline == now + timedelta(seconds=80)
        and attempt.status == AttemptStatus.IN_PROGRESS
    )
    [credit] = _events(attempt, AttemptEvent.Kind.SYSTEM_PAUSED)
    assert credit.detail["cause"] == "sitting_disconnected" and credit.detail["seconds"] == 60
    assert alice_deadline != attempt.deadline


@pytest.mark.django_db
def test_a_sitting_planned_to_run_past_midnight_is_credited_a_short_outage(alice, alice_enrolment):
    """Issue 10, point 25 (found when CI ran at 22:30 in the exam's zone): a sitting that was to end
    after midnight anyway is credited a short outage; only a push past the day it was to end on
    ends it."""
    attempt = _start(alice, alice_enrolment)
    zone = ZoneInfo(attempt.exam.time_zone)
    late = datetime(2026, 6, 1, 22, 30, tzinfo=zone)
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=late, deadline=late + timedelta(hours=2)
    )
    site_beat(now=late + timedelta(minutes=50))
    outage = site_beat(now=late + timedelta(minutes=51))  # 23:20-23:21: the end moves to 00:31
    assert (outage.credited, outage.interrupted) == (1, 0)
    credited = Attempt.objects.get(pk=attempt.pk)
    assert credited.status == AttemptStatus.IN_PROGRESS
    assert credited.deadline == late + timedelta(hours=2, minutes=1)
