"""Reading a whole item file: its text, its records, each item, then the items together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ..spreadsheets import decoded
from .checks import cross_check
from .foreign import FOREIGN_SUFFIXES, FileRecord, foreign_records
from .format import unknown_suffix
from .parse_csv import csv_records, workbook_records
from .parse_item import BOOKKEEPING as ALL
from .parse_item import ParsedItem, parsed_item
from .parse_json import json_records
from .problems import BadItem, ImportRefused, Problem, refused


@dataclass
class FileReading:
    """The file's items that the bank can hold, and those it cannot, each with its reason."""

    items: list[ParsedItem] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


def read_file(
    path: Path, *, folder: Path | None = None, default_topic: str | None = None
) -> FileReading:
    """Return the file's items, each checked on its own and against the others in the file.

    A file that cannot be read at all raises ImportRefused. A file from another system (QTI,
    Moodle XML, GIFT) puts its pictures in `folder`, and its items that name no topic get
    `default_topic`.
    """
    wrong_suffix = unknown_suffix(path)
    if wrong_suffix:
        raise refused(None, wrong_suffix)
    data = _data(path)
    suffix = path.suffix.lower()
    if suffix in FOREIGN_SUFFIXES:
        if folder is None:
            raise ValueError("a file from another system needs a folder for its pictures")
        records, refusals = foreign_records(path, data, folder, default_topic)
        return _checked(records, folder.resolve(), refusals)
    if suffix == ".xlsx":
        records = workbook_records(data, path.name)
    else:
        try:
            # UTF-8 with or without the byte-order mark "CSV UTF-8" puts first, or Excel's UTF-16
            # "Unicode text".
            text = decoded(data)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise refused(line, _("the file is not UTF-8 text; save it as UTF-8")) from exc
        records = json_records(text) if suffix == ".json" else csv_records(text)
    if not records:
        raise refused(1, _("the file holds no items"))
    native = [FileRecord(line, fields, states=ALL) for line, fields in records]
    return _checked(native, path.resolve().parent, [])


def parse_file(path: Path) -> list[ParsedItem]:
    """Return the items of a file in the bank's own format; refuse it if any item is refused."""
    reading = read_file(path)
    if reading.refused:
        raise ImportRefused(reading.refused)
    return reading.items


def _data(path: Path) -> bytes:
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
    return data


def _checked(records: list[FileRecord], base_dir: Path, refusals: list[Problem]) -> FileReading:
    if not records and not refusals:
        raise refused(1, _("the file holds no items"))
    problems = list(refusals)
    items: list[ParsedItem] = []
    for record in records:
        try:
            parsed = parsed_item(record.line, record.fields, base_dir)
        except BadItem as exc:
            code = record.fields.get("code")
            code = code.strip() if isinstance(code, str) else ""
            problems.append(Problem(record.line, str(exc), code, record.source))
            continue
        parsed.source, parsed.lost, parsed.states = record.source, record.lost, record.states
        items.append(parsed)
    crossed = cross_check(items)
    problems += crossed
    failed = {(p.source, p.line) for p in crossed}
    items = [item for item in items if (item.source, item.line) not in failed]
    problems.sort(key=lambda p: (p.source, p.line or 0))
    return FileReading(items=items, refused=problems)
