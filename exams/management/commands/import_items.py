from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exams.importing import ImportRefused, import_items, summary_lines
from exams.models import Topic


class Command(BaseCommand):
    help = (
        "Import items from the bank's own .json, .csv or .xlsx files, or from other systems' QTI "
        "(.xml, .zip content package), Moodle XML (.xml) or GIFT (.gift, .txt); all or nothing "
        "(docs/item-format.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the item file; image paths are relative to its folder")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what would change, writing nothing",
        )
        parser.add_argument(
            "--only-passed",
            action="store_true",
            help="import the items that pass and leave out those that cannot be imported, "
            "each named with its reason (without it, one such item refuses the whole file)",
        )
        parser.add_argument(
            "--topic",
            metavar="CODE",
            help="the topic for items whose file names none (a QTI item, GIFT without $CATEGORY)",
        )

    def handle(
        self, *args, file: str, dry_run: bool, only_passed: bool, topic: str | None, **options
    ):
        if topic is not None and not Topic.objects.filter(code=topic).exists():
            raise CommandError(_("There is no topic %(codes)s.") % {"codes": topic})
        try:
            summary = import_items(
                file, dry_run=dry_run, only_passed=only_passed, default_topic=topic
            )
        except ImportRefused as exc:
            # CommandError: printed to stderr, exit status 1, so a script can tell a refused file.
            raise CommandError(
                _("The file was refused; nothing was imported.") + "\n" + exc.message
            ) from exc
        for line in summary_lines(summary):
            self.stdout.write(line)
