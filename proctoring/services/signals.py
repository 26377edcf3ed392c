"""What the proctor must see at once (R-PROC-3): screen share, camera, microphone, page in front.

Two witnesses, so that neither alone decides:
- the candidate's page reports its own state the moment it changes (fast: under a second);
- the media server reports what actually arrives: a track that is missing or has stopped sending
  (the backstop: a page that lies, or a browser that dies, cannot hide a dark camera).
A signal is fine only when both agree; during the attempt a bad signal opens a system incident,
which ends when the signal is fine again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exams.models import Attempt, AttemptStatus, Enrolment

from ..models import CheckIn, Incident, IncidentKind
from ._common import push_tile_after_commit
from .incidents import system_incident_close, system_incident_open

PAGE_KEYS = ("camera", "microphone", "screen", "wholeScreen", "visible", "focused")
# The media server's word on a track: "live", "ended" (stopped sending) or "missing".
SERVER_TRACK_STATES = ("live", "ended", "missing")
SERVER_KEY = "server"


def _server_fine(signals: dict, track: str) -> bool:
    # No word from the media server (yet) is no evidence against the page.
    return signals.get(SERVER_KEY, {}).get(track, "live") == "live"


# What each signal kind needs to be fine.
SIGNAL_CHECKS = {
    IncidentKind.SCREEN_SHARE: lambda s: bool(s.get("screen") and s.get("wholeScreen")) and _server_fine(s, "screen"),
    IncidentKind.CAMERA: lambda s: bool(s.get("camera")) and _server_fine(s, "camera"),
    IncidentKind.MICROPHONE: lambda s: bool(s.get("microphone")) and _server_fine(s, "audio"),
    IncidentKind.PAGE_HIDDEN: lambda s: bool(s.get("visible")),
    IncidentKind.FOCUS_LOST: lambda s: bool(s.get("focused")),
}


def clean_signals(raw: Any) -> dict[str, bool]:
    """Return the page's report as known keys with booleans; anything else is dropped."""
    if not isinstance(raw, dict):
        return {}
    return {key: bool(raw.get(key)) for key in PAGE_KEYS if key in raw}


def clean_media_state(connection: Any, tracks: Any) -> dict[str, str]:
    """Return the media server's report as {track: state}; a failed connection means nothing arrives."""
    clean = {k: v for k, v in (tracks or {}).items() if k in ("camera", "screen", "audio") and v in SERVER_TRACK_STATES}
    if connection in ("failed", "closed"):
        clean = dict.fromkeys(("camera", "screen", "audio"), "missing")
    return clean


def _update(enrolment_id: int, change, now: datetime) -> list[Incident]:
    with transaction.atomic():
        enrolment = Enrolment.objects.get(pk=enrolment_id)
        CheckIn.objects.get_or_create(enrolment=enrolment)
        checkin = CheckIn.objects.select_for_update().get(enrolment=enrolment)
        checkin.signals = change(dict(checkin.signals))
        checkin.save(update_fields=["signals"])
        # Before the start the tile shows the state; only during the attempt is it an incident,
        # and not in its first seconds: the exam page must ask for the screen again (browsers
        # end a share when the page changes), and a room of such gaps would bury real ones.
        started_at = (
            Attempt.objects.filter(enrolment_id=enrolment_id, is_practice=False, status=AttemptStatus.IN_PROGRESS)
            .values_list("started_at", flat=True).first()
        )
        running = started_at is not None and now - started_at >= timedelta(seconds=settings.PROCTORING_SIGNAL_GRACE_SECONDS)
        opened = []
        for kind, is_fine in SIGNAL_CHECKS.items():
            if is_fine(checkin.signals):
                system_incident_close(enrolment=enrolment, kind=kind, now=now)
            elif running and (incident := system_incident_open(enrolment=enrolment, kind=kind, now=now)) is not None:
                opened.append(incident)
        push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return opened


def signals_report(*, enrolment_id: int, state: dict[str, bool], now: datetime | None = None) -> list[Incident]:
    """Store what the candidate's page reports; during the attempt, open or end incidents. Return those opened."""
    return _update(enrolment_id, lambda signals: {**signals, **state}, now or timezone.now())


def media_state_report(*, enrolment_id: int, tracks: dict[str, str], now: datetime | None = None) -> list[Incident]:
    """Store what the media server says arrives of the candidate's tracks; open or end incidents likewise."""
    return _update(enrolment_id, lambda signals: {**signals, SERVER_KEY: {**signals.get(SERVER_KEY, {}), **tracks}},
                   now or timezone.now())
