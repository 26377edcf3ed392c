"""What the proctor must see at once (R-PROC-3): screen share, camera, microphone, page in front.

Two witnesses, so that neither alone decides:
- the candidate's page reports its own state the moment it changes (fast: under a second);
- the media server reports what actually arrives: a track that is missing or has stopped sending
  (the backstop: a page that lies, or a browser that dies, cannot hide a dark camera).
A signal is fine only when both agree; during the attempt a bad signal opens a system incident,
which ends when the signal is fine again.

A republish is not a loss. A new screen share, a reload or a network blip makes the page publish
again: for a second or three the media server has a new connection with nothing arriving yet, and
a reloaded page has not opened its camera yet. Those moments raised "Camera lost" / "Microphone
lost" incidents that ended a second later (20 of 26 in one sitting, none real), which teaches a
proctor to ignore alarms. So the media server's word, and the page's word on camera and
microphone, count only once they have lasted PROCTORING_MEDIA_GRACE_SECONDS; the incident then
starts when the signal went bad, so its length is the real one. The page's "I stopped sharing the
screen" and "I am hidden / unfocused" still open an incident at once: those are the candidate's acts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from exams.models import Attempt, AttemptStatus, Enrolment

from ..models import CheckIn, Incident, IncidentKind
from ._common import push_tile_after_commit
from .incidents import system_incident_close, system_incident_open

PAGE_KEYS = ("camera", "microphone", "screen", "wholeScreen", "visible", "focused")
# The media server's word on a track: "live", "ended" (stopped sending) or "missing".
SERVER_TRACK_STATES = ("live", "ended", "missing")
SERVER_KEY = "server"
# Since when each kind has been bad while its grace runs: {kind: ISO 8601}. Written by this module
# only (clean_signals drops the key from what a page sends).
BAD_SINCE_KEY = "badSince"


class Witnesses(NamedTuple):
    page: Callable[[dict], bool]  # the page's report says the signal is fine
    server_track: str | None  # the media server's track that must be live, if any
    page_waits: bool  # the page's bad word waits for the grace too (camera, microphone)


WITNESSES = {
    IncidentKind.SCREEN_SHARE: Witnesses(
        lambda s: bool(s.get("screen") and s.get("wholeScreen")), "screen", False
    ),
    IncidentKind.CAMERA: Witnesses(lambda s: bool(s.get("camera")), "camera", True),
    IncidentKind.MICROPHONE: Witnesses(lambda s: bool(s.get("microphone")), "audio", True),
    IncidentKind.PAGE_HIDDEN: Witnesses(lambda s: bool(s.get("visible")), None, False),
    IncidentKind.FOCUS_LOST: Witnesses(lambda s: bool(s.get("focused")), None, False),
}


def _server_fine(signals: dict, track: str | None) -> bool:
    # No word from the media server (yet) is no evidence against the page.
    return track is None or signals.get(SERVER_KEY, {}).get(track, "live") == "live"


def media_grace() -> timedelta:
    return timedelta(seconds=settings.PROCTORING_MEDIA_GRACE_SECONDS)


def clean_signals(raw: Any) -> dict[str, bool]:
    """Return the page's report as known keys with booleans; anything else is dropped."""
    if not isinstance(raw, dict):
        return {}
    return {key: bool(raw.get(key)) for key in PAGE_KEYS if key in raw}


def clean_media_state(connection: Any, tracks: Any) -> dict[str, str]:
    """Return the media server's report as {track: state}; a failed connection means nothing arrives."""
    clean = {
        k: v
        for k, v in (tracks or {}).items()
        if k in ("camera", "screen", "audio") and v in SERVER_TRACK_STATES
    }
    if connection in ("failed", "closed"):
        clean = dict.fromkeys(("camera", "screen", "audio"), "missing")
    return clean


def _bad_since(signals: dict, kind: str) -> datetime | None:
    raw = signals.get(BAD_SINCE_KEY, {}).get(kind)
    return parse_datetime(raw) if isinstance(raw, str) else None


