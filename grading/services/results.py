"""Totals, the clinical-case part, and publishing a sitting's results (R-GRADE-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exams.errors import ExamError
from exams.models import Attempt, AttemptStatus, Sitting
from exams.oversight.still_open import sitting_still_open

from ..models import AttemptScore, ClinicalScore, ItemScore, ResultPublication
from ..results import final_percent, passes


class GradingError(ExamError):
    """A grading rule refused an action; the message is shown to the person as it is."""


def attempt_total_refresh(*, attempt_id: int) -> AttemptScore | None:
    """Recompute an attempt's committee part, and its final percent once nothing awaits marking."""
    with transaction.atomic():
        # Only this row (exams.audit.chain: lock order): without `of` the attempt and the exam
        # were locked FOR UPDATE too, and every start's key check on the exam waited for them.
        score = (
            AttemptScore.objects.select_for_update(no_key=True, of=("self",))
            .select_related("attempt__exam")
            .filter(attempt_id=attempt_id)
            .first()
        )
        if score is None:
            return None
        resolved = Q(marking=ItemScore.Marking.RESOLVED)
        committee = ItemScore.objects.filter(
            attempt_id=attempt_id, method=ItemScore.Method.COMMITTEE
        ).aggregate(
            got=Sum("points", filter=resolved, default=Decimal(0)),
            of=Sum("max_points", default=Decimal(0)),
            waiting=Count("pk", filter=~resolved),
            waiting_of=Sum("max_points", filter=~resolved, default=Decimal(0)),
        )
        score.committee_points, score.committee_max_points = committee["got"], committee["of"]
        score.awaiting_items, score.awaiting_points = committee["waiting"], committee["waiting_of"]
        exam = score.attempt.exam
        clinical = ClinicalScore.objects.filter(attempt_id=attempt_id).first()
        complete = score.awaiting_items == 0 and (
            clinical is not None or not exam.clinical_weight_percent
        )
        if complete:
            score.percent = final_percent(
                written_points=score.auto_points + score.committee_points,
                written_max=score.auto_max_points + score.committee_max_points,
                clinical_points=clinical.points if clinical else None,
                clinical_max=clinical.max_points if clinical else None,
                clinical_weight=exam.clinical_weight_percent,
            )
            score.passed = passes(score.percent, exam.pass_percent)
        else:
            score.percent, score.passed = None, None
        score.save(
            update_fields=[
                "committee_points",
                "committee_max_points",
                "awaiting_items",
                "awaiting_points",
                "percent",
                "passed",
            ]
        )
        return score


def clinical_score_enter(
    *,
    attempt_id: int,
    by: AbstractBaseUser,
    points: Decimal,
    max_points: Decimal,
    now: datetime | None = None,
) -> ClinicalScore:
    """Enter (or correct, before publication) the clinical-case part's score of an attempt."""
    now = now or timezone.now()
    if max_points <= 0 or not 0 <= points <= max_points:
        raise GradingError(_("The clinical score must be between 0 and its maximum."))
    with transaction.atomic():
        attempt = Attempt.objects.select_related("exam", "enrolment__sitting").get(pk=attempt_id)
        if not attempt.exam.clinical_weight_percent:
            raise GradingError(_("This exam has no clinical-case part."))
        if ResultPublication.objects.filter(sitting_id=attempt.enrolment.sitting_id).exists():
            raise GradingError(
                _("The results of this sitting are published; scores no longer change here.")
            )
        # The total before the clinical score's audit entry (attempt_total_refresh below locks it
        # again): exams.audit.chain, lock order.
        AttemptScore.objects.select_for_update(no_key=True, of=("self",)).filter(attempt_id=attempt.pk).first()
        clinical, _created = ClinicalScore.objects.update_or_create(
            attempt=attempt,
            defaults={
                "points": points,
                "max_points": max_points,
                "entered_by": by,
                "entered_at": now,
            },
        )
        attempt_total_refresh(attempt_id=attempt.pk)
        return clinical


def sitting_readiness(sitting: Sitting) -> dict[str, int]:
    """Return what still stands between the sitting and publication (all zero: ready)."""
    attempts = Attempt.objects.filter(enrolment__sitting=sitting, is_practice=False)
    return {
        "unscored": attempts.filter(
            status__in=[AttemptStatus.IN_PROGRESS, AttemptStatus.SUBMITTED]
        ).count(),
        "awaiting_marks": ItemScore.objects.filter(
            attempt__in=attempts, method=ItemScore.Method.COMMITTEE
        )
        .exclude(marking=ItemScore.Marking.RESOLVED)
        .count(),
        "incomplete": AttemptScore.objects.filter(
            attempt__in=attempts.filter(status=AttemptStatus.SCORED), percent__isnull=True
        ).count(),
    }


