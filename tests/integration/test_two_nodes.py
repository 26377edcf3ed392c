"""Issue 13, "a two-node drill": one app node dies with 200 candidates mid-exam.

Two app nodes, each with two Daphne processes (node A on 127.0.1.1, node B on 127.0.1.2: loopback
addresses standing for two machines), behind nginx with the shipped site file, sharing one
PostgreSQL, one Redis and a Celery worker. 200 simulated exam pages answer over wss:// through
nginx the way the page does (every change kept until acknowledged, sent again on each new socket).
Node A is killed (SIGKILL, both processes). Its pages' sockets drop; they dial again through nginx,
which takes them to node B. Then: every answer any page saw acknowledged is in the answer log, and
the time each page took from losing its socket to having it open again is reported.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import statistics
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from exams.middleware import DEVICE_COOKIE
from exams.models import AnswerLog, AttemptItem, ItemKind
from exams.services import attempt_start
from tests.deploy.certificates import make_server_certificate
from tests.e2e.test_behind_nginx import PROXY_ADDRESS, production_environment
from tests.factories import PASSWORD, enrol, make_bank, make_exam, make_sitting
from tests.proxy import NginxProxy, collected_static
from tests.servers import (
    DaphneServer,
    _fresh_log_dir,
    require_service,
    running_worker,
)

pytestmark = [pytest.mark.integration]

PAGES = 200
NODES = {"A": "127.0.1.1", "B": "127.0.1.2"}
BEFORE_KILL, AFTER_KILL = 8.0, 14.0
ANSWER_EVERY = (1.0, 2.0)  # seconds between a page's answers
RESUME_GOAL = 10.0  # seconds: every page back on a socket within this of losing it


class Page:
    """One candidate's exam page, as far as its socket goes."""

    def __init__(self, *, attempt: int, positions: list[int], cookie: str) -> None:
        self.attempt, self.positions, self.cookie = attempt, positions, cookie
        self.seq = 0
        self.pending: dict[int, dict] = {}  # seq -> change, kept until acknowledged
        self.unsent = False
        self.acked: list[tuple[int, str]] = []  # (seq, value)
        self.down_since: float | None = None
        self.resumed_after: list[float] = []  # seconds from losing the socket to its next one open

    async def run(self, url: str, origin: str, tls: ssl.SSLContext, until: float) -> None:
        answering = asyncio.create_task(self._answer(until))
        try:
            while time.monotonic() < until:
                try:
                    async with connect(
                        url,
                        ssl=tls,
                        origin=origin,
                        additional_headers={"Cookie": self.cookie},
                        open_timeout=10,
                        ping_interval=None,
                    ) as socket:
                        await self._talk(socket, until)
                except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                    pass
                if self.down_since is None and time.monotonic() < until:
                    self.down_since = time.monotonic()
                await asyncio.sleep(random.uniform(0.25, 1.0))  # the page's redial delay
        finally:
            answering.cancel()

    async def _answer(self, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(random.uniform(*ANSWER_EVERY))
            self.seq += 1
            self.pending[self.seq] = {
                "pos": random.choice(self.positions),
                "seq": self.seq,
                "value": f"answer {self.seq}",
            }
            self.unsent = True

    async def _send_pending(self, socket) -> None:
        self.unsent = False
        if self.pending:
            await socket.send(json.dumps({"t": "save", "changes": list(self.pending.values())}))

    async def _talk(self, socket, until: float) -> None:
        state = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert state["t"] == "state" and state["thisDevice"], state
        if self.down_since is not None:
            self.resumed_after.append(time.monotonic() - self.down_since)
            self.down_since = None
        await self._send_pending(socket)  # everything not yet acknowledged, again
        while time.monotonic() < until:
            try:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout=0.3))
            except TimeoutError:
                if self.unsent:
                    await self._send_pending(socket)
                continue
            if message.get("t") == "ack":
                for result in message["results"]:
                    change = self.pending.pop(result["seq"], None) if result["ok"] else None
                    if change is not None:
                        self.acked.append((change["seq"], change["value"]))


