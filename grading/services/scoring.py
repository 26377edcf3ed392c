"""Machine scoring of a submitted attempt (R-GRADE-1)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exams.models import Attempt, AttemptStatus, Response
from exams.services import attempt_mark_scored

from ..models import AttemptScore, ItemScore, KeyCorrection
from ..scoring import is_auto_scored, keyed_points
from .results import attempt_total_refresh


def current_corrections(version_ids: set[int]) -> dict[int, KeyCorrection]:
    """Return, per item version, its newest applied key correction (the one scoring follows)."""
    newest: dict[int, KeyCorrection] = {}
    for correction in KeyCorrection.objects.filter(item_version_id__in=version_ids, applied_at__isnull=False).order_by("applied_at", "pk"):
        newest[correction.item_version_id] = correction
    return newest


def attempt_score(*, attempt_id: int, now: datetime | None = None) -> AttemptScore | None:
    """Score the machine-scored items of a submitted attempt; safe to run twice.

    Returns None for an attempt still in progress (a task that arrived too early does nothing).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Only the attempt's row, FOR NO KEY UPDATE (exams.audit.chain: lock order): without `of`
        # the exam's row was locked FOR UPDATE as well, and every start's key check waited for it.
        attempt = Attempt.objects.select_for_update(no_key=True, of=("self",)).select_related("exam").get(pk=attempt_id)
        # A disqualified attempt is not scored (its answers stay for the committee's review).
        if attempt.status in (AttemptStatus.IN_PROGRESS, AttemptStatus.DISQUALIFIED):
            return None
        rule = attempt.exam.multiple_response_scoring
        slots = list(attempt.items.select_related("item_version__item"))
        answers = dict(Response.objects.filter(attempt=attempt).values_list("attempt_item_id", "value"))
        corrections = current_corrections({slot.item_version_id for slot in slots})
        dropped = {v for v, c in corrections.items() if c.action == KeyCorrection.Action.DROP}
        scores, auto_points, auto_max, awaiting, awaiting_points = [], Decimal(0), Decimal(0), 0, Decimal(0)
        for slot in slots:
            version = slot.item_version
            if version.pk in dropped:
                # A dropped item counts for nobody: neither in the points nor in the maximum.
                method = ItemScore.Method.AUTO if is_auto_scored(version.item.kind) else ItemScore.Method.COMMITTEE
                scores.append(ItemScore(attempt_item=slot, attempt=attempt, method=method, points=Decimal(0), max_points=Decimal(0),
                                        marking=ItemScore.Marking.RESOLVED if method == ItemScore.Method.COMMITTEE else "",
                                        scored_at=now))
            elif is_auto_scored(version.item.kind):
                correction = corrections.get(version.pk)
                keys = correction.accepted_keys if correction is not None else [version.key]
                points = keyed_points(kind=version.item.kind, accepted_keys=keys, answer=answers.get(slot.pk), points=slot.points,
                                      rule=rule)
                auto_points += points
                auto_max += slot.points
                scores.append(ItemScore(attempt_item=slot, attempt=attempt, method=ItemScore.Method.AUTO,
                                        points=points, max_points=slot.points, scored_at=now))
            else:
                awaiting += 1
                awaiting_points += slot.points
                scores.append(ItemScore(attempt_item=slot, attempt=attempt, method=ItemScore.Method.COMMITTEE,
                                        marking=ItemScore.Marking.OPEN, points=None, max_points=slot.points, scored_at=None))
        # Upserts keep a second run (a redelivered task) from doubling anything. Committee marks,
        # once they exist, are not touched: only machine-scored rows are replaced.
        ItemScore.objects.bulk_create(
            [s for s in scores if s.method == ItemScore.Method.AUTO],
            update_conflicts=True, unique_fields=["attempt_item"], update_fields=["points", "max_points", "scored_at", "method"],
        )
        ItemScore.objects.bulk_create([s for s in scores if s.method == ItemScore.Method.COMMITTEE], ignore_conflicts=True)
        # A dropped committee item is settled whatever marks it had (ignore_conflicts kept the old row).
        ItemScore.objects.filter(attempt=attempt, method=ItemScore.Method.COMMITTEE, attempt_item__item_version_id__in=dropped).update(
            points=Decimal(0), max_points=Decimal(0), marking=ItemScore.Marking.RESOLVED, scored_at=now)
        AttemptScore.objects.update_or_create(
            attempt=attempt,
            defaults={"auto_points": auto_points, "auto_max_points": auto_max, "awaiting_items": awaiting,
                      "awaiting_points": awaiting_points, "scored_at": now},
        )
        attempt_mark_scored(attempt_id=attempt.pk, now=now)
        # Committee marks already given stay: the total is recomputed from the item rows.
        return attempt_total_refresh(attempt_id=attempt.pk)
