"""Reading a whole item file: its text, its records, each item, then the items together."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ..spreadsheets import decoded
from .checks import cross_check
from .format import unknown_suffix
from .parse_csv import csv_records, workbook_records
from .parse_item import ParsedItem, parsed_item
from .parse_json import json_records
from .problems import BadItem, ImportRefused, Problem, refused


def parse_file(path: Path) -> list[ParsedItem]:
    """Return the file's items, each checked on its own and against the others in the file."""
    wrong_suffix = unknown_suffix(path)
    if wrong_suffix:
        raise refused(None, wrong_suffix)
    limit = int(getattr(settings, "ITEM_IMPORT_MAX_BYTES", 20_000_000))
    try:
        # At most one byte past the limit is read, whatever the file's size says (a file still growing).
        with path.open("rb") as source:
            data = source.read(limit + 1)
    except OSError as exc:
        error = exc.strerror or exc
        raise refused(
            None, _("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}
        ) from exc
    if len(data) > limit:
        # The whole file is held, parsed and checked in memory before anything is written.
        raise refused(
            None,
            _(
                "%(name)s is larger than %(max)s, the most an item file may be; split it into several files."
            )
            % {"name": path.name, "max": f"{limit / 1_000_000:.1f} MB"},
        )
    if path.suffix.lower() == ".xlsx":
        return _checked(workbook_records(data, path.name), path)
    try:
        # UTF-8 with or without the byte-order mark "CSV UTF-8" puts first, or Excel's UTF-16
        # "Unicode text".
        text = decoded(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise refused(line, _("the file is not UTF-8 text; save it as UTF-8")) from exc
    return _checked(
        json_records(text) if path.suffix.lower() == ".json" else csv_records(text), path
    )


def _checked(records: list[tuple[int, dict]], path: Path) -> list[ParsedItem]:
    if not records:
        raise refused(1, _("the file holds no items"))
    base_dir = path.resolve().parent
    problems: list[Problem] = []
    items: list[ParsedItem] = []
    for line, fields in records:
        try:
            items.append(parsed_item(line, fields, base_dir))
        except BadItem as exc:
            code = fields.get("code") if isinstance(fields.get("code"), str) else ""
            problems.append(Problem(line, str(exc), code.strip()))
    problems += cross_check(items)
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: p.line or 0))
    return items
