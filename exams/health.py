"""/healthz: the state of the database, Redis and the workers, for a monitor or a person."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not used (embedded mode)"
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
    return "ok"


def _workers() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process (embedded mode)"
    from config.celery import app

    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return f"ok ({len(replies)} worker{'s' if len(replies) != 1 else ''})"


def healthz(request):
    checks, healthy = {}, True
    for name, probe in (("database", _database), ("redis", _redis), ("workers", _workers)):
        try:
            checks[name] = probe()
        except Exception as exc:  # a health page reports every failure, whatever its kind
            checks[name] = f"error: {exc}"
            healthy = False
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
