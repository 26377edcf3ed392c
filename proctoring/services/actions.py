"""What a proctor does to one candidate's attempt (R-TAKE-7, R-PROC-4): pause, resume, extend, end.

Each is recorded twice on purpose: in the attempt's own timeline (its case file) and in the
room's log (what the proctor did during the sitting), both with who, when and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.groups import push_to_attempt_after_commit
from exams.models import Attempt, AttemptEvent, AttemptStatus, SubmittedBy
from exams.services import attempt_hand_over

from ..errors import ProctoringError
from ..models import RoomEvent
from ._common import log_room_event, push_tile_after_commit

MAX_EXTENSION_MINUTES = 120


def _running_attempt(attempt_id: int, by: AbstractBaseUser) -> Attempt:
    """Return the attempt, row-locked, if `by` proctors its room and it is still running."""
    attempt = (
        Attempt.objects.select_for_update(no_key=True, of=("self",)).select_related("enrolment")
        .filter(pk=attempt_id, is_practice=False, enrolment__room__proctors=by).first()
    )
    if attempt is None:
        raise ProctoringError(_("No such attempt in your rooms."), code="not_found")
    if not attempt.is_in_progress:
        raise ProctoringError(_("This attempt has already ended (%(status)s).") % {"status": attempt.get_status_display()})
    return attempt


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ProctoringError(_("Give the reason for the %(what)s.") % {"what": what})
    return reason[:300]


def _record(attempt: Attempt, *, kind: str, now: datetime, by: AbstractBaseUser, reason: str = "", **detail) -> None:
    AttemptEvent.objects.create(attempt=attempt, kind=kind, at=now, actor=by, detail={"reason": reason, **detail})
    log_room_event(room_id=attempt.enrolment.room_id, kind=kind, at=now, actor=by, enrolment=attempt.enrolment,
                   reason=reason, attempt=attempt.pk, **detail)
    push_tile_after_commit(attempt.enrolment.room_id, attempt.enrolment_id)


def attempt_pause(*, attempt_id: int, by: AbstractBaseUser, reason: str, now: datetime | None = None) -> Attempt:
    """Stop the attempt's clock for a technical failure (R-TAKE-7)."""
    now = now or timezone.now()
    reason = _reason(reason, _("pause"))
    with transaction.atomic():
        attempt = _running_attempt(attempt_id, by)
        if attempt.is_paused:
            raise ProctoringError(_("This attempt is already paused."))
        if now >= attempt.deadline:
            raise ProctoringError(_("Time is already up for this attempt."))
        attempt.paused_at, attempt.pause_reason = now, reason
        attempt.save(update_fields=["paused_at", "pause_reason"])
        _record(attempt, kind=AttemptEvent.Kind.PAUSED, now=now, by=by, reason=reason,
                time_left_seconds=int(attempt.time_left(now).total_seconds()))
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.state"})
        return attempt


def attempt_resume(*, attempt_id: int, by: AbstractBaseUser, now: datetime | None = None) -> Attempt:
    """Start the clock again; the deadline moves on by exactly the pause's length (R-TAKE-7)."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = _running_attempt(attempt_id, by)
        if not attempt.is_paused:
            raise ProctoringError(_("This attempt is not paused."))
        paused_for = max(now - attempt.paused_at, timedelta(0))
        old_deadline = attempt.deadline
        attempt.deadline = attempt.deadline_after_resume(now)
        attempt.paused_at, attempt.pause_reason = None, ""
        attempt.save(update_fields=["deadline", "paused_at", "pause_reason"])
        _record(attempt, kind=AttemptEvent.Kind.RESUMED, now=now, by=by, paused_seconds=int(paused_for.total_seconds()),
                old_deadline=old_deadline.isoformat(), new_deadline=attempt.deadline.isoformat())
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.state"})
        return attempt


def attempt_extend(*, attempt_id: int, by: AbstractBaseUser, minutes: int, reason: str, now: datetime | None = None) -> Attempt:
    """Give one candidate more time, with a reason (R-TAKE-7, 002:1.4.6)."""
    now = now or timezone.now()
    reason = _reason(reason, _("extension"))
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_EXTENSION_MINUTES:
        raise ProctoringError(_("An extension is from 1 to %(max)d minutes.") % {"max": MAX_EXTENSION_MINUTES})
    with transaction.atomic():
        attempt = _running_attempt(attempt_id, by)
        old_deadline = attempt.deadline
        attempt.deadline += timedelta(minutes=minutes)
        attempt.save(update_fields=["deadline"])
        _record(attempt, kind=AttemptEvent.Kind.EXTENDED, now=now, by=by, reason=reason, minutes=minutes,
                old_deadline=old_deadline.isoformat(), new_deadline=attempt.deadline.isoformat())
        # The candidate is told of the extension, its reason and the new end (issue 10, point 3).
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.state", "extension": {"minutes": minutes, "reason": reason}})
        return attempt


def attempt_disqualify(*, attempt_id: int, by: AbstractBaseUser, reason: str, now: datetime | None = None) -> Attempt:
    """End the attempt as disqualified (R-PROC-4). Its answers are kept for the committee; it is not scored."""
    now = now or timezone.now()
    reason = _reason(reason, _("disqualification"))
    with transaction.atomic():
        attempt = _running_attempt(attempt_id, by)
        assert AttemptStatus.can_move(attempt.status, AttemptStatus.DISQUALIFIED)
        attempt.status = AttemptStatus.DISQUALIFIED
        attempt.submitted_at, attempt.submitted_by = now, SubmittedBy.STAFF
        attempt.end_reason = reason
        attempt.paused_at = None
        attempt.save(update_fields=["status", "submitted_at", "submitted_by", "end_reason", "paused_at"])
        _record(attempt, kind=AttemptEvent.Kind.DISQUALIFIED, now=now, by=by, reason=reason, at_clock=attempt.exam.clock(now))
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.ended", "reason": reason})
        return attempt


def attempt_hand_over_by_proctor(*, attempt_id: int, by: AbstractBaseUser, to_new_device: bool, reason: str,
                                 now: datetime | None = None) -> Attempt:
    """Move a locked attempt to the new device, or back to the first (R-TAKE-2: only a proctor may)."""
    now = now or timezone.now()
    reason = _reason(reason, _("hand-over"))
    with transaction.atomic():
        attempt = _running_attempt(attempt_id, by)
        attempt = attempt_hand_over(attempt_id=attempt.pk, by=by, to_new_device=to_new_device, reason=reason, now=now)
        log_room_event(room_id=attempt.enrolment.room_id, kind=RoomEvent.Kind.HANDED_OVER, at=now, actor=by,
                       enrolment=attempt.enrolment, reason=reason, attempt=attempt.pk, to_new_device=to_new_device)
        push_tile_after_commit(attempt.enrolment.room_id, attempt.enrolment_id)
        return attempt
