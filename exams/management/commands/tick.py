"""`manage.py tick`: the embedded default's stand-in for Celery beat.

It runs the beat schedule itself (settings.CELERY_BEAT_SCHEDULE), so the periodic jobs are written
once: each task at its own interval, in the schedule's order (the oversight drafts come after the
absentees are marked, as they must), every task on the first pass.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


def interval_seconds(schedule: Any) -> float:
    """Return a beat entry's interval: seconds, a timedelta, or a Celery schedule's run_every."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    return schedule.run_every.total_seconds()


class Command(BaseCommand):
    help = (
        "Embedded mode's stand-in for Celery beat: run the beat schedule's jobs at their intervals."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=10.0, help="seconds between looks at the schedule"
        )
        parser.add_argument("--once", action="store_true", help="run every job once, then stop")

    def handle(self, *args, every: float, once: bool, **options):
        jobs = [
            (name, import_string(entry["task"]), interval_seconds(entry["schedule"]))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        ]
        last_run: dict[str, float] = {}
        while True:
            for name, task, interval in jobs:
                if name in last_run and time.monotonic() - last_run[name] < interval:
                    continue
                last_run[name] = time.monotonic()
                result = task()
                if result:
                    self.stdout.write(f"{name}: {result}")
            if once:
                return
            time.sleep(every)
