"""The waiting room and the room's control steps (R-PROC-1, R-PROC-5, R-SCHED-3)."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Attempt, AttemptStatus, Enrolment, Room, SubmittedBy
from exams.services import attempt_submit

from ..errors import ProctoringError
from ..groups import push_after_commit, room_group
from ..models import CheckIn, RoomEvent, RoomSession
from ._common import clock, log_room_event, push_tile_after_commit, push_to_candidate_after_commit

START_CODE_DIGITS = 6


def room_session_for(room_id: int, *, lock: bool = False) -> RoomSession:
    """Return the room's control record, creating it (at the first step) on first use."""
    RoomSession.objects.get_or_create(room_id=room_id)
    queryset = RoomSession.objects.select_for_update() if lock else RoomSession.objects
    return queryset.get(room_id=room_id)


def _checkin_locked(enrolment: Enrolment) -> CheckIn:
    CheckIn.objects.get_or_create(enrolment=enrolment)
    return CheckIn.objects.select_for_update().get(enrolment=enrolment)


def _checkin_message(checkin: CheckIn) -> dict:
    return {"type": "candidate.checkin", "status": checkin.status, "reason": checkin.reason}


def checkin_arrive(*, enrolment_id: int, candidate: AbstractBaseUser, now: datetime | None = None) -> CheckIn:
    """Put the candidate in the waiting room, during the entry window; return their check-in."""
    now = now or timezone.now()
    with transaction.atomic():
        enrolment = Enrolment.objects.select_related("sitting").filter(pk=enrolment_id, candidate=candidate).first()
        if enrolment is None:
            raise ProctoringError(_("No such enrolment."), code="not_found")
        sitting = enrolment.sitting
        if not sitting.proctored:
            raise ProctoringError(_("This sitting has no waiting room."), code="not_proctored")
        if now < sitting.entry_opens_at:
            raise ProctoringError(_("The waiting room opens at %(time)s.") % {"time": clock(sitting.entry_opens_at)}, code="early")
        checkin = _checkin_locked(enrolment)
        if checkin.arrived_at is None and checkin.status == CheckIn.Status.WAITING:
            if now > sitting.entry_closes_at:
                raise ProctoringError(
                    _("Entry closed at %(time)s; you are recorded as absent.") % {"time": clock(sitting.entry_closes_at)}, code="late"
                )
            checkin.arrived_at = now
            checkin.save(update_fields=["arrived_at"])
            log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.ARRIVED, at=now, actor=candidate, enrolment=enrolment)
            push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return checkin


def _enrolment_of_proctor(enrolment_id: int, by: AbstractBaseUser) -> Enrolment:
    enrolment = Enrolment.objects.select_related("sitting").filter(pk=enrolment_id, room__proctors=by).first()
    if enrolment is None:
        raise ProctoringError(_("No such candidate in your rooms."), code="not_found")
    return enrolment


def _decidable(enrolment: Enrolment, checkin: CheckIn, now: datetime) -> None:
    if checkin.status == CheckIn.Status.ABSENT:
        raise ProctoringError(_("This candidate is recorded as absent."))
    if Attempt.objects.filter(enrolment=enrolment, is_practice=False).exists():
        raise ProctoringError(_("This candidate has already started."))
    if now > enrolment.sitting.entry_closes_at:
        raise ProctoringError(_("Entry closed at %(time)s.") % {"time": clock(enrolment.sitting.entry_closes_at)})


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


def start_refusal(enrolment: Enrolment, start_code: str) -> ProctoringError | None:
    """Return why a proctored candidate may not start now, or None. Called by exams.attempt_start."""
    if not enrolment.sitting.proctored:
        return None
    checkin = CheckIn.objects.filter(enrolment=enrolment).first()
    if checkin is None or checkin.status != CheckIn.Status.ADMITTED:
        return ProctoringError(_("Your proctor has not admitted you yet."), code="not_admitted")
    session = room_session_for(enrolment.room_id)
    if session.stage != RoomSession.Stage.STARTED:
        return ProctoringError(_("Your proctor has not started the room yet."), code="room_not_started")
    if enrolment.sitting.start_code_required and not secrets.compare_digest(start_code.strip().encode(), session.start_code.encode()):
        return ProctoringError(_("That start code is not right. Ask your proctor for it."), code="start_code")
    return None


