from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exams.exporting import ExportRefused, export_items
from exams.models import ItemStatus


class Command(BaseCommand):
    help = (
        "Export items to a .json, .csv or .xlsx file (docs/item-format.md) that import_items reads back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="the .json, .csv or .xlsx file to write; images go to <name>_images/ beside it"
        )
        # extend: both "--topic a b" and "--topic a --topic b" work.
        parser.add_argument(
            "--topic",
            dest="topics",
            action="extend",
            nargs="+",
            metavar="CODE",
            help="only items of these topics",
        )
        parser.add_argument(
            "--status",
            dest="statuses",
            action="extend",
            nargs="+",
            choices=ItemStatus.values,
            help="only items with these statuses",
        )

    def handle(
        self, *args, file: str, topics: list[str] | None, statuses: list[str] | None, **options
    ):
        try:
            summary = export_items(file, topics=topics, statuses=statuses)
        except ExportRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            _("%(items)d items written to %(path)s (%(images)d images).")
            % {"items": summary.items, "path": summary.path, "images": summary.images}
        )
