"""/healthz: the state of the database, Redis, the workers and the parts registered with
register_probe (the media servers), for a monitor or a person; and the
page a person gets when a request fails, saying so plainly when a service is down.

/healthz answers within PROBE_DEADLINE_SECONDS whatever is down (issue 10, point 23): the probes
run side by side, each with short socket timeouts, and one that has not answered by then is
reported as not answering. The Celery ping is skipped when its broker (Redis) does not answer:
kombu's connection retries took ~6 s. (With Redis up and no worker, the ping's own 1 s remains.)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from redis.backoff import NoBackoff
from redis.retry import Retry

from .failures import failure_answer, service_down, wants_json

logger = logging.getLogger(__name__)

PROBE_DEADLINE_SECONDS = 0.8
REDIS_PROBE_TIMEOUT_SECONDS = 0.5
WORKER_PING_SECONDS = 1.0

# Parts of the site above this app that /healthz covers too (the media servers: proctoring.apps):
# probed beside the database and Redis, within the same deadline. They are other processes: one that
# is down makes the site "degraded" (and is named in X-Down) but this process still serves its
# pages, so the answer stays 200 and a load balancer keeps sending pages here.
_more_probes: dict[str, Callable[[], str]] = {}


def register_probe(name: str, probe: Callable[[], str]) -> None:
    """Add a part to /healthz: `probe()` returns a state ("ok …") or raises with what is wrong."""
    _more_probes[name] = probe


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # this thread's own connection (back to the pool on PostgreSQL)
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not used (embedded mode)"
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=REDIS_PROBE_TIMEOUT_SECONDS,
        socket_timeout=REDIS_PROBE_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _workers() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process (embedded mode)"
    from config.celery import app

    # The first reply is enough to know the workers are there: without `limit` a ping waits its
    # whole timeout for more, and /healthz then took a second whenever all was well. The timeout
    # itself stays generous: shorter made a loaded but healthy worker look dead.
    replies = app.control.ping(timeout=WORKER_PING_SECONDS, limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return "ok (a worker answered)"


def _run(probe: Callable[[], str]) -> str:
    try:
        return probe()
    except Exception as exc:  # a health page reports every failure, whatever its kind
        return f"error: {exc}"


def healthz(request: HttpRequest) -> JsonResponse:
    began = time.monotonic()
    # The database and Redis side by side, within a deadline. Not a `with` block: its exit would
    # wait for a probe stuck on a dead host.
    probes = {"database": _database, "redis": _redis, **_more_probes}
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="healthz")
    futures = {name: pool.submit(_run, probe) for name, probe in probes.items()}
    wait(futures.values(), timeout=PROBE_DEADLINE_SECONDS)
    pool.shutdown(wait=False, cancel_futures=True)
    checks = {
        name: future.result()
        if future.done()
        else f"error: no answer within {PROBE_DEADLINE_SECONDS} s"
        for name, future in futures.items()
    }
    if checks["redis"].startswith("error"):
        # Celery's ping over a dead broker retried its connection for ~6 s.
        checks["workers"] = "error: not asked, their broker (redis) does not answer"
    else:
        checks["workers"] = _run(_workers)
    down = [name for name, state in checks.items() if state.startswith("error")]
    serving = not any(name not in _more_probes for name in down)
    response = JsonResponse(
        {"status": "degraded" if down else "ok", **checks}, status=200 if serving else 503
    )
    response["X-Down"] = ",".join(down)
    response["X-Probe-Seconds"] = f"{time.monotonic() - began:.3f}"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 with "temporarily unavailable" when a service is down, else the 500 page.

    Rendered without the request: the session (in Redis) may be exactly what failed. The exam
    page's fallback URLs, and any request that prefers JSON, get the JSON answer instead: the page
    read Django's HTML 500 as "signed out" and stopped (issue 11, point 1).
    """
    failure = sys.exc_info()[1]
    try:
        as_json = wants_json(request)
    except Exception:  # the answer about a failure must not fail in turn: the page, then
        logger.exception("telling whether %s wants JSON failed", request.path)
        as_json = False
    if as_json:
        return failure_answer(failure)
    down = service_down(failure)
    template, status = ("503.html", 503) if down else ("500.html", 500)
    try:
        body = loader.get_template(template).render(
            {"LANGUAGE_CODE": get_language() or settings.LANGUAGE_CODE}
        )
    except Exception:  # the page about a failure must not fail in turn
        logger.exception("rendering %s failed", template)
        body = _("The service is temporarily unavailable. Please try again in a minute.")
    response = HttpResponse(body, status=status)
    if down:
        response["Retry-After"] = "30"
    return response
