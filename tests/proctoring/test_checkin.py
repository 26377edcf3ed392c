"""The waiting room and the room's control steps (R-PROC-1, R-PROC-5, R-SCHED-3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exams.errors import ExamError
from exams.models import Attempt, AttemptStatus, Room, SubmittedBy
from exams.services import attempt_start
from proctoring import services
from proctoring.errors import ProctoringError
from proctoring.models import CheckIn, RoomEvent, RoomSession

from ..factories import UserFactory, enrol, make_sitting
from .conftest import DEVICE, admit, start_proctored, start_room

Stage = RoomSession.Stage


@pytest.fixture
def carol_enrolment(sitting, room_a):
    """A second candidate in room A."""
    return enrol(sitting, room_a, UserFactory(username="carol"))


# --- arriving -------------------------------------------------------------------------------
def test_arrive_before_the_waiting_room_opens_is_refused(alice, alice_enrolment, sitting):
    with pytest.raises(ProctoringError) as refused:
        services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice, now=sitting.entry_opens_at - timedelta(seconds=1))
    assert refused.value.code == "early"
    assert not CheckIn.objects.filter(enrolment=alice_enrolment, arrived_at__isnull=False).exists()


@pytest.mark.parametrize("when", ["opens", "starts", "closes"])
def test_arrive_in_the_window_puts_the_candidate_in_the_waiting_room(alice, alice_enrolment, sitting, when):
    now = {"opens": sitting.entry_opens_at, "starts": sitting.starts_at, "closes": sitting.entry_closes_at}[when]
    checkin = services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice, now=now)
    assert checkin.status == CheckIn.Status.WAITING and checkin.arrived_at == now
    # Coming back (a reload) changes nothing, even after entry has closed meanwhile.
    again = services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice, now=sitting.entry_closes_at + timedelta(minutes=5))
    assert again.pk == checkin.pk and again.arrived_at == now
    [event] = RoomEvent.objects.filter(kind=RoomEvent.Kind.ARRIVED)
    assert (event.room_id, event.enrolment, event.actor, event.at) == (alice_enrolment.room_id, alice_enrolment, alice, now)


def test_arrive_after_entry_closed_is_refused(alice, alice_enrolment, sitting, proctor_a, room_a):
    start_room(room_a, proctor_a, now=sitting.starts_at)
    with pytest.raises(ProctoringError) as refused:
        services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice, now=sitting.entry_closes_at + timedelta(seconds=1))
    assert refused.value.code == "late"
    assert not RoomEvent.objects.filter(kind=RoomEvent.Kind.ARRIVED).exists()


def test_a_room_started_late_gives_its_candidates_the_whole_late_entry(alice, alice_enrolment, sitting, proctor_a, room_a):
    # The proctor's link failed: the room starts after the sitting's entry would have closed.
    late_start = sitting.entry_closes_at + timedelta(minutes=5)
    assert services.absentees_mark(now=late_start) == []  # an unstarted room's candidates wait
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice, now=late_start - timedelta(minutes=1))
    admit(alice_enrolment, proctor_a, now=late_start - timedelta(seconds=30))
    start_room(room_a, proctor_a, now=late_start)
    closes = services.entry_closes_for(alice_enrolment, services.room_session_for(room_a.pk))
    assert closes == late_start + timedelta(minutes=sitting.late_entry_minutes)
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE, now=late_start + timedelta(minutes=1))
    assert attempt.is_in_progress


def test_an_unproctored_sitting_has_no_waiting_room_and_starts_without_one(alice, alice_enrolment, sitting):
    sitting.proctored = False
    sitting.save()
    with pytest.raises(ProctoringError) as refused:
        services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    assert refused.value.code == "not_proctored"
    assert services.start_refusal(alice_enrolment, "", timezone.now()) is None
    assert attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE).is_in_progress


def test_arrive_with_another_candidates_enrolment_is_not_found(bob, alice_enrolment):
    with pytest.raises(ProctoringError) as refused:
        services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=bob)
    assert refused.value.code == "not_found"
    assert not CheckIn.objects.exists()


# --- admit and refuse ---------------------------------------------------------------------------
def test_admit_records_who_and_when(alice, alice_enrolment, proctor_a):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    now = timezone.now()
    checkin = services.checkin_admit(enrolment_id=alice_enrolment.pk, by=proctor_a, now=now)
    assert (checkin.status, checkin.decided_by, checkin.decided_at) == (CheckIn.Status.ADMITTED, proctor_a, now)
    # Admitting twice is harmless and logged once.
    services.checkin_admit(enrolment_id=alice_enrolment.pk, by=proctor_a)
    assert RoomEvent.objects.filter(kind=RoomEvent.Kind.ADMITTED, actor=proctor_a, enrolment=alice_enrolment).count() == 1


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_refuse_needs_a_reason(alice, alice_enrolment, proctor_a, reason):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    with pytest.raises(ProctoringError):
        services.checkin_refuse(enrolment_id=alice_enrolment.pk, by=proctor_a, reason=reason)
    assert CheckIn.objects.get(enrolment=alice_enrolment).status == CheckIn.Status.WAITING
    assert not RoomEvent.objects.filter(kind=RoomEvent.Kind.REFUSED).exists()


def test_a_very_long_refusal_reason_is_cut_not_a_crash(alice, alice_enrolment, proctor_a):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    checkin = services.checkin_refuse(enrolment_id=alice_enrolment.pk, by=proctor_a, reason="r" * 1500)
    assert checkin.status == CheckIn.Status.REFUSED and len(checkin.reason) == 500
    assert RoomEvent.objects.filter(kind=RoomEvent.Kind.REFUSED, enrolment=alice_enrolment).exists()


def test_a_refused_candidate_cannot_start(alice, alice_enrolment, proctor_a, room_a):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    checkin = services.checkin_refuse(enrolment_id=alice_enrolment.pk, by=proctor_a, reason=" The ID card is not hers ")
    assert (checkin.status, checkin.reason, checkin.decided_by) == (CheckIn.Status.REFUSED, "The ID card is not hers", proctor_a)
    event = RoomEvent.objects.get(kind=RoomEvent.Kind.REFUSED)
    assert (event.actor, event.enrolment, event.reason) == (proctor_a, alice_enrolment, "The ID card is not hers")
    start_room(room_a, proctor_a)
    with pytest.raises(ExamError) as refused:
        attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    assert refused.value.code == "not_admitted"


def test_no_decision_after_entry_closed_or_after_the_start(alice, alice_enrolment, bob_enrolment, proctor_a, proctor_b, sitting,
                                                          room_a):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    start_room(room_a, proctor_a, now=sitting.starts_at)  # entry closes relative to the room's start
    with pytest.raises(ProctoringError):
        services.checkin_admit(enrolment_id=alice_enrolment.pk, by=proctor_a, now=sitting.entry_closes_at + timedelta(seconds=1))
    started = start_proctored(bob_enrolment, proctor_b)
    with pytest.raises(ProctoringError):
        services.checkin_refuse(enrolment_id=bob_enrolment.pk, by=proctor_b, reason="Too late to refuse")
    assert CheckIn.objects.get(enrolment=bob_enrolment).status == CheckIn.Status.ADMITTED
    assert Attempt.objects.get(pk=started.pk).is_in_progress


# --- starting in a proctored sitting -------------------------------------------------------------
def test_start_needs_admission_and_a_started_room(alice, alice_enrolment, proctor_a, room_a):
    def start():
        return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)

    with pytest.raises(ExamError) as refused:
        start()
    assert refused.value.code == "not_admitted"
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    with pytest.raises(ExamError) as refused:
        start()
    assert refused.value.code == "not_admitted"
    services.checkin_admit(enrolment_id=alice_enrolment.pk, by=proctor_a)
    with pytest.raises(ExamError) as refused:
        start()
    assert refused.value.code == "room_not_started"
    assert not Attempt.objects.exists()
    start_room(room_a, proctor_a)
    attempt = start()
    assert attempt.is_in_progress and attempt.enrolment == alice_enrolment


def test_start_room_of_another_room_does_not_let_the_candidate_start(alice, alice_enrolment, proctor_a, proctor_b, room_b):
    admit(alice_enrolment, proctor_a)
    start_room(room_b, proctor_b)
    with pytest.raises(ExamError) as refused:
        attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    assert refused.value.code == "room_not_started"


def test_no_start_once_the_room_has_collected(alice, alice_enrolment, proctor_a, room_a):
    admit(alice_enrolment, proctor_a)
    start_room(room_a, proctor_a)
    services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.COLLECTED)
    with pytest.raises(ExamError) as refused:
        attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    assert refused.value.code == "room_not_started"


def test_start_code_is_required_and_checked(alice, alice_enrolment, proctor_a, room_a, sitting):
    sitting.start_code_required = True
    sitting.save()
    admit(alice_enrolment, proctor_a)
    session = start_room(room_a, proctor_a)
    assert len(session.start_code) == 6 and session.start_code.isdigit()
    wrong = f"{(int(session.start_code) + 1) % 10**6:06d}"
    for code in ["", wrong, session.start_code[:5]]:
        with pytest.raises(ExamError) as refused:
            attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE, start_code=code)
        assert refused.value.code == "start_code"
    assert not Attempt.objects.exists()
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE, start_code=f" {session.start_code} ")
    assert attempt.is_in_progress


@pytest.mark.parametrize("typed", ["１２３４５６", "абвгде", "12345é"])
def test_a_start_code_typed_in_another_script_is_refused_not_a_crash(alice, alice_enrolment, proctor_a, room_a, sitting, typed):
    # Candidates type on Mongolian Cyrillic keyboards; full-width digits come from some input methods.
    sitting.start_code_required = True
    sitting.save()
    admit(alice_enrolment, proctor_a)
    start_room(room_a, proctor_a)
    with pytest.raises(ExamError) as refused:
        attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE, start_code=typed)
    assert refused.value.code == "start_code"


def test_no_start_code_when_the_sitting_does_not_ask_for_one(alice, alice_enrolment, proctor_a, room_a):
    admit(alice_enrolment, proctor_a)
    session = start_room(room_a, proctor_a)
    assert session.start_code == ""
    assert attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE, start_code="whatever").is_in_progress


# --- the room's steps -------------------------------------------------------------------------
def test_room_steps_go_in_order_and_none_is_skipped(room_a, proctor_a, sitting):
    for skipped in [Stage.COLLECTED, Stage.ENDED, Stage.ADMITTING, "bogus"]:
        with pytest.raises(ProctoringError):
            services.room_advance(room_id=room_a.pk, by=proctor_a, to=skipped)
    assert services.room_session_for(room_a.pk).stage == Stage.ADMITTING

    with pytest.raises(ProctoringError):
        start_room(room_a, proctor_a, now=sitting.starts_at - timedelta(seconds=1))
    assert services.room_session_for(room_a.pk).stage == Stage.ADMITTING

    session = start_room(room_a, proctor_a, now=sitting.starts_at)
    assert (session.stage, session.started_at) == (Stage.STARTED, sitting.starts_at)
    for wrong in [Stage.STARTED, Stage.ENDED]:
        with pytest.raises(ProctoringError):
            services.room_advance(room_id=room_a.pk, by=proctor_a, to=wrong)
    assert services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.COLLECTED).stage == Stage.COLLECTED
    assert services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.ENDED).stage == Stage.ENDED
    for after_the_end in [Stage.ADMITTING, Stage.STARTED, Stage.COLLECTED, Stage.ENDED]:
        with pytest.raises(ProctoringError):
            services.room_advance(room_id=room_a.pk, by=proctor_a, to=after_the_end)

    logged = list(RoomEvent.objects.filter(room=room_a).order_by("id").values_list("kind", "actor"))
    assert logged == [(RoomEvent.Kind.STARTED, proctor_a.pk), (RoomEvent.Kind.COLLECTED, proctor_a.pk), (RoomEvent.Kind.ENDED, proctor_a.pk)]


def test_starting_one_room_leaves_the_other_alone(room_a, room_b, proctor_a):
    start_room(room_a, proctor_a)
    assert services.room_session_for(room_b.pk).stage == Stage.ADMITTING


def test_collect_submits_the_running_attempts_of_that_room_only(attempt, carol_enrolment, bob_attempt, proctor_a, room_a):
    carol_attempt = start_proctored(carol_enrolment, proctor_a)
    services.attempt_pause(attempt_id=carol_attempt.pk, by=proctor_a, reason="Network")
    now = timezone.now()
    # Both still have time (one is paused): Collect says who, and goes ahead only when told twice.
    with pytest.raises(ProctoringError) as refused:
        services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.COLLECTED, now=now)
    assert refused.value.code == "time_left" and "Alice Batbayar" in refused.value.message
    assert Attempt.objects.get(pk=attempt.pk).is_in_progress
    services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.COLLECTED, force=True, now=now)
    for collected in (attempt, carol_attempt):
        collected.refresh_from_db()
        assert collected.status == AttemptStatus.SUBMITTED and collected.submitted_by == SubmittedBy.STAFF
        assert collected.events.get(kind="submitted").actor == proctor_a
        assert collected.paused_at is None and collected.pause_reason == ""  # over, not paused
    bob_attempt.refresh_from_db()
    assert bob_attempt.status == AttemptStatus.IN_PROGRESS
    assert services.room_session_for(room_a.pk).collected_at == now


def test_end_marks_absent_whoever_never_started(attempt, carol_enrolment, bob_enrolment, proctor_a, room_a, sitting):
    dave_enrolment = enrol(sitting, room_a, UserFactory(username="dave"))
    admit(carol_enrolment, proctor_a)  # admitted, never pressed Start
    services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.COLLECTED, force=True)
    assert not CheckIn.objects.filter(status=CheckIn.Status.ABSENT).exists()
    services.room_advance(room_id=room_a.pk, by=proctor_a, to=Stage.ENDED)
    absent = CheckIn.objects.filter(status=CheckIn.Status.ABSENT)
    assert {c.enrolment_id for c in absent} == {carol_enrolment.pk, dave_enrolment.pk}
    assert all(c.reason for c in absent)
    assert CheckIn.objects.get(enrolment=attempt.enrolment).status == CheckIn.Status.ADMITTED
    # Bob's room has not ended.
    assert not CheckIn.objects.filter(enrolment=bob_enrolment, status=CheckIn.Status.ABSENT).exists()


# --- absentees (R-SCHED-3) ----------------------------------------------------------------------
def test_absentees_are_marked_after_entry_closes_once_and_never_who_started(
    alice, alice_enrolment, bob_attempt, bob_enrolment, carol_enrolment, proctor_a, sitting, room_a
):
    start_room(room_a, proctor_a, now=sitting.starts_at)
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    assert services.absentees_mark(now=sitting.entry_closes_at - timedelta(seconds=1)) == []
    assert not CheckIn.objects.filter(status=CheckIn.Status.ABSENT).exists()

    after = sitting.entry_closes_at + timedelta(seconds=1)
    marked = services.absentees_mark(now=after)
    assert sorted(marked) == sorted([alice_enrolment.pk, carol_enrolment.pk])
    alice_checkin = CheckIn.objects.get(enrolment=alice_enrolment)
    assert (alice_checkin.status, alice_checkin.decided_at) == (CheckIn.Status.ABSENT, after) and alice_checkin.reason
    assert CheckIn.objects.get(enrolment=bob_enrolment).status == CheckIn.Status.ADMITTED

    assert services.absentees_mark(now=after + timedelta(minutes=10)) == []
    assert RoomEvent.objects.filter(kind=RoomEvent.Kind.ABSENT).count() == 2
    # Absent is final for the waiting room: no admission, no way back in.
    with pytest.raises(ProctoringError):
        services.checkin_admit(enrolment_id=alice_enrolment.pk, by=proctor_a, now=sitting.entry_closes_at)
    bob_attempt.refresh_from_db()
    assert bob_attempt.is_in_progress


def test_absentees_of_a_sitting_still_in_entry_are_not_marked(alice_enrolment, exam, proctor_a, room_a):
    start_room(room_a, proctor_a, now=alice_enrolment.sitting.starts_at)
    later = make_sitting(exam, proctored=True, starts_in=timedelta(hours=2))
    enrol(later, Room.objects.create(sitting=later, name="Room C"), UserFactory(username="erin"))
    marked = services.absentees_mark(now=alice_enrolment.sitting.entry_closes_at + timedelta(seconds=1))
    assert marked == [alice_enrolment.pk]


def test_the_periodic_absentee_task_marks_and_counts(alice_enrolment, sitting, proctor_a, room_a):
    from proctoring import tasks

    sitting.starts_at -= timedelta(hours=2)
    sitting.save()
    start_room(room_a, proctor_a, now=sitting.starts_at)
    assert tasks.mark_absentees() == 1
    assert tasks.mark_absentees() == 0
    assert CheckIn.objects.get(enrolment=alice_enrolment).status == CheckIn.Status.ABSENT


def test_a_refused_candidate_keeps_the_refusal_when_the_room_ends(alice, alice_enrolment, proctor_a, room_a):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    services.checkin_refuse(enrolment_id=alice_enrolment.pk, by=proctor_a, reason="The ID card did not match")
    for step in (Stage.STARTED, Stage.COLLECTED, Stage.ENDED):
        services.room_advance(room_id=room_a.pk, by=proctor_a, to=step)
    services.absentees_mark(now=timezone.now() + timedelta(days=1))
    checkin = CheckIn.objects.get(enrolment=alice_enrolment)
    assert (checkin.status, checkin.reason, checkin.decided_by) == (
        CheckIn.Status.REFUSED, "The ID card did not match", proctor_a)


def test_only_the_rooms_proctors_decide_or_take_its_steps(alice, alice_enrolment, proctor_b, room_a):
    # The services check it themselves, whatever view or command calls them.
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    for call in (
        lambda: services.checkin_admit(enrolment_id=alice_enrolment.pk, by=proctor_b),
        lambda: services.checkin_refuse(enrolment_id=alice_enrolment.pk, by=proctor_b, reason="no"),
        lambda: services.room_advance(room_id=room_a.pk, by=proctor_b, to=Stage.STARTED),
    ):
        with pytest.raises(ProctoringError) as refused:
            call()
        assert refused.value.code == "not_found"
    assert CheckIn.objects.get(enrolment=alice_enrolment).status == CheckIn.Status.WAITING
    assert services.room_session_for(room_a.pk).stage == Stage.ADMITTING
