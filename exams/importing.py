"""Importing items from a committee's JSON or CSV file (R-BANK-3). The format: docs/item-format.md.

The whole file is read and checked before anything is written, and the writes happen in one
transaction: a bad file is refused with the line of every problem, and nothing is half-imported.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from .errors import ExamError
from .models import Difficulty, Item, ItemKind, ItemStatus, ItemVersion, Topic
from .services.bank import ItemContent, item_create, item_revise, validated_content

# The fields of an item, in the order the export writes them (docs/item-format.md).
FIELDS = "code topic topic_name kind status difficulty is_sample stem reason options key guide image".split()
REQUIRED_FIELDS = ["code", "topic", "kind", "stem"]
# CSV has one column per option; their ids are the letters, as on a paper exam.
CSV_OPTION_IDS = ["A", "B", "C", "D", "E"]
CSV_OPTION_COLUMNS = {f"option_{letter.lower()}": letter for letter in CSV_OPTION_IDS}
CSV_COLUMNS = [
    *FIELDS[: FIELDS.index("options")],
    *CSV_OPTION_COLUMNS,
    *FIELDS[FIELDS.index("options") + 1 :],
]
# A cell may hold several ids or accepted answers; a pipe is rare in both.
CSV_KEY_SEPARATOR = "|"
# What a browser shows on the exam page; anything else would reach candidates as a broken image.
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
ITEM_CODE_MAX_LENGTH = Item._meta.get_field("code").max_length
TOPIC_CODE_MAX_LENGTH = Topic._meta.get_field("code").max_length
TOPIC_NAME_MAX_LENGTH = Topic._meta.get_field("name").max_length
TOPIC_CODE_PATTERN = re.compile(r"^[-a-zA-Z0-9_]+\Z")  # what Topic.code (a SlugField) accepts
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0", ""}
# A committee fixes a file better from a complete list, but a wrong file type can give thousands.
MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    code: str = ""

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.code:
            return _("line %(line)d (item %(code)s): %(problem)s") % {
                "line": self.line,
                "code": self.code,
                "problem": self.message,
            }
        return _("line %(line)d: %(problem)s") % {"line": self.line, "problem": self.message}


class ImportRefused(ExamError):
    """The file was refused as a whole; `problems` holds each one with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        lines = [str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            lines.append(
                _("… and %(n)d more problems.") % {"n": len(problems) - MAX_PROBLEMS_SHOWN}
            )
        super().__init__("\n".join(lines), code="import_refused")
        self.problems = problems


@dataclass
class ParsedItem:
    """One item of the file, checked on its own, remembering the line where it starts."""

    line: int
    code: str
    topic: str
    topic_name: str
    kind: str
    status: str
    difficulty: str
    is_sample: bool
    content: ItemContent  # already canonical (validated_content); the image is attached at write
    image_path: Path | None = None


@dataclass
class ImportSummary:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    topics_created: list[str] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class _Step:
    parsed: ParsedItem
    item: Item | None  # None: a new item
    content_changed: bool = False
    image_changed: bool = False
    item_changes: dict[str, Any] = field(default_factory=dict)


def _refused(line: int | None, message: str) -> ImportRefused:
    return ImportRefused([Problem(line, message)])


class _Bad(Exception):
    """An item's first problem; caught per item so the others are still checked."""


def import_items(path: str | Path, *, dry_run: bool = False, by=None) -> ImportSummary:
    """Import a .json or .csv file of items, all or nothing; return what was done (or would be).

    Raise ImportRefused listing every problem found, each with its line.
    """
    path = Path(path)
    items = parse_file(path)
    if dry_run:
        steps, new_topics = _plan(items, lock=False)
        return _summary(steps, new_topics, dry_run=True)
    saved_files: list[tuple[Any, str]] = []
    try:
        with transaction.atomic():
            # Planned inside the transaction, on locked rows, so that what was compared is what
            # gets revised even when a committee member edits the same item in the admin meanwhile.
            steps, new_topics = _plan(items, lock=True)
            _write(steps, new_topics, by=by, saved_files=saved_files)
    except BaseException:
        # The rows are rolled back, but files already put in storage are not: remove them so a
        # refused import leaves no orphaned images behind.
        for storage, name in saved_files:
            storage.delete(name)
        raise
    return _summary(steps, new_topics, dry_run=False)


def parse_file(path: Path) -> list[ParsedItem]:
    """Return the file's items, each checked on its own and against the others in the file."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise _refused(
            None, _("%(name)s is neither a .json nor a .csv file.") % {"name": path.name}
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        error = exc.strerror or exc
        raise _refused(
            None, _("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}
        ) from exc
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet saving "CSV UTF-8" puts a BOM first
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _refused(line, _("the file is not UTF-8 text; save it as UTF-8")) from exc
    records = _json_records(text) if suffix == ".json" else _csv_records(text)
    if not records:
        raise _refused(1, _("the file holds no items"))

    base_dir = path.resolve().parent
    problems: list[Problem] = []
    items: list[ParsedItem] = []
    for line, fields in records:
        try:
            items.append(_parsed_item(line, fields, base_dir))
        except _Bad as exc:
            code = fields.get("code") if isinstance(fields.get("code"), str) else ""
            problems.append(Problem(line, str(exc), code.strip()))
    problems += _cross_check(items)
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: p.line or 0))
    return items


# --- Reading the two formats into (line, fields) ----------------------------------------------


def _json_records(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Return the items of a JSON array with the line where each starts.

    The array is walked item by item (rather than json.loads on the whole) only to learn where
    each item starts: a committee fixes "line 14" faster than "the 7th item".
    """
    decoder = json.JSONDecoder()

    def line_at(index: int) -> int:
        return text.count("\n", 0, index) + 1

    def skip_space(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def refused(index: int, message: str) -> ImportRefused:
        return _refused(line_at(index), message)

    index = skip_space(0)
    if index == len(text) or text[index] != "[":
        raise refused(index, _("the file must be a JSON list of items: [ {…}, {…} ]"))
    records: list[tuple[int, dict[str, Any]]] = []
    index = skip_space(index + 1)
    if index < len(text) and text[index] == "]":
        index += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                message = _("the file is not valid JSON: %(error)s") % {"error": exc.msg}
                raise _refused(exc.lineno, message) from exc
            if not isinstance(value, dict):
                raise refused(index, _("each item must be a JSON object {…}"))
            records.append((line_at(index), value))
            index = skip_space(end)
            if index < len(text) and text[index] == ",":
                index = skip_space(index + 1)
                if index < len(text) and text[index] == "]":
                    raise refused(
                        index, _("the file is not valid JSON: a comma before ] is not allowed")
                    )
                continue
            if index < len(text) and text[index] == "]":
                index += 1
                break
            raise refused(index, _("the file is not valid JSON: expected , or ] after an item"))
    index = skip_space(index)
    if index < len(text):
        raise refused(index, _("the file is not valid JSON: there is text after the closing ]"))
    return records


def _csv_records(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Return the rows of a CSV file as item fields, with the physical line where each row starts.

    csv.reader rather than DictReader: DictReader skips blank lines silently, which would make the
    start line of the next row unknowable; here a blank line is its own (empty) row.
    """
    # strict: a stray quote is an error, not a cell silently swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    while True:
        # reader.line_num is the line where the last row ENDED; a row spanning several lines
        # (a quoted cell with line breaks) starts on the line after the previous row's end.
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(
                Problem(
                    start,
                    _("the CSV is malformed here (%(error)s); check the quotes") % {"error": exc},
                )
            )
            break  # the reader cannot find the next row reliably after this
        if not any(cell.strip() for cell in row):
            continue  # blank lines, and the empty rows spreadsheets leave at the end
        if header is None:
            header = [cell.strip().lower() for cell in row]
            header_problems = _csv_header_problems(header)
            if header_problems:
                raise ImportRefused([Problem(start, message) for message in header_problems])
            continue
        if len(row) != len(header):
            problems.append(
                Problem(
                    start,
                    _(
                        "this row has %(cells)d cells but the header has %(columns)d; "
                        "a cell holding a comma or a line break must be in double quotes"
                    )
                    % {"cells": len(row), "columns": len(header)},
                    row[0].strip() if row else "",
                )
            )
            continue
        records.append((start, _csv_fields(dict(zip(header, row, strict=True)))))
    if problems:
        raise ImportRefused(problems)
    if header is None:
        raise _refused(1, _("the file holds no items"))
    return records


def _csv_header_problems(header: list[str]) -> list[str]:
    problems = []
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        problems.append(
            _("unknown columns %(names)s; the columns are: %(known)s")
            % {"names": ", ".join(unknown), "known": ", ".join(CSV_COLUMNS)}
        )
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        problems.append(_("columns given twice: %(names)s") % {"names": ", ".join(twice)})
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    return problems


def _csv_fields(row: dict[str, str]) -> dict[str, Any]:
    """Return a CSV row in the JSON shape, an empty cell counting as an absent field."""
    fields: dict[str, Any] = {
        name: value
        for name, value in row.items()
        if name not in CSV_OPTION_COLUMNS and name != "key" and value.strip()
    }
    options = [
        {"id": letter, "text": row[column]}
        for column, letter in CSV_OPTION_COLUMNS.items()
        if row.get(column, "").strip()
    ]
    if options:
        fields["options"] = options
    if row.get("key", "").strip():
        fields["key"] = [
            part.strip() for part in row["key"].split(CSV_KEY_SEPARATOR) if part.strip()
        ]
    return fields


# --- Checking one item ----------------------------------------------------------------------------


def _parsed_item(line: int, fields: dict[str, Any], base_dir: Path) -> ParsedItem:
    unknown = [name for name in fields if name not in FIELDS]
    if unknown:
        raise _Bad(
            _("unknown fields %(names)s; the fields are: %(known)s")
            % {"names": ", ".join(unknown), "known": ", ".join(FIELDS)}
        )
    # JSON null means the same as leaving the field out.
    fields = {name: value for name, value in fields.items() if value is not None}
    for name in REQUIRED_FIELDS:
        if name not in fields or (isinstance(fields[name], str) and not fields[name].strip()):
            raise _Bad(_("the field %(name)s is missing or empty") % {"name": name})

    code = _text(fields, "code").strip()
    if len(code) > ITEM_CODE_MAX_LENGTH:
        raise _Bad(_("the code is longer than %(n)d characters") % {"n": ITEM_CODE_MAX_LENGTH})
    kind = _choice(fields, "kind", ItemKind.values, default=None)
    status = _choice(fields, "status", ItemStatus.values, default=ItemStatus.DRAFT)
    difficulty = _choice(fields, "difficulty", Difficulty.values, default=Difficulty.MEDIUM)
    is_sample = _boolean(fields, "is_sample")
    topic = _text(fields, "topic").strip()
    topic_name = _text(fields, "topic_name").strip()

    options = fields.get("options", [])
    if not isinstance(options, list) or not all(
        isinstance(o, dict)
        and set(o) <= {"id", "text"}
        and all(isinstance(v, str) for v in o.values())
        for o in options
    ):
        raise _Bad(_('options must be a list of {"id": "A", "text": "…"}'))
    if kind == ItemKind.CAUSE_EFFECT and options:
        # The service would silently swap them for the fixed scale; a committee that wrote its own
        # wording should hear that it is not used.
        raise _Bad(
            _("a cause–effect item always offers the five standard options; leave the options out")
        )
    key = fields.get("key", [])
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        raise _Bad(_('the key must be a list of texts, e.g. ["B"]'))
    reason = _text(fields, "reason")
    if reason.strip() and kind != ItemKind.CAUSE_EFFECT:
        raise _Bad(_("only a cause–effect item has a reason"))

    try:
        content = validated_content(
            kind,
            ItemContent(
                stem=_text(fields, "stem"),
                options=options,
                key=key,
                reason=reason,
                guide=_text(fields, "guide"),
            ),
        )
    except ExamError as exc:
        raise _Bad(_as_clause(exc.message)) from exc
    image = _text(fields, "image").strip()
    return ParsedItem(
        line=line,
        code=code,
        topic=topic,
        topic_name=topic_name,
        kind=kind,
        status=status,
        difficulty=difficulty,
        is_sample=is_sample,
        content=content,
        image_path=_image_path(image, base_dir) if image else None,
    )


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str):
        raise _Bad(_("the field %(name)s must be text") % {"name": name})
    return value


def _choice(fields: dict[str, Any], name: str, allowed: list[str], *, default: str | None) -> str:
    value = _text(fields, name).strip().lower() or default
    if value not in allowed:
        raise _Bad(
            _("unknown %(name)s %(value)r; use one of: %(allowed)s")
            % {"name": name, "value": fields.get(name), "allowed": ", ".join(allowed)}
        )
    return value


def _boolean(fields: dict[str, Any], name: str) -> bool:
    value = fields.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise _Bad(_("%(name)s must be true or false") % {"name": name})


def _image_path(value: str, base_dir: Path) -> Path:
    path = (base_dir / value.replace("\\", "/")).resolve()
    # The file names a path on the server: keep it to the folder the committee handed over.
    if not path.is_relative_to(base_dir):
        raise _Bad(_("the image %(path)s is outside the import file's folder") % {"path": value})
    if not path.is_file():
        raise _Bad(
            _("the image %(path)s does not exist (looked for %(full)s)")
            % {"path": value, "full": path}
        )
    try:
        with Image.open(path) as picture:
            picture.verify()
            image_format = picture.format
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, …) for a broken file
        raise _Bad(
            _("the image %(path)s is not a picture that can be read") % {"path": value}
        ) from exc
    if image_format not in IMAGE_FORMATS:
        raise _Bad(
            _("the image %(path)s is %(format)s; use PNG, JPEG, GIF or WebP")
            % {"path": value, "format": image_format}
        )
    return path


def _as_clause(message: str) -> str:
    """Return a service's sentence as a clause to follow "line 14 (item X): "."""
    message = message.strip().rstrip(".")
    # Lower "The key …" but not an initialism such as "SBA items …".
    if len(message) > 1 and message[0].isupper() and not message[1].isupper():
        message = message[0].lower() + message[1:]
    return message


def _cross_check(items: list[ParsedItem]) -> list[Problem]:
    """Return the problems between items of the file and with the topics in the database."""
    problems = []
    first_line: dict[str, int] = {}
    for parsed in items:
        if parsed.code in first_line:
            problems.append(
                Problem(
                    parsed.line,
                    _("the code %(code)s is already used by the item on line %(first)d")
                    % {"code": parsed.code, "first": first_line[parsed.code]},
                    parsed.code,
                )
            )
        else:
            first_line[parsed.code] = parsed.line

    existing = set(
        Topic.objects.filter(code__in={p.topic for p in items}).values_list("code", flat=True)
    )
    # A new topic may be named on any of its items, not only the first: collect the names first.
    named: dict[str, tuple[str, int]] = {}
    for parsed in items:
        if parsed.topic in existing or not parsed.topic_name:
            continue
        if parsed.topic in named:
            name, line = named[parsed.topic]
            if name != parsed.topic_name:
                problems.append(
                    Problem(
                        parsed.line,
                        _(
                            "the new topic %(topic)s is named %(name)r here but %(other)r on line %(line)d"
                        )
                        % {
                            "topic": parsed.topic,
                            "name": parsed.topic_name,
                            "other": name,
                            "line": line,
                        },
                        parsed.code,
                    )
                )
            continue
        if not TOPIC_CODE_PATTERN.match(parsed.topic) or len(parsed.topic) > TOPIC_CODE_MAX_LENGTH:
            problems.append(
                Problem(
                    parsed.line,
                    _("a new topic code may hold only letters, digits, - and _, at most %(n)d")
                    % {"n": TOPIC_CODE_MAX_LENGTH},
                    parsed.code,
                )
            )
        elif len(parsed.topic_name) > TOPIC_NAME_MAX_LENGTH:
            problems.append(
                Problem(
                    parsed.line,
                    _("the topic name is longer than %(n)d characters")
                    % {"n": TOPIC_NAME_MAX_LENGTH},
                    parsed.code,
                )
            )
        named[parsed.topic] = (parsed.topic_name, parsed.line)
    for parsed in items:
        if parsed.topic not in existing and parsed.topic not in named:
            problems.append(
                Problem(
                    parsed.line,
                    _("there is no topic %(topic)s; give its name in topic_name to create it")
                    % {"topic": parsed.topic},
                    parsed.code,
                )
            )
    return problems


# --- Comparing with the bank, then writing ---------------------------------------------------------


def _plan(items: list[ParsedItem], *, lock: bool) -> tuple[list[_Step], dict[str, str]]:
    """Return what each item needs and the topics to create; refuse a kind that would change."""
    existing = Item.objects.select_related("current_version", "topic").filter(
        code__in=[p.code for p in items]
    )
    if lock:
        # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join.
        existing = existing.select_for_update(of=("self",))
    by_code = {item.code: item for item in existing}
    topics = {t.code: t for t in Topic.objects.filter(code__in={p.topic for p in items})}
    new_topics: dict[str, str] = {}
    for parsed in items:
        if parsed.topic not in topics and parsed.topic_name:
            new_topics.setdefault(parsed.topic, parsed.topic_name)  # _cross_check made them agree

    steps, problems = [], []
    for parsed in items:
        item = by_code.get(parsed.code)
        if item is None:
            steps.append(_Step(parsed=parsed, item=None))
            continue
        if item.kind != parsed.kind:
            problems.append(
                Problem(
                    parsed.line,
                    _(
                        "the bank holds this item as %(have)s, the file says %(kind)s; "
                        "an item's kind cannot change, give it a new code"
                    )
                    % {"have": item.kind, "kind": parsed.kind},
                    parsed.code,
                )
            )
            continue
        step = _Step(parsed=parsed, item=item)
        version = item.current_version
        step.image_changed = parsed.image_path is not None and (
            version is None or _stored_digest(version) != _file_digest(parsed.image_path)
        )
        step.content_changed = (
            step.image_changed
            or version is None
            or not _same_content(item.kind, version, parsed.content)
        )
        wanted = {
            "status": parsed.status,
            "difficulty": parsed.difficulty,
            "is_sample": parsed.is_sample,
        }
        step.item_changes = {
            name: value for name, value in wanted.items() if getattr(item, name) != value
        }
        if item.topic.code != parsed.topic:
            step.item_changes["topic"] = parsed.topic
        steps.append(step)
    if problems:
        raise ImportRefused(problems)
    return steps, new_topics


def _same_content(kind: str, version: ItemVersion, content: ItemContent) -> bool:
    same = (version.stem, version.reason, version.key, version.guide) == (
        content.stem,
        content.reason,
        content.key,
        content.guide,
    )
    if kind == ItemKind.CAUSE_EFFECT:
        # The fixed scale's wording is stored in whichever language was active when the version
        # was written; only its ids are the item's content.
        return same and [o["id"] for o in version.options] == [o["id"] for o in content.options]
    return same and version.options == content.options


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _stored_digest(version: ItemVersion) -> str | None:
    if not version.image:
        return None
    try:
        with version.image.storage.open(version.image.name, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None  # a lost file: the import's image replaces it


def _write(
    steps: list[_Step], new_topics: dict[str, str], *, by, saved_files: list[tuple[Any, str]]
) -> None:
    topics = {t.code: t for t in Topic.objects.filter(code__in={s.parsed.topic for s in steps})}
    for code, name in new_topics.items():
        # get_or_create: another import may create the same topic while this one runs.
        topics[code], _created = Topic.objects.get_or_create(code=code, defaults={"name": name})
    with ExitStack() as open_files:
        for step in steps:
            parsed = step.parsed
            if step.item is not None and not step.content_changed and not step.item_changes:
                continue
            image = None
            if parsed.image_path is not None and (step.item is None or step.image_changed):
                image = File(
                    open_files.enter_context(parsed.image_path.open("rb")),
                    name=parsed.image_path.name,
                )
            content = dataclasses.replace(parsed.content, image=image)
            try:
                version = _write_item(step, content, topics, by=by)
            except (ExamError, IntegrityError) as exc:
                # Checked above on locked rows, so only a new code created by someone else since
                # then lands here; the transaction is rolled back by raising out of it.
                if isinstance(exc, ExamError):
                    message = _as_clause(exc.message)
                else:
                    message = _("someone else saved this item while the import ran; try again")
                raise ImportRefused([Problem(parsed.line, message, parsed.code)]) from exc
            if image is not None and version.image:
                saved_files.append((version.image.storage, version.image.name))


def _write_item(step: _Step, content: ItemContent, topics: dict[str, Topic], *, by) -> ItemVersion:
    parsed = step.parsed
    if step.item is None:
        item = item_create(
            code=parsed.code,
            topic=topics[parsed.topic],
            kind=parsed.kind,
            content=content,
            status=parsed.status,
            difficulty=parsed.difficulty,
            is_sample=parsed.is_sample,
            by=by,
        )
        return item.current_version
    version = step.item.current_version
    if step.content_changed:
        # Revised under the item's present status: a live item keeps its old version for the
        # attempts that used it, a draft is edited in place, before the file's status applies.
        version = item_revise(item=step.item, content=content, by=by)
    if step.item_changes:
        changes = dict(step.item_changes)
        if "topic" in changes:
            changes["topic"] = topics[changes["topic"]]
        # No bank service sets these fields yet (status, difficulty, topic, sample flag); the row
        # is already locked by _plan, so one update statement is enough.
        Item.objects.filter(pk=step.item.pk).update(**changes, updated_at=timezone.now())
    return version


def _summary(steps: list[_Step], new_topics: dict[str, str], *, dry_run: bool) -> ImportSummary:
    summary = ImportSummary(topics_created=sorted(new_topics), dry_run=dry_run)
    for step in steps:
        if step.item is None:
            summary.created += 1
        elif step.content_changed or step.item_changes:
            summary.revised += 1
        else:
            summary.unchanged += 1
    return summary


def summary_lines(summary: ImportSummary) -> list[str]:
    """Return the summary as sentences for a person (the command prints them; a page may too)."""
    numbers = {
        "created": summary.created,
        "revised": summary.revised,
        "unchanged": summary.unchanged,
    }
    topics = {"codes": ", ".join(summary.topics_created)}
    if summary.dry_run:
        lines = [
            _(
                "Dry run, nothing was written: %(created)d items would be created, %(revised)d "
                "revised, %(unchanged)d left unchanged."
            )
            % numbers
        ]
        if summary.topics_created:
            lines.append(_("Topics that would be created: %(codes)s") % topics)
    else:
        lines = [
            _("%(created)d items created, %(revised)d revised, %(unchanged)d unchanged.") % numbers
        ]
        if summary.topics_created:
            lines.append(_("Topics created: %(codes)s") % topics)
    return lines
