"""Pause, resume, extend, disqualify: the clock arithmetic and the rules around it (R-TAKE-7, R-PROC-4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from exams.models import Attempt, AttemptEvent, AttemptStatus, Response, SubmittedBy
from exams.services import AnswerChange, attempt_submit, attempts_submit_overdue, responses_save
from proctoring import services
from proctoring.errors import ProctoringError
from proctoring.models import RoomEvent

from .conftest import DEVICE, free_text_position

DURATION = timedelta(minutes=100)
START = datetime(2025, 5, 20, 9, 0, tzinfo=UTC)

# One step of a sitting: a pause of some length after some running time, or an extension.
pauses = st.tuples(st.just("pause"), st.integers(min_value=0, max_value=1200), st.integers(min_value=0, max_value=3 * 3600))
extensions = st.tuples(st.just("extend"), st.integers(min_value=0, max_value=1200), st.integers(min_value=1, max_value=120))
steps = st.lists(st.one_of(pauses, extensions), max_size=15)


def unsaved_attempt() -> Attempt:
    return Attempt(started_at=START, deadline=START + DURATION, status=AttemptStatus.IN_PROGRESS, form_seed=1, device_id=DEVICE)


# --- the model's arithmetic (unsaved instances) -------------------------------------------------
@hypothesis_settings(max_examples=300, deadline=None)
@given(steps=steps)
def test_deadline_is_the_original_plus_every_pause_and_extension(steps):
    attempt = unsaved_attempt()
    now, paused_total, extended_total = START, timedelta(0), timedelta(0)
    for kind, running_seconds, amount in steps:
        now += timedelta(seconds=running_seconds)
        if kind == "pause":
            attempt.paused_at = now
            frozen = attempt.time_left(now)
            resume_at = now + timedelta(seconds=amount)
            # Anywhere inside the pause, and long after the deadline as it stood: the clock stands still.
            for moment in (now, now + (resume_at - now) / 2, resume_at, attempt.deadline + timedelta(hours=5)):
                assert attempt.time_left(moment) == frozen
                assert attempt.clock_now(moment) == attempt.paused_at
                assert not attempt.is_overdue(moment)
            attempt.deadline = attempt.deadline_after_resume(resume_at)
            attempt.paused_at = None
            now = resume_at
            paused_total += timedelta(seconds=amount)
        else:
            attempt.deadline += timedelta(minutes=amount)
            extended_total += timedelta(minutes=amount)
    assert attempt.deadline == START + DURATION + paused_total + extended_total
    # The clock ran only while not paused.
    ran = (now - START) - paused_total
    assert attempt.time_left(now) == max(DURATION + extended_total - ran, timedelta(0))


@hypothesis_settings(max_examples=200, deadline=None)
@given(paused_after=st.integers(min_value=0, max_value=6000), skew=st.integers(min_value=1, max_value=3600))
def test_a_resume_stamped_before_the_pause_never_moves_the_deadline_back(paused_after, skew):
    attempt = unsaved_attempt()
    attempt.paused_at = START + timedelta(seconds=paused_after)
    assert attempt.deadline_after_resume(attempt.paused_at - timedelta(seconds=skew)) == attempt.deadline


def test_a_running_attempt_is_overdue_only_after_the_grace():
    attempt = unsaved_attempt()
    grace = timedelta(seconds=settings.ANSWER_GRACE_SECONDS)
    assert not attempt.is_overdue(attempt.deadline + grace)
    assert attempt.is_overdue(attempt.deadline + grace + timedelta(seconds=1))
    assert attempt.pause_grace_ends_at() is None
    attempt.paused_at = START + timedelta(minutes=10)
    assert attempt.pause_grace_ends_at() == attempt.paused_at + grace
    assert not attempt.is_overdue(attempt.deadline + timedelta(days=1))


# --- the services, against the database ---------------------------------------------------------
@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(
    st.tuples(st.just("pause"), st.integers(min_value=1, max_value=600), st.integers(min_value=0, max_value=1800)),
    st.tuples(st.just("extend"), st.integers(min_value=1, max_value=600), st.integers(min_value=1, max_value=120)),
), min_size=1, max_size=6))
def test_services_move_the_deadline_by_exactly_the_pauses_and_extensions(attempt, proctor_a, steps):
    attempt.refresh_from_db()
    before = attempt.deadline
    now = attempt.started_at
    expected = before
    for kind, running_seconds, amount in steps:
        now += timedelta(seconds=running_seconds)
        if kind == "pause":
            services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Power cut in the building", now=now)
            now += timedelta(seconds=amount)
            services.attempt_resume(attempt_id=attempt.pk, by=proctor_a, now=now)
            expected += timedelta(seconds=amount)
        else:
            services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=amount, reason="Wheelchair access", now=now)
            expected += timedelta(minutes=amount)
    attempt.refresh_from_db()
    assert attempt.deadline == expected
    assert attempt.paused_at is None


def test_pause_then_resume_moves_the_deadline_by_exactly_the_pause(attempt, proctor_a, alice_enrolment):
    old_deadline = attempt.deadline
    paused_at = attempt.started_at + timedelta(minutes=30)
    resumed_at = paused_at + timedelta(minutes=7, seconds=13)
    paused = services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="  Candidate's internet is down ", now=paused_at)
    assert paused.paused_at == paused_at and paused.pause_reason == "Candidate's internet is down"
    attempt.refresh_from_db()
    assert attempt.is_paused and attempt.deadline == old_deadline
    assert attempt.time_left(resumed_at) == old_deadline - paused_at

    resumed = services.attempt_resume(attempt_id=attempt.pk, by=proctor_a, now=resumed_at)
    attempt.refresh_from_db()
    assert attempt.deadline == resumed.deadline == old_deadline + timedelta(minutes=7, seconds=13)
    assert attempt.paused_at is None and attempt.pause_reason == ""
    assert attempt.time_left(resumed_at) == old_deadline - paused_at

    pause_event = AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.PAUSED)
    assert pause_event.actor == proctor_a and pause_event.at == paused_at
    assert pause_event.detail["reason"] == "Candidate's internet is down"
    resume_event = AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.RESUMED)
    assert resume_event.actor == proctor_a and resume_event.detail["paused_seconds"] == 7 * 60 + 13
    room_pause = RoomEvent.objects.get(kind=RoomEvent.Kind.PAUSED)
    assert (room_pause.room_id, room_pause.enrolment, room_pause.actor) == (alice_enrolment.room_id, alice_enrolment, proctor_a)
    assert room_pause.reason == "Candidate's internet is down" and room_pause.at == paused_at
    assert RoomEvent.objects.filter(kind=RoomEvent.Kind.RESUMED, actor=proctor_a, enrolment=alice_enrolment).count() == 1


def test_extend_adds_the_minutes_and_records_why(attempt, proctor_a, alice_enrolment):
    old_deadline = attempt.deadline
    now = attempt.started_at + timedelta(minutes=5)
    services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=15, reason="Fire alarm", now=now)
    services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=120, reason="Medical", now=now)
    attempt.refresh_from_db()
    assert attempt.deadline == old_deadline + timedelta(minutes=135)
    events = list(AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.EXTENDED))
    assert [(e.actor, e.detail["minutes"], e.detail["reason"]) for e in events] == [(proctor_a, 15, "Fire alarm"), (proctor_a, 120, "Medical")]
    room_events = RoomEvent.objects.filter(kind=RoomEvent.Kind.EXTENDED, enrolment=alice_enrolment).order_by("id")
    assert [(e.actor, e.reason) for e in room_events] == [(proctor_a, "Fire alarm"), (proctor_a, "Medical")]


@pytest.mark.parametrize("reason", ["", "   "])
def test_pause_extend_and_disqualify_need_a_reason(attempt, proctor_a, reason):
    with pytest.raises(ProctoringError):
        services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason=reason)
    with pytest.raises(ProctoringError):
        services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=10, reason=reason)
    with pytest.raises(ProctoringError):
        services.attempt_disqualify(attempt_id=attempt.pk, by=proctor_a, reason=reason)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and not attempt.is_paused
    assert not AttemptEvent.objects.filter(attempt=attempt, actor=proctor_a).exists()


def test_an_extension_during_a_pause_counts_as_well(attempt, proctor_a):
    old_deadline = attempt.deadline
    paused_at = attempt.started_at + timedelta(minutes=40)
    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Camera failed", now=paused_at)
    attempt.refresh_from_db()
    frozen = attempt.time_left(paused_at)
    services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=10, reason="Lost time before the pause",
                            now=paused_at + timedelta(minutes=1))
    attempt.refresh_from_db()
    assert attempt.is_paused and attempt.time_left(paused_at + timedelta(minutes=2)) == frozen + timedelta(minutes=10)
    services.attempt_resume(attempt_id=attempt.pk, by=proctor_a, now=paused_at + timedelta(minutes=3))
    attempt.refresh_from_db()
    assert attempt.deadline == old_deadline + timedelta(minutes=3) + timedelta(minutes=10)


def test_pause_twice_and_resume_a_running_attempt_are_refused(attempt, proctor_a):
    with pytest.raises(ProctoringError, match="not paused"):
        services.attempt_resume(attempt_id=attempt.pk, by=proctor_a)
    first = attempt.started_at + timedelta(minutes=1)
    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Camera failed", now=first)
    with pytest.raises(ProctoringError, match="already paused"):
        services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Again", now=first + timedelta(minutes=1))
    attempt.refresh_from_db()
    assert attempt.paused_at == first and attempt.pause_reason == "Camera failed"


def test_pause_after_time_is_up_is_refused(attempt, proctor_a):
    with pytest.raises(ProctoringError):
        services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Too late", now=attempt.deadline)
    attempt.refresh_from_db()
    assert not attempt.is_paused


@pytest.mark.parametrize("minutes", [0, -5, 121, 1000, "10", 2.5, None])
def test_extend_is_from_1_to_120_whole_minutes(attempt, proctor_a, minutes):
    old_deadline = attempt.deadline
    with pytest.raises(ProctoringError):
        services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=minutes, reason="Because")
    attempt.refresh_from_db()
    assert attempt.deadline == old_deadline


@pytest.mark.parametrize("how", ["submitted", "disqualified"])
def test_nothing_can_be_done_to_an_ended_attempt(attempt, proctor_a, how):
    if how == "submitted":
        attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CANDIDATE)
    else:
        services.attempt_disqualify(attempt_id=attempt.pk, by=proctor_a, reason="Phone on the desk")
    attempt.refresh_from_db()
    deadline, status = attempt.deadline, attempt.status
    calls = [
        lambda: services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="x"),
        lambda: services.attempt_resume(attempt_id=attempt.pk, by=proctor_a),
        lambda: services.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=5, reason="x"),
        lambda: services.attempt_disqualify(attempt_id=attempt.pk, by=proctor_a, reason="x"),
    ]
    for call in calls:
        with pytest.raises(ProctoringError) as refused:
            call()
        assert refused.value.code != "not_found"
    attempt.refresh_from_db()
    assert (attempt.deadline, attempt.status, attempt.paused_at) == (deadline, status, None)


@pytest.mark.parametrize("outsider", ["proctor_b", "observer", "committee_member", "alice"])
def test_only_a_proctor_of_the_room_acts_on_an_attempt(attempt, proctor_a, outsider, request):
    user = request.getfixturevalue(outsider)
    paused_at = attempt.started_at + timedelta(minutes=1)
    calls = [
        lambda: services.attempt_pause(attempt_id=attempt.pk, by=user, reason="x"),
        lambda: services.attempt_extend(attempt_id=attempt.pk, by=user, minutes=5, reason="x"),
        lambda: services.attempt_disqualify(attempt_id=attempt.pk, by=user, reason="x"),
    ]
    for call in calls:
        with pytest.raises(ProctoringError) as refused:
            call()
        assert refused.value.code == "not_found"
    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Network", now=paused_at)
    with pytest.raises(ProctoringError) as refused:
        services.attempt_resume(attempt_id=attempt.pk, by=user)
    assert refused.value.code == "not_found"
    attempt.refresh_from_db()
    assert attempt.paused_at == paused_at and attempt.status == AttemptStatus.IN_PROGRESS


def test_disqualify_ends_the_attempt_and_later_saves_are_refused_as_ended(attempt, proctor_a, alice, alice_enrolment):
    now = attempt.started_at + timedelta(minutes=20)
    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Looking into it", now=now - timedelta(minutes=1))
    services.attempt_disqualify(attempt_id=attempt.pk, by=proctor_a, reason="Second person in the room", now=now)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.DISQUALIFIED
    assert attempt.end_reason == "Second person in the room"
    assert attempt.submitted_by == SubmittedBy.STAFF and attempt.submitted_at == now
    assert attempt.paused_at is None
    event = AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.DISQUALIFIED)
    assert event.actor == proctor_a and event.detail["reason"] == "Second person in the room"
    room_event = RoomEvent.objects.get(kind=RoomEvent.Kind.DISQUALIFIED)
    assert (room_event.actor, room_event.enrolment, room_event.reason) == (proctor_a, alice_enrolment, "Second person in the room")

    position = free_text_position(attempt)
    [result] = responses_save(changes=[AnswerChange(attempt_id=attempt.pk, candidate_id=alice.pk, device_id=DEVICE,
                                                    position=position, seq=1, value="after the end")],
                              now=now + timedelta(seconds=1))
    assert not result.ok and result.code == "ended" and "Second person in the room" in result.reason
    assert not Response.objects.filter(attempt=attempt).exists()
    # A disqualified attempt is not submitted again by the clock.
    assert attempt.pk not in attempts_submit_overdue(now=attempt.deadline + timedelta(hours=1))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.DISQUALIFIED


def test_a_save_during_a_pause_is_refused_after_the_grace_and_accepted_after_resume(attempt, proctor_a, alice):
    position = free_text_position(attempt)
    paused_at = attempt.started_at + timedelta(minutes=10)
    grace = timedelta(seconds=settings.ANSWER_GRACE_SECONDS)

    def save(seq: int, value: str, received_at: datetime):
        [result] = responses_save(changes=[AnswerChange(attempt_id=attempt.pk, candidate_id=alice.pk, device_id=DEVICE, position=position,
                                                        seq=seq, value=value, received_at=received_at)], now=received_at)
        return result

    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Server trouble", now=paused_at)
    in_flight = save(1, "sent just before the pause", paused_at + grace - timedelta(milliseconds=100))
    assert in_flight.ok, in_flight
    refused = save(2, "typed during the pause", paused_at + grace + timedelta(seconds=1))
    assert not refused.ok and refused.code == "paused" and "Server trouble" in refused.reason
    assert Response.objects.get(attempt=attempt, attempt_item__position=position).value == "sent just before the pause"

    resumed_at = paused_at + timedelta(minutes=5)
    services.attempt_resume(attempt_id=attempt.pk, by=proctor_a, now=resumed_at)
    again = save(2, "typed during the pause", resumed_at + timedelta(seconds=2))
    assert again.ok and again.code == "saved"
    assert Response.objects.get(attempt=attempt, attempt_item__position=position).value == "typed during the pause"


def test_a_save_during_a_pause_past_the_old_deadline_is_paused_not_late(attempt, proctor_a, alice):
    # The page keeps a "paused" answer and sends it again after the resume; a "late" one is lost.
    paused_at = attempt.deadline - timedelta(minutes=1)
    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Server trouble", now=paused_at)
    received_at = attempt.deadline + timedelta(hours=1)
    [result] = responses_save(changes=[AnswerChange(attempt_id=attempt.pk, candidate_id=alice.pk, device_id=DEVICE,
                                                    position=free_text_position(attempt), seq=1, value="kept", received_at=received_at)],
                              now=received_at)
    assert not result.ok and result.code == "paused"


def test_the_clock_does_not_submit_a_paused_attempt_whose_old_deadline_has_passed(attempt, bob_attempt, proctor_a):
    old_deadline = attempt.deadline
    paused_at = attempt.started_at + timedelta(minutes=50)
    services.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Power cut", now=paused_at)
    long_after = old_deadline + timedelta(hours=1)
    submitted = attempts_submit_overdue(now=long_after)
    # Bob's attempt, not paused, shows the same call does submit what is overdue.
    assert submitted == [bob_attempt.pk]
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.is_paused
    assert attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CLOCK, now=long_after).status == AttemptStatus.IN_PROGRESS

    # After the resume the clock submits at the moved deadline, not before.
    services.attempt_resume(attempt_id=attempt.pk, by=proctor_a, now=long_after)
    attempt.refresh_from_db()
    assert attempt.deadline == old_deadline + (long_after - paused_at)
    assert attempts_submit_overdue(now=attempt.deadline - timedelta(seconds=1)) == []
    grace = timedelta(seconds=settings.ANSWER_GRACE_SECONDS)
    assert attempts_submit_overdue(now=attempt.deadline + grace + timedelta(seconds=1)) == [attempt.pk]
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.submitted_by == SubmittedBy.CLOCK
