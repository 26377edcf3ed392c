"""Who was absent, per room, summed up room → test centre → region → national (R-SCHED-3).

Absent is what the proctoring app records: a CheckIn with status absent, set by
proctoring.services.absentees_mark when entry closes (every minute, for proctored and unproctored
sittings alike) or when a proctor ends the room. Between entry closing and that job's next run a
candidate who never started is not marked yet; they are listed too, with a note saying so, by
the same test the job applies (proctoring.services.entry.entry_closed). A refused candidate is
not absent: the proctor's refusal stands, with its reason (the external council's report lists
refusals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils.translation import gettext as _

from exams.models import Enrolment, Room, Sitting
from languages.names import person_name
from proctoring.models import CheckIn, RoomSession
from proctoring.services.entry import entry_closed


@dataclass(frozen=True)
class Absentee:
    seat: str
    name: str
    ticket_number: str
    note: str


@dataclass
class Tally:
    """A place in the hierarchy with its counts: a room, a test centre, a region, the nation."""

    name: str
    enrolled: int = 0
    absent: int = 0
    parts: list[Tally] = field(default_factory=list)
    room: Room | None = None
    absentees: list[Absentee] = field(default_factory=list)

    def add(self, enrolled: int, absent: int) -> None:
        self.enrolled += enrolled
        self.absent += absent

    def part(self, name: str) -> Tally:
        """Return the sub-place called `name`, adding it at the end if new."""
        for existing in self.parts:
            if existing.name == name:
                return existing
        self.parts.append(Tally(name))
        return self.parts[-1]


def _natural(text: str) -> tuple:
    """Return a sort key that puts seat "2" before seat "10"."""
    return tuple(int(chunk) if chunk.isdigit() else chunk for chunk in re.split(r"(\d+)", text))


def place_names(room: Room) -> tuple[str, str]:
    """Return the room's region and test centre, with a visible name for blanks."""
    return room.region or _("(no region)"), room.test_centre or _("(no test centre)")


def absentees_by_room(sitting: Sitting, rooms: list[Room], now: datetime) -> dict[int, list[Absentee]]:
    """Return the absentees of each room, by seat."""
    zone = ZoneInfo(sitting.exam.time_zone)
    sessions = {s.room_id: s for s in RoomSession.objects.filter(room__in=rooms)}
    enrolments = (
        Enrolment.objects.filter(room__in=rooms).exclude(attempts__is_practice=False)
        .exclude(checkin__status=CheckIn.Status.REFUSED).select_related("candidate", "checkin")
    )
    found: dict[int, list[Absentee]] = {room.pk: [] for room in rooms}
    for enrolment in enrolments:
        enrolment.sitting = sitting
        checkin = getattr(enrolment, "checkin", None)
        if checkin is not None and checkin.status == CheckIn.Status.ABSENT:
            note = checkin.reason
        elif (closed_at := entry_closed(enrolment, sessions.get(enrolment.room_id), now)) is not None:
            note = _("Had not started when entry closed at %(time)s (not yet marked).") % {
                "time": closed_at.astimezone(zone).strftime("%H:%M")}
        else:
            continue
        name = person_name(enrolment.candidate)
        found[enrolment.room_id].append(Absentee(enrolment.seat, name, enrolment.ticket_number, note))
    for listed in found.values():
        listed.sort(key=lambda a: (_natural(a.seat), a.ticket_number))
    return found


def absentee_tally(sitting: Sitting, rooms: list[Room] | None = None, *, now: datetime) -> Tally:
    """Return the nation's tally, its regions, their test centres and their rooms, each with its absentees."""
    rooms = list(sitting.rooms.all()) if rooms is None else rooms
    enrolled = dict(Enrolment.objects.filter(room__in=rooms).values_list("room").annotate(n=Count("pk")).order_by())
    by_room = absentees_by_room(sitting, rooms, now)
    nation = Tally(_("National total"))
    for room in sorted(rooms, key=lambda r: (*place_names(r), _natural(r.name))):
        region_name, centre_name = place_names(room)
        region = nation.part(region_name)
        centre = region.part(centre_name)
        leaf = Tally(room.name, room=room, absentees=by_room[room.pk])
        centre.parts.append(leaf)
        for place in (nation, region, centre, leaf):
            place.add(enrolled.get(room.pk, 0), len(leaf.absentees))
    return nation


def tally_rows(nation: Tally) -> list[tuple[str, str, str, str, int, int]]:
    """Return the totals flat, deepest first within each place: (level, region, centre, room, enrolled, absent)."""
    rows = []
    for region in nation.parts:
        for centre in region.parts:
            rows += [("room", region.name, centre.name, room.name, room.enrolled, room.absent) for room in centre.parts]
            rows.append(("test_centre", region.name, centre.name, "", centre.enrolled, centre.absent))
        rows.append(("region", region.name, "", "", region.enrolled, region.absent))
    rows.append(("national", "", "", "", nation.enrolled, nation.absent))
    return rows
