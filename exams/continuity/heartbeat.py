"""The site's heartbeat, written by every process that serves candidates (started in config/asgi.py).

A plain daemon thread, not an asyncio task: Daphne gives the application no startup hook (no ASGI
lifespan), and a beat stuck on a dead database must not hold the event loop that serves the pages.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection

from .services import mark_serving_process, site_beat

log = logging.getLogger(__name__)

_started = threading.Event()


def _beat_once() -> None:
    try:
        outage = site_beat()
    except Exception:  # noqa: BLE001 - the database being down is exactly what this outlives
        log.warning("site heartbeat not written (database unreachable?)", exc_info=True)
        # A broken connection is not reused for the next beat.
        connection.close()
        return
    if outage is not None:
        log.warning(
            "server outage %s–%s (%s s): %s attempts credited, %s ended for rescheduling",
            outage.started_at,
            outage.ended_at,
            outage.seconds,
            outage.credited,
            outage.interrupted,
        )


def _run() -> None:
    while True:
        close_old_connections()
        _beat_once()
        time.sleep(settings.SITE_HEARTBEAT_SECONDS)


def start_heartbeat() -> None:
    """Start beating in this process (once). The first beat is written before this returns, so an
    outage is credited before the server answers its first page (and its first "time is up")."""
    # The test process imports the ASGI app for in-memory socket tests and serves nobody; the
    # Daphne servers the tests start are separate processes and beat for real.
    if "pytest" in sys.modules or _started.is_set():
        return
    _started.set()
    mark_serving_process()
    _beat_once()
    connection.close()  # the first beat ran on the importing thread; the beats go on on their own
    threading.Thread(target=_run, name="site-heartbeat", daemon=True).start()
