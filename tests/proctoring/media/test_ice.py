"""Issue 13, point 5: ICE servers from settings, coturn's shared-secret credentials, 1:1 NAT."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from proctoring.media.ice import ice_servers, page_ice, turn_credential, with_public_address

SECRET = "coturn-static-auth-secret-for-the-test-0123456789"


@pytest.fixture
def turn(settings):
    settings.STUN_URLS = ["stun:turn.board.example:3478"]
    settings.TURN_URLS = [
        "turn:turn.board.example:3478?transport=udp",
        "turns:turn.board.example:443?transport=tcp",
    ]
    settings.TURN_SECRET = SECRET
    settings.TURN_CREDENTIAL_SECONDS = 3600
    return settings


def test_a_credential_is_what_coturn_computes_from_the_shared_secret(turn):
    username, password = turn_credential("candidate-7", now=1_800_000_000)
    assert username == "1800003600:candidate-7"
    # coturn (use-auth-secret): password = base64(HMAC-SHA1(static-auth-secret, username)).
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()
    assert password == expected


def test_pages_get_stun_and_turn_with_a_credential_of_their_own(turn):
    stun, relay = ice_servers("proctor-3")
    assert stun == {"urls": ["stun:turn.board.example:3478"]}
    assert relay["urls"] == turn.TURN_URLS and relay["username"].endswith(":proctor-3")
    assert page_ice("proctor-3")["policy"] == "all"


def test_without_settings_a_page_uses_host_candidates_only(settings):
    settings.STUN_URLS, settings.TURN_URLS, settings.TURN_SECRET = [], [], ""
    assert ice_servers("candidate-1") == []


ANSWER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP4 10.1.2.3",
        "a=candidate:0a1b 1 udp 2130706431 10.1.2.3 40001 typ host",
        "a=candidate:9f9f 1 udp 1694498815 198.51.100.20 40001 typ srflx raddr 10.1.2.3 rport 40001",
        "a=end-of-candidates",
        "",
    ]
)


def test_behind_one_to_one_nat_the_public_address_is_offered_beside_the_private_one():
    sdp = with_public_address(ANSWER, "203.0.113.10")
    candidates = [line for line in sdp.split("\r\n") if line.startswith("a=candidate:")]
    assert "a=candidate:0a1bp 1 udp 2130706431 203.0.113.10 40001 typ host" in candidates
    assert (
        len(candidates) == 3
        and candidates[0] == "a=candidate:0a1b 1 udp 2130706431 10.1.2.3 40001 typ host"
    )
    assert sdp.split("\r\n").index("a=end-of-candidates") > sdp.split("\r\n").index(candidates[-1])
    assert with_public_address(ANSWER, "") == ANSWER
