"""Load client: virtual candidates, each with its own cookie jar, against a running server.

    client.py login    --ports 8701,8702 --manifest M --sessions S [--concurrency 8]
    client.py storm    --ports … --sessions S --enrolments E --concurrency C --out O
    client.py autosave --ports … --sessions S --attempts A --phases 50:15,500:15 --out O

`login` signs every candidate in through the real login form (untimed) and keeps their cookies.
`storm` opens each candidate's home page (untimed, as the browser shows the Start button and
holds a keep-alive connection), then, all together with at most C in flight, presses Start and
loads the exam page the redirect leads to: that round trip is what is timed.
`autosave` loads each candidate's exam page, opens its WebSocket (untimed), then for each phase
keeps at most C saves outstanding, each socket waiting for its ack before it sends the next.
Everything is bounded: a fixed number of candidates, per-request timeouts, phases of fixed length.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path

import aiohttp
from answers import random_change
from yarl import URL

HOST = "127.0.0.1"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)
SAVE_TIMEOUT_SECONDS = 30
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ATTEMPT_URL = re.compile(r"/attempts/(\d+)/$")
PAYLOAD = re.compile(r'<script id="attempt-data" type="application/json">(.*?)</script>', re.S)
COOKIES = ("sessionid", "csrftoken", "exam_device")


def base(port: int) -> str:
    return f"http://{HOST}:{port}"


def new_session(port: int, cookies: dict[str, str] | None = None) -> aiohttp.ClientSession:
    # unsafe=True: aiohttp otherwise refuses cookies set by an IP-address host.
    jar = aiohttp.CookieJar(unsafe=True)
    if cookies:
        jar.update_cookies(cookies, URL(base(port) + "/"))
    return aiohttp.ClientSession(cookie_jar=jar, timeout=REQUEST_TIMEOUT,
                                 connector=aiohttp.TCPConnector(limit=4, force_close=False),
                                 headers={"User-Agent": "exam-bench/1"})


def jar_cookies(session: aiohttp.ClientSession, port: int) -> dict[str, str]:
    found = session.cookie_jar.filter_cookies(URL(base(port) + "/"))
    return {name: found[name].value for name in COOKIES if name in found}


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def count_error(errors: dict[str, int], exc: BaseException) -> None:
    """Count a failed request under its exception's name."""
    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1


def summary(latencies: list[float], seconds: float, errors: dict[str, int]) -> dict:
    ordered = sorted(latencies)
    return {
        "count": len(ordered), "seconds": seconds, "rate": len(ordered) / seconds if seconds > 0 else 0.0,
        "p50_ms": percentile(ordered, 0.50) * 1000, "p90_ms": percentile(ordered, 0.90) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000, "max_ms": (ordered[-1] * 1000) if ordered else float("nan"),
        "errors": errors,
    }


async def gather_limited(limit: int, coroutines) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


async def retrying(what: str, attempt, tries: int = 5):
    """Run an untimed set-up step again when the server refuses it under load (e.g. HTTP 500)."""
    for n in range(tries):
        try:
            return await attempt()
        except (TimeoutError, RuntimeError, ConnectionError, aiohttp.ClientError) as exc:
            if n == tries - 1:
                raise
            print(f"{what} failed ({exc}); retrying", file=sys.stderr)
            await asyncio.sleep(1 + n)


# --- login --------------------------------------------------------------------------------------
async def login_one(port: int, username: str, password: str) -> dict[str, str]:
    return await retrying(f"login of {username}", lambda: _login_once(port, username, password))


async def _login_once(port: int, username: str, password: str) -> dict[str, str]:
    async with new_session(port) as session:
        async with session.get(f"{base(port)}/login/") as response:
            page = await response.text()
            if response.status != 200:
                raise RuntimeError(f"GET /login/ gave {response.status}")
        token = CSRF_FIELD.search(page)
        if token is None:
            raise RuntimeError("the login page has no CSRF token")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": ""}
        async with session.post(f"{base(port)}/login/", data=form, allow_redirects=False,
                                headers={"Origin": base(port), "Referer": f"{base(port)}/login/"}) as response:
            await response.read()
            if response.status != 302:
                raise RuntimeError(f"login of {username} gave {response.status}, not a redirect")
        cookies = jar_cookies(session, port)
        if set(cookies) != set(COOKIES):
            raise RuntimeError(f"login of {username} left cookies {sorted(cookies)}")
        return cookies


async def cmd_login(args) -> None:
    manifest = json.loads(Path(args.manifest).read_text())
    ports = args.ports
    users = manifest["candidates"]
    started = time.monotonic()
    jars = await gather_limited(args.concurrency, (
        login_one(ports[n % len(ports)], user["username"], manifest["password"]) for n, user in enumerate(users)
    ))
    Path(args.sessions).write_text(json.dumps({user["username"]: jar for user, jar in zip(users, jars, strict=True)}))
    print(json.dumps({"logins": len(jars), "seconds": round(time.monotonic() - started, 1)}))


