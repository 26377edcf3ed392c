"""`make drills`: fault drills with N exam pages open (issue 11, "How it is shown").

    .venv/bin/python bench/drills.py             # all faults, 500 pages, about 15–20 minutes
    DRILL_PAGES=50 DRILLS=proxy_drop_all,redis_restart .venv/bin/python bench/drills.py

A production-like stack of the drill's own: a private PostgreSQL (initdb into a temp dir, a free
port), a private Redis (no persistence), DRILL_APPS (2) Daphne processes with DJANGO_DEBUG=0 behind
a small TCP proxy (bench/faults.py), and a Celery worker. DRILL_PAGES (500) simulated exam pages
(bench/pages.py) each answer an item every 2–3 s. Each fault of DRILLS (default: all, in the
order of FAULTS) runs with a quiet phase before and after it. Per fault one line:

    DRILL <name> acked=… lost=… signed_out=… back_on_socket_p99=…s stuck_processes=… dup_log_rows=… http_saves=…

acked: changes acknowledged ok during the phase; lost: of those, the ones not in the answer log
(attempt, position, seq and value) at the end; signed_out: pages signed out during the phase;
back_on_socket: for each page that lost its socket during the fault, from "the server answers
again" (the first /healthz 200 through the proxy after the fault ended) to its socket open again;
stuck_processes: Daphne processes whose own /healthz is not 200 within 30 s after the fault ended.
Exit status 1 with "# PROBLEM" lines when a goal fails (lost=0, signed_out=0, p99 ≤ 5 s, stuck=0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out" / "drills"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402
from faults import App, Managed, PrivatePostgres, PrivateRedis, Proxy  # noqa: E402
from pages import Ack, Ledger, Page  # noqa: E402
from processes import end_all  # noqa: E402

FAULTS = ["kill9_app_servers", "one_app_killed", "redis_restart", "redis_down_10s", "proxy_drop_all",
          "network_cut_100_30s", "postgres_restart", "postgres_stop_60s", "worker_killed"]
PAGES = int(os.environ.get("DRILL_PAGES", "500"))
APPS = int(os.environ.get("DRILL_APPS", "2"))
QUIET_BEFORE = float(os.environ.get("DRILL_QUIET_BEFORE", "15"))
QUIET_AFTER = float(os.environ.get("DRILL_QUIET_AFTER", "30"))
WARM_UP = float(os.environ.get("DRILL_WARM_UP", "180"))
ANSWER_WAIT = 90.0  # how long a fault's end may take to give a /healthz 200 through the proxy
STUCK_WAIT = 30.0
P99_GOAL = 5.0
BIN = Path(sys.executable).parent
PROBLEMS: list[str] = []


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def chosen_faults() -> list[str]:
    names = [n.strip() for n in os.environ.get("DRILLS", "all").split(",") if n.strip()]
    if names in ([], ["all"]):
        return FAULTS
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise SystemExit(f"drills: unknown fault(s) {unknown}; known: {', '.join(FAULTS)}")
    return names


def server_environment(database_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, DJANGO_DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings",
               MEDIA_ROOT=str(OUT / "media"), PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
               DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or "drills-secret-key-not-for-production-0123456789abcdef")
    return env


# --- fixtures (in this process, through Django) ------------------------------------------------------
def build(env: dict, count: int) -> list[dict]:
    """N candidates, each with a started attempt on their page's device and a session made
    directly (no password hash per candidate); return what each page needs."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY",
                                           "DJANGO_DEBUG", "MEDIA_ROOT")})
    import django

    django.setup()
    from datetime import timedelta
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.urls import reverse
    from django.utils import timezone

    from exams.demo import DEMO_EXAM, load_demo
    from exams.models import Enrolment, Exam, Room, Sitting
    from exams.services import attempt_start

    load_demo()
    exam = Exam.objects.get(code=DEMO_EXAM)
    User = get_user_model()
    password = make_password(secrets.token_hex(16))  # one hash, copied: nobody signs in with it
    users = User.objects.bulk_create(
        User(username=f"drills{n:04d}", first_name="Drills", last_name=f"Candidate {n}", password=password)
        for n in range(1, count + 1)
    )
    now = timezone.now()
    sitting = Sitting.objects.create(exam=exam, name="Fault drills", starts_at=now - timedelta(minutes=1),
                                     late_entry_minutes=12 * 60, proctored=False)
    room = Room.objects.create(sitting=sitting, name="Drills room", seats=count)
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(sitting=sitting, room=room, candidate=user, ticket_number=f"F-{n:04d}",
                  grade="Specialist surgeon, second grade", identity_confirmed_at=now)
        for n, user in enumerate(users, start=1)
    )
    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
    backend = settings.AUTHENTICATION_BACKENDS[0]
    pages = []
    for user, enrolment in zip(users, enrolments, strict=True):
        device = secrets.token_hex(16)
        attempt = attempt_start(candidate=user, enrolment_id=enrolment.pk, device_id=device)
        session = SessionStore()
        session.update({"_auth_user_id": str(user.pk), "_auth_user_backend": backend,
                        "_auth_user_hash": user.get_session_auth_hash()})
        session.create()
        pages.append({
            "attempt": attempt.pk,
            "cookies": {"sessionid": session.session_key, "csrftoken": secrets.token_hex(16), "exam_device": device},
            "paths": {"page": reverse("exams:attempt", args=[attempt.pk]),
                      "save": reverse("exams:attempt_save", args=[attempt.pk]),
                      "socket": f"/ws/attempt/{attempt.pk}/"},
        })
    return pages


