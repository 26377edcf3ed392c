"""With Redis really down, the exam page's HTTP fallback goes on saving: never "signed out" and
never an HTML page (issue 11, point 1: with Redis down 10 s, 200 of 200 pages signed themselves
out). Sessions live in Redis and the database, and signin.sessions reads the database when Redis
fails; the answers go to the database, which is up. (A service that is really needed and down
answers 503 JSON with Retry-After: tests/exams/test_fallback_contract.py.)
"""

from __future__ import annotations

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from exams.middleware import DEVICE_COOKIE
from exams.models import AnswerLog, AttemptItem, ItemKind
from exams.services import attempt_start

pytestmark = pytest.mark.integration

DEVICE = "f" * 32


def test_with_redis_down_the_fallback_still_saves_and_is_not_signed_out(
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
        assert response.status_code == 200, (response.status_code, response.text[:300])
        assert response.headers["content-type"] == "application/json"
        assert "signedOut" not in response.json()
    assert [(r["seq"], r["ok"]) for r in saved.json()["results"]] == [(1, True)]
    assert AnswerLog.objects.filter(attempt=attempt, seq=1).count() == 1