# A start request reads its clock when it arrives and may commit seconds later on a loaded server
# (a start storm): publication waits this long past the last entry's close. It comes hours later
# anyway, so the minute costs nothing.
START_IN_FLIGHT = timedelta(minutes=1)


@dataclass(frozen=True)
class SittingOpen:
    """Why results cannot be published yet because people can still start or write, and from when they can."""

    reasons: list[str]
    publishable_from: (
        datetime | None
    )  # None: it waits on a person (a pause, a room not started) or nothing

    def message(self) -> str:
        return " ".join(self.reasons)


def _local(moment: datetime, sitting: Sitting) -> str:
    zone = sitting.exam.time_zone
    return f"{date_format(timezone.localtime(moment, ZoneInfo(zone)), 'SHORT_DATETIME_FORMAT')} ({zone})"


def sitting_open_for_writing(sitting: Sitting, now: datetime) -> SittingOpen | None:
    """Return why somebody can still start or write in the sitting at `now`, or None if nobody can."""
    still = sitting_still_open(sitting, now, margin=START_IN_FLIGHT)
    if still.is_closed:
        return None
    reasons = []
    if still.may_start:
        reasons.append(
            ngettext(
                "%(n)d candidate can still start.",
                "%(n)d candidates can still start.",
                still.may_start,
            )
            % {"n": still.may_start}
        )
    if still.rooms_not_started:
        reasons.append(
            _(
                "Not started by its proctor yet: %(rooms)s. Its candidates may start once it starts, "
                "unless the proctor ends the room."
            )
            % {"rooms": ", ".join(still.rooms_not_started)}
        )
    if still.writing:
        reasons.append(
            ngettext(
                "%(n)d attempt is still being written.",
                "%(n)d attempts are still being written.",
                still.writing,
            )
            % {"n": still.writing}
        )
    if still.paused:
        reasons.append(
            ngettext(
                "%(n)d of them is paused: its clock runs again when the proctor resumes it.",
                "%(n)d of them are paused: their clocks run again when the proctor resumes them.",
                still.paused,
            )
            % {"n": still.paused}
        )
    if still.closes_at is not None:
        reasons.append(
            _("You can publish from %(time)s, once every attempt is handed in.")
            % {"time": _local(still.closes_at, sitting)}
        )
    else:
        reasons.append(
            _(
                "When you can publish depends on the proctors: every room started and its entry closed, "
                "every paused attempt resumed and handed in."
            )
        )
    return SittingOpen(reasons=reasons, publishable_from=still.closes_at)


def sitting_results_publish(
    *, sitting_id: int, by: AbstractBaseUser, now: datetime | None = None
) -> ResultPublication:
    """Publish a sitting's results in one action, once nobody can start or write and marking is complete."""
    now = now or timezone.now()
    with transaction.atomic():
        # The sitting's row alone (`of`): the exam is read for its time zone, not locked.
        sitting = Sitting.objects.select_for_update(no_key=True, of=("self",)).select_related("exam").get(pk=sitting_id)
        if ResultPublication.objects.filter(sitting=sitting).exists():
            raise GradingError(_("These results are already published."))
        # First: a candidate who can still start would sit an exam whose answers nobody could mark
        # once the results are out (issue 10, point 11).
        if (still_open := sitting_open_for_writing(sitting, now)) is not None:
            raise GradingError(
                _("Not yet: people can still start or write in this sitting.")
                + " "
                + still_open.message(),
                code="open",
            )
        waiting = sitting_readiness(sitting)
        if any(waiting.values()):
            raise GradingError(
                _(
                    "Not ready: %(unscored)d attempts unscored, %(marks)d answers awaiting marks, %(incomplete)d results incomplete."
                )
                % {
                    "unscored": waiting["unscored"],
                    "marks": waiting["awaiting_marks"],
                    "incomplete": waiting["incomplete"],
                }
            )
        scores = AttemptScore.objects.filter(attempt__enrolment__sitting=sitting, attempt__is_practice=False,
                                             attempt__status=AttemptStatus.SCORED)
        attempts, passed = scores.count(), scores.filter(passed=True).count()
        # The scores' rows before the publication's audit entry takes the chain's lock: updated
        # after it, they waited for a re-score holding them and waiting for the chain
        # (exams.audit.chain: lock order).
        scores.update(published_at=now)
        publication = ResultPublication.objects.create(sitting=sitting, published_at=now, published_by=by, attempts=attempts,
                                                       passed=passed)
        from ..tasks import email_published_results

        transaction.on_commit(lambda: email_published_results.delay(sitting.pk), robust=True)
        return publication
