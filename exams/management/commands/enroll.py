"""`manage.py enroll SITTING_ID FILE.csv`: enrol candidates and e-mail their credentials (R-SCHED-2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exams.enrolling import EnrolmentRefused, enrolment_import, summary_lines
from exams.models import Sitting


class Command(BaseCommand):
    help = gettext_lazy(
        "Enrol the candidates of a CSV file into a sitting and e-mail each their sign-in details. See docs/enrolment.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "sitting_id", type=int, help=gettext_lazy("The id of the sitting to enrol into.")
        )
        parser.add_argument(
            "csv_file",
            type=Path,
            help=gettext_lazy("A CSV file or an Excel workbook, one candidate a line."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Check the file and report what would happen; change nothing."),
        )
        parser.add_argument(
            "--resend",
            action="store_true",
            help=gettext_lazy("Send the e-mail again to candidates who already had it."),
        )

    def handle(
        self,
        *args: Any,
        sitting_id: int,
        csv_file: Path,
        dry_run: bool,
        resend: bool,
        **options: Any,
    ) -> None:
        sitting = Sitting.objects.select_related("exam").filter(pk=sitting_id).first()
        if sitting is None:
            raise CommandError(_("There is no sitting %(id)d.") % {"id": sitting_id})
        if not csv_file.is_file():
            raise CommandError(_("Cannot read the file %(path)s.") % {"path": csv_file})
        try:
            summary = enrolment_import(
                sitting=sitting, rows_source=csv_file, resend=resend, dry_run=dry_run
            )
        except EnrolmentRefused as exc:
            # CommandError: manage.py prints the message to stderr and exits with status 1.
            raise CommandError(exc.message) from exc
        self.stdout.write("\n".join(summary_lines(sitting, summary)))
        if summary.emails_failed:
            raise CommandError(
                _(
                    "%(count)d e-mails could not be sent (tickets %(tickets)s). Run the same command again to retry them."
                )
                % {"count": len(summary.emails_failed), "tickets": ", ".join(summary.emails_failed)}
            )