# --- start storm --------------------------------------------------------------------------------
class Candidate:
    def __init__(self, index: int, username: str, port: int, cookies: dict[str, str]) -> None:
        self.index, self.username, self.port, self.cookies = index, username, port, cookies
        self.session = new_session(port, cookies)
        self.origin = base(port)


async def open_home(candidate: Candidate) -> None:
    async with candidate.session.get(f"{candidate.origin}/", allow_redirects=False) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"home page of {candidate.username} gave {response.status} (not signed in?)")


async def cmd_storm(args) -> None:
    sessions = json.loads(Path(args.sessions).read_text())
    enrolments: dict[str, int] = json.loads(Path(args.enrolments).read_text())
    names = sorted(enrolments)
    candidates = [Candidate(n, name, args.ports[n % len(args.ports)], sessions[name]) for n, name in enumerate(names)]
    try:
        await gather_limited(10, (retrying(f"home page of {c.username}", lambda c=c: open_home(c)) for c in candidates))
        go = asyncio.Event()
        semaphore = asyncio.Semaphore(args.concurrency)
        latencies: list[float] = []
        errors: dict[str, int] = {}
        attempts: dict[str, int] = {}
        ends: list[float] = []

        async def start(candidate: Candidate) -> None:
            await go.wait()
            async with semaphore:
                began = time.perf_counter()
                try:
                    headers = {"X-CSRFToken": candidate.cookies["csrftoken"], "Origin": candidate.origin,
                               "Referer": candidate.origin + "/"}
                    url = f"{candidate.origin}/enrolments/{enrolments[candidate.username]}/start/"
                    async with candidate.session.post(url, headers=headers) as response:
                        body = await response.text()
                        final = ATTEMPT_URL.search(response.url.path)
                        ok = response.status == 200 and final is not None and 'id="attempt-data"' in body
                        status = response.status
                except (TimeoutError, aiohttp.ClientError) as exc:
                    count_error(errors, exc)
                    return
                finished = time.perf_counter()
            if not ok:
                key = f"http_{status}" if status != 200 else "not_the_exam_page"
                errors[key] = errors.get(key, 0) + 1
                return
            latencies.append(finished - began)
            ends.append(finished)
            attempts[candidate.username] = int(final.group(1))

        tasks = [asyncio.create_task(start(c)) for c in candidates]
        await asyncio.sleep(0.2)  # every task is parked on the event
        wall_started = time.time()
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        seconds = (max(ends) - began) if ends else 0.0
        result = summary(latencies, seconds, errors)
        result.update(concurrency=args.concurrency, candidates=len(candidates), wall_started=wall_started,
                      wall_finished=wall_started + seconds)
        Path(args.out).write_text(json.dumps({"summary": result, "attempts": attempts}))
        print(json.dumps(result))
    finally:
        await asyncio.gather(*(c.session.close() for c in candidates))


# --- autosave -----------------------------------------------------------------------------------


class Saver(Candidate):
    attempt_id: int
    items: list[dict]
    seq: int
    socket: aiohttp.ClientWebSocketResponse | None = None

    def change(self) -> dict:
        self.seq += 1
        return random_change(self.items, self.seq)


async def open_exam(saver: Saver) -> None:
    url = f"{saver.origin}/attempts/{saver.attempt_id}/"
    async with saver.session.get(url, allow_redirects=False) as response:
        page = await response.text()
        if response.status != 200:
            raise RuntimeError(f"exam page of {saver.username} gave {response.status}")
    payload = json.loads(PAYLOAD.search(page).group(1))
    saver.items = payload["items"]
    saver.seq = int(payload["lastSeq"])
    if not payload.get("thisDevice"):
        raise RuntimeError(f"{saver.username}: the server does not see this as the attempt's device")
    await connect(saver)


async def connect(saver: Saver) -> None:
    """Open the page's WebSocket and read the state the server sends first."""
    saver.socket = await saver.session.ws_connect(
        f"ws://{HOST}:{saver.port}/ws/attempt/{saver.attempt_id}/", origin=saver.origin, heartbeat=None, autoping=True,
        max_msg_size=0,
    )
    first = await saver.socket.receive(timeout=30)
    if first.type != aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"{saver.username}: socket closed at once ({first.type.name}, {first.data!r})")
    state = json.loads(first.data)
    if state.get("t") != "state" or not state.get("thisDevice"):
        raise RuntimeError(f"{saver.username}: first message {state!r}")
    saver.seq = max(saver.seq, int(state.get("lastSeq") or 0))


