"""Issue 13, point 3: the client's address and scheme from the proxy only; sockets from this site only."""

from __future__ import annotations

import asyncio

import pytest

from config.origins import origin_allowed
from config.proxy import TrustedProxyHeaders

PROXY = "10.0.0.1"


def seen_by_application(scope: dict, trusted=(PROXY,)) -> dict:
    """Return the scope the application behind TrustedProxyHeaders is called with."""
    seen = {}

    async def application(scope, receive, send):
        seen.update(scope)

    asyncio.run(TrustedProxyHeaders(application, trusted=trusted)(scope, None, None))
    return seen


def http_scope(peer: str, **headers: str) -> dict:
    return {
        "type": "http",
        "scheme": "http",
        "client": [peer, 40000],
        "headers": [
            (name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()
        ],
    }


def test_the_proxy_names_the_client_and_the_scheme():
    scope = seen_by_application(
        http_scope(PROXY, x_forwarded_for="203.0.113.7", x_forwarded_proto="https")
    )
    assert scope["client"][0] == "203.0.113.7" and scope["scheme"] == "https"


def test_a_client_cannot_choose_its_address_by_sending_the_header_itself():
    # Directly to Daphne: the header is the client's own writing and is ignored.
    direct = seen_by_application(
        http_scope("198.51.100.9", x_forwarded_for="10.20.0.99", x_forwarded_proto="https")
    )
    assert direct["client"][0] == "198.51.100.9" and direct["scheme"] == "http"
    # Through the proxy with a forged first hop: the proxy appended the real one, which counts.
    forged = seen_by_application(http_scope(PROXY, x_forwarded_for="10.20.0.99, 198.51.100.9"))
    assert forged["client"][0] == "198.51.100.9"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client():
    scope = seen_by_application(
        http_scope(PROXY, x_forwarded_for="203.0.113.7, 10.0.0.2"), trusted=("10.0.0.0/24",)
    )
    assert scope["client"][0] == "203.0.113.7"


def test_a_hop_that_is_no_address_leaves_the_proxy_as_the_client():
    scope = seen_by_application(http_scope(PROXY, x_forwarded_for="unknown"))
    assert scope["client"][0] == PROXY


def test_a_socket_through_the_proxy_over_tls_is_wss():
    scope = http_scope(PROXY, x_forwarded_proto="https")
    scope.update(type="websocket", scheme="ws")
    assert seen_by_application(scope)["scheme"] == "wss"


def socket(origin: str | None, host: str = "exams.board.example", scheme: str = "wss") -> dict:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@pytest.fixture
def site(settings):
    settings.ALLOWED_HOSTS = ["exams.board.example"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://centre.board.example"]


ORIGINS = {
    "the site itself": (socket("https://exams.board.example"), True),
    "its default port written out": (socket("https://exams.board.example:443"), True),
    "a trusted origin": (socket("https://centre.board.example"), True),
    "plain HTTP of the same name": (socket("http://exams.board.example"), False),
    "another port of the same name": (socket("https://exams.board.example:8443"), False),
    "another site": (socket("https://evil.example"), False),
    "a subdomain": (socket("https://x.exams.board.example"), False),
    "no origin": (socket(None), False),
    "an origin that is no URL": (socket("null"), False),
    "a host the site does not serve": (socket("https://evil.example", host="evil.example"), False),
    "plain ws from a plain page": (socket("http://exams.board.example", scheme="ws"), True),
}


@pytest.mark.parametrize("scope, allowed", ORIGINS.values(), ids=ORIGINS.keys())
def test_a_socket_opens_only_from_a_page_of_this_very_site(site, scope, allowed):
    assert origin_allowed(scope) is allowed
