"""Reads shared by the oversight pages: the sitting's rooms live, and each report's state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.utils.translation import gettext as _

from exams.models import (
    Attempt,
    AttemptStatus,
    Council,
    CouncilMember,
    OversightReport,
    ReportSignature,
    Room,
    Sitting,
)
from languages.collation import sorted_by_name
from proctoring.models import CheckIn, Incident, RoomSession

from .ending import sitting_ended_at
from .services import signatures_needed, standing_signatures


def stage_label(sitting: Sitting, stage: str | None) -> str:
    """Return the room's control step as shown: none in an unproctored sitting, "—" before the first."""
    if not sitting.proctored:
        return _("not proctored")
    return RoomSession.Stage(stage).label if stage else "—"


def sitting_live(sitting: Sitting) -> list[dict]:
    """Return, per room, its step and counts: enrolled, waiting, admitted, writing, finished, absent, incidents."""
    rooms = list(Room.objects.filter(sitting=sitting).annotate(enrolled=Count("enrolments")).order_by("region", "test_centre", "name"))
    stages = dict(RoomSession.objects.filter(room__sitting=sitting).values_list("room_id", "stage"))
    checkins = Counter(CheckIn.objects.filter(enrolment__sitting=sitting).values_list("enrolment__room_id", "status"))
    attempts = Counter(Attempt.objects.filter(enrolment__sitting=sitting, is_practice=False).values_list("enrolment__room_id", "status"))
    per_room = Incident.objects.filter(enrolment__sitting=sitting).values_list("enrolment__room_id").order_by()
    incidents = dict(per_room.annotate(n=Count("pk")))
    # Open: a system incident whose signal is still bad (a proctor's incident has no end).
    open_incidents = dict(per_room.filter(by_system=True, ended_at__isnull=True).annotate(n=Count("pk")))
    finished = [AttemptStatus.SUBMITTED, AttemptStatus.SCORED, AttemptStatus.DISQUALIFIED]
    return [{
        "room": room, "stage": stage_label(sitting, stages.get(room.pk)),
        "enrolled": room.enrolled, "waiting": checkins[(room.pk, CheckIn.Status.WAITING)],
        "admitted": checkins[(room.pk, CheckIn.Status.ADMITTED)], "refused": checkins[(room.pk, CheckIn.Status.REFUSED)],
        "absent": checkins[(room.pk, CheckIn.Status.ABSENT)], "writing": attempts[(room.pk, AttemptStatus.IN_PROGRESS)],
        "finished": sum(attempts[(room.pk, status)] for status in finished),
        "incidents": incidents.get(room.pk, 0), "open_incidents": open_incidents.get(room.pk, 0),
    } for room in rooms]


@dataclass
class ReportCard:
    council: str
    label: str
    members: list[CouncilMember]
    report: OversightReport | None
    may_edit: bool
    timeliness: str = ""
    signatures: list[ReportSignature] | None = None
    standing: int = 0
    needed: int = 0
    signed_by_viewer: bool = False
    draft_text: str | None = None  # the viewer's own text, shown again when their save was refused


def report_cards(sitting: Sitting, user: AbstractBaseUser, now: datetime) -> tuple[list[ReportCard], datetime | None]:
    """Return each council's card (members, report, signatures, what `user` may do) and the sitting's end, if over."""
    reports = {r.council: r for r in OversightReport.objects.filter(sitting=sitting).select_related("filed_by", "edited_by")}
    members = sorted_by_name(CouncilMember.objects.filter(sitting=sitting).select_related("user"), person=lambda m: m.user)
    cards = []
    for council in Council:
        seated = [m for m in members if m.council == council]
        report = reports.get(council.value)
        card = ReportCard(council.value, str(council.label), seated, report,
                          may_edit=report is not None and not report.is_filed and any(m.user_id == user.pk for m in seated))
        if report is not None:
            standing = standing_signatures(report)
            card.timeliness = report.timeliness(now)
            card.signatures = list(report.signatures.select_related("signer"))
            card.standing, card.needed = len(standing), signatures_needed(report)
            card.signed_by_viewer = any(s.signer_id == user.pk for s in standing)
        cards.append(card)
    ended_at = next(iter(reports.values())).sitting_ended_at if reports else sitting_ended_at(sitting, now)
    return cards, ended_at
