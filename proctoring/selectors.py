"""Reads of the live room, shared by the room page, its socket and the services' pushes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import time_format

from exams.models import Attempt, AttemptEvent, Enrolment, Room
from languages.names import person_name

from .models import CheckIn, Incident, Message, RoomSession, SystemCheck


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def attempt_summary(attempt: Attempt | None) -> dict[str, Any] | None:
    if attempt is None:
        return None
    return {
        "id": attempt.pk, "status": attempt.status, "deadline": _ms(attempt.deadline),
        "deadlineLabel": attempt.exam.clock(attempt.deadline),
        "pausedAt": _ms(attempt.paused_at), "pauseReason": attempt.pause_reason,
        "locked": attempt.is_locked, "lockReason": attempt.lock_reason, "endReason": attempt.end_reason,
    }


def check_summary(check: SystemCheck | None) -> dict[str, Any] | None:
    """The candidate's newest system check, as the proctor sees it (R-TAKE-1: recorded for the proctor)."""
    if check is None:
        return None
    return {"passed": check.passed, "problems": check.problems, "uploadMbps": check.upload_mbps,
            "atLabel": time_format(timezone.localtime(check.at), "H:i")}


def _newest_checks(candidate_ids: list[int]) -> dict[int, SystemCheck]:
    newest: dict[int, SystemCheck] = {}
    for check in SystemCheck.objects.filter(candidate_id__in=candidate_ids).order_by("candidate_id", "-at"):
        newest.setdefault(check.candidate_id, check)
    return newest


def _credited_seconds(attempt_ids: list[int]) -> dict[int, int]:
    """Return the seconds of system pauses (server outages) credited to each attempt."""
    credited: dict[int, int] = {}
    events = AttemptEvent.objects.filter(attempt_id__in=attempt_ids, kind=AttemptEvent.Kind.SYSTEM_PAUSED)
    for attempt_id, detail in events.values_list("attempt_id", "detail"):
        credited[attempt_id] = credited.get(attempt_id, 0) + int(detail.get("seconds", 0))
    return credited


def _tile(enrolment: Enrolment, checkin: CheckIn | None, attempt: Attempt | None, open_kinds: list[str], unread: int,
          check: SystemCheck | None = None, credited: int = 0) -> dict[str, Any]:
    user = enrolment.candidate
    return {
        "check": check_summary(check),
        "enrolment": enrolment.pk,
        "name": person_name(user),
        "seat": enrolment.seat, "ticket": enrolment.ticket_number,
        "checkin": checkin.status if checkin else "not_arrived",
        "checkinReason": checkin.reason if checkin else "",
        "online": bool(checkin and checkin.is_online),
        "signals": checkin.signals if checkin else {},
        "attempt": attempt_summary(attempt),
        "openIncidents": sorted(open_kinds),
        "unread": unread,
        # Time the server's outages gave back to this attempt (R-TAKE-7): the proctor sees why the end moved.
        "systemPausedSeconds": credited,
    }


def room_tiles(room: Room) -> list[dict[str, Any]]:
    """Return one tile per candidate of the room, in seat order, in a fixed number of queries."""
    enrolments = list(Enrolment.objects.filter(room=room).select_related("candidate").order_by("seat", "pk"))
    ids = [e.pk for e in enrolments]
    checkins = {c.enrolment_id: c for c in CheckIn.objects.filter(enrolment_id__in=ids)}
    attempts = {a.enrolment_id: a for a in Attempt.objects.filter(enrolment_id__in=ids, is_practice=False).select_related("exam")}
    open_kinds: dict[int, list[str]] = {}
    for enrolment_id, kind in Incident.objects.filter(enrolment_id__in=ids, by_system=True, ended_at__isnull=True).values_list("enrolment_id", "kind"):
        open_kinds.setdefault(enrolment_id, []).append(kind)
    unread = dict(
        Message.objects.filter(enrolment_id__in=ids, from_proctor=False, read_at__isnull=True)
        .values_list("enrolment_id").annotate(n=Count("pk")).values_list("enrolment_id", "n")
    )
    checks = _newest_checks([e.candidate_id for e in enrolments])
    credited = _credited_seconds([a.pk for a in attempts.values()])
    return [_tile(e, checkins.get(e.pk), attempts.get(e.pk), open_kinds.get(e.pk, []), unread.get(e.pk, 0), checks.get(e.candidate_id),
                  credited.get(attempts[e.pk].pk, 0) if e.pk in attempts else 0)
            for e in enrolments]


def candidate_tile(enrolment_id: int) -> dict[str, Any]:
    enrolment = Enrolment.objects.select_related("candidate").get(pk=enrolment_id)
    checkin = CheckIn.objects.filter(enrolment=enrolment).first()
    attempt = Attempt.objects.filter(enrolment=enrolment, is_practice=False).select_related("exam").first()
    open_kinds = list(Incident.objects.filter(enrolment=enrolment, by_system=True, ended_at__isnull=True).values_list("kind", flat=True))
    unread = Message.objects.filter(enrolment=enrolment, from_proctor=False, read_at__isnull=True).count()
    check = SystemCheck.objects.filter(candidate_id=enrolment.candidate_id).order_by("-at").first()
    credited = _credited_seconds([attempt.pk]).get(attempt.pk, 0) if attempt else 0
    return _tile(enrolment, checkin, attempt, open_kinds, unread, check, credited)


def incident_payload(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk, "enrolment": incident.enrolment_id, "kind": incident.kind,
        "label": str(incident.get_kind_display()), "bySystem": incident.by_system,
        "at": _ms(incident.at), "atLabel": incident.enrolment.sitting.exam.clock(incident.at, seconds=True),
        "endedAt": _ms(incident.ended_at), "note": incident.note,
        # How long a system incident lasted ("" while open: the room counts it on from `at`).
        "lasted": str(incident.duration_label()),
        "by": incident.raised_by.get_username() if incident.raised_by_id else "",
        "still": incident.still_id, "screenStill": incident.screen_still_id,
    }


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk, "enrolment": message.enrolment_id, "fromProctor": message.from_proctor,
        "text": message.text, "at": _ms(message.at), "atLabel": message.enrolment.sitting.exam.clock(message.at),
        "read": message.read_at is not None,
    }


def room_session_payload(session: RoomSession) -> dict[str, Any]:
    return {"stage": session.stage, "label": str(session.get_stage_display()), "startCode": session.start_code,
            "startedAt": _ms(session.started_at)}


def room_incidents(room: Room, limit: int = 200) -> list[dict[str, Any]]:
    incidents = Incident.objects.filter(enrolment__room=room).select_related("raised_by", "enrolment__sitting__exam")[:limit]
    return [incident_payload(i) for i in incidents]


def room_messages(room: Room, limit: int = 500) -> list[dict[str, Any]]:
    messages = Message.objects.filter(enrolment__room=room).select_related("enrolment__sitting__exam").order_by("-at", "-id")[:limit]
    return [message_payload(m) for m in reversed(list(messages))]


def candidate_messages(enrolment_id: int) -> list[dict[str, Any]]:
    return [message_payload(m) for m in Message.objects.filter(enrolment_id=enrolment_id).select_related("enrolment__sitting__exam")]


def open_incident_kinds(enrolment_id: int) -> set[str]:
    return set(Incident.objects.filter(Q(enrolment_id=enrolment_id), by_system=True, ended_at__isnull=True).values_list("kind", flat=True))
