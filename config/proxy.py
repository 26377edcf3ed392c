"""The client's address and scheme as the reverse proxy saw them, believed from the proxy only.

nginx ends TLS and passes the request on with X-Forwarded-For (the client's address) and
X-Forwarded-Proto (https). Without this every candidate would share the proxy's address (one
sign-in throttle for a whole sitting, one address in the audit log) and the site would think
itself served over plain HTTP. The headers are believed only on connections from TRUSTED_PROXIES:
anyone else who reaches Daphne could write them too.

Unlike `daphne --proxy-headers`, which believes them from every peer, this is an ASGI middleware in
front of both HTTP and WebSocket, so the same rule holds for the exam page's socket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings

SCHEMES = {"http": {"https": "https", "http": "http"}, "websocket": {"https": "wss", "http": "ws"}}


def networks_of(values: Iterable[str]) -> tuple:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def within(address: str, networks: tuple) -> bool:
    try:
        return any(ipaddress.ip_address(address) in network for network in networks)
    except ValueError:
        return False


def _header(scope: dict, name: bytes) -> str:
    values = [value.decode("latin1") for key, value in scope.get("headers", []) if key == name]
    return ",".join(values)


def client_behind(forwarded_for: str, peer: str, networks: tuple) -> str:
    """Return the client's address: the last hop of X-Forwarded-For that is not a trusted proxy.

    Each proxy appends the address it was reached from, so the hops before the last untrusted one
    are whatever the client chose to send.
    """
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not within(hop, networks):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TrustedProxyHeaders:
    """ASGI middleware: rewrite scope["client"] and scope["scheme"] from a trusted proxy's headers."""

    def __init__(self, application, trusted: Iterable[str] | None = None):
        self.application = application
        self.networks = networks_of(settings.TRUSTED_PROXIES if trusted is None else trusted)
        self.tls_header = settings.PROXY_TLS_HEADER.lower().encode("latin1")

    async def __call__(self, scope, receive, send):
        if scope["type"] in SCHEMES and self.networks:
            peer = (scope.get("client") or [""])[0]
            if within(peer, self.networks):
                scope = self.rewritten(scope, peer)
        return await self.application(scope, receive, send)

    def rewritten(self, scope: dict, peer: str) -> dict:
        scope = dict(scope)
        forwarded_for = _header(scope, b"x-forwarded-for")
        if forwarded_for:
            scope["client"] = [client_behind(forwarded_for, peer, self.networks), 0]
        proto = _header(scope, self.tls_header).split(",")[-1].strip().lower()
        if proto in SCHEMES[scope["type"]]:
            scope["scheme"] = SCHEMES[scope["type"]][proto]
        return scope
