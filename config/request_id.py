"""Every request and socket gets an id, in its log lines and in the X-Request-ID answer header.

nginx makes one per request ($request_id, deploy/nginx/exams.conf) and logs it too, so a line in
nginx's log, the application's log lines and the page's answer can be put side by side. The
proxy's id is taken from TRUSTED_PROXIES only (anyone else could choose what their lines are
filed under); otherwise, or when it is malformed, one is made here.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.conf import settings

from config.proxy import networks_of, within

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record (as `request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class RequestId:
    """ASGI middleware, outermost: the id of each HTTP request or socket, for its whole handling."""

    def __init__(self, application, trusted=None):
        self.application = application
        self.networks = networks_of(settings.TRUSTED_PROXIES if trusted is None else trusted)

    def id_for(self, scope: dict) -> str:
        peer = (scope.get("client") or [""])[0]
        if self.networks and within(peer, self.networks):
            given = next(
                (v.decode("latin1") for k, v in scope.get("headers", []) if k == b"x-request-id"),
                "",
            )
            if WELL_FORMED.fullmatch(given):
                return given
        return uuid.uuid4().hex

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.application(scope, receive, send)
        request_id = self.id_for(scope)
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            await send(message)

        try:
            return await self.application(
                scope, receive, send_with_id if scope["type"] == "http" else send
            )
        finally:
            REQUEST_ID.reset(token)
