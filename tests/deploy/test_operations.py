"""Issue 13, point 7: /metrics for the board's monitor (not for the public), and a request id in
every log line and answer."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from prometheus_client import REGISTRY

from config.request_id import RequestId, RequestIdFilter
from exams.models import AttemptItem, ItemKind
from exams.services import attempt_start
from tests.exams.test_consumer import DEVICE, connect, session_cookie


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def started(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


@pytest.mark.django_db(transaction=True)
async def test_metrics_count_exam_sockets_saves_and_the_time_to_their_ack(started, alice):
    session = await sync_to_async(session_cookie)(alice)
    position = await sync_to_async(
        lambda: (
            AttemptItem.objects.filter(attempt=started, item_version__item__kind=ItemKind.SINGLE)
            .first()
            .position
        )
    )()
    sockets, saved = (
        sample("exams_exam_page_sockets"),
        sample("exams_answer_changes_total", outcome="saved"),
    )
    acked = sample("exams_answer_ack_seconds_count")
    ws, connected, _ = await connect(started.pk, session=session)
    assert connected and sample("exams_exam_page_sockets") == sockets + 1
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to(
        {
            "t": "save",
            "changes": [
                {"pos": position, "seq": 1, "value": [3]},
                {"pos": position, "seq": 2, "value": [4]},
            ],
        }
    )
    assert (await ws.receive_json_from(timeout=5))["t"] == "ack"
    assert sample("exams_answer_changes_total", outcome="saved") == saved + 2
    assert sample("exams_answer_ack_seconds_count") == acked + 2
    await ws.disconnect()
    await asyncio.sleep(0.1)
    assert sample("exams_exam_page_sockets") == sockets


@pytest.mark.django_db
def test_metrics_answer_the_monitor_and_nobody_else(settings):
    settings.METRICS_ALLOWED = ["127.0.0.1/32", "10.0.0.0/24"]
    for address in ("127.0.0.1", "10.0.0.9"):
        response = Client(REMOTE_ADDR=address).get("/metrics")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        text = response.content.decode()
        for name in (
            "exams_exam_page_sockets",
            "exams_answer_changes_total",
            "exams_answer_ack_seconds",
            "proctoring_sockets",
            "media_servers_alive",
        ):
            assert f"# TYPE {name}" in text, name
        if settings.REDIS_URL:
            assert 'celery_queue_length{queue="celery"}' in text
    assert Client(REMOTE_ADDR="203.0.113.5").get("/metrics").status_code == 404


def call(scope: dict) -> tuple[list[logging.LogRecord], dict]:
    """Run an application that logs behind RequestId on `scope`; return its log records and answer headers."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    sent = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    async def inner(scope, receive, send):
        logger.warning("handling")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    try:
        asyncio.run(RequestId(inner, trusted=["10.0.0.1"])(scope, receive, send))
    finally:
        logger.removeHandler(handler)
    return records, dict(sent[0]["headers"])


def test_each_request_has_an_id_in_its_log_lines_and_its_answer():
    records, headers = call({"type": "http", "client": ["203.0.113.7", 5000], "headers": []})
    made = headers[b"x-request-id"].decode()
    assert len(made) == 32 and records[0].request_id == made


def test_the_proxys_request_id_is_kept_and_nobody_elses():
    nginx = [(b"x-request-id", b"5f1c0a3e9b7d4c21a0e6f8b3c2d1e0f9")]
    records, headers = call({"type": "http", "client": ["10.0.0.1", 5000], "headers": nginx})
    assert (
        headers[b"x-request-id"]
        == b"5f1c0a3e9b7d4c21a0e6f8b3c2d1e0f9"
        == records[0].request_id.encode()
    )
    records, headers = call({"type": "http", "client": ["203.0.113.7", 5000], "headers": nginx})
    assert headers[b"x-request-id"] != b"5f1c0a3e9b7d4c21a0e6f8b3c2d1e0f9"