async def run_phase(savers: list[Saver], concurrency: int, seconds: float) -> dict:
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    refused: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def loop(saver: Saver) -> None:
        while time.perf_counter() < deadline:
            async with semaphore:
                if time.perf_counter() >= deadline:
                    return
                change = saver.change()
                began = time.perf_counter()
                try:
                    await saver.socket.send_str(json.dumps({"t": "save", "changes": [change]}))
                    while True:
                        message = await saver.socket.receive(timeout=SAVE_TIMEOUT_SECONDS)
                        if message.type != aiohttp.WSMsgType.TEXT:
                            raise ConnectionError(f"socket closed ({message.type.name}, {message.data!r})")
                        data = json.loads(message.data)
                        if data.get("t") == "ack":
                            break
                except (TimeoutError, ConnectionError, aiohttp.ClientError) as exc:
                    # As the page does: note it, reconnect, carry on with the next change.
                    errors[f"dropped: {exc}"[:120]] = errors.get(f"dropped: {exc}"[:120], 0) + 1
                    try:
                        await saver.socket.close()
                        await connect(saver)
                    except (TimeoutError, ConnectionError, aiohttp.ClientError, RuntimeError) as again:
                        errors[f"reconnect failed: {again}"[:120]] = errors.get(f"reconnect failed: {again}"[:120], 0) + 1
                        return  # this socket is done for the phase
                    continue
                latency = time.perf_counter() - began
            result = data["results"][0]
            if result.get("seq") != change["seq"]:
                errors["wrong_ack"] = errors.get("wrong_ack", 0) + 1
            elif result.get("ok"):
                latencies.append(latency)
            else:
                refused[result.get("code", "?")] = refused.get(result.get("code", "?"), 0) + 1

    wall_started = time.time()
    began = time.perf_counter()
    await asyncio.gather(*(loop(s) for s in savers if s.socket is not None and not s.socket.closed))
    seconds_taken = time.perf_counter() - began
    result = summary(latencies, seconds_taken, errors)
    result.update(concurrency=concurrency, sockets=len(savers), refused=refused, wall_started=wall_started,
                  wall_finished=wall_started + seconds_taken)
    return result


async def start_again(saver: Saver, enrolment_id: int) -> None:
    """Press Start for a candidate whose start failed in the storm (untimed)."""
    headers = {"X-CSRFToken": saver.cookies["csrftoken"], "Origin": saver.origin, "Referer": saver.origin + "/"}
    async with saver.session.post(f"{saver.origin}/enrolments/{enrolment_id}/start/", headers=headers,
                                  allow_redirects=False) as response:
        await response.read()
        found = ATTEMPT_URL.search(response.headers.get("Location", ""))
        if response.status != 302 or found is None:
            raise RuntimeError(f"start of {saver.username} gave {response.status} {response.headers.get('Location')}")
    saver.attempt_id = int(found.group(1))


async def cmd_autosave(args) -> None:
    sessions = json.loads(Path(args.sessions).read_text())
    enrolments: dict[str, int] = json.loads(Path(args.enrolments).read_text())
    attempts: dict[str, int] = json.loads(Path(args.attempts).read_text())["attempts"]
    names = sorted(enrolments)
    savers = [Saver(n, name, args.ports[n % len(args.ports)], sessions[name]) for n, name in enumerate(names)]
    random.seed(2026)
    try:
        missing = [s for s in savers if s.username not in attempts]
        for saver in savers:
            saver.attempt_id = attempts.get(saver.username, 0)
        await gather_limited(10, (retrying(f"start of {s.username}", lambda s=s: start_again(s, enrolments[s.username]))
                                  for s in missing))
        if missing:
            print(f"started {len(missing)} attempts the storm had failed", file=sys.stderr)
        await gather_limited(10, (retrying(f"exam page of {s.username}", lambda s=s: open_exam(s)) for s in savers))
        results = []
        for phase in args.phases.split(","):
            concurrency, seconds = phase.split(":")
            result = await run_phase(savers, int(concurrency), float(seconds))
            print(json.dumps(result), flush=True)
            results.append(result)
            await asyncio.sleep(1)  # let the last batches drain before the next phase
        Path(args.out).write_text(json.dumps({"phases": results, "attempts": {s.username: s.attempt_id for s in savers},
                                              "last_seq": {s.username: s.seq for s in savers}}))
    finally:
        await asyncio.gather(*(s.socket.close() for s in savers if s.socket is not None), return_exceptions=True)
        await asyncio.gather(*(s.session.close() for s in savers))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["login", "storm", "autosave"])
    parser.add_argument("--ports", type=lambda s: [int(p) for p in s.split(",")], required=True)
    parser.add_argument("--sessions", required=True)
    parser.add_argument("--manifest")
    parser.add_argument("--enrolments")
    parser.add_argument("--attempts")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--phases", default="50:15,500:15")
    parser.add_argument("--out")
    args = parser.parse_args()
    command = {"login": cmd_login, "storm": cmd_storm, "autosave": cmd_autosave}[args.command]
    try:
        asyncio.run(command(args))
    except Exception as exc:
        print(f"client {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
