"""Committee marking, blind and twice (R-GRADE-2).

Each free-text or fill-in answer is marked by two markers of that item, independently (neither sees
the other's mark). If their points differ by no more than the exam's tolerance, the answer gets
their mean, rounded half up to 0.01 point; otherwise it goes to an adjudicator (not one of the two),
whose mark stands. The chair assigns markers and adjudicators per item of a sitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import combinations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Item, Sitting

from ..models import AttemptScore, ItemScore, Mark, MarkingAssignment, ResultPublication
from .results import GradingError, attempt_total_refresh

MARK_PLACES = Decimal("0.01")


def mean_of_marks(first: Decimal, second: Decimal) -> Decimal:
    """Return the resolved points of two close marks: their mean, half up to 0.01 point."""
    return ((first + second) / 2).quantize(MARK_PLACES, rounding=ROUND_HALF_UP)


def marks_agree(
    first: Decimal, second: Decimal, max_points: Decimal, tolerance_percent: int
) -> bool:
    """Return whether two marks are close enough to average (within the exam's tolerance)."""
    return abs(first - second) <= max_points * tolerance_percent / 100


def _points(raw, max_points: Decimal) -> Decimal:
    try:
        points = Decimal(str(raw)).quantize(MARK_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise GradingError(_("Give the points as a number.")) from exc
    if not points.is_finite() or not 0 <= points <= max_points:
        raise GradingError(
            _("The points must be between 0 and %(max)s.") % {"max": max_points.normalize()}
        )
    return points


def _locked_answer(item_score_id: int) -> ItemScore:
    score = (
        ItemScore.objects.select_for_update(no_key=True, of=("self",))
        .select_related("attempt__exam", "attempt__enrolment", "attempt_item__item_version")
        .filter(pk=item_score_id, method=ItemScore.Method.COMMITTEE)
        .first()
    )
    if score is None:
        raise GradingError(_("No such answer."), code="not_found")
    # The attempt's total too, now: the mark's audit entry takes the chain's lock, and
    # attempt_total_refresh locked this row after it, while a re-score (total locked, waiting
    # for the chain) deadlocked with it (exams.audit.chain: lock order).
    AttemptScore.objects.select_for_update(no_key=True, of=("self",)).filter(attempt_id=score.attempt_id).first()
    if ResultPublication.objects.filter(sitting_id=score.attempt.enrolment.sitting_id).exists():
        raise GradingError(
            _("The results of this sitting are published; marks no longer change here.")
        )
    return score


def _assigned(user: AbstractBaseUser, score: ItemScore, role: str) -> bool:
    return MarkingAssignment.objects.filter(
        sitting_id=score.attempt.enrolment.sitting_id,
        item_id=score.attempt_item.item_version.item_id,
        user=user,
        role=role,
    ).exists()


def mark_submit(
    *,
    item_score_id: int,
    marker: AbstractBaseUser,
    points,
    comment: str = "",
    now: datetime | None = None,
) -> Mark:
    """Record one of the two independent marks of an answer; resolve it or send it to adjudication."""
    now = now or timezone.now()
    with transaction.atomic():
        score = _locked_answer(item_score_id)
        if not _assigned(marker, score, MarkingAssignment.Role.MARKER):
            raise GradingError(_("You are not a marker of this item."), code="not_found")
        marks = list(score.marks.all())
        if any(m.marker_id == marker.pk for m in marks):
            raise GradingError(_("You have already marked this answer."))
        if len(marks) >= 2:
            raise GradingError(_("This answer already has its two marks."))
        value = _points(points, score.max_points)
        round_ = Mark.Round.FIRST if not marks else Mark.Round.SECOND
        try:
            with transaction.atomic():
                mark = Mark.objects.create(
                    item_score=score,
                    round=round_,
                    marker=marker,
                    points=value,
                    comment=comment.strip()[:1000],
                    at=now,
                )
        except IntegrityError as exc:  # the row lock makes this a backstop only
            raise GradingError(
                _("This answer was marked by someone else meanwhile; take the next one.")
            ) from exc
        if round_ == Mark.Round.SECOND:
            first = marks[0].points
            if marks_agree(
                first, value, score.max_points, score.attempt.exam.marking_tolerance_percent
            ):
                _resolve(score, mean_of_marks(first, value), now)
            else:
                score.marking = ItemScore.Marking.ADJUDICATION
                score.save(update_fields=["marking"])
        return mark


def adjudication_submit(
    *,
    item_score_id: int,
    adjudicator: AbstractBaseUser,
    points,
    comment: str = "",
    now: datetime | None = None,
) -> Mark:
    """The adjudicator's mark of an answer whose two marks differ too much: it stands."""
    now = now or timezone.now()
    with transaction.atomic():
        score = _locked_answer(item_score_id)
        if not _assigned(adjudicator, score, MarkingAssignment.Role.ADJUDICATOR):
            raise GradingError(_("You are not an adjudicator of this item."), code="not_found")
        if score.marking != ItemScore.Marking.ADJUDICATION:
            raise GradingError(_("This answer does not wait for adjudication."))
        if score.marks.filter(marker=adjudicator).exists():
            raise GradingError(
                _("You marked this answer yourself; another adjudicator must decide.")
            )
        value = _points(points, score.max_points)
        mark = Mark.objects.create(
            item_score=score,
            round=Mark.Round.ADJUDICATION,
            marker=adjudicator,
            points=value,
            comment=comment.strip()[:1000],
            at=now,
        )
        _resolve(score, value, now)
        return mark


def _resolve(score: ItemScore, points: Decimal, now: datetime) -> None:
    score.points, score.marking, score.scored_at = points, ItemScore.Marking.RESOLVED, now
    score.save(update_fields=["points", "marking", "scored_at"])
    attempt_total_refresh(attempt_id=score.attempt_id)


def assignment_set(
    *,
    sitting_id: int,
    item_id: int,
    user: AbstractBaseUser,
    role: str,
    assigned: bool,
    by: AbstractBaseUser,
    now: datetime | None = None,
) -> None:
    """The chair gives (or takes back) an item of a sitting to a marker or an adjudicator."""
    now = now or timezone.now()
    if role not in MarkingAssignment.Role.values:
        raise GradingError(_("No such role."))
    needed = (
        "grading.adjudicate"
        if role == MarkingAssignment.Role.ADJUDICATOR
        else "grading.mark_answers"
    )
    if assigned and not user.has_perm(needed):
        raise GradingError(_("%(user)s may not do this work.") % {"user": user.get_username()})
    with transaction.atomic():
        sitting, item = Sitting.objects.get(pk=sitting_id), Item.objects.get(pk=item_id)
        if assigned:
            MarkingAssignment.objects.get_or_create(
                sitting=sitting,
                item=item,
                user=user,
                role=role,
                defaults={"assigned_by": by, "assigned_at": now},
            )
        else:
            MarkingAssignment.objects.filter(
                sitting=sitting, item=item, user=user, role=role
            ).delete()


@dataclass(frozen=True)
class ItemPlan:
    """Who is added to one item by a bulk assignment (existing assignments are kept as they are)."""

    item_id: int
    markers: tuple[int, ...]  # new markers' user ids
    adjudicator: int | None  # the new adjudicator's user id, None if the item already has one


def balanced_split(
    *,
    item_ids: list[int],
    markers: list[int],
    adjudicators: list[int],
    existing: dict[int, dict[str, set[int]]] | None = None,
) -> list[ItemPlan]:
    """Return who to add to each item so that each has two distinct markers and an adjudicator who is
    neither, spreading the new work evenly (the least-loaded people first; loads count what they hold
    already in the sitting).

    `existing` maps item id → {"marker": user ids, "adjudicator": user ids} already assigned. Raise
    GradingError if an item cannot be given two markers and an adjudicator distinct from them.
    """
    existing = existing or {}
    order = {user: n for n, user in enumerate(dict.fromkeys(markers + adjudicators))}
    marker_load = {user: 0 for user in markers}
    judge_load = {user: 0 for user in adjudicators}
    for held in existing.values():
        for user in held.get(MarkingAssignment.Role.MARKER, ()):
            if user in marker_load:
                marker_load[user] += 1
        for user in held.get(MarkingAssignment.Role.ADJUDICATOR, ()):
            if user in judge_load:
                judge_load[user] += 1
    plans = []
    for item_id in item_ids:
        held = existing.get(item_id, {})
        have_markers = set(held.get(MarkingAssignment.Role.MARKER, ()))
        have_judges = set(held.get(MarkingAssignment.Role.ADJUDICATOR, ()))
        need = max(0, 2 - len(have_markers))
        free = [u for u in markers if u not in have_markers and u not in have_judges]
        best: tuple | None = None
        for chosen in combinations(free, need):
            all_markers = have_markers | set(chosen)
            judges = [u for u in adjudicators if u not in all_markers]
            if not have_judges and not judges:
                continue
            loads = [marker_load[u] for u in chosen]
            key = (max(loads, default=0), sum(loads), [order[u] for u in chosen])
            if best is None or key < best[0]:
                judge = (
                    None if have_judges else min(judges, key=lambda u: (judge_load[u], order[u]))
                )
                best = (key, chosen, judge)
        if best is None:
            raise GradingError(
                _(
                    "Choose more markers or another adjudicator: an item cannot get two markers and an "
                    "adjudicator who is neither of them."
                )
            )
        _key, chosen, judge = best
        for user in chosen:
            marker_load[user] += 1
        if judge is not None:
            judge_load[judge] += 1
        plans.append(ItemPlan(item_id=item_id, markers=tuple(chosen), adjudicator=judge))
    return plans


def assignments_bulk_set(
    *,
    sitting_id: int,
    item_ids: list[int],
    markers: list[AbstractBaseUser],
    adjudicators: list[AbstractBaseUser],
    by: AbstractBaseUser,
    split: str = "balanced",
    now: datetime | None = None,
) -> int:
    """Assign markers and adjudicators to many items of a sitting at once (issue 10, point 12); return
    how many assignments were added.

    "balanced": each item gets two distinct markers and an adjudicator who is neither, with the work
    spread evenly; "everyone": every chosen person on every item (the first two to open an answer
    mark it). Existing assignments (and so the marks given under them) are kept; the chair takes one
    back on its own.
    """
    now = now or timezone.now()
    for user in markers:
        if not user.has_perm("grading.mark_answers"):
            raise GradingError(_("%(user)s may not do this work.") % {"user": user.get_username()})
    for user in adjudicators:
        if not user.has_perm("grading.adjudicate"):
            raise GradingError(_("%(user)s may not do this work.") % {"user": user.get_username()})
    if not item_ids:
        raise GradingError(_("Choose at least one item."))
    with transaction.atomic():
        # Two chairs assigning the same sitting at once would both read the old loads and pile work
        # on the same people: the sitting's row serialises them.
        sitting = Sitting.objects.select_for_update(no_key=True, of=("self",)).get(pk=sitting_id)
        if ResultPublication.objects.filter(sitting=sitting).exists():
            raise GradingError(
                _("The results of this sitting are published; marks no longer change here.")
            )
        items = set(Item.objects.filter(pk__in=item_ids).values_list("pk", flat=True))
        if len(items) != len(set(item_ids)):
            raise GradingError(_("No such item."))
        existing: dict[int, dict[str, set[int]]] = {}
        for item_id, user_id, role in MarkingAssignment.objects.filter(sitting=sitting).values_list(
            "item_id", "user_id", "role"
        ):
            existing.setdefault(item_id, {}).setdefault(role, set()).add(user_id)
        rows: list[tuple[int, int, str]] = []
        if split == "everyone":
            rows = [(i, u.pk, MarkingAssignment.Role.MARKER) for i in item_ids for u in markers]
            rows += [
                (i, u.pk, MarkingAssignment.Role.ADJUDICATOR)
                for i in item_ids
                for u in adjudicators
            ]
        elif split == "balanced":
            plans = balanced_split(
                item_ids=list(dict.fromkeys(item_ids)),
                markers=[u.pk for u in markers],
                adjudicators=[u.pk for u in adjudicators],
                existing=existing,
            )
            for plan in plans:
                rows += [(plan.item_id, u, MarkingAssignment.Role.MARKER) for u in plan.markers]
                if plan.adjudicator is not None:
                    rows.append(
                        (plan.item_id, plan.adjudicator, MarkingAssignment.Role.ADJUDICATOR)
                    )
        else:
            raise GradingError(_("No such way to split the work."))
        rows = [r for r in rows if r[1] not in existing.get(r[0], {}).get(r[2], ())]
        MarkingAssignment.objects.bulk_create(
            [
                MarkingAssignment(
                    sitting=sitting,
                    item_id=i,
                    user_id=u,
                    role=role,
                    assigned_by=by,
                    assigned_at=now,
                )
                for i, u, role in rows
            ],
            ignore_conflicts=True,  # the unique constraint is the backstop; the sitting's lock makes this rare
        )
        return len(rows)
