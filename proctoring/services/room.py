"""The room's control steps (R-PROC-5): admit → start → collect → end, each once, in order."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exams.models import Attempt, AttemptStatus, Enrolment, Room, SubmittedBy
from exams.services import attempt_submit
from languages.names import person_name

from ..errors import ProctoringError
from ..groups import push_after_commit, room_group
from ..models import RoomEvent, RoomSession
from ._common import log_room_event, push_to_candidate_after_commit
from .checkin import absentees_mark
from .entry import room_session_for

START_CODE_DIGITS = 6


def _room_message(session: RoomSession) -> dict:
    # The code itself never goes to candidates: the proctor gives it to them.
    return {"type": "candidate.room", "stage": session.stage}


def _collect(room_id: int, by: AbstractBaseUser, now: datetime, force: bool) -> None:
    running = list(
        Attempt.objects.filter(enrolment__room_id=room_id, is_practice=False, status=AttemptStatus.IN_PROGRESS)
        .select_related("candidate")
    )
    owed = [a for a in running if a.is_paused or a.time_left(now).total_seconds() > 0]
    if owed and not force:
        # Collecting ends every attempt: a late starter, a paused or an extended candidate would
        # lose time the rules give them. The proctor must say so twice.
        names = ", ".join(person_name(a.candidate) for a in owed)
        raise ProctoringError(
            ngettext("%(n)d candidate still has time: %(names)s. Collect anyway?",
                     "%(n)d candidates still have time: %(names)s. Collect anyway?", len(owed))
            % {"n": len(owed), "names": names},
            code="time_left",
        )
    # Every running attempt locked now, in id order (as answer batches lock them), before the
    # first submission's audit entry takes the chain's lock: locked one by one in the loop, an
    # answer batch holding a later attempt and waiting for the chain deadlocked with Collect
    # (exams.audit.chain: lock order).
    list(Attempt.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=[a.pk for a in running]).order_by("pk")
         .values_list("pk", flat=True))
    for attempt in running:
        attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.STAFF, actor=by, now=now)


def room_advance(*, room_id: int, by: AbstractBaseUser, to: str, force: bool = False, now: datetime | None = None) -> RoomSession:
    """Move the room to its next control step: start, collect (submit every attempt) or end.

    Collect refuses while a candidate still has time, unless `force`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not Room.objects.filter(pk=room_id, proctors=by).exists():
            raise ProctoringError(_("No such room among yours."), code="not_found")
        if to in (RoomSession.Stage.COLLECTED, RoomSession.Stage.ENDED):
            # Enrolments before the room, the order attempt_start locks them in: a start and
            # this step wait for each other instead of deadlocking.
            list(Enrolment.objects.select_for_update(no_key=True, of=("self",)).filter(room_id=room_id).order_by("pk")
                 .values_list("pk", flat=True))
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
                raise ProctoringError(_("The sitting starts at %(time)s.") % {"time": sitting.exam.clock(sitting.starts_at)})
            session.started_at = now
            if sitting.start_code_required:
                session.start_code = f"{secrets.randbelow(10**START_CODE_DIGITS):0{START_CODE_DIGITS}d}"
            kind = RoomEvent.Kind.STARTED
        elif to == RoomSession.Stage.COLLECTED:
            _collect(room_id, by, now, force)
            session.collected_at = now
            kind = RoomEvent.Kind.COLLECTED
        else:
            session.ended_at = now
            absentees_mark(now=now, room_id=room_id, reason=_("Had not started when the room ended at %(time)s.") % {"time": sitting.exam.clock(now)})
            kind = RoomEvent.Kind.ENDED
        session.stage = to
        session.save()
        log_room_event(room_id=room_id, kind=kind, at=now, actor=by, forced=force)
        from ..selectors import room_session_payload

        push_after_commit(room_group(room_id), {"type": "room.stage", "session": room_session_payload(session)})
        for enrolment_id in Enrolment.objects.filter(room_id=room_id).values_list("pk", flat=True):
            push_to_candidate_after_commit(enrolment_id, _room_message(session))
        return session
