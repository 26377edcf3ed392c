"""The exam page's WebSocket, through the real ASGI stack and channel layer (Redis in CI)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from config.asgi import application
from exams.middleware import DEVICE_COOKIE
from exams.models import Attempt, AttemptItem, ItemKind, Response
from exams.services import attempt_start, attempt_submit

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE, OTHER_DEVICE = "a" * 32, "b" * 32
ORIGIN = b"http://127.0.0.1"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(attempt_id: int, *, session: str | None, device: str = DEVICE, origin: bytes = ORIGIN):
    cookies = f"{DEVICE_COOKIE}={device}" + (f"; sessionid={session}" if session else "")
    communicator = WebsocketCommunicator(
        application, f"/ws/attempt/{attempt_id}/", headers=[(b"origin", origin), (b"host", b"127.0.0.1"), (b"cookie", cookies.encode())]
    )
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@pytest.fixture
def started(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


async def test_owner_connects_saves_and_gets_acks(started, alice):
    session = await sync_to_async(session_cookie)(alice)
    position = await sync_to_async(
        lambda: AttemptItem.objects.filter(attempt=started, item_version__item__kind=ItemKind.SINGLE).first().position
    )()
    ws, connected, _ = await connect(started.pk, session=session)
    assert connected
    state = await ws.receive_json_from(timeout=5)
    assert state["t"] == "state" and state["status"] == "in_progress" and state["thisDevice"] is True
    assert abs(state["serverNow"] - timezone.now().timestamp() * 1000) < 5000
    await ws.send_json_to({"t": "save", "changes": [{"pos": position, "seq": 1, "value": [3]}, {"pos": position, "seq": 2, "value": [4]}]})
    ack = await ws.receive_json_from(timeout=5)
    assert ack == {"t": "ack", "results": [{"seq": 1, "ok": True, "code": "saved", "reason": ""},
                                           {"seq": 2, "ok": True, "code": "saved", "reason": ""}]}
    response = await sync_to_async(Response.objects.get)(attempt=started, attempt_item__position=position)
    assert response.seq == 2
    await ws.send_json_to({"t": "ping", "c": 123})
    pong = await ws.receive_json_from(timeout=5)
    assert pong["t"] == "pong" and pong["c"] == 123
    await ws.disconnect()


async def closed_with(communicator) -> int:
    """Return the close code the consumer sent right after accepting (so the page learns why)."""
    refusal = await communicator.receive_json_from(timeout=5)
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    assert refusal == {"t": "refused", "code": message["code"]}
    return message["code"]


async def test_anonymous_other_candidate_and_foreign_origin_are_refused(started, bob):
    ws, connected, _ = await connect(started.pk, session=None)
    assert connected and await closed_with(ws) == 4401
    bob_session = await sync_to_async(session_cookie)(bob)
    ws, connected, _ = await connect(started.pk, session=bob_session)
    assert connected and await closed_with(ws) == 4404
    alice_session = await sync_to_async(session_cookie)(await sync_to_async(lambda: started.candidate)())
    _, connected, _ = await connect(started.pk, session=alice_session, origin=b"http://evil.example")
    assert not connected


async def test_second_device_locks_and_both_screens_hear_it(started, alice):
    session = await sync_to_async(session_cookie)(alice)
    first, connected, _ = await connect(started.pk, session=session)
    assert connected
    await first.receive_json_from(timeout=5)  # state
    second, connected, _ = await connect(started.pk, session=session, device=OTHER_DEVICE)
    assert connected
    second_state = await second.receive_json_from(timeout=5)
    assert second_state["locked"] is True and second_state["thisDevice"] is False
    pushed = await first.receive_json_from(timeout=5)
    assert pushed["t"] == "locked" and "second device" in pushed["reason"]
    await first.disconnect()
    await second.disconnect()


async def test_submission_and_deadline_reach_the_page(started, alice):
    session = await sync_to_async(session_cookie)(alice)
    ws, _, _ = await connect(started.pk, session=session)
    await ws.receive_json_from(timeout=5)
    await sync_to_async(Attempt.objects.filter(pk=started.pk).update)(
        deadline=timezone.now() - timedelta(seconds=30), started_at=timezone.now() - timedelta(minutes=101)
    )
    await ws.send_json_to({"t": "deadline"})
    messages = [await ws.receive_json_from(timeout=5) for _ in range(2)]
    kinds = {m["t"] for m in messages}
    assert "submitted" in kinds, messages
    state = next(m for m in messages if m["t"] == "state")
    assert state["status"] in ("submitted", "scored")
    await ws.disconnect()


async def test_submit_from_elsewhere_is_pushed(started, alice):
    session = await sync_to_async(session_cookie)(alice)
    ws, _, _ = await connect(started.pk, session=session)
    await ws.receive_json_from(timeout=5)
    await sync_to_async(attempt_submit)(attempt_id=started.pk, by="candidate")
    message = await asyncio.wait_for(ws.receive_json_from(timeout=5), 6)
    assert message == {"t": "submitted", "by": "candidate"}
    await ws.disconnect()


async def test_a_change_the_database_rejects_does_not_fail_the_others_in_its_batch(started, alice, monkeypatch):
    from exams import batching
    from exams.services import answers

    real = answers.responses_save

    def fussy(*, changes, now=None):
        if any(c.value == "poison" for c in changes):
            raise RuntimeError("the database refused the statement")
        return real(changes=changes, now=now)

    # Stands in for a database refusing one statement (a failure that cannot be made on purpose here).
    monkeypatch.setattr(batching, "responses_save", fussy)
    session = await sync_to_async(session_cookie)(alice)
    positions = await sync_to_async(lambda: list(
        AttemptItem.objects.filter(attempt=started, item_version__item__kind__in=[ItemKind.FREE_TEXT, ItemKind.FILL_IN])
        .values_list("position", flat=True)[:2]))()
    ws, _, _ = await connect(started.pk, session=session)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"t": "save", "changes": [{"pos": positions[0], "seq": 1, "value": "poison"},
                                                    {"pos": positions[1], "seq": 2, "value": "good"}]})
    ack = await ws.receive_json_from(timeout=5)
    assert [(r["seq"], r["ok"], r["code"]) for r in ack["results"]] == [(1, False, "error"), (2, True, "saved")]
    await ws.disconnect()
