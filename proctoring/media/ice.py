"""How a page and the media server find a path to each other through firewalls and NAT.

STUN tells a peer its public address; TURN (coturn) relays the media when no direct path exists,
as on the networks of many hospitals, offices and hotels that allow only web traffic out (TURN
over TLS on port 443 then looks like HTTPS). aiortc offers no TCP candidates of its own, so TURN
is the only way such a candidate's video reaches the proctor.

TURN credentials follow coturn's shared-secret scheme (use-auth-secret, the "TURN REST API"):
the username is "<expiry as a Unix time>:<who>", the password base64(HMAC-SHA1(secret, username)).
coturn checks both with the same secret, so no account is stored anywhere, and a credential copied
out of a page stops working when it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time

from aiortc import RTCIceServer
from django.conf import settings


def turn_credential(who: str, *, now: float | None = None) -> tuple[str, str]:
    """Return (username, password) valid for TURN_CREDENTIAL_SECONDS from `now`."""
    expiry = int((time.time() if now is None else now) + settings.TURN_CREDENTIAL_SECONDS)
    username = f"{expiry}:{who}"
    digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(who: str) -> list[dict]:
    """The iceServers of an RTCPeerConnection (the browser's form), with a fresh TURN credential."""
    servers: list[dict] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username, password = turn_credential(who)
        servers.append(
            {"urls": list(settings.TURN_URLS), "username": username, "credential": password}
        )
    return servers


def page_ice(who: str) -> dict:
    """What a page needs to open its peer connections: the servers and the transport policy."""
    return {"servers": ice_servers(who), "policy": settings.ICE_TRANSPORT_POLICY}


def media_server_ice() -> list[RTCIceServer]:
    """The media server's own ICE servers (aiortc's form): its relay candidates, too, go via TURN."""
    return [RTCIceServer(**server) for server in ice_servers("media-server")]


def with_public_address(sdp: str, public: str) -> str:
    """Add, for each host candidate of `sdp`, the same candidate at the `public` address.

    A media server behind 1:1 NAT (a cloud machine) sees only its private address; pages outside
    reach it at the public one, on the same port. The private candidates stay, for proctors and
    candidates inside the same network.
    """
    if not public:
        return sdp
    ipaddress.ip_address(public)  # a name would be no candidate address: refused here, loudly
    lines = sdp.split("\r\n")
    added: list[str] = []
    for line in lines:
        fields = line.split(" ")
        if (
            line.startswith("a=candidate:")
            and len(fields) >= 8
            and fields[7] == "host"
            and fields[4] != public
        ):
            fields[0] = f"{fields[0]}p"  # a foundation of its own: a different address
            fields[4] = public
            added.append(" ".join(fields))
    if not added:
        return sdp
    # After the last candidate line of the (bundled) media section, before any end-of-candidates.
    last = max(index for index, line in enumerate(lines) if line.startswith("a=candidate:"))
    return "\r\n".join(lines[: last + 1] + added + lines[last + 1 :])
