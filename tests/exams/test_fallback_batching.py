"""The HTTP fallback batches like the socket (issue 11, point 1): after a server kill every page fell
back to HTTP at once, each save wrote its own transaction and audit entry, latency rose to 11-31 s
and the connection pool ran dry. Through a real Daphne, concurrent saves of different candidates
are written by the process's group commit (exams.batching): fewer audit batches than requests.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from exams.audit import BATCH_KIND
from exams.middleware import DEVICE_COOKIE
from exams.models import AnswerLog, AttemptItem, AuditEntry, ItemKind, Room
from exams.services import attempt_start
from tests.factories import UserFactory, enrol
from tests.servers import process_environment, running_daphne

pytestmark = [pytest.mark.integration]

CANDIDATES = 30
DEVICE = "e" * 32


@pytest.fixture
def server(request, transactional_db):
    # All CANDIDATES saves at once, none turned away by the fallback's cap
    # (tests/exams/test_fallback_shedding.py): the group commit is what this test measures.
    env = process_environment() | {"FALLBACK_MAX_IN_FLIGHT": str(CANDIDATES)}
    with running_daphne(request, env) as daphne:
        yield daphne


def _page(sitting, room, number: int) -> dict:
    """A candidate writing, as its page would post: the save URL, its cookies and one change."""
    candidate = UserFactory(username=f"fallback{number}")
    attempt = attempt_start(
        candidate=candidate, enrolment_id=enrol(sitting, room, candidate).pk, device_id=DEVICE
    )
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
    csrf = secrets.token_hex(16)  # a 32-character secret: Django takes it as the cookie's token
    cookies = (
        f"sessionid={client.cookies['sessionid'].value}; {DEVICE_COOKIE}={DEVICE}; csrftoken={csrf}"
    )
    return {
        "url": reverse("exams:attempt_save", args=[attempt.pk]),
        "headers": {"Cookie": cookies, "X-CSRFToken": csrf, "Accept": "application/json"},
        "changes": [{"pos": position, "seq": 1, "value": [0]}],
    }


async def _save_all_at_once(base_url: str, pages: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(
        base_url=base_url,
        trust_env=False,
        timeout=30,
        limits=httpx.Limits(max_connections=len(pages)),
    ) as http:
        start = asyncio.Event()

        async def save(page: dict) -> httpx.Response:
            await start.wait()
            return await http.post(
                page["url"], json={"changes": page["changes"]}, headers=page["headers"]
            )

        tasks = [asyncio.create_task(save(page)) for page in pages]
        await asyncio.sleep(0)  # every task waits at the start line
        start.set()
        return await asyncio.gather(*tasks)


def test_concurrent_http_saves_are_written_in_fewer_transactions_than_requests(server, sitting):
    room = Room.objects.create(sitting=sitting, name="Hall", seats=CANDIDATES)
    pages = [_page(sitting, room, number) for number in range(CANDIDATES)]
    assert not AuditEntry.objects.filter(kind=BATCH_KIND).exists()

    responses = asyncio.run(_save_all_at_once(server.url, pages))

    assert [r.status_code for r in responses] == [200] * CANDIDATES, [
        r.text[:200] for r in responses
    ]
    assert all(
        r.json()["results"] == [{"seq": 1, "ok": True, "code": "saved", "reason": ""}]
        for r in responses
    )
    assert AnswerLog.objects.count() == CANDIDATES
    batches = AuditEntry.objects.filter(kind=BATCH_KIND)
    # One transaction (one audit entry) per request before; the group commit writes what queued up
    # while the previous batch was being written.
    assert sum(entry.data["saved"] for entry in batches) == CANDIDATES
    print(f"{CANDIDATES} concurrent HTTP saves written in {batches.count()} batches")
    assert batches.count() < CANDIDATES / 2, batches.count()
