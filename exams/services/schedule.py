"""Sittings and enrolments (R-SCHED-1, R-SCHED-2)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..drawing import shortfalls
from ..errors import ExamError
from ..models import Enrolment, Exam
from ..selectors import blueprint_slots, live_pool


def sitting_check_blueprint(*, exam: Exam) -> None:
    """Raise ExamError if the bank cannot fill the exam's blueprint, or it does not add up."""
    slots = blueprint_slots(exam)
    total = sum(s.count for s in slots)
    if total != exam.item_count:
        raise ExamError(
            _("The blueprint of %(exam)s draws %(total)d items; the exam has %(count)d.")
            % {"exam": exam.code, "total": total, "count": exam.item_count}
        )
    problems = shortfalls(live_pool(exam), slots)
    if problems:
        raise ExamError(_("The bank cannot fill the blueprint of %(exam)s: %(problems)s.") % {"exam": exam.code, "problems": "; ".join(problems)})


@transaction.atomic
def enrolment_confirm_identity(*, enrolment_id: int, candidate, now: datetime | None = None) -> Enrolment:
    """Record that the candidate confirmed their name and grade (R-SCHED-2)."""
    # Only the enrolment's row (exams.audit.chain: lock order): `.first()` orders by Enrolment's
    # default ordering, whose joins (room, sitting) FOR UPDATE would lock as well.
    enrolment = Enrolment.objects.select_for_update(no_key=True, of=("self",)).filter(pk=enrolment_id, candidate=candidate).first()
    if enrolment is None:
        raise ExamError(_("No such enrolment."), code="not_found")
    if enrolment.identity_confirmed_at is None:
        enrolment.identity_confirmed_at = now or timezone.now()
        enrolment.save(update_fields=["identity_confirmed_at"])
    return enrolment
