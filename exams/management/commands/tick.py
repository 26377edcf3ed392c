from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from exams.tasks import submit_overdue_attempts
from grading.tasks import score_waiting_attempts


class Command(BaseCommand):
    help = "Embedded mode's stand-in for Celery beat: run the periodic jobs every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=10.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, every: float, once: bool, **options):
        while True:
            submitted = submit_overdue_attempts()
            if submitted:
                self.stdout.write(f"submitted on the clock: {submitted}")
            score_waiting_attempts()
            if once:
                return
            time.sleep(every)
