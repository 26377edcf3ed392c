"""Whether anybody can still start or write in a sitting, and from when nobody can (issue 10, point 11).

Results must not be published while a candidate can still start: one who enters afterwards sits a
whole exam whose committee answers can never be marked. Unlike `ending.sitting_ended_at` (which
fixes the moment reports fall due and stops looking at midnight after the day), this is strict:

- every real attempt has left "in progress" (a paused attempt still runs; an extended one too; an
  attempt past its deadline still takes saves until the clock job submits it);
- every enrolled candidate without an attempt can no longer start: marked absent, or entry has
  closed for them (a proctored room closes entry a set time after its proctor starts it, and once
  the room's answers are collected nobody starts there), plus `margin`. A refused candidate is not
  done: the proctor may still admit them while entry is open.

`margin` covers a start already in flight: attempt_start reads its clock when the request arrives
and may commit seconds later on a loaded server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from exams.models import Attempt, AttemptStatus, Enrolment, Sitting
from proctoring.models import CheckIn, RoomSession
from proctoring.services import entry_closes_for


@dataclass(frozen=True)
class StillOpen:
    """Who can still start or write in a sitting at a moment."""

    writing: int = 0  # real attempts in progress, paused ones included
    paused: int = 0
    may_start: int = 0  # enrolled candidates without an attempt who may still start
    rooms_not_started: list[str] = field(
        default_factory=list
    )  # their candidates may start whenever the room starts
    # The earliest moment nobody can start or write, if the records fix it; None when it waits on a
    # person (a pause to resume, a room to start) or nothing is open.
    closes_at: datetime | None = None

    @property
    def is_closed(self) -> bool:
        return not (self.writing or self.may_start)


def sitting_still_open(
    sitting: Sitting, now: datetime, *, margin: timedelta | None = None
) -> StillOpen:
    """Return who can still start or write in `sitting` at `now` (all zero: nobody)."""
    margin = timedelta(seconds=settings.ANSWER_GRACE_SECONDS) if margin is None else margin
    moments: list[datetime] = []
    unknown = False
    writing = paused = may_start = 0
    started = set()
    for attempt in Attempt.objects.filter(enrolment__sitting=sitting, is_practice=False).only(
        "enrolment_id", "status", "deadline", "paused_at"
    ):
        started.add(attempt.enrolment_id)
        if attempt.status != AttemptStatus.IN_PROGRESS:
            continue
        writing += 1
        if attempt.is_paused:
            paused, unknown = paused + 1, True
        else:
            moments.append(max(attempt.answers_close_at(), now))
    sessions = {s.room_id: s for s in RoomSession.objects.filter(room__sitting=sitting)}
    rooms_not_started: set[str] = set()
    for enrolment in (
        Enrolment.objects.filter(sitting=sitting)
        .exclude(pk__in=started)
        .select_related("checkin", "room")
    ):
        enrolment.sitting = sitting  # entry_closes_for reads it; one sitting, no query per row
        checkin = getattr(enrolment, "checkin", None)
        if checkin is not None and checkin.status == CheckIn.Status.ABSENT:
            continue
        session = sessions.get(enrolment.room_id)
        if (
            sitting.proctored
            and session is not None
            and session.stage in (RoomSession.Stage.COLLECTED, RoomSession.Stage.ENDED)
        ):
            continue  # start_refusal lets nobody start once the room's answers are collected
        closes = entry_closes_for(enrolment, session)
        if closes is None:
            may_start, unknown = may_start + 1, True
            rooms_not_started.add(enrolment.room.name)
        elif now <= closes + margin:
            may_start += 1
            moments.append(closes + margin)
    return StillOpen(
        writing=writing,
        paused=paused,
        may_start=may_start,
        rooms_not_started=sorted(rooms_not_started),
        closes_at=None if unknown or not moments else max(moments),
    )
