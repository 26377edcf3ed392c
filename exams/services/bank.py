"""Writing the bank: items and their versions (R-BANK-1, R-BANK-2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from ..errors import ExamError
from ..models import (
    CAUSE_EFFECT_OPTIONS,
    AttemptItem,
    Difficulty,
    Item,
    ItemKind,
    ItemStatus,
    ItemVersion,
    Topic,
)

CHOICE_OPTION_COUNT = 5  # R-BANK-1: choice items have a stem and five options.
TOPIC_CODE_MAX_LENGTH = Topic._meta.get_field("code").max_length
TOPIC_NAME_MAX_LENGTH = Topic._meta.get_field("name").max_length
TOPIC_CODE_PATTERN = re.compile(r"^[-a-zA-Z0-9_]+\Z")  # what Topic.code (a SlugField) accepts


@dataclass
class ItemContent:
    stem: str
    options: list[dict[str, str]] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    reason: str = ""
    guide: str = ""
    image: File | None = None  # None keeps the current version's image


def validated_content(kind: str, content: ItemContent) -> ItemContent:
    """Return the content made canonical for its kind, or raise ExamError naming the problem."""
    if kind not in ItemKind.values:
        raise ExamError(_("Unknown item kind %(kind)r.") % {"kind": kind})
    stem = (content.stem or "").strip()
    if not stem:
        raise ExamError(_("The stem is empty."))
    options = [{"id": str(o.get("id", "")).strip(), "text": str(o.get("text", "")).strip()} for o in content.options or []]
    key = [str(k).strip() for k in content.key or []]
    if kind != ItemKind.CAUSE_EFFECT and (content.reason or "").strip():
        raise ExamError(_("Only cause–effect items have a reason statement."))
    if kind == ItemKind.CAUSE_EFFECT:
        if not content.reason.strip():
            raise ExamError(_("A cause–effect item needs a reason statement."))
        options = [{"id": o["id"], "text": str(o["text"])} for o in CAUSE_EFFECT_OPTIONS]
    if kind in ItemKind.choice_kinds():
        ids = [o["id"] for o in options]
        if len(options) != CHOICE_OPTION_COUNT:
            raise ExamError(_("A choice item needs exactly %(n)d options, this one has %(have)d.") % {"n": CHOICE_OPTION_COUNT, "have": len(options)})
        if any(not o["id"] or not o["text"] for o in options):
            raise ExamError(_("Every option needs an id and a text."))
        if len(set(ids)) != len(ids):
            raise ExamError(_("Option ids must differ."))
        unknown = [k for k in key if k not in ids]
        if unknown:
            raise ExamError(_("The key names option %(ids)s, which is not among the options.") % {"ids": ", ".join(unknown)})
        if len(set(key)) != len(key) or not key:
            raise ExamError(_("The key must name each right option once, and at least one."))
        if kind in ItemKind.single_choice_kinds() and len(key) != 1:
            raise ExamError(_("A single-answer item has exactly one right option; the key names %(n)d.") % {"n": len(key)})
    else:
        if options:
            raise ExamError(_("A %(kind)s item has no options.") % {"kind": kind})
        if kind == ItemKind.FILL_IN and not [k for k in key if k]:
            raise ExamError(_("A fill-in item needs at least one accepted answer."))
        if kind == ItemKind.FREE_TEXT and key:
            raise ExamError(_("A free-text item has no key; put the expected answer in the marking guide."))
        key = [k for k in key if k]
    return ItemContent(stem=stem, options=options, key=key, reason=content.reason.strip(), guide=content.guide.strip(), image=content.image)


def _apply(version: ItemVersion, content: ItemContent) -> None:
    version.stem, version.reason, version.guide = content.stem, content.reason, content.guide
    version.options, version.key = content.options, content.key
    if content.image is not None:
        version.image.save(content.image.name.rsplit("/", 1)[-1], content.image, save=False)


@transaction.atomic
def item_create(*, code: str, topic: Topic, kind: str, content: ItemContent, status: str = ItemStatus.DRAFT,
                difficulty: str = "medium", is_sample: bool = False, by=None) -> Item:
    """Create an item with its first version."""
    if Item.objects.filter(code=code).exists():
        raise ExamError(_("An item with code %(code)s already exists.") % {"code": code})
    content = validated_content(kind, content)
    item = Item.objects.create(code=code, topic=topic, kind=kind, status=status, difficulty=difficulty, is_sample=is_sample)
    version = ItemVersion(item=item, number=1, created_by=by)
    _apply(version, content)
    version.save()
    item.current_version = version
    item.save(update_fields=["current_version"])
    return item


@transaction.atomic
def item_revise(*, item: Item, content: ItemContent, by=None) -> ItemVersion:
    """Change an item's wording. A live item, or a version any attempt has used, gets a new version.

    Attempts keep pointing at the version they were shown, so their forms never change.
    """
    item = Item.objects.select_for_update().get(pk=item.pk)
    content = validated_content(item.kind, content)
    current = item.current_version
    in_use = current is not None and AttemptItem.objects.filter(item_version=current).exists()
    if current is not None and item.status == ItemStatus.DRAFT and not in_use:
        _apply(current, content)
        current.save()
        return current
    version = ItemVersion(item=item, number=(current.number + 1) if current else 1, created_by=by)
    if current is not None and content.image is None and current.image:
        version.image = current.image.name  # same file: versions share an unchanged image
    _apply(version, content)
    version.save()
    item.current_version = version
    item.save(update_fields=["current_version", "updated_at"])
    return version


@transaction.atomic
def item_update_metadata(*, item: Item, status: str | None = None, difficulty: str | None = None,
                         is_sample: bool | None = None, topic: Topic | None = None, by=None) -> Item:
    """Set an item's status, difficulty, sample flag or topic (None leaves one as it is); return the item.

    The wording is not touched: that is item_revise, which keeps versions. `by` is taken for the
    same call shape as item_create and item_revise; the item has no field to record it yet.
    """
    if status is not None and status not in ItemStatus.values:
        raise ExamError(_("Unknown status %(value)r; use one of: %(allowed)s.") % {"value": status, "allowed": ", ".join(ItemStatus.values)})
    if difficulty is not None and difficulty not in Difficulty.values:
        raise ExamError(_("Unknown difficulty %(value)r; use one of: %(allowed)s.") % {"value": difficulty, "allowed": ", ".join(Difficulty.values)})
    if is_sample is not None and not isinstance(is_sample, bool):
        raise ExamError(_("The sample flag must be true or false."))
    # Locked and read again: a committee member may be saving the same item in the admin, and the
    # fields are compared with what is stored now, not with the caller's possibly older copy.
    item = Item.objects.select_for_update().get(pk=item.pk)
    wanted = {"status": status, "difficulty": difficulty, "is_sample": is_sample}
    changed = [name for name, value in wanted.items() if value is not None and getattr(item, name) != value]
    for name in changed:
        setattr(item, name, wanted[name])
    if topic is not None and item.topic_id != topic.pk:
        item.topic = topic
        changed.append("topic")
    if changed:
        item.save(update_fields=[*changed, "updated_at"])
    return item


@transaction.atomic
def topic_get_or_create(*, code: str, name: str) -> Topic:
    """Return the topic with this code, creating it with this name when there is none."""
    topic = Topic.objects.filter(code=code).first()
    if topic is not None:
        return topic
    if not TOPIC_CODE_PATTERN.match(code) or len(code) > TOPIC_CODE_MAX_LENGTH:
        raise ExamError(_("A topic code may hold only letters, digits, - and _, at most %(n)d.") % {"n": TOPIC_CODE_MAX_LENGTH})
    if not name.strip() or len(name) > TOPIC_NAME_MAX_LENGTH:
        raise ExamError(_("A topic needs a name of at most %(n)d characters.") % {"n": TOPIC_NAME_MAX_LENGTH})
    # get_or_create, not create: another import may create the same topic while this one runs.
    topic, _created = Topic.objects.get_or_create(code=code, defaults={"name": name})
    return topic


def content_of(version: ItemVersion) -> dict[str, Any]:
    """Return a version's content as plain data (for export and for the admin form)."""
    return {"stem": version.stem, "reason": version.reason, "options": version.options, "key": version.key, "guide": version.guide}
