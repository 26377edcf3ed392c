"""`BENCH drill_start_admit_500`: a proctored room of 500 candidates arrives, is admitted and starts
at once, against real Daphne processes on PostgreSQL and Redis (Issue 10, point 21: lock order).

    .venv/bin/python bench/drill.py          # about 2–4 minutes on the 2-core machine

1. A fresh database (DATABASE_URL, default postgres://…/exams_bench_drill; its name must contain
   "bench"; dropped and created), migrated; REDIS_URL's database emptied (not 0).
2. The demo exam, one proctored sitting with one room of N candidates (identity confirmed), two
   proctors; the room is started (no start code). Every candidate and proctor gets a session
   made directly (SessionStore), so no password hash is spent on 500 sign-ins.
3. BENCH_DAPHNE_PROCESSES (2) Daphne processes as in production (DJANGO_DEBUG=0). All N candidates
   at once, at most C requests in flight (BENCH_DRILL_CONCURRENCY, 500), each: opens the waiting
   room (arrival), a proctor writes to them (an audited write about their enrolment), a proctor
   admits them, they press Start and load the exam page. Arrivals, messages, admissions and
   starts of different candidates all overlap: every lock order of the admission and the start
   is exercised against the audit chain's lock.
4. Checks: every request answered as a person would expect (200, the admit's {"ok": true}, the
   exam page after Start), N admitted check-ins, N attempts of 100 items, the audit chain and the
   answer log verified.

Prints `BENCH drill_start_admit_<N> errors=<E> requests=<R> <rate> requests/s p50=… p99=… starts=<S>`;
exit status 1 (with "# PROBLEM: …" lines) when anything failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(ROOT))

from processes import end, end_all, start_daphnes  # noqa: E402

CANDIDATES = int(os.environ.get("BENCH_DRILL_CANDIDATES", "500"))
CONCURRENCY = int(os.environ.get("BENCH_DRILL_CONCURRENCY", "500"))
PROCESSES = int(os.environ.get("BENCH_DAPHNE_PROCESSES", "2"))
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/exams_bench_drill")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).parent / "daphne")
ATTEMPT_URL_PATH = "/attempts/"
PROBLEMS: list[str] = []


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def server_environment() -> dict:
    name = urlsplit(DATABASE_URL).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"DATABASE_URL names {name!r}: the drill drops its database, so the name must contain 'bench'")
    if (urlsplit(REDIS_URL).path.lstrip("/") or "0") == "0":
        raise SystemExit("REDIS_URL must name a Redis database other than 0 (the drill empties it)")
    env = dict(os.environ)
    env.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, DJANGO_DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings",
               MEDIA_ROOT=str(OUT / "media"), PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
               DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or "bench-secret-key-not-for-production-0123456789abcdef")
    return env


def fresh_database(env: dict) -> None:
    import psycopg
    import redis

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)


# --- fixtures (in this process, through Django) ----------------------------------------------------
def build(env: dict) -> dict:
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY",
                                           "DJANGO_DEBUG", "MEDIA_ROOT")})
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.utils import timezone

    from exams.demo import DEMO_EXAM, load_demo
    from exams.models import Enrolment, Exam, Room, Sitting
    from proctoring.models import RoomSession
    from proctoring.services import room_advance

    load_demo()
    exam = Exam.objects.get(code=DEMO_EXAM)
    User = get_user_model()
    password = make_password(secrets.token_hex(16))  # one hash, copied: nobody signs in with it
    candidates = User.objects.bulk_create(
        User(username=f"drill{n:04d}", first_name="Drill", last_name=f"Candidate {n}", password=password)
        for n in range(1, CANDIDATES + 1)
    )
    proctors = [User.objects.create(username=f"drillproctor{n}", password=password) for n in (1, 2)]
    now = timezone.now()
    sitting = Sitting.objects.create(exam=exam, name="Drill", starts_at=now - timedelta(minutes=1), late_entry_minutes=12 * 60,
                                     proctored=True, start_code_required=False)
    room = Room.objects.create(sitting=sitting, name="Drill room", seats=CANDIDATES)
    room.proctors.add(*proctors)
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(sitting=sitting, room=room, candidate=user, ticket_number=f"D-{n:04d}", seat=str(n),
                  grade="Specialist surgeon, second grade", identity_confirmed_at=now)
        for n, user in enumerate(candidates, start=1)
    )
    room_advance(room_id=room.pk, by=proctors[0], to=RoomSession.Stage.STARTED)
    backends = settings.AUTHENTICATION_BACKENDS
    backend = "django.contrib.auth.backends.ModelBackend" if "django.contrib.auth.backends.ModelBackend" in backends else backends[-1]

    def cookies(user) -> dict[str, str]:
        session = SessionStore()
        session.update({"_auth_user_id": str(user.pk), "_auth_user_backend": backend,
                        "_auth_user_hash": user.get_session_auth_hash()})
        session.create()
        return {"sessionid": session.session_key, "csrftoken": secrets.token_hex(16), "exam_device": secrets.token_hex(16)}

    return {
        "sitting": sitting.pk, "room": room.pk,
        "proctors": [cookies(p) for p in proctors],
        "candidates": [{"enrolment": e.pk, "cookies": cookies(e.candidate)} for e in enrolments],
    }


# --- the servers ------------------------------------------------------------------------------------
def start_servers(env: dict) -> tuple[list[int], list[subprocess.Popen]]:
    return start_daphnes(PROCESSES, daphne=DAPHNE, env=env, log_dir=OUT, label="drill", wait=90)


# --- the drill (aiohttp) ----------------------------------------------------------------------------
async def drill(ports: list[int], manifest: dict) -> dict:
    import aiohttp
    from yarl import URL

    timeout = aiohttp.ClientTimeout(total=120)

    def session_for(port: int, cookies: dict[str, str], limit: int) -> aiohttp.ClientSession:
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies(cookies, URL(f"http://127.0.0.1:{port}/"))
        return aiohttp.ClientSession(cookie_jar=jar, timeout=timeout, connector=aiohttp.TCPConnector(limit=limit),
                                     headers={"User-Agent": "exam-bench-drill/1"})

    # Each proctor on each server: one session with enough connections for the whole room.
    proctor_sessions = [(port, cookies, session_for(port, cookies, CONCURRENCY))
                        for cookies in manifest["proctors"] for port in ports]
    in_flight = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    samples: list[str] = []
    starts = 0
    go = asyncio.Event()

    def fail(step: str, what: str) -> None:
        key = f"{step}:{what}"
        errors[key] = errors.get(key, 0) + 1
        if len(samples) < 10:
            samples.append(key)

    async def request(step: str, session, method: str, url: str, *, cookies: dict, origin: str, check, **kwargs) -> bool:
        headers = {"X-CSRFToken": cookies["csrftoken"], "Origin": origin, "Referer": origin + "/"}
        async with in_flight:
            began = time.perf_counter()
            try:
                async with session.request(method, url, headers=headers, **kwargs) as response:
                    body = await response.text()
                    ok, why = check(response, body)
            except (TimeoutError, aiohttp.ClientError) as exc:
                fail(step, type(exc).__name__)
                return False
            latencies.append(time.perf_counter() - began)
        if not ok:
            fail(step, why)
        return ok

    def status_200(response, body):
        return response.status == 200, f"http_{response.status}"

    def json_ok(response, body):
        if response.status != 200:
            return False, f"http_{response.status}"
        return (json.loads(body).get("ok") is True), "not_ok"

    def exam_page(response, body):
        if response.status != 200:
            return False, f"http_{response.status}"
        return (ATTEMPT_URL_PATH in response.url.path and 'id="attempt-data"' in body), "not_the_exam_page"

    async def candidate(index: int, entry: dict) -> None:
        nonlocal starts
        port = ports[index % len(ports)]
        origin = f"http://127.0.0.1:{port}"
        enrolment, cookies = entry["enrolment"], entry["cookies"]
        proctor_port, proctor_cookies, proctor = proctor_sessions[index % len(proctor_sessions)]
        proctor_origin = f"http://127.0.0.1:{proctor_port}"
        async with session_for(port, cookies, 4) as own:
            await go.wait()
            if not await request("arrive", own, "GET", f"{origin}/proctoring/enrolments/{enrolment}/waiting-room/",
                                 cookies=cookies, origin=origin, check=status_200):
                return
            await request("message", proctor, "POST", f"{proctor_origin}/proctoring/candidates/{enrolment}/message/",
                          cookies=proctor_cookies, origin=proctor_origin, check=json_ok,
                          json={"text": "Please show your ID card to the camera."})
            if not await request("admit", proctor, "POST", f"{proctor_origin}/proctoring/candidates/{enrolment}/admit/",
                                 cookies=proctor_cookies, origin=proctor_origin, check=json_ok, json={}):
                return
            if await request("start", own, "POST", f"{origin}/enrolments/{enrolment}/start/", cookies=cookies,
                             origin=origin, check=exam_page):
                starts += 1

    tasks = [asyncio.create_task(candidate(n, entry)) for n, entry in enumerate(manifest["candidates"])]
    try:
        await asyncio.sleep(0.5)  # every task is parked on the event
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - began
    finally:
        await asyncio.gather(*(session.close() for _port, _cookies, session in proctor_sessions))
    ordered = sorted(latencies)

    def pct(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000 if ordered else float("nan")

    return {"requests": len(ordered), "seconds": seconds, "rate": len(ordered) / seconds if seconds else 0.0,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0), "errors": errors, "error_samples": samples, "starts": starts}


# --- checks -----------------------------------------------------------------------------------------
def check(manifest: dict) -> dict:
    from django.db import connection, transaction

    from exams.audit import verify_answer_batches, verify_chain
    from exams.models import Attempt, AttemptItem
    from proctoring.models import CheckIn

    sitting = manifest["sitting"]
    attempts = Attempt.objects.filter(enrolment__sitting_id=sitting, is_practice=False)
    short = (AttemptItem.objects.filter(attempt__in=attempts).values("attempt_id").order_by().distinct().count(),
             attempts.count())
    admitted = CheckIn.objects.filter(enrolment__sitting_id=sitting, status=CheckIn.Status.ADMITTED).count()
    with transaction.atomic():
        with connection.cursor() as cursor:  # one snapshot for the chain and the answer log
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        entries, fault = verify_chain()
        _batches, batch_fault = verify_answer_batches()
    if attempts.count() != CANDIDATES:
        PROBLEMS.append(f"{attempts.count()} attempts of {CANDIDATES} candidates")
    if short[0] != short[1]:
        PROBLEMS.append(f"{short[1] - short[0]} attempts without their items")
    if admitted != CANDIDATES:
        PROBLEMS.append(f"{admitted} admitted of {CANDIDATES}")
    if fault or batch_fault:
        PROBLEMS.append(f"audit chain: {fault or batch_fault}")
    return {"attempts": attempts.count(), "admitted": admitted, "audit_entries": entries}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    env = server_environment()
    started = time.monotonic()
    fresh_database(env)
    manifest = build(env)
    note(f"{CANDIDATES} candidates in one proctored room, 2 proctors, fixtures in {time.monotonic() - started:.0f} s")
    ports, servers = start_servers(env)
    try:
        result = asyncio.run(drill(ports, manifest))
    finally:
        for server in servers:
            end(server)
    result.update(check(manifest))
    (OUT / "drill.json").write_text(json.dumps(result, indent=1))
    failed = sum(result["errors"].values())
    if failed:
        PROBLEMS.append(f"{failed} requests failed: {result['errors']} (first: {result['error_samples']})")
    print(f"BENCH drill_start_admit_{CANDIDATES} errors={failed} requests={result['requests']} "
          f"{result['rate']:.1f} requests/s p50={result['p50_ms']:.0f}ms p99={result['p99_ms']:.0f}ms max={result['max_ms']:.0f}ms "
          f"starts={result['starts']} admitted={result['admitted']} concurrency={CONCURRENCY} daphne={PROCESSES}", flush=True)
    note(f"audit entries {result['audit_entries']}; details in bench/out/drill.json and bench/out/daphne-drill-*.log")
    for problem in PROBLEMS:
        print(f"# PROBLEM: {problem}", file=sys.stderr, flush=True)
    if PROBLEMS:
        raise SystemExit(1)


if __name__ == "__main__":
    try:
        main()
    finally:
        end_all()
