"""Simulated exam pages for the fault drills: each follows the page's rules of issue 11 (PREAMBLE).

A page answers an item every 2–3 s (a random item, its seq one higher than the last), keeps every
change in its outbox until the server acknowledges it ok or refuses it for good, and:
- is signed out ONLY on a socket close 4401 (or a `{"t":"refused","code":4401}` message) or an
  HTTP 401 whose JSON says `signedOut: true`; anything else is retried;
- redials its socket after uniform(0.5, 1.0) × min(4 s, 0.25 s × 2^n), n = consecutive failures
  (n ≤ 5); gives a handshake up after 10 s and an open socket after 25 s of silence (it pings
  every 10 s, as the page does);
- sends everything pending again on each new socket; retries a passing refusal after 2 s;
- falls back to HTTP once the socket has been down for 5 s: one POST in flight, ≤ 200 changes,
  after a failure waits min(15 s, 3 s × 2^k) jittered or the Retry-After it was given; any JSON
  answer means the server is up, and the page dials its socket at once; 403 code csrf reloads.

Every ok acknowledgement is written down (attempt, pos, seq, value, when) for the loss check, and
every socket loss and opening for the "back on socket" times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field

import aiohttp
from answers import random_change
from yarl import URL

HOST = "127.0.0.1"
HANDSHAKE_SECONDS = 10.0
SILENCE_SECONDS = 25.0
PING_SECONDS = 10.0
FALLBACK_AFTER_SECONDS = 5.0
MAX_CHANGES_PER_POST = 200
PASSING_RETRY_SECONDS = 2.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
# Refusals the page tries again later: the server failed, or the attempt is paused or locked for now.
PASSING_CODES = {"error", "locked", "paused", "unavailable"}


def redial_delay(failures: int) -> float:
    return random.uniform(0.5, 1.0) * min(4.0, 0.25 * 2 ** min(failures, 5))


def http_backoff(failures: int) -> float:
    return random.uniform(0.5, 1.0) * min(15.0, 3.0 * 2 ** failures)


@dataclass
class Ack:
    attempt: int
    pos: int
    seq: int
    value: object
    flagged: bool
    at: float  # time.monotonic() of the acknowledgement


@dataclass
class Ledger:
    """What every page saw, shared by all pages of a run."""

    acks: list[Ack] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    signed_out: list[tuple[int, float, str]] = field(default_factory=list)  # (page, when, why)
    http_saves: list[float] = field(default_factory=list)  # when each fallback POST was answered 200
    http_errors: dict[str, int] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)
    dials: dict[str, int] = field(default_factory=dict)  # how each socket dial ended

    def count(self, bucket: dict[str, int], key: str) -> None:
        bucket[key] = bucket.get(key, 0) + 1


class Page:
    def __init__(self, index: int, *, port: int, attempt: int, cookies: dict[str, str], paths: dict[str, str],
                 ledger: Ledger) -> None:
        self.index, self.port, self.attempt, self.cookies, self.paths, self.ledger = index, port, attempt, cookies, paths, ledger
        self.origin = f"http://{HOST}:{port}"
        self.items: list[dict] = []
        self.seq = 0
        self.outbox: dict[int, dict] = {}  # seq -> change, oldest first
        self.inflight: set[int] = set()  # sent on the current socket, no answer yet
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.dialling = False
        self.down_since: float | None = time.monotonic()
        self.losses: list[float] = []
        self.opens: list[float] = []
        self.signed_out = False
        self.dial_now = asyncio.Event()
        self.stopped = False
        self.session: aiohttp.ClientSession | None = None
        self.tasks: list[asyncio.Task] = []
        self.retry_handle: asyncio.TimerHandle | None = None

    # --- set-up ---------------------------------------------------------------------------------
    def open_session(self) -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies of an IP-address host
        jar.update_cookies(self.cookies, URL(self.origin + "/"))
        self.session = aiohttp.ClientSession(cookie_jar=jar, timeout=HTTP_TIMEOUT, headers={"User-Agent": "exam-drills/1"},
                                             connector=aiohttp.TCPConnector(limit=4))

    async def load(self) -> None:
        """Load the exam page (what a reload does): the items and the last seq the server has."""
        async with self.session.get(self.origin + self.paths["page"], allow_redirects=False) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"exam page gave {response.status}")
        start = body.index('<script id="attempt-data" type="application/json">')
        payload = json.loads(body[body.index(">", start) + 1:body.index("</script>", start)])
        if not payload.get("thisDevice"):
            raise RuntimeError("the server does not see this page as the attempt's device")
        self.items = payload["items"]
        self.seq = max(self.seq, int(payload["lastSeq"]))

    def start(self) -> None:
        # The page has just loaded: its socket is not "down" yet, the 5 s before the HTTP fallback start now.
        self.down_since = time.monotonic()
        self.tasks = [asyncio.create_task(self._answering()), asyncio.create_task(self._socket_loop()),
                      asyncio.create_task(self._fallback_loop()), asyncio.create_task(self._pinging())]

    async def stop(self) -> None:
        self.stopped = True
        for task in self.tasks:
            task.cancel()
        # Bounded: at the end of a 500-page run one task now and then never finished after its
        # cancel (the run hung in here, idle); closing the session below ends its connections anyway.
        await asyncio.wait(self.tasks, timeout=5)
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), timeout=5)
        if self.session is not None:
            await self.session.close()

    # --- the candidate ---------------------------------------------------------------------------
    def _change(self) -> dict:
        self.seq += 1
        return random_change(self.items, self.seq)

    async def _answering(self) -> None:
        while not self.signed_out:
            await asyncio.sleep(random.uniform(2.0, 3.0))
            change = self._change()
            self.outbox[change["seq"]] = change
            await self._send_pending()

    # --- the socket --------------------------------------------------------------------------------
    def _is_open(self) -> bool:
        return self.socket is not None and not self.socket.closed

    async def _send_pending(self) -> None:
        if not self._is_open() or self.signed_out:
            return
        changes = [c for seq, c in self.outbox.items() if seq not in self.inflight][:MAX_CHANGES_PER_POST]
        if not changes:
            return
        self.inflight.update(c["seq"] for c in changes)
        try:
            await self.socket.send_str(json.dumps({"t": "save", "changes": changes}))
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            self.inflight.difference_update(c["seq"] for c in changes)  # the next socket sends them

    def _acknowledge(self, results: list) -> bool:
        """Take the server's answers; return whether one was a passing refusal (to retry later)."""
        passing = False
        now = time.monotonic()
        for result in results:
            seq = result.get("seq")
            self.inflight.discard(seq)
            change = self.outbox.get(seq)
            if change is None:
                continue
            if result.get("ok"):
                del self.outbox[seq]
                self.ledger.acks.append(Ack(self.attempt, change["pos"], seq, change["value"], change["flagged"], now))
            elif result.get("code") in PASSING_CODES:
                passing = True
            else:  # refused for good: the page shows why and drops it
                del self.outbox[seq]
                self.ledger.count(self.ledger.refused, str(result.get("code")))
        return passing

    def _retry_later(self) -> None:
        if self.retry_handle is None or self.retry_handle.cancelled():
            loop = asyncio.get_running_loop()
            self.retry_handle = loop.call_later(PASSING_RETRY_SECONDS, lambda: asyncio.create_task(self._send_pending()))

    def _sign_out(self, why: str) -> None:
        if not self.signed_out:
            self.signed_out = True
            self.ledger.signed_out.append((self.index, time.monotonic(), why))

    async def _socket_loop(self) -> None:
        failures = 0
        while not self.signed_out:
            opened = await self._dial_and_read()
            if self.signed_out:
                return
            if opened:
                failures = 0
            self.losses.append(time.monotonic())
            delay = redial_delay(failures)
            failures += 1
            self.dial_now.clear()
            # "Any JSON answer from the HTTP path means the server is up": dial at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dial_now.wait(), timeout=delay)

    async def _dial_and_read(self) -> bool:
        """Dial, read until the socket ends; return whether it opened (its first state arrived)."""
        url = f"ws://{HOST}:{self.port}{self.paths['socket']}"
        self.dialling = True
        try:
            socket = await asyncio.wait_for(
                self.session.ws_connect(url, origin=self.origin, autoping=True, heartbeat=None, max_msg_size=0),
                timeout=HANDSHAKE_SECONDS)
        except TimeoutError:
            self.ledger.count(self.ledger.dials, "handshake_timeout_10s")
            return False
        except (aiohttp.ClientError, ConnectionError, OSError) as exc:
            self.ledger.count(self.ledger.dials, f"failed_{type(exc).__name__}")
            return False
        finally:
            self.dialling = False
        opened = False
        try:
            while True:
                try:
                    message = await socket.receive(timeout=SILENCE_SECONDS)
                except TimeoutError:
                    self.ledger.count(self.ledger.dials if not opened else self.ledger.problems, "socket_silent_25s")
                    return opened
                if message.type != aiohttp.WSMsgType.TEXT:
                    if not opened:
                        self.ledger.count(self.ledger.dials, f"closed_before_state_{socket.close_code}")
                    if socket.close_code == 4401:
                        self._sign_out("socket close 4401")
                    elif socket.close_code == 4404:
                        await self._reload()
                    return opened
                data = json.loads(message.data)
                kind = data.get("t")
                if kind == "state" and not opened:
                    opened = True
                    self.ledger.count(self.ledger.dials, "opened")
                    self.socket = socket
                    self.down_since = None
                    self.opens.append(time.monotonic())
                    self.inflight.clear()
                    if data.get("status") != "in_progress" or not data.get("thisDevice"):
                        self.ledger.count(self.ledger.problems, f"state_{data.get('status')}_device_{data.get('thisDevice')}")
                    await self._send_pending()
                elif kind == "refused":
                    if data.get("code") == 4401:
                        self._sign_out("refused 4401")
                        return opened
                elif kind == "ack":
                    if self._acknowledge(data.get("results") or []):
                        self._retry_later()
                    else:
                        await self._send_pending()
                elif kind == "error":
                    # A refused frame: the socket stays open; what it carried is still pending.
                    self.ledger.count(self.ledger.problems, f"socket_error_{data.get('code')}")
                    self.inflight.clear()
                    self._retry_later()
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            return opened
        finally:
            if self.socket is socket:
                self.socket = None
            if self.down_since is None:
                self.down_since = time.monotonic()
            self.inflight.clear()
            with contextlib.suppress(Exception):
                await socket.close()

    async def _pinging(self) -> None:
        while not self.signed_out:
            await asyncio.sleep(PING_SECONDS)
            if self._is_open():
                with contextlib.suppress(ConnectionError, aiohttp.ClientError, RuntimeError):
                    await self.socket.send_str(json.dumps({"t": "ping", "c": time.monotonic() * 1000}))

    # --- the HTTP fallback -------------------------------------------------------------------------
    async def _reload(self) -> None:
        with contextlib.suppress(TimeoutError, aiohttp.ClientError, RuntimeError, ValueError, KeyError):
            await self.load()

    async def _fallback_loop(self) -> None:
        failures = 0
        while not self.signed_out:
            await asyncio.sleep(0.25)
            if self._is_open() or self.down_since is None or time.monotonic() - self.down_since < FALLBACK_AFTER_SECONDS:
                continue
            changes = list(self.outbox.values())[:MAX_CHANGES_PER_POST]
            if not changes:
                continue
            wait = await self._post(changes)  # the one POST in flight
            if wait is None:
                failures = 0
                continue
            wait = wait if wait >= 0 else http_backoff(failures)
            failures += 1
            await asyncio.sleep(wait)

    async def _post(self, changes: list[dict]) -> float | None:
        """POST a save; return None on success, else seconds to wait (-1: the page's own back-off)."""
        headers = {"Accept": "application/json", "X-CSRFToken": self.cookies["csrftoken"], "Origin": self.origin,
                   "Referer": self.origin + self.paths["page"]}
        try:
            async with self.session.post(self.origin + self.paths["save"], json={"changes": changes}, headers=headers,
                                         allow_redirects=False) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
                body = await response.read()
        except (TimeoutError, aiohttp.ClientError, ConnectionError, OSError) as exc:
            self.ledger.count(self.ledger.http_errors, type(exc).__name__)
            return -1
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.ledger.count(self.ledger.http_errors, f"{status}_not_json")
            return -1
        if not self._is_open() and not self.dialling:
            self.dial_now.set()
        if status == 200:
            self.ledger.http_saves.append(time.monotonic())
            if self._acknowledge(data.get("results") or []):
                return PASSING_RETRY_SECONDS
            return None
        self.ledger.count(self.ledger.http_errors, f"{status}_{data.get('code', data.get('signedOut', ''))}")
        if status == 401 and data.get("signedOut") is True:
            self._sign_out("http 401 signedOut")
            return 0
        if status == 403 and data.get("code") == "csrf":
            await self._reload()
            return -1
        if retry_after and retry_after.isdigit():
            return float(retry_after)
        return -1
