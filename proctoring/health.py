"""The media servers in /healthz: alive if one reported within the last few seconds."""

from __future__ import annotations

import time

from django.conf import settings

from .media.heartbeat import EXPIRES_AFTER_BEATS, INTERVAL_SECONDS, reports

STALE_SECONDS = INTERVAL_SECONDS * EXPIRES_AFTER_BEATS


def media_servers() -> str:
    """ "ok (…)" naming how many servers and what they carry; raises when none is alive."""
    alive = [report for report in reports() if time.time() - report["at"] < STALE_SECONDS]
    if not alive:
        if not settings.REDIS_URL:
            return "in-process (embedded mode; starts with the first proctored page)"
        raise RuntimeError(
            f"no media server reported in the last {STALE_SECONDS:.0f} s (manage.py media_server)"
        )
    publishers = sum(report.get("publishers", 0) for report in alive)
    viewers = sum(report.get("viewers", 0) for report in alive)
    return f"ok ({len(alive)} server(s), {publishers} publishing, {viewers} viewing)"
