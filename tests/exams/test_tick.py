"""`manage.py tick` runs the beat schedule itself: the periodic jobs are written once (issue 15)."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.core.management import call_command
from django.utils.module_loading import import_string

from exams.management.commands.tick import interval_seconds

RAN: list[str] = []


def first_job() -> str:
    RAN.append("first")
    return "done"


def second_job() -> None:
    RAN.append("second")


def test_tick_runs_every_job_of_the_beat_schedule_in_its_order(settings, capsys):
    RAN.clear()
    settings.CELERY_BEAT_SCHEDULE = {
        "first": {"task": f"{__name__}.first_job", "schedule": 3600.0},
        "second": {"task": f"{__name__}.second_job", "schedule": timedelta(seconds=60)},
    }
    call_command("tick", "--once")
    assert RAN == ["first", "second"]
    assert "first: done" in capsys.readouterr().out


def test_the_real_schedule_names_tasks_that_exist():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert interval_seconds(entry["schedule"]) > 0
        assert callable(import_string(entry["task"]))


def test_intervals_in_every_form_beat_takes():
    assert interval_seconds(10) == 10.0
    assert interval_seconds(timedelta(minutes=2)) == 120.0
    assert interval_seconds(celery_schedule(run_every=timedelta(hours=1))) == 3600.0
