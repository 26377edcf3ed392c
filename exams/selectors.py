"""Reads shared by views, services and tasks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from .drawing import BlueprintSlot, PoolItem
from .form_cache import VersionContent, version_contents
from .models import Attempt, Enrolment, Exam, ItemKind, ItemStatus, ItemVersion, Response


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


def live_pool_cached(exam: Exam) -> dict[int, list[PoolItem]]:
    """Return live_pool(exam), read from the bank once per bank generation (see form_cache)."""
    from .form_cache import pool_for

    return pool_for(exam, live_pool)


@dataclass(frozen=True)
class FormSlot:
    """One slot of a frozen form as the exam page needs it."""

    position: int
    option_order: list[str]
    content: VersionContent
    response: tuple[Any, bool, int] | None  # stored value, flagged, seq


def attempt_form(attempt: Attempt) -> list[FormSlot]:
    """Return the attempt's slots in order, with their wording and the stored responses.

    Light rows and cached wording, not model instances: this is read on every page load.
    """
    rows = list(attempt.items.order_by("position").values_list("pk", "position", "item_version_id", "option_order"))
    responses = {
        pk: (value, flagged, seq)
        for pk, value, flagged, seq in Response.objects.filter(attempt=attempt).values_list("attempt_item_id", "value", "flagged", "seq")
    }
    contents = version_contents([version_id for _, _, version_id, _ in rows])
    return [
        FormSlot(position=position, option_order=option_order or [], content=contents[version_id], response=responses.get(pk))
        for pk, position, version_id, option_order in rows
    ]


def exam_language_of(candidate: Any) -> str:
    """The language of the exam `candidate` sits next (or sat last), if its board set one: what they
    read until they choose a language of their own (issue 12). Blank if none."""
    enrolments = Enrolment.objects.filter(candidate=candidate).exclude(sitting__exam__language="")
    upcoming = enrolments.filter(sitting__starts_at__gte=timezone.now() - timedelta(days=1)).order_by("sitting__starts_at")
    chosen = upcoming.values_list("sitting__exam__language", flat=True).first()
    return chosen or enrolments.order_by("-sitting__starts_at").values_list("sitting__exam__language", flat=True).first() or ""
