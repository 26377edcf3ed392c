"""The waiting room: arrival, the proctor's decision, absentees (R-PROC-1, R-SCHED-3)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Attempt, Enrolment

from ..errors import ProctoringError
from ..models import CheckIn, RoomEvent, RoomSession
from ._common import log_room_event, push_tile_after_commit, push_to_candidate_after_commit
from .entry import entry_closed, room_session_for


def _checkin_locked(enrolment: Enrolment) -> CheckIn:
    CheckIn.objects.get_or_create(enrolment=enrolment)
    return CheckIn.objects.select_for_update(no_key=True).get(enrolment=enrolment)


def _checkin_message(checkin: CheckIn) -> dict:
    return {"type": "candidate.checkin", "status": checkin.status, "reason": checkin.reason}


def checkin_arrive(*, enrolment_id: int, candidate: AbstractBaseUser, now: datetime | None = None) -> CheckIn:
    """Put the candidate in the waiting room, during the entry window; return their check-in."""
    now = now or timezone.now()
    with transaction.atomic():
        enrolment = Enrolment.objects.select_related("sitting__exam").filter(pk=enrolment_id, candidate=candidate).first()
        if enrolment is None:
            raise ProctoringError(_("No such enrolment."), code="not_found")
        sitting = enrolment.sitting
        if not sitting.proctored:
            raise ProctoringError(_("This sitting has no waiting room."), code="not_proctored")
        if now < sitting.entry_opens_at:
            raise ProctoringError(_("The waiting room opens at %(time)s.") % {"time": enrolment.sitting.exam.clock(sitting.entry_opens_at)}, code="early")
        checkin = _checkin_locked(enrolment)
        if checkin.arrived_at is None and checkin.status == CheckIn.Status.WAITING:
            if (closed_at := entry_closed(enrolment, room_session_for(enrolment.room_id), now)) is not None:
                raise ProctoringError(
                    _("Entry closed at %(time)s; you are recorded as absent.") % {"time": enrolment.sitting.exam.clock(closed_at)}, code="late"
                )
            checkin.arrived_at = now
            checkin.save(update_fields=["arrived_at"])
            log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.ARRIVED, at=now, actor=candidate, enrolment=enrolment)
            push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return checkin


def _enrolment_of_proctor(enrolment_id: int, by: AbstractBaseUser) -> Enrolment:
    """Return the enrolment, row-locked, if `by` proctors its room.

    The lock is the one attempt_start takes: a decision and a start never cross. Only the
    enrolment's row, FOR NO KEY UPDATE (exams.audit.chain: lock order): a message or a room
    event about this candidate, holding the audit chain's lock, checks its key on this row.
    """
    if not Enrolment.objects.filter(pk=enrolment_id, room__proctors=by).exists():
        raise ProctoringError(_("No such candidate in your rooms."), code="not_found")
    return Enrolment.objects.select_for_update(no_key=True, of=("self",)).select_related("sitting").get(pk=enrolment_id)


def _decidable(enrolment: Enrolment, checkin: CheckIn, now: datetime) -> None:
    if checkin.status == CheckIn.Status.ABSENT:
        raise ProctoringError(_("This candidate is recorded as absent."))
    if Attempt.objects.filter(enrolment=enrolment, is_practice=False).exists():
        raise ProctoringError(_("This candidate has already started."))
    if (closed_at := entry_closed(enrolment, room_session_for(enrolment.room_id), now)) is not None:
        raise ProctoringError(_("Entry closed at %(time)s.") % {"time": enrolment.sitting.exam.clock(closed_at)})


def checkin_admit(*, enrolment_id: int, by: AbstractBaseUser, now: datetime | None = None) -> CheckIn:
    """Admit a candidate after the ID and room check: they may start once the room starts."""
    now = now or timezone.now()
    with transaction.atomic():
        enrolment = _enrolment_of_proctor(enrolment_id, by)
        checkin = _checkin_locked(enrolment)
        _decidable(enrolment, checkin, now)
        if checkin.status == CheckIn.Status.ADMITTED:
            return checkin
        checkin.status, checkin.decided_at, checkin.decided_by, checkin.reason = CheckIn.Status.ADMITTED, now, by, ""
        checkin.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.ADMITTED, at=now, actor=by, enrolment=enrolment)
        push_to_candidate_after_commit(enrolment.pk, _checkin_message(checkin))
        push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return checkin


def checkin_refuse(*, enrolment_id: int, by: AbstractBaseUser, reason: str, now: datetime | None = None) -> CheckIn:
    """Refuse a candidate at check-in, with the reason they are shown (R-PROC-1)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ProctoringError(_("Give the reason for refusing."))
    with transaction.atomic():
        enrolment = _enrolment_of_proctor(enrolment_id, by)
        checkin = _checkin_locked(enrolment)
        _decidable(enrolment, checkin, now)
        checkin.status, checkin.decided_at, checkin.decided_by, checkin.reason = CheckIn.Status.REFUSED, now, by, reason[:500]
        checkin.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.REFUSED, at=now, actor=by, enrolment=enrolment, reason=reason)
        push_to_candidate_after_commit(enrolment.pk, _checkin_message(checkin))
        push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return checkin


