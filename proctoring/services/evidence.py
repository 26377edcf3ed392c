"""Stills and recordings: recorded as the media process writes them, opened with a log, deleted after retention (R-PROC-6)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from exams.models import Enrolment, Exam

from ..models import EvidenceAccess, Recording, RoomEvent, Still
from ._common import log_room_event

log = logging.getLogger(__name__)
DELETE_CHUNK = 500


def _session_enrolment(session: str) -> Enrolment | None:
    return Enrolment.objects.filter(pk=int(session)).first() if str(session).isdigit() else None


def evidence_hook(*, kind: str, session: str, track: str, path: str, at: datetime, size: int,
                  meta: dict[str, Any] | None = None, taken_by_request: bool = False) -> Still | Recording | None:
    """Record a file the media process has written (settings.PROCTORING_EVIDENCE_HOOK points here)."""
    meta = meta or {}
    enrolment = _session_enrolment(session)
    if enrolment is None:
        log.warning("evidence for unknown session %r: %s", session, path)
        return None
    if kind == "recording":
        recording, _created = Recording.objects.update_or_create(
            path=path, defaults={"enrolment": enrolment, "track": track[:10], "started_at": at, "size": size}
        )
        return recording
    if track not in Still.Track.values:
        return None
    purpose = meta.get("purpose") if meta.get("purpose") in Still.Purpose.values else (
        Still.Purpose.PROCTOR if taken_by_request else Still.Purpose.PERIODIC
    )
    taken_by = get_user_model().objects.filter(pk=meta.get("by")).first() if meta.get("by") else None
    with transaction.atomic():
        still, _created = Still.objects.get_or_create(
            path=path, defaults={"enrolment": enrolment, "track": track, "purpose": purpose, "taken_at": at, "size": size, "taken_by": taken_by}
        )
        if taken_by is not None and _created:
            log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.STILL, at=at, actor=taken_by, enrolment=enrolment,
                           still=still.pk, track=track, purpose=purpose)
    return still


def evidence_open(*, user: AbstractBaseUser, item: Still | Recording, address: str | None, now: datetime | None = None) -> Path:
    """Return the file's path, after logging who opened it (R-PROC-6). Access is checked by the caller."""
    now = now or timezone.now()
    EvidenceAccess.objects.create(
        user=user, still=item if isinstance(item, Still) else None, recording=item if isinstance(item, Recording) else None,
        path=item.path, at=now, address=address or None,
    )
    return Path(settings.MEDIA_ROOT) / item.path


def _delete_files(model, cutoff_field: str, exam: Exam, cutoff: datetime) -> int:
    deleted = 0
    expired = model.objects.filter(**{"enrolment__sitting__exam": exam, f"{cutoff_field}__lt": cutoff})
    while chunk := list(expired.values_list("pk", "path")[:DELETE_CHUNK]):
        for _pk, path in chunk:
            # The row goes even if the file is already gone; a file we cannot delete stops the run
            # loudly (and the row stays), so nothing is reported deleted that is not.
            (Path(settings.MEDIA_ROOT) / path).unlink(missing_ok=True)
        deleted += model.objects.filter(pk__in=[pk for pk, _path in chunk]).delete()[0]
    return deleted


def evidence_delete_expired(*, now: datetime | None = None) -> dict[str, int]:
    """Delete stills and recordings older than their exam's retention period; return the counts."""
    now = now or timezone.now()
    counts = {"stills": 0, "recordings": 0}
    for exam in Exam.objects.all():
        cutoff = now - timedelta(days=exam.evidence_retention_days)
        counts["stills"] += _delete_files(Still, "taken_at", exam, cutoff)
        counts["recordings"] += _delete_files(Recording, "started_at", exam, cutoff)
    return counts
