"""A save that waits for the database holds up nothing else (issue 11: PostgreSQL stopped 60 s kept
the pages' sockets away 30 s after it was back). The database is mocked here: `responses_save`
blocks on an event, or raises what Django raises when PostgreSQL is gone."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError

from exams import batching
from exams.consumers import AttemptConsumer
from exams.models import AttemptItem
from exams.services import AnswerChange, attempt_start

from .test_consumer import DEVICE
from .test_frames import open_socket, still_answers


@pytest.fixture
def started(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


def change(attempt, seq: int) -> AnswerChange:
    return AnswerChange(
        attempt_id=attempt.pk,
        candidate_id=attempt.candidate_id,
        device_id=DEVICE,
        position=1,
        value=[0],
        flagged=False,
        seq=seq,
        received_at=attempt.started_at,
    )


@pytest.mark.django_db(transaction=True)
async def test_a_batch_is_failed_at_once_when_the_database_is_down(started, monkeypatch):
    """Not one change at a time: each would wait out the pool's timeout again."""
    calls = []

    def database_down(*, changes):
        calls.append(len(changes))
        raise OperationalError("couldn't get a connection after 60.00 sec")

    monkeypatch.setattr(batching, "responses_save", database_down)
    outcomes = await batching.SaveBatcher().save([change(started, seq) for seq in range(1, 6)])
    assert all(isinstance(outcome, batching.SaveFailed) for outcome in outcomes)
    assert calls == [5]


@pytest.mark.django_db(transaction=True)
async def test_the_socket_answers_pings_while_its_save_waits_for_the_database(
    started, alice, monkeypatch
):
    database_back = threading.Event()
    real_save = batching.responses_save

    def waiting_database(*, changes):
        database_back.wait(10)
        return real_save(changes=changes)

    monkeypatch.setattr(batching, "responses_save", waiting_database)
    position = await sync_to_async(
        lambda: AttemptItem.objects.filter(attempt=started).first().position
    )()
    ws = await open_socket(started, alice)
    await ws.send_json_to({"t": "save", "changes": [{"pos": position, "seq": 1, "value": None}]})
    await still_answers(ws)  # before the ack: the save is still waiting
    database_back.set()
    ack = await ws.receive_json_from(timeout=5)
    assert ack["t"] == "ack" and [r["seq"] for r in ack["results"]] == [1]
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_saves_past_the_limit_of_one_socket_are_acked_for_a_retry_at_once(
    started, alice, monkeypatch
):
    database_back = threading.Event()

    def waiting_database(*, changes):
        database_back.wait(10)
        raise OperationalError("the database is gone")

    monkeypatch.setattr(batching, "responses_save", waiting_database)
    position = await sync_to_async(
        lambda: AttemptItem.objects.filter(attempt=started).first().position
    )()
    ws = await open_socket(started, alice)
    waiting = AttemptConsumer.max_saves_waiting
    for seq in range(1, waiting + 2):
        await ws.send_json_to(
            {"t": "save", "changes": [{"pos": position, "seq": seq, "value": None}]}
        )
    busy = await ws.receive_json_from(timeout=5)  # the one past the limit, without waiting
    assert busy["t"] == "ack" and busy["results"] == [
        {"seq": waiting + 1, "ok": False, "code": "error", "reason": busy["results"][0]["reason"]}
    ]
    database_back.set()
    failed = [await ws.receive_json_from(timeout=5) for _ in range(waiting)]
    assert sorted(
        r["seq"] for ack in failed for r in ack["results"] if r["code"] == "error"
    ) == list(range(1, waiting + 1))
    await ws.disconnect()
    await asyncio.sleep(0)
