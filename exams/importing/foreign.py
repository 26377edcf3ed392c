"""Files from other systems (QTI, IMS content packages, Moodle XML, GIFT) as the bank's records.

exams.interchange reads each format into records of the bank's own item format; here they meet the
bank: a foreign category becomes a topic of the bank (by its code, else by its name, else a new
one), items whose file names no topic take the one the keeper chose for the file, and the bank
keeps an existing item's status, difficulty and sample mark, which no foreign format carries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from ..interchange.gift_read import read_gift
from ..interchange.ims_package import read_package
from ..interchange.moodle_read import read_moodle_xml
from ..interchange.qti_read import read_qti_item
from ..interchange.records import Pictures, Reading, UnreadableFile
from ..interchange.safe_xml import local_name, parsed_xml
from ..models import Topic
from ..services.bank import TOPIC_CODE_MAX_LENGTH, TOPIC_CODE_PATTERN
from .problems import Problem, refused

FOREIGN_SUFFIXES = (".xml", ".zip", ".gift", ".txt")


@dataclass
class FileRecord:
    """One item of a file as records of the item format, from the bank's own or a foreign one,
    with the bookkeeping fields the file states (a foreign file states at most the topic)."""

    line: int
    fields: dict[str, Any]
    source: str = ""
    lost: list[str] = field(default_factory=list)
    states: frozenset[str] = frozenset()


def foreign_records(
    path: Path, data: bytes, folder: Path, default_topic: str | None
) -> tuple[list[FileRecord], list[Problem]]:
    """Return the file's items as records of the item format, and the items refused on reading."""
    try:
        reading = _read(path, data, Pictures(folder))
    except UnreadableFile as exc:
        raise refused(exc.line, _with_source(exc.source, exc.message)) from exc
    refusals = [Problem(r.line, r.reason, r.code, r.source) for r in reading.refusals]
    topics = _Topics(default_topic)
    records = []
    for record in reading.records:
        states = (
            frozenset({"topic"})
            if (record.fields.get("topic") or record.fields.get("topic_name"))
            else frozenset()
        )
        fields = dict(record.fields)
        problem = topics.resolve(fields)
        if problem:
            refusals.append(Problem(record.line, problem, fields.get("code", ""), record.source))
            continue
        records.append(FileRecord(record.line, fields, record.source, record.lost, states))
    return records, refusals


def _read(path: Path, data: bytes, pictures: Pictures) -> Reading:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return read_package(data, path.name, pictures)
    if suffix in {".gift", ".txt"}:
        return read_gift(data, path.name, pictures)
    # .xml: Moodle XML starts with <quiz>, a QTI item with <assessmentItem>.
    if local_name(parsed_xml(data)) == "quiz":
        return read_moodle_xml(data, path.name, pictures)
    folder = path.resolve().parent
    return read_qti_item(data, "", lambda name: _beside(folder, name), pictures)


def _beside(folder: Path, name: str) -> bytes | None:
    """Return a file next to a lone QTI item (its pictures), never one outside its folder."""
    wanted = (folder / name).resolve()
    if not wanted.is_relative_to(folder) or not wanted.is_file():
        return None
    return wanted.read_bytes()


def _with_source(source: str, message: str) -> str:
    return f"{source}: {message}" if source else message


class _Topics:
    """Finds the bank's topic for a foreign category, and a code for a category that is new."""

    def __init__(self, default_topic: str | None) -> None:
        self.default = default_topic
        self.by_code = dict(Topic.objects.values_list("code", "name"))
        self.by_name = {name.casefold(): code for code, name in self.by_code.items()}

    def resolve(self, fields: dict[str, Any]) -> str | None:
        """Set the fields' topic (and topic_name for a new one); return a problem, or None."""
        code = (fields.get("topic") or "").strip()
        name = (fields.get("topic_name") or "").strip()
        if code in self.by_code:
            fields["topic"], fields["topic_name"] = code, ""
        elif name and name.casefold() in self.by_name:
            fields["topic"], fields["topic_name"] = self.by_name[name.casefold()], ""
        elif code and TOPIC_CODE_PATTERN.match(code) and len(code) <= TOPIC_CODE_MAX_LENGTH:
            fields["topic"], fields["topic_name"] = code, name or code
        elif name:
            fields["topic"], fields["topic_name"] = _new_code(name), name
        elif self.default:
            fields["topic"], fields["topic_name"] = self.default, ""
        else:
            return _("the file names no topic for this item; choose a topic for the file")
        return None


def _new_code(name: str) -> str:
    """Return a topic code for a category name: its letters in ASCII, or a digest of it."""
    code = slugify(name)[:TOPIC_CODE_MAX_LENGTH].strip("-")
    if code:
        return code
    # A Mongolian or Chinese name has no ASCII letters: the same name gets the same code.
    return "topic-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