def _update(enrolment_id: int, change, now: datetime) -> list[Incident]:
    with transaction.atomic():
        enrolment = Enrolment.objects.get(pk=enrolment_id)
        CheckIn.objects.get_or_create(enrolment=enrolment)
        # Row lock: the page's report and the media server's arrive on different sockets at once;
        # without it one would overwrite the other's half of `signals` (read-modify-write race).
        checkin = CheckIn.objects.select_for_update(no_key=True, of=("self",)).get(enrolment=enrolment)
        signals = change(dict(checkin.signals))
        # Before the start the tile shows the state; only during the attempt is it an incident,
        # and not in its first seconds: the exam page must ask for the screen again (browsers
        # end a share when the page changes), and a room of such gaps would bury real ones.
        started_at = (
            Attempt.objects.filter(
                enrolment_id=enrolment_id, is_practice=False, status=AttemptStatus.IN_PROGRESS
            )
            .values_list("started_at", flat=True)
            .first()
        )
        counts_from = (
            started_at + timedelta(seconds=settings.PROCTORING_SIGNAL_GRACE_SECONDS)
            if started_at
            else None
        )
        running = counts_from is not None and now >= counts_from
        bad_since: dict[str, str] = {}
        opened = []
        for kind, witnesses in WITNESSES.items():
            page_fine, server_fine = (
                witnesses.page(signals),
                _server_fine(signals, witnesses.server_track),
            )
            if page_fine and server_fine:
                system_incident_close(enrolment=enrolment, kind=kind, now=now)
                continue
            if not page_fine and not witnesses.page_waits:
                at = now  # the candidate's own act (stopped sharing, left the page): at once
            else:
                since = _bad_since(signals, kind) or now
                bad_since[kind] = since.isoformat()
                if now - since < media_grace():
                    continue  # perhaps a republish: decided when the grace is over (signals_recheck)
                at = since
            if running and (
                incident := system_incident_open(
                    enrolment=enrolment, kind=kind, now=max(at, counts_from)
                )
            ):
                opened.append(incident)
        signals.pop(BAD_SINCE_KEY, None)
        if bad_since:
            signals[BAD_SINCE_KEY] = bad_since
        checkin.signals = signals
        checkin.save(update_fields=["signals"])
        push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return opened


def signals_report(
    *, enrolment_id: int, state: dict[str, bool], now: datetime | None = None
) -> list[Incident]:
    """Store what the candidate's page reports; during the attempt, open or end incidents. Return those opened."""
    return _update(enrolment_id, lambda signals: {**signals, **state}, now or timezone.now())


def media_state_report(
    *, enrolment_id: int, tracks: dict[str, str], now: datetime | None = None
) -> list[Incident]:
    """Store what the media server says arrives of the candidate's tracks; open or end incidents likewise."""
    return _update(
        enrolment_id,
        lambda signals: {**signals, SERVER_KEY: {**signals.get(SERVER_KEY, {}), **tracks}},
        now or timezone.now(),
    )


def signals_recheck(*, enrolment_id: int, now: datetime | None = None) -> list[Incident]:
    """Decide the signals whose grace is over (called when it ends); return the incidents opened."""
    return _update(enrolment_id, lambda signals: signals, now or timezone.now())


def signals_waiting(*, enrolment_id: int, now: datetime | None = None) -> float | None:
    """Return in how many seconds a bad signal's grace ends (signals_recheck must run then), or None."""
    now = now or timezone.now()
    signals = (
        CheckIn.objects.filter(enrolment_id=enrolment_id).values_list("signals", flat=True).first()
        or {}
    )
    ends = [
        since + media_grace()
        for kind in signals.get(BAD_SINCE_KEY, {})
        if (since := _bad_since(signals, kind))
    ]
    pending = [(end - now).total_seconds() for end in ends if end > now]
    return min(pending) if pending else None
