"""When a sitting has ended: the moment its two oversight reports fall due from (R-AUD-2).

A sitting has ended when nobody can still write in it: no real attempt is in progress, and no
enrolled candidate can still start (each has an attempt, was refused or marked absent, or entry
has closed for them — in a proctored room entry closes only once the proctor starts the room,
see proctoring.services.entry). Its end is the latest of: the last submission, the moment each
non-starter could no longer enter (entry closed, or they were refused or marked absent), and the
last room End step. So a sitting whose candidates all finished early has ended, although its entry
window is still open; one with nobody enrolled ends when entry closes.

A room whose proctor never starts it would keep its candidates "able to start" for ever; a pause
never resumed would keep an attempt running. So the sitting ends at the latest at midnight (in
the exam's time zone) after its nominal end: by 002:1.4.3 a failure that lasts past the day ends
the sitting for the candidates it affects.

The end is computed from the records, not from when the periodic job happens to look, and it is
fixed on the reports when they are drafted.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from exams.models import Attempt, AttemptStatus, Enrolment, Sitting
from proctoring.models import CheckIn, RoomSession
from proctoring.services import entry_closes_for


def end_of_day_cap(sitting: Sitting) -> datetime:
    """Return midnight, in the exam's time zone, after the sitting's nominal end."""
    zone = ZoneInfo(sitting.exam.time_zone)
    nominal_end = (sitting.entry_closes_at + sitting.exam.duration).astimezone(zone)
    return datetime.combine(nominal_end.date() + timedelta(days=1), time(0), tzinfo=zone)


def sitting_ended_at(sitting: Sitting, now: datetime) -> datetime | None:
    """Return when the sitting ended, or None while someone can still write in it."""
    cap = end_of_day_cap(sitting)
    fallback = cap if now >= cap else None
    attempts = {
        a.enrolment_id: a for a in Attempt.objects.filter(enrolment__sitting=sitting, is_practice=False)
        .only("enrolment_id", "status", "submitted_at")
    }
    if any(a.status == AttemptStatus.IN_PROGRESS for a in attempts.values()):
        return fallback
    sessions = {s.room_id: s for s in RoomSession.objects.filter(room__sitting=sitting)}
    moments = [s.ended_at for s in sessions.values() if s.stage == RoomSession.Stage.ENDED and s.ended_at]
    for enrolment in Enrolment.objects.filter(sitting=sitting).select_related("checkin"):
        enrolment.sitting = sitting  # entry_closes_for reads it; one sitting, no query per row
        attempt = attempts.get(enrolment.pk)
        if attempt is not None:
            moments.append(attempt.submitted_at)  # set on every status but in progress
            continue
        checkin = getattr(enrolment, "checkin", None)
        closes = entry_closes_for(enrolment, sessions.get(enrolment.room_id))
        if checkin is not None and checkin.status in (CheckIn.Status.ABSENT, CheckIn.Status.REFUSED):
            # No longer able to enter from the earlier of: entry closing, the decision (a refusal,
            # or the room's End step marking them before entry would have closed).
            moments.append(min((m for m in (closes, checkin.decided_at) if m), default=sitting.entry_closes_at))
        elif closes is None or closes >= now:
            return fallback  # still able to start
        else:
            moments.append(closes)
    ended = min(max(moments, default=sitting.entry_closes_at), cap)
    return ended if ended <= now else fallback
