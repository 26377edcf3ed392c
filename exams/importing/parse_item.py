"""Checking one item of the file on its own, into a ParsedItem ready to compare and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image

from ..errors import ExamError
from ..models import Difficulty, Item, ItemKind, ItemStatus
from ..services.bank import ItemContent, validated_content
from .format import FALSE_WORDS, FIELDS, REQUIRED_FIELDS, TRUE_WORDS
from .problems import BadItem, as_clause

# The bookkeeping an item file states for each item: a file in the bank's own format states all
# of it; a foreign file states none (or only the topic), and the bank keeps what it has.
BOOKKEEPING = frozenset({"status", "difficulty", "is_sample", "topic"})
# What a browser shows on the exam page; anything else would reach candidates as a broken image.
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
ITEM_CODE_MAX_LENGTH = Item._meta.get_field("code").max_length


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
    source: str = ""  # the file inside a package ("items/q12.xml"); "" for the file itself
    states: frozenset[str] = BOOKKEEPING
    lost: list[str] = field(default_factory=list)  # what a foreign item had that the bank drops


def parsed_item(line: int, fields: dict[str, Any], base_dir: Path) -> ParsedItem:
    """Return one record of the file as an item, or raise BadItem with its first problem."""
    unknown = [name for name in fields if name not in FIELDS]
    if unknown:
        raise BadItem(
            _("unknown fields %(names)s; the fields are: %(known)s")
            % {"names": ", ".join(unknown), "known": ", ".join(FIELDS)}
        )
    # JSON null means the same as leaving the field out.
    fields = {name: value for name, value in fields.items() if value is not None}
    for name in REQUIRED_FIELDS:
        if name not in fields or (isinstance(fields[name], str) and not fields[name].strip()):
            raise BadItem(_("the field %(name)s is missing or empty") % {"name": name})

    code = _text(fields, "code").strip()
    if len(code) > ITEM_CODE_MAX_LENGTH:
        raise BadItem(_("the code is longer than %(n)d characters") % {"n": ITEM_CODE_MAX_LENGTH})
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
        raise BadItem(_('options must be a list of {"id": "A", "text": "…"}'))
    if kind == ItemKind.CAUSE_EFFECT and options:
        # The service would silently swap them for the fixed scale; a committee that wrote its own
        # wording should hear that it is not used.
        raise BadItem(
            _("a cause–effect item always offers the five standard options; leave the options out")
        )
    key = fields.get("key", [])
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        raise BadItem(_('the key must be a list of texts, e.g. ["B"]'))
    reason = _text(fields, "reason")
    if reason.strip() and kind != ItemKind.CAUSE_EFFECT:
        raise BadItem(_("only a cause–effect item has a reason"))

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
        raise BadItem(as_clause(exc.message)) from exc
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
        raise BadItem(_("the field %(name)s must be text") % {"name": name})
    return value


def _choice(fields: dict[str, Any], name: str, allowed: list[str], *, default: str | None) -> str:
    value = _text(fields, name).strip().lower() or default
    if value not in allowed:
        raise BadItem(
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
    raise BadItem(_("%(name)s must be true or false") % {"name": name})


def _image_path(value: str, base_dir: Path) -> Path:
    path = (base_dir / value.replace("\\", "/")).resolve()
    # The file names a path on the server: keep it to the folder the committee handed over.
    if not path.is_relative_to(base_dir):
        raise BadItem(_("the image %(path)s is outside the import file's folder") % {"path": value})
    if not path.is_file():
        raise BadItem(
            _("the image %(path)s does not exist (looked for %(full)s)")
            % {"path": value, "full": path}
        )
    limit = int(getattr(settings, "ITEM_IMPORT_MAX_IMAGE_BYTES", 5_000_000))
    if path.stat().st_size > limit:
        # Each image is copied into the bank and sent to every candidate the item is drawn for.
        raise BadItem(
            _("the image %(path)s is larger than %(max)s; save it smaller")
            % {"path": value, "max": f"{limit / 1_000_000:.1f} MB"}
        )
    try:
        with Image.open(path) as picture:
            picture.verify()
            image_format = picture.format
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, …) for a broken file
        raise BadItem(
            _("the image %(path)s is not a picture that can be read") % {"path": value}
        ) from exc
    if image_format not in IMAGE_FORMATS:
        raise BadItem(
            _("the image %(path)s is %(format)s; use PNG, JPEG, GIF or WebP")
            % {"path": value, "format": image_format}
        )
    return path
