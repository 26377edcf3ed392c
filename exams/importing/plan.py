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
from .problems import ImportRefused, Problem


@dataclass
class Step:
    """What one item of the file needs: to be created, revised, given new bookkeeping, or nothing."""

    parsed: ParsedItem
    item: Item | None  # None: a new item
    content_changed: bool = False
    image_changed: bool = False
    item_changes: dict[str, Any] = field(default_factory=dict)


def plan(items: list[ParsedItem], *, lock: bool) -> tuple[list[Step], dict[str, str]]:
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
            new_topics.setdefault(
                parsed.topic, parsed.topic_name
            )  # checks.cross_check made them agree

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
                )
            )
            continue
        step = Step(parsed=parsed, item=item)
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
