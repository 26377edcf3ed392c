"""The exam page's HTTP fallback (attempt_save, attempt_state): every answer is JSON.

The page follows one rule (issue 11, point 1): it is signed out only by a 401 whose JSON says
`signedOut`; any other answer is retried with back-off. Django's own answers (the login redirect,
the HTML 403, 404, 405 and 500 pages) were read as "signed out" and stopped the page, so these
views never let one through:

- 200 {"results": [ack, ...]}
- 400 {"error", "code": "malformed"}; 413 {"error", "code": "too_many"}
- 401 {"error", "signedOut": true} only when the request has no signed-in session
- 403 {"error", "code": "csrf"} (csrf_failure, settings.CSRF_FAILURE_VIEW)
- 404 {"error", "code": "not_found"}; 405 {"error", "code": "method"}
- 503 {"error", "code": "unavailable", "retryAfter"} + Retry-After when a service is down
- 500 {"error", "code": "error"} for anything else (also from handler500, exams.health)
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure

from .failures import failure_answer, is_fallback_url, json_error, service_down, unavailable
from .services import MAX_CHANGES_PER_MESSAGE

log = logging.getLogger(__name__)

# The largest save body read. The page keeps one change per item and sends at most
# MAX_CHANGES_PER_MESSAGE of them, so a body is bounded by the answers of one form: 1 MiB holds 17
# free-text answers at their 20,000-character limit in three-byte UTF-8 (Mongolian, Chinese). A
# body over it is refused before it is parsed.
MAX_BODY_BYTES = 1024 * 1024

FallbackView = Callable[..., Awaitable[HttpResponse]]

# The process's fallback requests under way; changed only in the event loop's thread (the
# wrapper below is async), so a plain integer is enough.
_in_flight = 0


class Refusal(Exception):
    """A request refused with a JSON answer: raised by the view's helpers, answered by json_endpoint."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code

    def response(self) -> JsonResponse:
        return json_error(self.status, self.message, code=self.code)


def signed_out() -> JsonResponse:
    return json_error(401, _("You are signed out. Sign in again to continue."), signedOut=True)


def not_found() -> JsonResponse:
    return json_error(404, _("No such attempt."), code="not_found")


def method_not_allowed(methods: Sequence[str]) -> JsonResponse:
    response = json_error(405, _("This address does not take that kind of request."), code="method")
    response["Allow"] = ", ".join(methods)
    return response


def _signed_in_user(request: HttpRequest) -> AbstractBaseUser | None:
    # Loads the session (Redis, then the database) and the user: a service that is down raises
    # here and is answered 503, never taken for "signed out".
    user = request.user
    return user if user.is_authenticated else None


def json_endpoint(*, methods: Sequence[str]) -> Callable[[FallbackView], FallbackView]:
    """Wrap an async view of the fallback: the method and the sign-in are checked first (405, 401
    JSON; never the login redirect), the view gets the signed-in user, and whatever it raises is
    answered as JSON: Refusal as itself, Http404 as 404, a service down as 503, anything else 500.

    The user is loaded through database_sync_to_async, like every ORM call of these views: it
    closes the thread's connection around the call, so the pool gets it back however the request
    ends afterwards (issue 11, point 2).
    """

    def decorate(view: FallbackView) -> FallbackView:
        @functools.wraps(view)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            global _in_flight
            if request.method not in methods:
                return method_not_allowed(methods)
            if _in_flight >= settings.FALLBACK_MAX_IN_FLIGHT:
                # After a server restart 500 pages posted their outboxes while their sockets
                # reconnected; each request took a pool connection for its session and user, and
                # the sockets' connects queued behind them for the pool (the last page back 6-12
                # s after the server answered). Turned away here, before the session, the page
                # keeps its answers, dials its socket at once (any JSON answer) and posts again
                # after Retry-After.
                return unavailable()
            _in_flight += 1
            try:
                return await answer(request, *args, **kwargs)
            finally:
                _in_flight -= 1

        async def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                user = await database_sync_to_async(_signed_in_user)(request)
                if user is None:
                    return signed_out()
                response = await view(request, user, *args, **kwargs)
            except Refusal as refusal:
                return refusal.response()
            except Http404:
                return not_found()
            except Exception as exc:  # noqa: BLE001 - the page must get JSON whatever failed
                if service_down(exc):  # hundreds of pages at once in an outage: one line each
                    log.warning("%s %s: a service is down: %r", request.method, request.path, exc)
                else:
                    log.exception("%s %s failed", request.method, request.path)
                return failure_answer(exc)
            add_never_cache_headers(response)
            return response

        return wrapper

    return decorate


def save_body(request: HttpRequest) -> list[Any]:
    """Return the "changes" of a save request's JSON body, or raise Refusal (413 too large, 400 malformed).

    The size is judged before the body is parsed: by its Content-Length, then by what is read.
    """
    too_large = Refusal(
        413,
        _("This save is too large: at most %(n)d changes and %(kib)d KiB at a time.")
        % {"n": MAX_CHANGES_PER_MESSAGE, "kib": MAX_BODY_BYTES // 1024},
        "too_many",
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refusal(
            400, _("The request's Content-Length is not a number."), "malformed"
        ) from None
    if declared > MAX_BODY_BYTES:
        raise too_large
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise too_large
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past Python's limit
        raise Refusal(400, _("The save is not valid JSON."), "malformed") from None
    if not isinstance(message, dict) or "changes" not in message:
        raise Refusal(400, _('A save must be a JSON object with "changes".'), "malformed")
    return message["changes"]


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: JSON for the fallback's URLs (the page reloads itself and gets
    a fresh token; its unsent answers wait in localStorage), Django's own page for the others."""
    if is_fallback_url(request):
        return json_error(
            403, _("This page's security token has expired; the page reloads itself."), code="csrf"
        )
    return django_csrf_failure(request, reason=reason)