def _pages(count: int) -> list[Page]:
    exam = make_exam(make_bank(topics=1, per_kind=2), per_topic=10)
    sitting = make_sitting(exam)
    room = sitting.rooms.create(name="Hall", seats=count)
    pages = []
    # One password hash for all: 200 of them (PBKDF2) took over a minute, and nobody signs in here.
    hashed = make_password(PASSWORD)
    candidates = get_user_model().objects.bulk_create(
        get_user_model()(username=f"candidate{n:03d}", password=hashed) for n in range(count)
    )
    for n, candidate in enumerate(candidates):
        device = f"{n:032x}"
        attempt = attempt_start(
            candidate=candidate, enrolment_id=enrol(sitting, room, candidate).pk, device_id=device
        )
        positions = list(
            AttemptItem.objects.filter(
                attempt=attempt, item_version__item__kind__in=[ItemKind.FILL_IN, ItemKind.FREE_TEXT]
            ).values_list("position", flat=True)
        )
        client = Client()
        client.force_login(candidate)
        cookie = f"sessionid={client.cookies['sessionid'].value}; {DEVICE_COOKIE}={device}"
        pages.append(Page(attempt=attempt.pk, positions=positions, cookie=cookie))
    return pages


def test_a_node_killed_with_200_candidates_mid_exam(request, transactional_db, tmp_path):
    require_service(
        bool(settings.REDIS_URL) and settings.USING_POSTGRES,
        "PostgreSQL and Redis (the nodes share them)",
    )
    pages = _pages(PAGES)
    log_dir = _fresh_log_dir(request.node.name)
    certificate = make_server_certificate(tmp_path / "tls")
    static_root = collected_static(tmp_path / "static")
    nodes = {
        name: [DaphneServer(env={}, log_dir=log_dir, host=address) for _ in range(2)]
        for name, address in NODES.items()
    }
    servers = [server for node in nodes.values() for server in node]
    proxy = NginxProxy(
        upstreams=[f"{s.host}:{s.port}" for s in servers],
        certificate=certificate,
        static_root=static_root,
        workdir=tmp_path / "nginx",
        proxy_address=PROXY_ADDRESS,
    )
    env = production_environment(proxy.url, tmp_path / "mail")
    env["DJANGO_ALLOWED_HOSTS"] = ",".join(["localhost", "127.0.0.1", *NODES.values()])
    with running_worker(f"{request.node.name}-worker"):
        try:
            for server in servers:
                server.env = env
                server.start()
            proxy.start()
            outcome = asyncio.run(_drill(pages, proxy, certificate, nodes["A"]))
        finally:
            proxy.stop()
            for server in servers:
                server.stop()

    killed_pages, resume = outcome
    stored = set(AnswerLog.objects.values_list("attempt_id", "seq", "value"))
    acked = [(page.attempt, seq, value) for page in pages for seq, value in page.acked]
    lost = [entry for entry in acked if entry not in stored]
    print(
        f"\nDRILL node_killed pages={PAGES} on_killed_node={killed_pages} acked={len(acked)} lost={len(lost)} "
        f"resumed={len(resume)} resume_p50={statistics.median(resume):.2f}s "
        f"resume_p99={sorted(resume)[int(len(resume) * 0.99) - 1]:.2f}s resume_max={max(resume):.2f}s"
    )
    assert len(acked) > PAGES * 5
    assert lost == [], lost[:5]
    # The pages the killed node carried all came back, through nginx, to node B.
    assert len(resume) >= killed_pages > PAGES // 5
    assert max(resume) < RESUME_GOAL, sorted(resume)[-5:]
    assert not any(page.down_since for page in pages), "a page ended without its socket"


async def _drill(
    pages: list[Page], proxy: NginxProxy, certificate, node_a: list[DaphneServer]
) -> tuple[int, list[float]]:
    tls = ssl.create_default_context(cafile=str(certificate.authority))
    origin = proxy.url
    url = proxy.url.replace("https://", "wss://")
    until = time.monotonic() + BEFORE_KILL + AFTER_KILL
    running = [
        asyncio.create_task(page.run(f"{url}/ws/attempt/{page.attempt}/", origin, tls, until))
        for page in pages
    ]
    await asyncio.sleep(BEFORE_KILL)
    # The pages node A carried are the ones whose socket dropped from here on.
    before = [len(page.resumed_after) for page in pages]
    for server in node_a:
        server.kill()
    await asyncio.gather(*running)
    resumed = [page.resumed_after[before[n] :] for n, page in enumerate(pages)]
    killed = sum(1 for times in resumed if times)
    return killed, [t for times in resumed for t in times]
