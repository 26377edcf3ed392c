"""The HTTP fallback takes at most FALLBACK_MAX_IN_FLIGHT requests at once per process (issue 11,
point 3): the rest are answered 503 with Retry-After at once, before the session or the database
is read, so that fallback traffic cannot take the pool the sockets' reconnects need.

Found in the fault drills: after a server restart 500 pages posted their outboxes while their
sockets reconnected; each request took a pool connection for its session and user, the sockets'
connects queued behind them, and the last page was back on its socket 6-12 s after the server
answered (3.9 s, 0.6 s and 2.8 s for the three all-sockets faults with the cap).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from django.conf import settings
from django.http import JsonResponse
from django.test import RequestFactory

from exams import fallback
from exams.models import AnswerLog, Room
from tests.servers import (
    database_conninfo_for_tests,
    process_environment,
    require_service,
    running_daphne,
    wait_until,
)

from .test_fallback_batching import _page

pytestmark = [pytest.mark.integration]

CAP = 2


@pytest.fixture
def server(request, transactional_db):
    require_service(settings.USING_POSTGRES, "PostgreSQL (a table lock holds the saves)")
    with running_daphne(
        request, process_environment() | {"FALLBACK_MAX_IN_FLIGHT": str(CAP)}
    ) as daphne:
        yield daphne


def _post(http: httpx.Client, page: dict) -> httpx.Response:
    return http.post(page["url"], json={"changes": page["changes"]}, headers=page["headers"])


def test_past_the_cap_a_fallback_request_is_turned_away_at_once_and_the_held_ones_are_saved(
    server, sitting
):
    room = Room.objects.create(sitting=sitting, name="Hall", seats=CAP + 3)
    pages = [_page(sitting, room, number) for number in range(CAP + 3)]
    held, turned_away = pages[:CAP], pages[CAP:]

    with (
        psycopg.connect(database_conninfo_for_tests()) as locker,
        httpx.Client(base_url=server.url, trust_env=False, timeout=30) as http,
        ThreadPoolExecutor(max_workers=CAP) as pool,
    ):
        # The saves check the attempt first: they wait on this lock, each holding its slot.
        locker.execute("LOCK TABLE exams_attempt IN ACCESS EXCLUSIVE MODE")
        waiting = [pool.submit(_post, http, page) for page in held]
        with psycopg.connect(database_conninfo_for_tests(), autocommit=True) as admin:
            wait_until(
                lambda: (
                    admin.execute(
                        "SELECT count(*) FROM pg_locks WHERE relation = 'exams_attempt'::regclass AND NOT granted"
                    ).fetchone()[0]
                    >= CAP
                ),
                timeout=10,
                message=f"{CAP} saves waiting on the lock",
            )

        for page in turned_away:
            started = time.monotonic()
            response = _post(http, page)
            # Answered while the lock is still held: it never reached the database.
            assert time.monotonic() - started < 5
            assert response.status_code == 503
            assert response.json()["code"] == "unavailable"
            assert 3 <= int(response.headers["Retry-After"]) <= 8

        locker.commit()
        answers = [future.result() for future in waiting]

    assert [r.status_code for r in answers] == [200] * CAP
    assert AnswerLog.objects.count() == CAP  # the held saves were stored; the turned away were not
    # The slots are free again: the next save goes through.
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as http:
        assert _post(http, turned_away[0]).status_code == 200


async def test_a_request_cancelled_while_it_waits_gives_its_slot_back(alice, settings):
    """A client that gives up is cancelled by the server; the slot must not be lost with it."""
    settings.FALLBACK_MAX_IN_FLIGHT = 1
    inside, release = asyncio.Event(), asyncio.Event()

    @fallback.json_endpoint(methods=("POST",))
    async def slow(request, user):
        inside.set()
        await release.wait()
        return JsonResponse({"results": []})

    def signed_in_request():
        request = RequestFactory().post("/x/")
        request.user = alice
        return request

    first = asyncio.create_task(slow(signed_in_request()))
    await asyncio.wait_for(inside.wait(), 5)
    turned_away = await slow(signed_in_request())
    assert turned_away.status_code == 503

    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert fallback._in_flight == 0
    release.set()
    assert (await slow(signed_in_request())).status_code == 200
