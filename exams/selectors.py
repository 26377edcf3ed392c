"""Reads shared by views, services and tasks."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F

from .drawing import BlueprintSlot, PoolItem
from .models import Attempt, AttemptItem, Exam, ItemKind, ItemStatus, ItemVersion, Response


def blueprint_slots(exam: Exam) -> list[BlueprintSlot]:
    """Return the exam's blueprint as drawing slots."""
    return [
        BlueprintSlot(topic_id=e.topic_id, kind=e.kind, count=e.count, label=e.topic.code)
        for e in exam.blueprint.select_related("topic")
    ]


def live_pool(exam: Exam) -> dict[int, list[PoolItem]]:
    """Return the items a form of `exam` may draw, by topic: live items' current versions.

    A practice exam draws sample items only; a real exam never draws a sample item, so the
    practice a candidate saw cannot reappear on the day.
    """
    rows = (
        ItemVersion.objects.filter(
            item__status=ItemStatus.LIVE, item__is_sample=exam.is_practice, item__current_version_id=F("id")
        )
        .values_list("id", "item__topic_id", "item__kind", "options")
    )
    pool: dict[int, list[PoolItem]] = defaultdict(list)
    for version_id, topic_id, kind, options in rows:
        pool[topic_id].append(
            PoolItem(
                version_id=version_id,
                kind=kind,
                option_ids=tuple(o["id"] for o in options or ()),
                shuffle_options=kind in (ItemKind.SINGLE, ItemKind.MULTIPLE),
            )
        )
    return pool


def attempt_form(attempt: Attempt) -> list[AttemptItem]:
    """Return the attempt's slots in order, with their item versions and responses loaded."""
    items = list(attempt.items.select_related("item_version", "item_version__item").order_by("position"))
    responses = {r.attempt_item_id: r for r in Response.objects.filter(attempt=attempt)}
    for slot in items:
        slot.loaded_response = responses.get(slot.pk)
    return items
