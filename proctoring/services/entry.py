"""When a proctored candidate may enter and start (R-SCHED-1, R-SCHED-3, R-PROC-5).

In a proctored sitting the late-entry allowance runs from the moment the proctor starts the room,
not from the sitting's nominal start: a room started late (a proctor's link failed) must not turn
its admitted candidates into absentees. Until the room starts, entry stays open; the room's End
step marks whoever never started.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import connection
from django.utils.translation import gettext as _

from exams.models import Enrolment

from ..errors import ProctoringError
from ..models import CheckIn, RoomSession


def room_session_for(room_id: int, *, lock: bool = False) -> RoomSession:
    """Return the room's control record, creating it (at the first step) on first use."""
    RoomSession.objects.get_or_create(room_id=room_id)
    # NO KEY: exams.audit.chain, lock order.
    queryset = RoomSession.objects.select_for_update(no_key=True, of=("self",)) if lock else RoomSession.objects
    return queryset.get(room_id=room_id)


def _room_session_shared(room_id: int) -> RoomSession:
    """Return the room's control record, share-locked until the commit.

    FOR SHARE, not FOR UPDATE: the starts of one room run side by side instead of one after the
    other (500 starts of a room queued a whole start each on this row), while the room's steps
    (room_advance: FOR NO KEY UPDATE, which conflicts with FOR SHARE) still never cross a start.
    """
    RoomSession.objects.get_or_create(room_id=room_id)
    if connection.vendor != "postgresql":
        return room_session_for(room_id, lock=True)  # SQLite (embedded mode) has one writer anyway
    return RoomSession.objects.raw(f"SELECT * FROM {RoomSession._meta.db_table} WHERE room_id = %s FOR SHARE", [room_id])[0]


def entry_closes_for(enrolment: Enrolment, session: RoomSession | None) -> datetime | None:
    """Return when entry closes for this candidate; None while their room has not started."""
    sitting = enrolment.sitting
    if not sitting.proctored:
        return sitting.entry_closes_at
    if session is None or session.started_at is None:
        return None
    return max(sitting.entry_closes_at, session.started_at + timedelta(minutes=sitting.late_entry_minutes))


def entry_closed(enrolment: Enrolment, session: RoomSession | None, now: datetime) -> datetime | None:
    """Return the closing time if entry has closed for this candidate by `now`, else None."""
    closes = entry_closes_for(enrolment, session)
    return closes if closes is not None and now > closes else None


def start_refusal(enrolment: Enrolment, start_code: str, now: datetime) -> ProctoringError | None:
    """Return why a proctored candidate may not start now, or None. Called by exams.attempt_start.

    The room's row is share-locked: a start and the room's Collect or End step never cross (a
    running attempt in a collected room, or an absentee who is writing).
    """
    if not enrolment.sitting.proctored:
        return None
    session = _room_session_shared(enrolment.room_id)
    if (closed_at := entry_closed(enrolment, session, now)) is not None:
        return ProctoringError(_("Entry closed at %(time)s; you are recorded as absent.") % {"time": enrolment.sitting.exam.clock(closed_at)}, code="late")
    checkin = CheckIn.objects.filter(enrolment=enrolment).first()
    if checkin is None or checkin.status != CheckIn.Status.ADMITTED:
        return ProctoringError(_("Your proctor has not admitted you yet."), code="not_admitted")
    if session.stage != RoomSession.Stage.STARTED:
        return ProctoringError(_("Your proctor has not started the room yet."), code="room_not_started")
    if enrolment.sitting.start_code_required and not secrets.compare_digest(start_code.strip().encode(), session.start_code.encode()):
        return ProctoringError(_("That start code is not right. Ask your proctor for it."), code="start_code")
    return None


def may_join_live_room(enrolment: Enrolment, now: datetime) -> bool:
    """Return whether the candidate's proctoring socket may open now: from the entry window's
    opening until entry closes, and for as long as their attempt runs; never days before."""
    attempt = enrolment.attempts.filter(is_practice=False).only("status").first()
    if attempt is not None:
        return attempt.is_in_progress
    if now < enrolment.sitting.entry_opens_at:
        return False
    return entry_closed(enrolment, room_session_for(enrolment.room_id), now) is None


def publish_refusal(enrolment: Enrolment, device_id: str) -> str | None:
    """Return why this device may not send camera and screen, or None.

    Once the attempt runs, only the device it runs on publishes: a second device (which locks
    the attempt) must not replace the candidate's real camera in the proctor's view.
    """
    attempt = enrolment.attempts.filter(is_practice=False).only("status", "device_id").first()
    if attempt is not None and attempt.is_in_progress and attempt.device_id != device_id:
        return _("This attempt runs on another device; this one does not send video.")
    return None
