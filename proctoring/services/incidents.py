"""Incidents: opened by the system (R-PROC-3: see signals.py; a second device; a lost connection) or
recorded by a proctor (R-PROC-4). A system incident is open until its cause is fixed; the proctor
sees both moments at once, through the room's group.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Attempt, AttemptStatus, Enrolment

from ..errors import ProctoringError
from ..models import CheckIn, Incident, IncidentKind, RoomEvent, Still
from ._common import (
    log_room_event,
    push_tile_after_commit,
    push_to_candidate_after_commit,
    push_to_room_after_commit,
)

# A still older than this is not evidence of the moment a proctor records.
STILL_FRESH_FOR = timedelta(seconds=15)


def _push_incident(incident: Incident) -> None:
    from ..selectors import incident_payload

    push_to_room_after_commit(incident.enrolment.room_id, {"type": "room.incident", "incident": incident_payload(incident)})


def _running_attempt_id(enrolment_id: int) -> int | None:
    return (
        Attempt.objects.filter(enrolment_id=enrolment_id, is_practice=False, status=AttemptStatus.IN_PROGRESS)
        .values_list("pk", flat=True).first()
    )


def system_incident_open(*, enrolment: Enrolment, kind: str, now: datetime, note: str = "") -> Incident | None:
    """Open a system incident of `kind` unless one is open already; return the new one or None."""
    if Incident.objects.filter(enrolment=enrolment, kind=kind, by_system=True, ended_at__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            incident = Incident.objects.create(enrolment=enrolment, attempt_id=_running_attempt_id(enrolment.pk), kind=kind,
                                               by_system=True, at=now, note=note)
    except IntegrityError:
        return None  # another process opened it a moment ago (the partial unique constraint)
    _push_incident(incident)
    return incident


def system_incident_close(*, enrolment: Enrolment, kind: str | None, now: datetime) -> list[Incident]:
    """End the open system incidents of `kind` (of every kind with None); return them."""
    open_incidents = Incident.objects.select_related("enrolment").filter(enrolment=enrolment, by_system=True, ended_at__isnull=True)
    closed = list(open_incidents.filter(kind=kind) if kind is not None else open_incidents)
    for incident in closed:
        incident.ended_at = now
        incident.save(update_fields=["ended_at"])
        _push_incident(incident)
    return closed


def _newest_still(enrolment: Enrolment, track: str, now: datetime) -> Still | None:
    return Still.objects.filter(enrolment=enrolment, track=track, taken_at__gte=now - STILL_FRESH_FOR).order_by("-taken_at").first()


def incident_record(*, enrolment_id: int, by: AbstractBaseUser, kind: str, note: str = "", still_ids: list[int] | None = None,
                    now: datetime | None = None) -> Incident:
    """Record what the proctor saw, with the stills of that moment as evidence (R-PROC-4)."""
    now = now or timezone.now()
    if kind not in IncidentKind.proctor_kinds():
        raise ProctoringError(_("Choose the kind of incident."))
    note = note.strip()
    if kind == IncidentKind.OTHER and not note:
        raise ProctoringError(_("Describe what happened."))
    with transaction.atomic():
        enrolment = Enrolment.objects.filter(pk=enrolment_id, room__proctors=by).first()
        if enrolment is None:
            raise ProctoringError(_("No such candidate in your rooms."), code="not_found")
        stills = {s.track: s for s in Still.objects.filter(pk__in=still_ids or [], enrolment=enrolment)}
        camera = stills.get(Still.Track.CAMERA) or _newest_still(enrolment, Still.Track.CAMERA, now)
        screen = stills.get(Still.Track.SCREEN) or _newest_still(enrolment, Still.Track.SCREEN, now)
        incident = Incident.objects.create(enrolment=enrolment, attempt_id=_running_attempt_id(enrolment.pk), kind=kind,
                                           by_system=False, at=now, raised_by=by, note=note[:1000], still=camera, screen_still=screen)
        log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.INCIDENT, at=now, actor=by, enrolment=enrolment,
                       reason=note, incident=incident.pk, incident_kind=kind)
        _push_incident(incident)
        # The candidate is told at once what was recorded (and can answer in the chat).
        push_to_candidate_after_commit(enrolment.pk, {
            "type": "candidate.warning", "label": str(incident.get_kind_display()), "note": incident.note,
            "atLabel": enrolment.sitting.exam.clock(now),
        })
        return incident


def candidate_online(*, enrolment_id: int, channel: str, now: datetime | None = None) -> None:
    """A proctoring socket of the candidate opened: it becomes the current one; a connection incident ends."""
    now = now or timezone.now()
    with transaction.atomic():
        enrolment = Enrolment.objects.get(pk=enrolment_id)
        CheckIn.objects.get_or_create(enrolment=enrolment)
        CheckIn.objects.filter(enrolment=enrolment).update(socket_channel=channel, offline_since=None)
        system_incident_close(enrolment=enrolment, kind=IncidentKind.CONNECTION, now=now)
        push_tile_after_commit(enrolment.room_id, enrolment.pk)


def candidate_offline(*, enrolment_id: int, channel: str, now: datetime | None = None) -> datetime | None:
    """The socket `channel` closed. If it was the current one, return since when the candidate is offline."""
    now = now or timezone.now()
    with transaction.atomic():
        # Conditional: a newer socket (a reload) may have taken over already; then nothing changes.
        went = CheckIn.objects.filter(enrolment_id=enrolment_id, socket_channel=channel).update(socket_channel="", offline_since=now)
        if went:
            room_id = Enrolment.objects.filter(pk=enrolment_id).values_list("room_id", flat=True).get()
            push_tile_after_commit(room_id, enrolment_id)
        return now if went else None


def connection_lost_check(*, enrolment_id: int, offline_since: datetime, now: datetime | None = None) -> Incident | None:
    """Open a connection incident if the candidate, mid-attempt, is still offline since `offline_since`."""
    now = now or timezone.now()
    with transaction.atomic():
        still_offline = CheckIn.objects.filter(enrolment_id=enrolment_id, socket_channel="", offline_since=offline_since).exists()
        if not still_offline or _running_attempt_id(enrolment_id) is None:
            return None
        enrolment = Enrolment.objects.get(pk=enrolment_id)
        return system_incident_open(enrolment=enrolment, kind=IncidentKind.CONNECTION, now=offline_since)
