"""Settings the media service reads, each with its default (config/settings.py need not set any)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def still_seconds() -> float:
    """PROCTORING_STILL_SECONDS: a camera and a screen still of every publisher this often."""
    value = float(getattr(settings, "PROCTORING_STILL_SECONDS", 5))
    if value <= 0:
        raise ImproperlyConfigured("PROCTORING_STILL_SECONDS must be positive")
    return value


def segment_seconds() -> float:
    """PROCTORING_RECORDING_SEGMENT_SECONDS: a recording file is closed (and reported) this often."""
    return float(getattr(settings, "PROCTORING_RECORDING_SEGMENT_SECONDS", 300))


def stall_seconds() -> float:
    """PROCTORING_MEDIA_STALL_SECONDS: a track that sent nothing this long is reported 'ended'."""
    return float(getattr(settings, "PROCTORING_MEDIA_STALL_SECONDS", 10))


def evidence_hook() -> Callable[..., object] | None:
    """PROCTORING_EVIDENCE_HOOK: dotted path of the function told about each still and recording."""
    path = getattr(settings, "PROCTORING_EVIDENCE_HOOK", None)
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"PROCTORING_EVIDENCE_HOOK={path!r}: {exc}") from exc


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def session_dir(session: str) -> Path:
    """Return MEDIA_ROOT/evidence/<session>, the session key made safe for a file name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", session)[:100].lstrip(".") or "_"
    return media_root() / "evidence" / safe