def absentees_mark(*, now: datetime | None = None, room_id: int | None = None, reason: str = "") -> list[int]:
    """Mark absent every candidate who has not started by the end of the entry window (R-SCHED-3).

    With `room_id`, that room's candidates now, whatever the time (the room has ended).
    Return the enrolments newly marked.
    """
    now = now or timezone.now()
    # A refused candidate keeps the proctor's decision and reason: that says more than "absent".
    enrolments = (
        Enrolment.objects.exclude(attempts__is_practice=False)
        .exclude(checkin__status__in=[CheckIn.Status.ABSENT, CheckIn.Status.REFUSED])
        .select_related("sitting")
    )
    if room_id is not None:
        enrolments = list(enrolments.filter(room_id=room_id))
    else:
        sessions = {s.room_id: s for s in RoomSession.objects.filter(room__sitting__starts_at__lt=now)}
        enrolments = [e for e in enrolments.filter(sitting__starts_at__lt=now) if entry_closed(e, sessions.get(e.room_id), now)]
    marked = []
    if room_id is not None:
        # The room's End step marks them all in its one transaction, so the first absentee's
        # audit entry takes the chain's lock: lock every check-in now, in order, before it, or an
        # arriving candidate (check-in locked, waiting for the chain) deadlocks with the End
        # (exams.audit.chain: lock order).
        for enrolment in sorted(enrolments, key=lambda e: e.pk):
            _checkin_locked(enrolment)
    for enrolment in enrolments:
        with transaction.atomic():
            # The lock attempt_start takes: a candidate pressing Start now is either written
            # before this check or waits and is then refused as late, never both.
            Enrolment.objects.select_for_update(no_key=True, of=("self",)).filter(pk=enrolment.pk).first()
            checkin = _checkin_locked(enrolment)
            # Started meanwhile, or marked by another worker: leave it.
            if checkin.status in (CheckIn.Status.ABSENT, CheckIn.Status.REFUSED) or Attempt.objects.filter(
                enrolment=enrolment, is_practice=False
            ).exists():
                continue
            closed_at = entry_closed(enrolment, room_session_for(enrolment.room_id), now) or now
            why = reason or _("Had not started when entry closed at %(time)s.") % {"time": enrolment.sitting.exam.clock(closed_at)}
            checkin.status, checkin.decided_at, checkin.reason = CheckIn.Status.ABSENT, now, why
            checkin.save(update_fields=["status", "decided_at", "reason"])
            log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.ABSENT, at=now, enrolment=enrolment, reason=why)
            push_to_candidate_after_commit(enrolment.pk, _checkin_message(checkin))
            push_tile_after_commit(enrolment.room_id, enrolment.pk)
            marked.append(enrolment.pk)
    return marked
