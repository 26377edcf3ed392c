"""Comparing the file's items with the bank: what each needs, and the topics to create."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from ..models import Item, ItemKind, ItemVersion, Topic
from ..services.bank import ItemContent
from .parse_item import ParsedItem
from .problems import Problem


@dataclass
class Step:
    """What one item of the file needs: to be created, revised, given new bookkeeping, or nothing."""

    parsed: ParsedItem
    item: Item | None  # None: a new item
    content_changed: bool = False
    image_changed: bool = False
    item_changes: dict[str, Any] = field(default_factory=dict)
    # What differs from the bank, for the person to read before importing: the content's fields
    # ("stem", "key" …) and the bookkeeping's with old and new value ("status: draft → live").
    differences: list[str] = field(default_factory=list)


def plan(
    items: list[ParsedItem], *, lock: bool
) -> tuple[list[Step], dict[str, str], list[Problem]]:
    """Return what each item needs, the topics to create, and the items refused (a kind that
    would change), which have no step."""
    existing = Item.objects.select_related("current_version", "topic").filter(
        code__in=[p.code for p in items]
    )
    if lock:
        # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join.
        existing = existing.select_for_update(of=("self",))
    by_code = {item.code: item for item in existing}
    steps, problems = [], []
    for parsed in items:
        item = by_code.get(parsed.code)
        if item is None:
            steps.append(Step(parsed=parsed, item=None))
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
                    parsed.source,
                )
            )
            continue
        step = Step(parsed=parsed, item=item)
        version = item.current_version
        step.image_changed = parsed.image_path is not None and (
            version is None or _stored_digest(version) != _file_digest(parsed.image_path)
        )
        content_fields = (
            ["stem"]
            if version is None
            else _content_differences(item.kind, version, parsed.content)
        )
        if step.image_changed:
            content_fields.append("image")
        step.content_changed = bool(content_fields)
        wanted = {
            "status": parsed.status,
            "difficulty": parsed.difficulty,
            "is_sample": parsed.is_sample,
        }
        step.item_changes = {
            name: value
            for name, value in wanted.items()
            if name in parsed.states and getattr(item, name) != value
        }
        if "topic" in parsed.states and item.topic.code != parsed.topic:
            step.item_changes["topic"] = parsed.topic
        step.differences = content_fields + [
            f"{name}: {_shown(item.topic.code if name == 'topic' else getattr(item, name))} → {_shown(value)}"
            for name, value in step.item_changes.items()
        ]
        steps.append(step)
    # Only for the items that will be written: a refused item creates no topic.
    wanted_topics = {step.parsed.topic for step in steps}
    topics = set(Topic.objects.filter(code__in=wanted_topics).values_list("code", flat=True))
    new_topics: dict[str, str] = {}
    for step in steps:
        if step.parsed.topic not in topics and step.parsed.topic_name:
            # checks.cross_check made every item's name for a new topic agree
            new_topics.setdefault(step.parsed.topic, step.parsed.topic_name)
    return steps, new_topics, problems


def _content_differences(kind: str, version: ItemVersion, content: ItemContent) -> list[str]:
    """Return the names of the content's fields that differ from the stored version."""
    differing = [
        name
        for name in ("stem", "reason", "key", "guide")
        if getattr(version, name) != getattr(content, name)
    ]
    if kind == ItemKind.CAUSE_EFFECT:
        # The fixed scale's wording is stored in whichever language was active when the version
        # was written; only its ids are the item's content.
        same_options = [o["id"] for o in version.options] == [o["id"] for o in content.options]
    else:
        same_options = version.options == content.options
    if not same_options:
        differing.insert(1, "options")
    return differing


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