def _room_message(session: RoomSession) -> dict:
    # The code itself never goes to candidates: the proctor gives it to them.
    return {"type": "candidate.room", "stage": session.stage}


def room_advance(*, room_id: int, by: AbstractBaseUser, to: str, now: datetime | None = None) -> RoomSession:
    """Move the room to its next control step: start, collect (submit every attempt) or end."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Room.objects.filter(pk=room_id, proctors=by).exists():
            raise ProctoringError(_("No such room among yours."), code="not_found")
        session = room_session_for(room_id, lock=True)
        expected = RoomSession.next_stage(session.stage)
        if to != expected:
            raise ProctoringError(
                _("The room is at “%(stage)s”; the next step is “%(next)s”.")
                % {"stage": session.get_stage_display(), "next": RoomSession.Stage(expected).label if expected else "—"}
            )
        sitting = session.room.sitting
        if to == RoomSession.Stage.STARTED:
            if now < sitting.starts_at:
                raise ProctoringError(_("The sitting starts at %(time)s.") % {"time": clock(sitting.starts_at)})
            session.started_at = now
            if sitting.start_code_required:
                session.start_code = f"{secrets.randbelow(10**START_CODE_DIGITS):0{START_CODE_DIGITS}d}"
            kind = RoomEvent.Kind.STARTED
        elif to == RoomSession.Stage.COLLECTED:
            session.collected_at = now
            running = Attempt.objects.filter(enrolment__room_id=room_id, is_practice=False, status=AttemptStatus.IN_PROGRESS)
            for attempt_id in running.values_list("pk", flat=True):
                attempt_submit(attempt_id=attempt_id, by=SubmittedBy.STAFF, actor=by, now=now)
            kind = RoomEvent.Kind.COLLECTED
        else:
            session.ended_at = now
            absentees_mark(now=now, room_id=room_id, reason=_("Had not started when the room ended at %(time)s.") % {"time": clock(now)})
            kind = RoomEvent.Kind.ENDED
        session.stage = to
        session.save()
        log_room_event(room_id=room_id, kind=kind, at=now, actor=by)
        from ..selectors import room_session_payload

        push_after_commit(room_group(room_id), {"type": "room.stage", "session": room_session_payload(session)})
        for enrolment_id in Enrolment.objects.filter(room_id=room_id).values_list("pk", flat=True):
            push_to_candidate_after_commit(enrolment_id, _room_message(session))
        return session


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
        enrolments = enrolments.filter(room_id=room_id)
    else:
        enrolments = enrolments.filter(sitting__starts_at__lt=now)
        enrolments = [e for e in enrolments if e.sitting.entry_closes_at < now]
    marked = []
    for enrolment in enrolments:
        with transaction.atomic():
            checkin = _checkin_locked(enrolment)
            # Started meanwhile, or marked by another worker: leave it.
            if checkin.status in (CheckIn.Status.ABSENT, CheckIn.Status.REFUSED) or Attempt.objects.filter(
                enrolment=enrolment, is_practice=False
            ).exists():
                continue
            why = reason or _("Had not started when entry closed at %(time)s.") % {"time": clock(enrolment.sitting.entry_closes_at)}
            checkin.status, checkin.decided_at, checkin.reason = CheckIn.Status.ABSENT, now, why
            checkin.save(update_fields=["status", "decided_at", "reason"])
            log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.ABSENT, at=now, enrolment=enrolment, reason=why)
            push_to_candidate_after_commit(enrolment.pk, _checkin_message(checkin))
            push_tile_after_commit(enrolment.room_id, enrolment.pk)
            marked.append(enrolment.pk)
    return marked
