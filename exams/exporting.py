"""Exporting items to the committee's JSON, CSV or Excel format (R-BANK-3; docs/item-format.md),
or to the formats other systems read: Moodle XML (.xml) and a QTI 2.1 content package (.zip).

What this writes, exams.importing reads back as unchanged: the round trip is tested. CSV cells
are neutralised against formula injection (exams.spreadsheets) and the importer undoes it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from .errors import ExamError
from .importing.format import (
    CSV_COLUMNS,
    CSV_KEY_SEPARATOR,
    CSV_OPTION_COLUMNS,
    CSV_OPTION_IDS,
    EXPORT_SUFFIXES,
    unknown_suffix,
)
from .interchange.moodle_write import moodle_xml
from .interchange.qti_write import qti_package
from .interchange.records import Outgoing
from .models import Item, ItemKind, ItemStatus, Topic
from .services.bank import content_of
from .spreadsheets import csv_bytes, xlsx_bytes


class ExportRefused(ExamError):
    """The export cannot be written as asked (a filter names nothing, an item does not fit CSV)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="export_refused")


@dataclass(frozen=True)
class ExportSummary:
    items: int
    images: int
    path: Path


def export_items(
    path: str | Path, *, topics: list[str] | None = None, statuses: list[str] | None = None
) -> ExportSummary:
    """Write the bank's items (optionally only these topics and statuses) to a file: the bank's
    own .json, .csv or .xlsx, Moodle XML (.xml) or a QTI 2.1 content package (.zip).

    The bank's own formats name images copied into `<file stem>_images/` beside the file; Moodle
    XML and the package carry them inside.
    """
    path = Path(path)
    wrong_suffix = unknown_suffix(path, EXPORT_SUFFIXES)
    if wrong_suffix:
        raise ExportRefused(wrong_suffix)
    suffix = path.suffix.lower()
    items = Item.objects.select_related("topic", "current_version").filter(
        current_version__isnull=False
    )
    if topics:
        known = set(Topic.objects.filter(code__in=topics).values_list("code", flat=True))
        unknown = [code for code in topics if code not in known]
        if unknown:
            # Most likely a typo: an empty export would look like a bank with nothing in it.
            raise ExportRefused(_("There is no topic %(codes)s.") % {"codes": ", ".join(unknown)})
        items = items.filter(topic__code__in=topics)
    if statuses:
        unknown = [status for status in statuses if status not in ItemStatus.values]
        if unknown:
            raise ExportRefused(
                _("Unknown status %(statuses)s; use one of: %(allowed)s")
                % {"statuses": ", ".join(unknown), "allowed": ", ".join(ItemStatus.values)}
            )
        items = items.filter(status__in=statuses)

    items = list(items.order_by("topic__code", "code"))
    if suffix in {".xml", ".zip"}:
        outgoing = [_outgoing(item) for item in items]
        data = moodle_xml(outgoing) if suffix == ".xml" else qti_package(outgoing)
        _write_replacing(path, data)
        pictures = sum(1 for one in outgoing if one.picture is not None)
        return ExportSummary(items=len(outgoing), images=pictures, path=path)
    images = _ImageCopier(path.parent / f"{path.stem}_images")
    records = [_record(item, images) for item in items]
    if suffix == ".json":
        data = (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    elif suffix == ".xlsx":
        # Every cell text: a spreadsheet opening the workbook keeps "1/2" and "007" as written.
        data = xlsx_bytes(CSV_COLUMNS, _table_rows(records), title="items")
    else:
        # Neutralised against formula injection; exams.importing.parse_csv takes the mark off again.
        data = csv_bytes(CSV_COLUMNS, _table_rows(records))  # starts with its byte-order mark
    _write_replacing(path, data)
    return ExportSummary(items=len(records), images=images.count, path=path)


def _record(item: Item, images: _ImageCopier | None) -> dict[str, Any]:
    """Return an item in the JSON shape, leaving out what its kind does not have."""
    version = item.current_version
    content = content_of(version)
    record: dict[str, Any] = {
        "code": item.code,
        "topic": item.topic.code,
        "topic_name": item.topic.name,
        "kind": item.kind,
        "status": item.status,
        "difficulty": item.difficulty,
        "is_sample": item.is_sample,
        "stem": content["stem"],
    }
    if content["reason"]:
        record["reason"] = content["reason"]
    # A cause–effect item's options are the fixed scale: the importer refuses them written out.
    if item.kind in ItemKind.choice_kinds() and item.kind != ItemKind.CAUSE_EFFECT:
        record["options"] = [{"id": o["id"], "text": o["text"]} for o in content["options"]]
    if content["key"]:
        record["key"] = list(content["key"])
    if content["guide"]:
        record["guide"] = content["guide"]
    if version.image and images is not None:
        record["image"] = images.copy(item, version.image)
    return record


def _outgoing(item: Item) -> Outgoing:
    """Return an item for a foreign format: its record, with its picture's bytes inside."""
    record = _record(item, images=None)
    if item.kind == ItemKind.CAUSE_EFFECT:
        # A foreign file spells the standard scale out; the bank's reader leaves it out again.
        record["options"] = [
            {"id": o["id"], "text": o["text"]} for o in item.current_version.options
        ]
    image = item.current_version.image
    if not image:
        return Outgoing(fields=record)
    # Named after the item, as _ImageCopier names them: the storage's name may carry a suffix
    # it added to keep names apart, which would make two exports of one bank differ.
    name = (get_valid_filename(item.code) or "item") + Path(image.name).suffix.lower()
    with image.storage.open(image.name, "rb") as source:
        return Outgoing(fields=record, picture=(name, source.read()))


def _table_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    """Return the records as the rows of CSV_COLUMNS (the CSV and the workbook alike)."""
    rows = []
    for record in records:
        row = {name: value for name, value in record.items() if name not in ("options", "key")}
        row["is_sample"] = "true" if record["is_sample"] else "false"
        options = record.get("options", [])
        if options and [o["id"] for o in options] != CSV_OPTION_IDS:
            raise ExportRefused(
                _(
                    "Item %(code)s has options %(ids)s; CSV holds only options A–E in that order. "
                    "Export to JSON instead."
                )
                % {"code": record["code"], "ids": ", ".join(o["id"] for o in options)}
            )
        for option, column in zip(options, CSV_OPTION_COLUMNS, strict=False):
            row[column] = option["text"]
        key = record.get("key", [])
        if any(CSV_KEY_SEPARATOR in answer for answer in key):
            raise ExportRefused(
                _(
                    "Item %(code)s has an accepted answer containing %(separator)s, which CSV uses to "
                    "separate answers. Export to JSON instead."
                )
                % {"code": record["code"], "separator": CSV_KEY_SEPARATOR}
            )
        row["key"] = CSV_KEY_SEPARATOR.join(key)
        rows.append(row)
    return [[row.get(column, "") for column in CSV_COLUMNS] for row in rows]


class _ImageCopier:
    """Copies item images beside the export, one file per item, named after the item's code."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._used: set[str] = set()

    def copy(self, item: Item, image) -> str:
        suffix = Path(image.name).suffix.lower()
        stem = get_valid_filename(item.code) or "item"
        name, n = f"{stem}{suffix}", 1
        while name in self._used:  # codes that differ only in characters a file name cannot hold
            n += 1
            name = f"{stem}-{n}{suffix}"
        self._used.add(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        with (
            image.storage.open(image.name, "rb") as source,
            (self.folder / name).open("wb") as target,
        ):
            for chunk in iter(lambda: source.read(1 << 20), b""):
                target.write(chunk)
        self.count += 1
        return f"{self.folder.name}/{name}"


def _write_replacing(path: Path, data: bytes) -> None:
    """Write the file whole or not at all: a failed export never leaves half a file to import."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as target:
            target.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
