from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exams.importing import ImportRefused, import_items, summary_lines


class Command(BaseCommand):
    help = "Import items from a .json, .csv or .xlsx file (docs/item-format.md); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="the .json, .csv or .xlsx file; image paths are relative to its folder"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what would change, writing nothing",
        )

    def handle(self, *args, file: str, dry_run: bool, **options):
        try:
            summary = import_items(file, dry_run=dry_run)
        except ImportRefused as exc:
            # CommandError: printed to stderr, exit status 1, so a script can tell a refused file.
            raise CommandError(
                _("The file was refused; nothing was imported.") + "\n" + exc.message
            ) from exc
        for line in summary_lines(summary):
            self.stdout.write(line)
