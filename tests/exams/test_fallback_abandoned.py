"""HTTP saves whose client gives up while the save waits keep no database connection (issue 11,
point 2: 25 such saves left a process with no pool connection, for good). The fallback reaches
the ORM only through database_sync_to_async, which gives the connection back however the request
ends; here, through a real Daphne with a pool of 4, 12 saves are abandoned while a row lock holds
their batch, and afterwards three pools' worth of saves still go through, well within the pool's
timeout.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from exams.middleware import DEVICE_COOKIE
from exams.models import AnswerLog, Attempt, AttemptItem, ItemKind, Room
from exams.services import attempt_start
from tests.factories import UserFactory, enrol
from tests.servers import process_environment, running_daphne

pytestmark = [pytest.mark.integration]

POOL = 4
POOL_TIMEOUT_SECONDS = 5
ABANDONED = 12
GIVE_UP_SECONDS = 1.0
DEVICE = "9" * 32


@pytest.fixture
def server(request, transactional_db):
    env = process_environment() | {
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": str(POOL),
        "DB_POOL_TIMEOUT": str(POOL_TIMEOUT_SECONDS),
        # Every abandoned save must reach its view: past the fallback's cap it would be turned away
        # at once (tests/exams/test_fallback_shedding.py), holding nothing to give back.
        "FALLBACK_MAX_IN_FLIGHT": "100",
    }
    with running_daphne(request, env) as daphne:
        yield daphne


def _page(sitting, room, number: int) -> dict:
    candidate = UserFactory(username=f"abandoning{number}")
    enrolment = enrol(sitting, room, candidate)
    attempt = attempt_start(candidate=candidate, enrolment_id=enrolment.pk, device_id=DEVICE)
    client = Client()
    client.force_login(candidate)
    position = (
        # A form draws 10 of 15 items per topic, 6 of them single or multiple: never none (a form
        # without a single-answer item made this fail now and then).
        AttemptItem.objects.filter(
            attempt=attempt, item_version__item__kind__in=[ItemKind.SINGLE, ItemKind.MULTIPLE]
        )
        .first()
        .position
    )
    csrf = "a1" * 16
    session = client.cookies["sessionid"].value
    return {
        "attempt": attempt,
        "url": reverse("exams:attempt_save", args=[attempt.pk]),
        "headers": {
            "Cookie": f"sessionid={session}; {DEVICE_COOKIE}={DEVICE}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Accept": "application/json",
        },
        "position": position,
    }


async def _save(base_url: str, page: dict, seq: int, timeout: float) -> httpx.Response | None:
    """Post one change; return None when the client gave up first."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=timeout) as http:
        try:
            return await http.post(
                page["url"],
                json={"changes": [{"pos": page["position"], "seq": seq, "value": [0]}]},
                headers=page["headers"],
            )
        except httpx.TimeoutException:
            return None


async def _save_all(base_url: str, pages: list[dict], seq: int, timeout: float) -> list:
    return await asyncio.gather(*(_save(base_url, page, seq, timeout) for page in pages))


def test_saves_abandoned_by_their_clients_give_their_connections_back(server, sitting):
    room = Room.objects.create(sitting=sitting, name="Hall", seats=ABANDONED)
    pages = [_page(sitting, room, number) for number in range(ABANDONED)]

    # The batch these saves join waits on the attempts' rows, held here, until every client gave up.
    with transaction.atomic():
        list(Attempt.objects.select_for_update().filter(pk__in=[p["attempt"].pk for p in pages]))
        abandoned = asyncio.run(_save_all(server.url, pages, seq=1, timeout=GIVE_UP_SECONDS))
    assert abandoned == [None] * ABANDONED, [r and r.status_code for r in abandoned]

    # Three pools' worth of saves, one pool at a time: a connection kept by an abandoned request
    # would leave these waiting for the pool (5 s) and failing with 503.
    for round_number, seq in enumerate(range(2, 2 + 3 * ABANDONED // POOL)):
        batch = pages[(round_number * POOL) % ABANDONED :][:POOL]
        answers = asyncio.run(
            _save_all(server.url, batch, seq=seq, timeout=POOL_TIMEOUT_SECONDS - 1)
        )
        assert all(r is not None and r.status_code == 200 for r in answers), [
            r and (r.status_code, r.text[:200]) for r in answers
        ]
        assert all(r.json()["results"][0]["ok"] for r in answers)
    health = httpx.get(f"{server.url}/healthz", trust_env=False, timeout=10)
    assert health.status_code == 200, health.text
    # The abandoned saves were written when the lock went (their pages send them again anyway).
    assert AnswerLog.objects.filter(seq=1).count() == ABANDONED
