"""What a reader of a foreign file gives back: the item format's records, refusals and losses."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# exams.models.Item.code's max_length; the models are above this package, the number is not.
ITEM_CODE_MAX_LENGTH = 40


@dataclass
class Record:
    """One foreign item as the bank's item format has it, where it starts, and what was lost.

    `fields` are the JSON shape of docs/item-format.md. `topic` may be "" with `topic_name`
    holding the foreign category's name: exams.importing matches it to a topic of the bank.
    `image` is relative to the folder the reader was given.
    """

    line: int
    fields: dict[str, Any]
    lost: list[str] = field(default_factory=list)
    source: str = ""  # the file inside a package ("items/q12.xml"); "" for the file itself


@dataclass
class Outgoing:
    """One item of the bank for a writer: the JSON shape of docs/item-format.md and its picture.

    `fields` holds code, topic, topic_name, kind, status, difficulty, is_sample and stem, and
    reason, options, key and guide when the item has them; a cause–effect item's options are the
    five standard ones as its version holds them (a foreign file spells them out, and its reader
    leaves them out again). `picture` is (file name, bytes).
    """

    fields: dict[str, Any]
    picture: tuple[str, bytes] | None = None


@dataclass(frozen=True)
class Refusal:
    """A foreign item the bank cannot hold, and why, in the board's terms."""

    line: int | None
    code: str
    reason: str
    source: str = ""  # the file inside a package ("items/q12.xml"); "" for the file itself


@dataclass
class Reading:
    records: list[Record] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


class UnreadableFile(Exception):
    """The file as a whole cannot be read (not XML, a zip that escapes its folder…)."""

    def __init__(self, line: int | None, message: str, source: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.source = source


def item_code(identifier: str, fallback: str) -> str:
    """Return the foreign item's identifier as a bank code (or the fallback when it has none).

    Spaces are folded; an identifier longer than a code keeps its start and a digest of the whole,
    so that importing the same file again finds the same items.
    """
    code = re.sub(r"\s+", " ", identifier or "").strip() or fallback
    if len(code) > ITEM_CODE_MAX_LENGTH:
        digest = hashlib.sha1(code.encode("utf-8")).hexdigest()[:8]
        code = f"{code[: ITEM_CODE_MAX_LENGTH - 9].rstrip()}-{digest}"
    return code


class Pictures:
    """Writes the pictures a foreign file carries into one folder, each under a name of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._used: set[str] = set()

    def add(self, name: str, data: bytes) -> str:
        """Store the picture and return its path relative to the folder."""
        base = get_valid_filename(Path(name.replace("\\", "/")).name) or "picture"
        stem, suffix = Path(base).stem, Path(base).suffix.lower()
        chosen, n = f"{stem}{suffix}", 1
        while chosen in self._used:
            n += 1
            chosen = f"{stem}-{n}{suffix}"
        self._used.add(chosen)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / chosen).write_bytes(data)
        return chosen


# What a foreign item may carry that the bank drops, named the same way by every reader. The bank
# keeps one key per item (right or wrong) and a marking guide the candidate never sees.
LOST = {
    "feedback": gettext_lazy("feedback shown to the candidate after an answer"),
    "weights": gettext_lazy("partial-credit weights (the bank's key is right or wrong)"),
    "wildcards": gettext_lazy("wildcards in accepted answers (* is kept as a character)"),
    "case": gettext_lazy("case-sensitive answers (the bank compares answers ignoring case)"),
    "penalty": gettext_lazy("penalties and negative marks"),
    "shuffle": gettext_lazy("the option order setting (the exam's own shuffling applies)"),
    "numbering": gettext_lazy("the option numbering style"),
    "hints": gettext_lazy("hints"),
    "tags": gettext_lazy("tags"),
    "response_template": gettext_lazy("the answer box's template and size"),
}

# The kinds of question other systems have and the bank does not, by the names a board uses.
FOREIGN_KINDS = {
    "truefalse": gettext_lazy("true/false"),
    "matching": gettext_lazy("matching"),
    "numerical": gettext_lazy("numerical"),
    "calculated": gettext_lazy("calculated"),
    "ordering": gettext_lazy("ordering"),
    "drag_and_drop": gettext_lazy("drag and drop"),
    "hotspot": gettext_lazy("hotspot (pointing at a picture)"),
    "inline_choice": gettext_lazy("choice inside the text (drop-down)"),
    "hottext": gettext_lazy("choosing words in the text"),
    "description": gettext_lazy("description (text without a question)"),
    "cloze": gettext_lazy("embedded answers (cloze)"),
    "upload": gettext_lazy("file upload"),
    "drawing": gettext_lazy("drawing"),
    "slider": gettext_lazy("slider"),
    "media": gettext_lazy("media playback"),
    "random": gettext_lazy("random question from a category"),
    "composite": gettext_lazy("several questions in one item"),
}


def not_a_kind(kind: str) -> str:
    """Return why an item of a foreign kind is refused ("matching is not an item kind here")."""
    name = FOREIGN_KINDS.get(kind, kind)
    return _("%(kind)s is not an item kind here") % {"kind": name}
