from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from complaints.tasks import remind_due_complaints
from exams.oversight.tasks import draft_oversight_reports
from exams.tasks import submit_overdue_attempts
from grading.tasks import rescore_pending, score_waiting_attempts
from proctoring.tasks import delete_expired_evidence, mark_absentees

EVIDENCE_SWEEP_SECONDS = 3600
OVERSIGHT_SECONDS = 60


class Command(BaseCommand):
    help = "Embedded mode's stand-in for Celery beat: run the periodic jobs every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=10.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, every: float, once: bool, **options):
        last_sweep = last_oversight = 0.0
        while True:
            submitted = submit_overdue_attempts()
            if submitted:
                self.stdout.write(f"submitted on the clock: {submitted}")
            score_waiting_attempts()
            rescore_pending()
            mark_absentees()
            remind_due_complaints()
            # After mark_absentees: the external council's draft counts the absentees just marked.
            if time.monotonic() - last_oversight > OVERSIGHT_SECONDS or once:
                draft_oversight_reports()
                last_oversight = time.monotonic()
            if time.monotonic() - last_sweep > EVIDENCE_SWEEP_SECONDS or once:
                delete_expired_evidence()
                last_sweep = time.monotonic()
            if once:
                return
            time.sleep(every)