# --- the stack and its faults ------------------------------------------------------------------------
class Stack:
    def __init__(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.postgres = PrivatePostgres(OUT)
        self.postgres.start()
        self.redis = PrivateRedis(OUT)
        self.redis.start()
        database = "drills"
        with psycopg.connect(self.postgres.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        self.env = server_environment(self.postgres.url(database), self.redis.url(1))
        self.apps = [App(n, daphne=str(BIN / "daphne"), env=self.env, log_dir=OUT) for n in range(1, APPS + 1)]
        self.worker = Managed("celery", [str(BIN / "celery"), "-A", "config", "worker", "-l", "warning", "--concurrency", "2"],
                              env=self.env, log=OUT / "celery.log")
        self.proxy = Proxy([app.port for app in self.apps])

    def start_processes(self) -> None:
        for app in self.apps:
            app.start()
        self.worker.start()
        for app in self.apps:
            if not app.wait_listening(90):
                raise SystemExit(f"drills: {app.name} did not listen within 90 s; see {app.log}")

    def remove(self) -> None:
        for process in (*self.apps, self.worker, self.redis):
            with contextlib.suppress(Exception):
                process.stop()
        self.postgres.remove()


async def kill9_app_servers(stack: Stack) -> None:
    for app in stack.apps:
        app.kill9()
    await asyncio.sleep(5)
    for app in stack.apps:
        app.start()


async def one_app_killed(stack: Stack) -> None:
    stack.apps[0].kill9()
    await asyncio.sleep(10)
    stack.apps[0].start()


async def redis_restart(stack: Stack) -> None:
    stack.redis.kill9()
    await asyncio.to_thread(stack.redis.start)


async def redis_down_10s(stack: Stack) -> None:
    stack.redis.kill9()
    await asyncio.sleep(10)
    await asyncio.to_thread(stack.redis.start)


async def proxy_drop_all(stack: Stack) -> None:
    note(f"the proxy dropped {stack.proxy.drop_all()} connections")


async def network_cut_100_30s(stack: Stack) -> None:
    stack.proxy.cut()
    await asyncio.sleep(30)
    stack.proxy.restore()


async def postgres_restart(stack: Stack) -> None:
    await asyncio.to_thread(stack.postgres.restart)


async def postgres_stop_60s(stack: Stack) -> None:
    await asyncio.to_thread(stack.postgres.stop)
    await asyncio.sleep(60)
    await asyncio.to_thread(stack.postgres.start)


async def worker_killed(stack: Stack) -> None:
    stack.worker.kill9()
    await asyncio.sleep(5)
    stack.worker.start()


FAULT_ACTIONS = {f.__name__: f for f in (kill9_app_servers, one_app_killed, redis_restart, redis_down_10s, proxy_drop_all,
                                         network_cut_100_30s, postgres_restart, postgres_stop_60s, worker_killed)}


# --- a phase -------------------------------------------------------------------------------------------
async def first_answer(port: int, timeout: float) -> float | None:
    """Return when /healthz through the proxy first answered 200, or None."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    await response.read()
                    if response.status == 200:
                        return time.monotonic()
            await asyncio.sleep(0.2)
    return None


def stuck(apps: list[App], since: float) -> list[str]:
    """Return the apps whose /healthz did not answer 200 within STUCK_WAIT of `since`."""
    def one(app: App) -> str | None:
        while time.monotonic() < since + STUCK_WAIT:
            if app.healthz(timeout=3) == 200:
                return None
            time.sleep(0.5)
        return app.name

    with ThreadPoolExecutor(len(apps)) as pool:
        return [name for name in pool.map(one, apps) if name]


async def run_phase(name: str, stack: Stack) -> dict:
    began = time.monotonic()
    note(f"{name}: quiet {QUIET_BEFORE:.0f} s")
    await asyncio.sleep(QUIET_BEFORE)
    fault_start = time.monotonic()
    note(f"{name}: fault")
    await FAULT_ACTIONS[name](stack)
    fault_end = time.monotonic()
    stuck_check = asyncio.create_task(asyncio.to_thread(stuck, stack.apps, fault_end))
    answered = await first_answer(stack.proxy.ports["main"], ANSWER_WAIT)
    note(f"{name}: fault over after {fault_end - fault_start:.1f} s; server answers "
         + (f"{answered - fault_end:.1f} s later" if answered else "never"))
    await asyncio.sleep(max(0.0, (answered or time.monotonic()) + QUIET_AFTER - time.monotonic()))
    return {"name": name, "began": began, "fault_start": fault_start, "fault_end": fault_end, "answered": answered,
            "ended": time.monotonic(), "stuck": await stuck_check}


def back_on_socket(pages: list[Page], phase: dict) -> tuple[list[float], int]:
    """Return each page's time back on its socket after a loss during the fault, and how many never came back."""
    reference = phase["answered"] or phase["fault_end"]
    times, never = [], 0
    for page in pages:
        lost = [t for t in page.losses if phase["fault_start"] <= t <= reference]
        if not lost or page.signed_out:
            continue
        reopened = [t for t in page.opens if t > max(lost)]
        if reopened:
            times.append(max(0.0, reopened[0] - reference))
        else:
            never += 1
    return times, never


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


class LoopLag:
    """The drill's own event loop lag (pages and proxy share it): a result is only worth its
    numbers if the harness was not the slow part."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (when, lag in s)

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.1)
            self.samples.append((time.monotonic(), time.monotonic() - before - 0.1))

    def worst(self, began: float, ended: float) -> float:
        return max((lag for at, lag in self.samples if began <= at <= ended), default=0.0)


LAG = LoopLag()


# --- the run ---------------------------------------------------------------------------------------------
async def drive(stack: Stack, fixtures: list[dict], faults: list[str]) -> tuple[list[Page], Ledger, list[dict]]:
    lag = asyncio.create_task(LAG.run())
    await stack.proxy.start()
    ledger = Ledger()
    cut_pages = min(100, PAGES // 5)
    pages = [Page(n, port=stack.proxy.ports["cut" if n < cut_pages else "main"], attempt=f["attempt"], cookies=f["cookies"],
                  paths=f["paths"], ledger=ledger) for n, f in enumerate(fixtures)]
    loading = asyncio.Semaphore(20)

    async def load(page: Page) -> None:
        page.open_session()
        async with loading:
            for attempt in range(5):
                try:
                    await page.load()
                    return
                except (TimeoutError, aiohttp.ClientError, RuntimeError, ValueError) as exc:
                    if attempt == 4:
                        raise SystemExit(f"drills: page {page.index} could not load its exam page: {exc}") from exc
                    await asyncio.sleep(1 + attempt)

    await asyncio.gather(*(load(page) for page in pages))
    for page in pages:
        page.start()
    # Every page on its socket before the first fault (or WARM_UP seconds): the first quiet phase
    # is then quiet, not the tail of 500 pages connecting.
    deadline = time.monotonic() + WARM_UP
    while time.monotonic() < deadline and sum(bool(p.opens) for p in pages) < len(pages):
        await asyncio.sleep(0.5)
    note(f"{sum(bool(p.opens) for p in pages)} of {len(pages)} pages on their socket after {WARM_UP - deadline + time.monotonic():.0f} s "
         f"(dials: {ledger.dials}; harness lag ≤ {LAG.worst(0, time.monotonic()):.2f} s); {cut_pages} behind the cut port")
    phases = []
    try:
        for name in faults:
            phases.append(await run_phase(name, stack))
        # Let the pages empty their outboxes before the count.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(p.outbox for p in pages if not p.signed_out):
            await asyncio.sleep(0.5)
    finally:
        await asyncio.gather(*(page.stop() for page in pages))
        lag.cancel()
        await stack.proxy.close()
    return pages, ledger, phases


def stored_log(database_url: str) -> tuple[dict[tuple[int, int], list[tuple[int, str]]], set[tuple[int, int]], dict[tuple[int, int], list]]:
    """Return the answer log as (attempt, seq) -> [(position, value as canonical JSON)], the
    duplicated keys, and each (attempt, position)'s option order (to read a page's choices as stored)."""
    rows: dict[tuple[int, int], list[tuple[int, str]]] = {}
    # A connection of its own, not Django's: the pool's were cut when the drill restarted PostgreSQL.
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT attempt_id, seq, position, value::text FROM exams_answerlog")
        for attempt, seq, position, value in cursor.fetchall():
            rows.setdefault((attempt, seq), []).append((position, canonical(json.loads(value))))
        cursor.execute("SELECT attempt_id, position, option_order::text FROM exams_attemptitem")
        orders = {(attempt, position): json.loads(order) for attempt, position, order in cursor.fetchall()}
    return rows, {key for key, found in rows.items() if len(found) > 1}, orders


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def as_stored(ack: Ack, orders: dict[tuple[int, int], list]) -> tuple[int, str]:
    """Return what the answer log holds for an acknowledged change: a choice's display indexes are
    stored as the option ids they showed (exams.services.answers.stored_value)."""
    order = orders.get((ack.attempt, ack.pos)) or []
    value = sorted(order[i] for i in ack.value) if order and isinstance(ack.value, list) else ack.value
    return ack.pos, canonical(value)


def report(pages: list[Page], ledger: Ledger, phases: list[dict], database_url: str) -> None:
    log, duplicated, orders = stored_log(database_url)
    lost_total = 0
    for phase in phases:
        window = [a for a in ledger.acks if phase["began"] <= a.at <= phase["ended"]]
        lost = [a for a in window
                if as_stored(a, orders) not in log.get((a.attempt, a.seq), [])]
        lost_total += len(lost)
        signed_out = [s for s in ledger.signed_out if phase["began"] <= s[1] <= phase["ended"]]
        times, never = back_on_socket(pages, phase)
        dups = sum(1 for a in window if (a.attempt, a.seq) in duplicated)
        http = sum(1 for t in ledger.http_saves if phase["began"] <= t <= phase["ended"])
        answered = f"{phase['answered'] - phase['fault_end']:.1f}s" if phase["answered"] else "never"
        print(f"DRILL {phase['name']} acked={len(window)} lost={len(lost)} signed_out={len(signed_out)} "
              f"back_on_socket_p99={p99(times) if not never else math.inf:.1f}s stuck_processes={len(phase['stuck'])} "
              f"dup_log_rows={dups} http_saves={http} lost_socket={len(times) + never} never_back={never} "
              f"server_answered_after={answered} harness_lag_max={LAG.worst(phase['began'], phase['ended']):.2f}s", flush=True)
        name = phase["name"]
        if lost:
            PROBLEMS.append(f"{name}: {len(lost)} acknowledged changes are not in the answer log (first: {lost[0]})")
        if signed_out:
            PROBLEMS.append(f"{name}: {len(signed_out)} pages signed out ({signed_out[0][2]})")
        if never or p99(times) > P99_GOAL:
            PROBLEMS.append(f"{name}: back on the socket p99 {p99(times):.1f} s, {never} pages never back (goal ≤ {P99_GOAL:.0f} s)")
        if phase["stuck"]:
            PROBLEMS.append(f"{name}: /healthz not 200 within {STUCK_WAIT:.0f} s on {', '.join(phase['stuck'])}")
        if not phase["answered"]:
            PROBLEMS.append(f"{name}: no /healthz 200 through the proxy within {ANSWER_WAIT:.0f} s of the fault's end")
    pending = sum(len(p.outbox) for p in pages if not p.signed_out)
    print(f"DRILL total acked={len(ledger.acks)} lost={lost_total} signed_out={len(ledger.signed_out)} "
          f"dup_log_keys={len(duplicated)} pending_at_end={pending} refused={ledger.refused} "
          f"http_errors={ledger.http_errors} page_problems={ledger.problems} dials={ledger.dials}", flush=True)
    if pending:
        PROBLEMS.append(f"{pending} changes still unacknowledged 60 s after the last fault")
    if duplicated:
        PROBLEMS.append(f"{len(duplicated)} (attempt, seq) keys with more than one answer-log row")


def main() -> None:
    faults = chosen_faults()
    random.seed(2026)
    started = time.monotonic()
    stack = Stack()
    try:
        fixtures = build(stack.env, PAGES)
        note(f"private PostgreSQL on {stack.postgres.port}, Redis on {stack.redis.port}; {PAGES} attempts in "
             f"{time.monotonic() - started:.0f} s")
        stack.start_processes()
        pages, ledger, phases = asyncio.run(drive(stack, fixtures, faults))
        report(pages, ledger, phases, stack.env["DATABASE_URL"])
    finally:
        stack.remove()
        end_all()
    note(f"{len(faults)} drills, {PAGES} pages, {time.monotonic() - started:.0f} s; logs in {OUT}")
    for problem in PROBLEMS:
        print(f"# PROBLEM: {problem}", file=sys.stderr, flush=True)
    if PROBLEMS:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
