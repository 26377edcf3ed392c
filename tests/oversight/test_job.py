"""The periodic job: scheduled in beat and in `manage.py tick`, drafts once, keeps councils on every room."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from exams.models import AuditEntry, Council, OversightReport, Room
from exams.oversight import services
from exams.oversight.demo import load_oversight_demo
from exams.oversight.tasks import draft_oversight_reports

from ..factories import UserFactory, make_sitting


@pytest.fixture
def ended(exam):
    return make_sitting(exam, proctored=True, starts_in=timedelta(hours=-3), late_entry_minutes=30)


def test_the_job_is_in_the_beat_schedule_and_registered_with_the_worker():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == draft_oversight_reports.name)
    assert entry["schedule"] <= 60
    assert "exams.oversight.tasks" in settings.CELERY_IMPORTS


def test_the_job_drafts_an_ended_sittings_reports_once(ended, exam):
    make_sitting(exam, proctored=True)  # under way: nothing yet
    drafted = draft_oversight_reports()
    assert len(drafted) == 2 and set(OversightReport.objects.values_list("sitting", flat=True)) == {ended.pk}
    assert draft_oversight_reports() == []  # run twice: nothing more, no second audit entry
    assert AuditEntry.objects.filter(kind="oversight.drafted").count() == 2


def test_sittings_older_than_the_lookback_are_left_alone(exam):
    make_sitting(exam, starts_in=-services.LOOKBACK - timedelta(hours=1))
    assert draft_oversight_reports() == []


def test_tick_runs_the_job(ended):
    call_command("tick", "--once")
    assert OversightReport.objects.filter(sitting=ended).count() == 2


def test_a_room_added_after_the_appointment_is_watched_from_the_next_run(sitting, room_a, software_member):
    assert room_a.observers.filter(pk=software_member.pk).exists()
    late_room = Room.objects.create(sitting=sitting, name="Room Z")
    assert not late_room.observers.exists()
    draft_oversight_reports()
    assert late_room.observers.filter(pk=software_member.pk).exists()


def test_the_demo_makes_councils_and_an_ended_sitting_with_drafted_reports(exam, sitting, administrator):
    users = {"admin": administrator, "committee": UserFactory(username="committee_demo"),
             "observer": UserFactory(username="observer_demo")}
    ended = load_oversight_demo(exam=exam, practice=None, sittings=[sitting], users=users)
    assert set(OversightReport.objects.filter(sitting=ended).values_list("council", flat=True)) == set(Council.values)
    assert services.CouncilMember.objects.filter(sitting=sitting, user=users["observer"], council=Council.EXTERNAL).exists()
    assert ended.enrolments.filter(checkin__status="absent").count() == 3
    assert ended.rooms.values("region").distinct().count() == 2
