"""Committee marking, blind and twice (R-GRADE-2).

Each free-text or fill-in answer is marked by two markers of that item, independently (neither sees
the other's mark). If their points differ by no more than the exam's tolerance, the answer gets
their mean, rounded half up to 0.01 point; otherwise it goes to an adjudicator (not one of the two),
whose mark stands. The chair assigns markers and adjudicators per item of a sitting.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def marks_agree(first: Decimal, second: Decimal, max_points: Decimal, tolerance_percent: int) -> bool:
    """Return whether two marks are close enough to average (within the exam's tolerance)."""
    return abs(first - second) <= max_points * tolerance_percent / 100


def _points(raw, max_points: Decimal) -> Decimal:
    try:
        points = Decimal(str(raw)).quantize(MARK_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise GradingError(_("Give the points as a number.")) from exc
    if not points.is_finite() or not 0 <= points <= max_points:
        raise GradingError(_("The points must be between 0 and %(max)s.") % {"max": max_points.normalize()})
    return points


def _locked_answer(item_score_id: int) -> ItemScore:
    score = (
        ItemScore.objects.select_for_update(no_key=True, of=("self",))
        .select_related("attempt__exam", "attempt__enrolment", "attempt_item__item_version")
        .filter(pk=item_score_id, method=ItemScore.Method.COMMITTEE).first()
    )
    if score is None:
        raise GradingError(_("No such answer."), code="not_found")
    # The attempt's total too, now: the mark's audit entry takes the chain's lock, and
    # attempt_total_refresh locked this row after it, while a re-score (total locked, waiting
    # for the chain) deadlocked with it (exams.audit.chain: lock order).
    AttemptScore.objects.select_for_update(no_key=True, of=("self",)).filter(attempt_id=score.attempt_id).first()
    if ResultPublication.objects.filter(sitting_id=score.attempt.enrolment.sitting_id).exists():
        raise GradingError(_("The results of this sitting are published; marks no longer change here."))
    return score


def _assigned(user: AbstractBaseUser, score: ItemScore, role: str) -> bool:
    return MarkingAssignment.objects.filter(
        sitting_id=score.attempt.enrolment.sitting_id, item_id=score.attempt_item.item_version.item_id, user=user, role=role
    ).exists()


def mark_submit(*, item_score_id: int, marker: AbstractBaseUser, points, comment: str = "",
                now: datetime | None = None) -> Mark:
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
                mark = Mark.objects.create(item_score=score, round=round_, marker=marker, points=value,
                                           comment=comment.strip()[:1000], at=now)
        except IntegrityError as exc:  # the row lock makes this a backstop only
            raise GradingError(_("This answer was marked by someone else meanwhile; take the next one.")) from exc
        if round_ == Mark.Round.SECOND:
            first = marks[0].points
            if marks_agree(first, value, score.max_points, score.attempt.exam.marking_tolerance_percent):
                _resolve(score, mean_of_marks(first, value), now)
            else:
                score.marking = ItemScore.Marking.ADJUDICATION
                score.save(update_fields=["marking"])
        return mark


def adjudication_submit(*, item_score_id: int, adjudicator: AbstractBaseUser, points, comment: str = "",
                        now: datetime | None = None) -> Mark:
    """The adjudicator's mark of an answer whose two marks differ too much: it stands."""
    now = now or timezone.now()
    with transaction.atomic():
        score = _locked_answer(item_score_id)
        if not _assigned(adjudicator, score, MarkingAssignment.Role.ADJUDICATOR):
            raise GradingError(_("You are not an adjudicator of this item."), code="not_found")
        if score.marking != ItemScore.Marking.ADJUDICATION:
            raise GradingError(_("This answer does not wait for adjudication."))
        if score.marks.filter(marker=adjudicator).exists():
            raise GradingError(_("You marked this answer yourself; another adjudicator must decide."))
        value = _points(points, score.max_points)
        mark = Mark.objects.create(item_score=score, round=Mark.Round.ADJUDICATION, marker=adjudicator, points=value,
                                   comment=comment.strip()[:1000], at=now)
        _resolve(score, value, now)
        return mark


def _resolve(score: ItemScore, points: Decimal, now: datetime) -> None:
    score.points, score.marking, score.scored_at = points, ItemScore.Marking.RESOLVED, now
    score.save(update_fields=["points", "marking", "scored_at"])
    attempt_total_refresh(attempt_id=score.attempt_id)


def assignment_set(*, sitting_id: int, item_id: int, user: AbstractBaseUser, role: str, assigned: bool,
                   by: AbstractBaseUser, now: datetime | None = None) -> None:
    """The chair gives (or takes back) an item of a sitting to a marker or an adjudicator."""
    now = now or timezone.now()
    if role not in MarkingAssignment.Role.values:
        raise GradingError(_("No such role."))
    needed = "grading.adjudicate" if role == MarkingAssignment.Role.ADJUDICATOR else "grading.mark_answers"
    if assigned and not user.has_perm(needed):
        raise GradingError(_("%(user)s may not do this work.") % {"user": user.get_username()})
    with transaction.atomic():
        sitting, item = Sitting.objects.get(pk=sitting_id), Item.objects.get(pk=item_id)
        if assigned:
            MarkingAssignment.objects.get_or_create(sitting=sitting, item=item, user=user, role=role,
                                                    defaults={"assigned_by": by, "assigned_at": now})
        else:
            MarkingAssignment.objects.filter(sitting=sitting, item=item, user=user, role=role).delete()
