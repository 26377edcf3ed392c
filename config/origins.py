"""Every WebSocket must come from a page of this site: scheme, host and port, exactly.

Channels' AllowedHostsOriginValidator compares the Origin's host name with ALLOWED_HOSTS only: a page
served over plain HTTP, or from another port of the same name, could still open a candidate's
exam socket with the candidate's cookie. Here the Origin must be the very site the socket was
opened on (the scheme as the proxy saw it, the Host header, which must be an allowed host), or
one of CSRF_TRUSTED_ORIGINS: the same rule Django applies to a form's POST.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def normalised(origin: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of an origin, with the scheme's default port filled in."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def origin_allowed(scope: dict) -> bool:
    origin = normalised(_header(scope, b"origin") or "")
    host = _header(scope, b"host") or ""
    if origin is None or not host:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = PAGE_SCHEMES.get(scope.get("scheme", "ws"), "http")
    if origin == normalised(f"{scheme}://{host}"):
        return True
    return origin in {normalised(trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS}


class ExactOriginValidator:
    """ASGI middleware for WebSockets: refuse the handshake unless origin_allowed."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
