"""When a sitting has ended (exams.oversight.ending): nobody can still write; capped at the end of its day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from exams.models import Attempt, AttemptStatus
from exams.oversight.ending import end_of_day_cap, sitting_ended_at
from exams.services import attempt_start, attempt_submit
from proctoring import services as proctoring
from proctoring.models import RoomSession

from ..factories import enrol, make_sitting
from .conftest import DEVICE, end_room, sit


@pytest.fixture
def unproctored(exam):
    return make_sitting(exam, starts_in=timedelta(minutes=-30), late_entry_minutes=15)


def test_an_unproctored_sitting_ends_with_the_last_submission_once_entry_closed(unproctored, alice, bob):
    room = unproctored.rooms.create(name="Hall")
    alices, bobs = enrol(unproctored, room, alice), enrol(unproctored, room, bob)
    started = unproctored.starts_at + timedelta(minutes=1)
    first = attempt_start(candidate=alice, enrolment_id=alices.pk, device_id=DEVICE, now=started)
    assert sitting_ended_at(unproctored, timezone.now()) is None  # Alice is writing
    attempt_submit(attempt_id=first.pk, by="candidate", now=started + timedelta(minutes=5))
    assert sitting_ended_at(unproctored, unproctored.entry_closes_at - timedelta(seconds=1)) is None  # Bob may still start
    # Bob never came: the sitting ended when entry closed, later than Alice's submission.
    assert sitting_ended_at(unproctored, timezone.now()) == unproctored.entry_closes_at
    second = attempt_start(candidate=bob, enrolment_id=bobs.pk, device_id=DEVICE, now=unproctored.entry_closes_at)
    submitted = attempt_submit(attempt_id=second.pk, by="candidate", now=unproctored.entry_closes_at + timedelta(minutes=3))
    assert sitting_ended_at(unproctored, timezone.now()) == submitted.submitted_at


def test_a_sitting_whose_candidates_all_finished_early_has_ended(exam, alice):
    unproctored = make_sitting(exam, late_entry_minutes=60)  # entry open for another hour
    alices = enrol(unproctored, unproctored.rooms.create(name="Hall"), alice)
    attempt = attempt_start(candidate=alice, enrolment_id=alices.pk, device_id=DEVICE)
    submitted = attempt_submit(attempt_id=attempt.pk, by="candidate")
    assert submitted.submitted_at < unproctored.entry_closes_at
    assert sitting_ended_at(unproctored, timezone.now()) == submitted.submitted_at


def test_a_sitting_nobody_is_enrolled_in_ends_when_entry_closes(unproctored):
    assert sitting_ended_at(unproctored, unproctored.entry_closes_at) == unproctored.entry_closes_at
    assert sitting_ended_at(unproctored, unproctored.entry_closes_at - timedelta(seconds=1)) is None


def test_a_proctored_sitting_ends_with_its_last_room(sitting, room_a, room_b, proctor_a, proctor_b, alice_enrolment, bob_enrolment):
    sit(alice_enrolment, proctor_a)
    end_room(room_a, proctor_a)
    # Room B never started: Bob can still be admitted and start.
    assert sitting_ended_at(sitting, timezone.now()) is None
    end_room(room_b, proctor_b)  # Bob is marked absent by the End step
    ended = RoomSession.objects.get(room=room_b).ended_at
    assert sitting_ended_at(sitting, timezone.now()) == ended


def test_a_paused_attempt_keeps_the_sitting_open_until_the_end_of_its_day(sitting, room_a, proctor_a, alice_enrolment):
    attempt = sit(alice_enrolment, proctor_a)
    proctoring.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Power cut")
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS
    cap = end_of_day_cap(sitting)
    assert sitting_ended_at(sitting, cap - timedelta(seconds=1)) is None
    assert sitting_ended_at(sitting, cap) == cap


def test_a_room_its_proctor_never_started_ends_at_midnight(sitting, room_a, alice_enrolment):
    cap = end_of_day_cap(sitting)
    assert sitting_ended_at(sitting, cap - timedelta(minutes=1)) is None
    assert sitting_ended_at(sitting, cap + timedelta(hours=5)) == cap


def test_the_end_of_day_is_midnight_in_the_exams_time_zone(exam):
    exam.time_zone = "Asia/Ulaanbaatar"  # UTC+8
    exam.save()
    zone = ZoneInfo("Asia/Ulaanbaatar")
    late = make_sitting(exam)
    late.starts_at = datetime(2026, 6, 1, 21, 0, tzinfo=zone)  # ends 21:00 + 60 min entry + 100 min: 23:40
    assert end_of_day_cap(late) == datetime(2026, 6, 2, 0, 0, tzinfo=zone)
    late.starts_at = datetime(2026, 6, 1, 22, 30, tzinfo=zone)  # ends 01:10 the next day
    assert end_of_day_cap(late) == datetime(2026, 6, 3, 0, 0, tzinfo=zone)
    assert end_of_day_cap(late).astimezone(ZoneInfo("UTC")).hour == 16
