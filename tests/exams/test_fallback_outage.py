"""With Redis really down, the exam page's HTTP fallback answers 503 JSON with Retry-After, never
"signed out" and never an HTML page (issue 11, point 1: with Redis down 10 s, 200 of 200 pages
signed themselves out). Sessions live in Redis, then the database: the session store cannot be
used, which is an outage, not a signed-out visitor.
"""

from __future__ import annotations

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from exams.failures import RETRY_AFTER_SECONDS
from exams.middleware import DEVICE_COOKIE
from exams.models import AnswerLog, AttemptItem, ItemKind
from exams.services import attempt_start
from tests.servers import DaphneServer, artifact_dir, free_port, process_environment, wait_until

pytestmark = pytest.mark.integration

DEVICE = "f" * 32


@pytest.fixture
def server_without_redis(request, transactional_db):
    """A real Daphne whose REDIS_URL names a loopback port nothing listens on, on the test database."""
    env = process_environment()
    env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    server = DaphneServer(env=env, log_dir=artifact_dir(request.node.name))
    server.spawn()

    def answering() -> bool:
        assert server.running, server.log_tail()
        try:
            return httpx.get(f"{server.url}/healthz", timeout=10, trust_env=False).status_code > 0
        except httpx.HTTPError:
            return False

    try:
        wait_until(answering, timeout=40, interval=0.2, message="Daphne to answer /healthz")
        yield server
    finally:
        server.stop()
        if request.session.testsfailed:
            print(server.log_tail())


def test_with_redis_down_the_fallback_answers_503_json_not_signed_out(
    server_without_redis, alice, alice_enrolment
):
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    signed_in = Client()
    signed_in.force_login(alice)  # the session row is in the database; the server cannot cache it
    position = (
        AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=ItemKind.SINGLE)
        .first()
        .position
    )
    csrf = "c" * 32
    headers = {
        "Cookie": f"sessionid={signed_in.cookies['sessionid'].value}; {DEVICE_COOKIE}={DEVICE}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Accept": "application/json",
    }
    with httpx.Client(
        base_url=server_without_redis.url, trust_env=False, timeout=20, headers=headers
    ) as http:
        saved = http.post(
            reverse("exams:attempt_save", args=[attempt.pk]),
            json={"changes": [{"pos": position, "seq": 1, "value": [0]}]},
        )
        state = http.get(reverse("exams:attempt_state", args=[attempt.pk]))
    for response in (saved, state):
        assert response.status_code == 503, (response.status_code, response.text[:300])
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["code"] == "unavailable" and "signedOut" not in body
        low, high = RETRY_AFTER_SECONDS
        assert low <= body["retryAfter"] <= high and response.headers["retry-after"] == str(
            body["retryAfter"]
        )
    assert not AnswerLog.objects.exists()
