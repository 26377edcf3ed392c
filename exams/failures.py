"""How a failed request is answered: which failures mean that a service is down, and the JSON
answers of the exam page's HTTP fallback (the contract in exams/fallback.py).

Below both exams.health (handler500) and exams.fallback (the views' wrapper), so that the two
tell "service down" alike and answer the page in one shape.
"""

from __future__ import annotations

import random

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

# What a request dies of when a service it needs is down, rather than of a bug. A pool timeout
# (psycopg_pool.PoolTimeout) reaches here as Django's OperationalError wrapping it.
SERVICE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)

# The URLs whose every answer is JSON, whatever happens (the exam page reads nothing else there).
FALLBACK_URL_NAMES = frozenset({"exams:attempt_save", "exams:attempt_state"})

# Seconds a page is told to wait before its next HTTP save when a service is down. Drawn at
# random: 500 pages told the same number at the same moment would come back at the same moment.
RETRY_AFTER_SECONDS = (3, 8)


def service_down(exc: BaseException | None) -> bool:
    """Return whether `exc`, or an error it was raised from, means a service is down."""
    seen = 0
    while exc is not None and seen < 10:  # Django and redis-py wrap the driver's error
        if isinstance(exc, SERVICE_DOWN_ERRORS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def is_fallback_url(request: HttpRequest) -> bool:
    """Return whether the request is for one of the URLs that answer only JSON."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
    return match.view_name in FALLBACK_URL_NAMES


def wants_json(request: HttpRequest) -> bool:
    """Return whether a failure of this request is to be answered as JSON rather than a page."""
    if is_fallback_url(request):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def json_error(status: int, message: str, **fields: object) -> JsonResponse:
    """Return the JSON answer {"error": message, **fields} with `status`, never cached."""
    response = JsonResponse({"error": message, **fields}, status=status)
    add_never_cache_headers(response)
    return response


def unavailable() -> JsonResponse:
    """Return 503 with Retry-After: the database, Redis or the connection pool is not there now."""
    seconds = random.randint(*RETRY_AFTER_SECONDS)
    response = json_error(
        503,
        _("The service is temporarily unavailable; your answers are kept and sent again."),
        code="unavailable",
        retryAfter=seconds,
    )
    response["Retry-After"] = str(seconds)
    return response


def failure_answer(exc: BaseException | None) -> JsonResponse:
    """Return the JSON answer for a request that died of `exc`: 503 if a service is down, else 500."""
    if service_down(exc):
        return unavailable()
    return json_error(
        500, _("The server failed to answer; your answers are kept and sent again."), code="error"
    )
