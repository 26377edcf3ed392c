"""Bad frames on the live room's sockets (issue 11, point 5): the candidate's and the proctors'
sockets refuse them as the exam page's does, with a code and a reason, and stay open."""

from __future__ import annotations

import json

import pytest

from exams.sockets import DEFAULT_MAX_DEPTH
from proctoring.consumers import MAX_SDP_LENGTH, CandidateConsumer, RoomConsumer

from .test_consumers import (  # noqa: F401  (fixtures)
    candidate_path,
    connect,
    receive_until,
    room_path,
    short_offline_grace,
)

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = CandidateConsumer.max_frame_bytes


def bad_frames() -> list:
    nested = "[" * (DEFAULT_MAX_DEPTH + 1) + "]" * (DEFAULT_MAX_DEPTH + 1)
    return [
        pytest.param({"text": "{not json"}, "malformed", id="not-json"),
        pytest.param({"text": ""}, "malformed", id="empty"),
        pytest.param({"text": '["ping"]'}, "malformed", id="a-list"),
        pytest.param({"text": "null"}, "malformed", id="null"),
        pytest.param({"bytes": b"\xff\xfe"}, "binary", id="binary"),
        pytest.param(
            {"text": '{"t": "ping", "pad": "' + "x" * LIMIT + '"}'}, "too_large", id="too-large"
        ),
        pytest.param(
            {"text": '{"t": "ping", "c": ' + "[" * 50_000 + "]" * 50_000 + "}"},
            "too_deep",
            id="recursion-deep",
        ),
        pytest.param({"text": '{"t": "ping", "c": ' + nested + "}"}, "too_deep", id="too-deep"),
    ]


@pytest.fixture
def open_socket(connect, room_a, proctor_a, alice, alice_enrolment):  # noqa: F811
    async def open_(which: str):
        if which == "room":
            ws = await connect(room_path(room_a), proctor_a)
        else:
            ws = await connect(candidate_path(alice_enrolment), alice)
        assert (await ws.receive_json_from(timeout=5))["t"] == "hello"
        return ws

    return open_


async def still_answers(ws) -> None:
    await ws.send_json_to({"t": "ping"})
    await receive_until(ws, lambda m: m["t"] == "pong")


def test_both_sockets_refuse_bad_frames_through_the_shared_base():
    assert RoomConsumer.receive is CandidateConsumer.receive
    assert RoomConsumer.max_frame_bytes == CandidateConsumer.max_frame_bytes >= 2 * MAX_SDP_LENGTH


@pytest.mark.parametrize("which", ["room", "candidate"])
@pytest.mark.parametrize("frame, code", bad_frames())
async def test_a_bad_frame_is_refused_with_a_reason_and_the_socket_stays_open(
    open_socket, which, frame, code
):
    ws = await open_socket(which)
    await ws.send_input({"type": "websocket.receive", **frame})
    error = await receive_until(ws, lambda m: m["t"] == "error")
    assert error["code"] == code and error["reason"].endswith("."), error
    await still_answers(ws)


async def test_a_media_offer_of_the_largest_sdp_passes_the_size_check(open_socket):
    """The candidate socket's frame limit leaves room for the SDP its media offer may carry."""
    ws = await open_socket("candidate")
    sdp = ("a=candidate:1 1 udp 2130706431 192.0.2.1 54400 typ host\r\n" * MAX_SDP_LENGTH)[
        :MAX_SDP_LENGTH
    ]
    frame = json.dumps({"t": "media.offer", "sdp": sdp, "kinds": "not an object"})
    assert len(frame) > 100_000
    await ws.send_to(text_data=frame)
    error = await receive_until(ws, lambda m: m["t"] == "error")
    # Judged by the offer's own rule, not refused as too large.
    assert error["code"] == "malformed" and error["reason"] == "Malformed media offer."
    await still_answers(ws)


@pytest.mark.parametrize("which", ["room", "candidate"])
async def test_an_unknown_message_says_so_and_the_socket_stays_open(open_socket, which):
    ws = await open_socket(which)
    await ws.send_json_to({"t": "no such thing"})
    assert (await receive_until(ws, lambda m: m["t"] == "error"))["code"] == "unknown"
    await still_answers(ws)
