"""Bad frames on the exam page's socket (issue 11, point 5): each is refused with a code and a
reason and the socket stays open; a bad save is refused alike on the socket and over HTTP."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from exams.consumers import AttemptConsumer
from exams.models import AnswerLog, AttemptItem, ItemKind
from exams.services import MAX_CHANGES_PER_MESSAGE, attempt_start
from exams.sockets import DEFAULT_MAX_DEPTH, BadFrame, decode_frame, nesting_depth

from .test_consumer import DEVICE, connect, session_cookie
from .test_views import client_for

LIMIT = AttemptConsumer.max_frame_bytes


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


BAD_FRAMES = [
    pytest.param({"text": "this is not JSON"}, "malformed", id="not-json"),
    pytest.param({"text": '{"t": "save", "changes": ['}, "malformed", id="cut-short"),
    pytest.param({"text": ""}, "malformed", id="empty"),
    pytest.param({"text": "[1, 2]"}, "malformed", id="a-list"),
    pytest.param({"text": "270.7"}, "malformed", id="a-number"),
    pytest.param({"text": '"save"'}, "malformed", id="a-string"),
    pytest.param({"bytes": b"\x00\x01binary"}, "binary", id="binary"),
    pytest.param({"bytes": b'{"t": "ping"}'}, "binary", id="json-as-binary"),
    pytest.param(
        {"text": '{"t": "ping", "pad": "' + "x" * LIMIT + '"}'}, "too_large", id="too-large"
    ),
    # Under the limit in characters, over it in UTF-8 bytes (2 bytes each).
    pytest.param(
        {"text": '{"t": "ping", "pad": "' + "ж" * (LIMIT // 2 + 1) + '"}'},
        "too_large",
        id="too-large-in-bytes",
    ),
    # Deep enough to exhaust the decoder's recursion: refused, no RecursionError escapes.
    pytest.param(
        {"text": '{"t": "ping", "c": ' + nested(100_000) + "}"},
        "too_deep",
        id="recursion-deep",
    ),
    # Parsed fine, but deeper than any message a page sends.
    pytest.param(
        {"text": '{"t": "ping", "c": ' + nested(DEFAULT_MAX_DEPTH) + "}"},
        "too_deep",
        id="just-too-deep",
    ),
]


@pytest.fixture
def started(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


async def open_socket(attempt, user):
    session = await sync_to_async(session_cookie)(user)
    ws, connected, _ = await connect(attempt.pk, session=session)
    assert connected
    assert (await ws.receive_json_from(timeout=5))["t"] == "state"
    return ws


async def still_answers(ws) -> None:
    await ws.send_json_to({"t": "ping", "c": 7})
    pong = await ws.receive_json_from(timeout=5)
    assert pong["t"] == "pong" and pong["c"] == 7


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame, code", BAD_FRAMES)
async def test_a_bad_frame_is_refused_with_a_reason_and_the_socket_stays_open(
    started, alice, frame, code
):
    ws = await open_socket(started, alice)
    await ws.send_input({"type": "websocket.receive", **frame})
    error = await ws.receive_json_from(timeout=5)
    assert error["t"] == "error" and error["code"] == code, error
    assert isinstance(error["reason"], str) and error["reason"].endswith(".")
    await still_answers(ws)
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_every_bad_frame_in_a_row_on_one_socket(started, alice):
    ws = await open_socket(started, alice)
    for param in BAD_FRAMES:
        frame, code = param.values
        await ws.send_input({"type": "websocket.receive", **frame})
        assert (await ws.receive_json_from(timeout=5))["code"] == code
    await still_answers(ws)
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_long_save_within_the_limit_is_taken(started, alice):
    """The limit is no trap for the page: a save of 20,000-character answers in Chinese passes."""
    positions = await sync_to_async(
        lambda: list(
            AttemptItem.objects.filter(
                attempt=started, item_version__item__kind=ItemKind.FREE_TEXT
            ).values_list("position", flat=True)
        )
    )()
    changes = [
        {"pos": pos, "seq": seq, "value": "考" * 20_000}
        for seq, pos in enumerate(positions, start=1)
    ]
    frame = json.dumps({"t": "save", "changes": changes}, ensure_ascii=False)
    assert 60_000 < len(frame.encode()) <= LIMIT  # over a 64 KiB cap with one answer already
    ws = await open_socket(started, alice)
    await ws.send_to(text_data=frame)
    ack = await ws.receive_json_from(timeout=10)
    assert ack["t"] == "ack" and all(r["ok"] for r in ack["results"]), ack
    await ws.disconnect()


def test_nesting_is_measured_without_recursion():
    deep: list = []
    for _ in range(200_000):  # far past Python's recursion limit
        deep = [deep]
    assert nesting_depth(deep, limit=8) == 9  # it stops counting past the limit
    assert nesting_depth({"t": "save", "changes": [{"pos": 1, "value": [2]}]}, limit=8) == 4
    assert nesting_depth({}, limit=8) == 1 and nesting_depth(5, limit=8) == 0


def test_a_page_save_is_within_the_depth_allowed():
    save = json.dumps(
        {"t": "save", "changes": [{"pos": 1, "seq": 1, "value": [0, 2], "flagged": False}]}
    )
    assert decode_frame(save, max_bytes=LIMIT, max_depth=DEFAULT_MAX_DEPTH)["t"] == "save"
    with pytest.raises(BadFrame) as refused:
        decode_frame(
            '{"a": ' + nested(DEFAULT_MAX_DEPTH) + "}", max_bytes=LIMIT, max_depth=DEFAULT_MAX_DEPTH
        )
    assert refused.value.code == "too_deep"


# A bad change of a save, and what both paths must say about it (the wording of
# exams.services.changes_from_message, the one reading of a save).
BAD_SAVES = [
    pytest.param(
        lambda pos: [{"pos": True, "seq": 1, "value": "x"}],
        "malformed",
        "Change 1: the item number (pos) must be a whole number.",
        id="pos-true",
    ),
    pytest.param(
        lambda pos: [{"pos": pos, "seq": "5", "value": "x"}],
        "malformed",
        "Change 1: the sequence number (seq) must be a whole number.",
        id="seq-text",
    ),
    pytest.param(
        lambda pos: [
            {"pos": pos, "seq": 1, "value": "ok"},
            {"pos": pos, "seq": 270.7, "value": "x"},
        ],
        "malformed",
        "Change 2: the sequence number (seq) must be a whole number.",
        id="seq-fraction",
    ),
    pytest.param(
        lambda pos: [{"pos": 270.7, "seq": 1, "value": "x"}],
        "malformed",
        "Change 1: the item number (pos) must be a whole number.",
        id="pos-fraction",
    ),
    pytest.param(
        lambda pos: [{"pos": pos, "seq": 1, "value": "x", "flagged": "yes"}],
        "malformed",
        "Change 1: flagged must be true or false.",
        id="flagged-text",
    ),
    pytest.param(
        lambda pos: ["x"],
        "malformed",
        "Change 1 is not an object with pos, seq and value.",
        id="not-an-object",
    ),
    pytest.param(
        lambda pos: {"pos": pos, "seq": 1},
        "malformed",
        "A save must carry a list of changes.",
        id="not-a-list",
    ),
    pytest.param(
        lambda pos: [
            {"pos": pos, "seq": s, "value": "x"} for s in range(1, MAX_CHANGES_PER_MESSAGE + 2)
        ],
        "too_many",
        f"Too many changes in one save: at most {MAX_CHANGES_PER_MESSAGE} at a time.",
        id="too-many",
    ),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("make_changes, code, reason", BAD_SAVES)
async def test_a_bad_save_is_refused_alike_on_the_socket_and_over_http(
    started, alice, make_changes, code, reason
):
    position = await sync_to_async(
        lambda: (
            AttemptItem.objects.filter(attempt=started, item_version__item__kind=ItemKind.FREE_TEXT)
            .first()
            .position
        )
    )()
    changes = make_changes(position)

    ws = await open_socket(started, alice)
    await ws.send_json_to({"t": "save", "changes": changes})
    on_socket = await ws.receive_json_from(timeout=5)
    await still_answers(ws)
    await ws.disconnect()

    def post() -> tuple[int, dict]:
        response = client_for(alice).post(
            reverse("exams:attempt_save", args=[started.pk]),
            data=json.dumps({"changes": changes}),
            content_type="application/json",
            HTTP_ACCEPT="application/json",
        )
        return response.status_code, response.json()

    status, over_http = await sync_to_async(post)()
    assert on_socket == {"t": "error", "code": code, "reason": reason}
    assert status == (413 if code == "too_many" else 400)
    assert (over_http["code"], over_http["error"]) == (code, reason)
    # Refused whole on both paths: nothing of it is stored, not even the good change beside a bad one.
    assert not await sync_to_async(AnswerLog.objects.filter(attempt=started).exists)()
