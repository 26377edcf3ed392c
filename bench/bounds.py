"""The bounds: the same rows written straight through psycopg, no Django, no HTTP, no Channels.

    bounds.py starts --dsn D --enrolments E --concurrency C --out O
    bounds.py saves  --dsn D --attempts A --concurrency C --seconds S --out O

`starts`: per enrolment, one transaction inserting what attempt_start writes (1 attempt, its 100
attempt items in one multi-row INSERT, 1 "started" event), C at a time. The rows are real rows of
the real tables (same indexes, constraints and foreign keys), in a sitting of their own.
`saves`: C virtual candidates, each upserting one response of its attempt per statement
(INSERT … ON CONFLICT DO UPDATE … WHERE seq < excluded.seq, autocommit, one commit per save),
each waiting for its statement before the next: the database's own rate for one save at a time.
PostgreSQL here allows 100 connections, so the pool holds min(C, POOL_MAX); tasks beyond that
wait for a connection, and that wait is part of their latency, as it would be in an app.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import time
from decimal import Decimal
from pathlib import Path

import psycopg
from client import count_error, summary
from psycopg.types.json import Jsonb

POOL_MAX = 50


class Pool:
    """A fixed set of connections, handed to waiters first come, first served.

    (psycopg_pool is not a dependency. A bare asyncio.Queue is not fair: a task that puts a
    connection back and asks again at once gets it before the waiter that was woken.)
    """

    def __init__(self, dsn: str, size: int, *, autocommit: bool) -> None:
        self.dsn, self.size, self.autocommit = dsn, size, autocommit
        self.idle: list[psycopg.AsyncConnection] = []
        self.waiters: collections.deque[asyncio.Future] = collections.deque()
        self.all: list[psycopg.AsyncConnection] = []

    async def open(self) -> None:
        for _ in range(self.size):
            connection = await psycopg.AsyncConnection.connect(self.dsn, autocommit=self.autocommit)
            self.all.append(connection)
            self.idle.append(connection)

    async def get(self) -> psycopg.AsyncConnection:
        if self.idle and not self.waiters:
            return self.idle.pop()
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return await waiter

    def put(self, connection: psycopg.AsyncConnection) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.idle.append(connection)

    @contextlib.asynccontextmanager
    async def connection(self):
        """Lend a connection for the block; it goes back to the pool however the block ends."""
        connection = await self.get()
        try:
            yield connection
        finally:
            self.put(connection)

    async def close(self) -> None:
        for connection in self.all:
            await connection.close()


async def prepared_forms(dsn: str, count: int, item_count: int, exam_id: int) -> list[list[tuple]]:
    """Return, per start, 100 (item_version_id, option_order) drawn like a form (outside the timing)."""
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        rows = await (await connection.execute(
            "SELECT v.id, v.options FROM exams_itemversion v JOIN exams_item i ON i.current_version_id = v.id "
            "WHERE i.status = 'live' AND NOT i.is_sample")).fetchall()
    rng = random.Random(7)
    forms = []
    for _ in range(count):
        picked = rng.sample(rows, item_count)
        forms.append([(version_id, rng.sample([o["id"] for o in options or []], len(options or [])))
                      for version_id, options in picked])
    return forms


async def bound_starts(args) -> dict:
    enrolments: list[dict] = json.loads(Path(args.enrolments).read_text())
    forms = await prepared_forms(args.dsn, len(enrolments), args.item_count, args.exam)
    size = min(args.concurrency, POOL_MAX)
    pool = Pool(args.dsn, size, autocommit=False)
    await pool.open()
    points = Decimal("1.0000")
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * args.item_count)
    items_sql = f"INSERT INTO exams_attemptitem (attempt_id, position, item_version_id, option_order, points) VALUES {values}"
    attempt_sql = (
        "INSERT INTO exams_attempt (candidate_id, exam_id, enrolment_id, is_practice, status, form_seed, started_at, "
        "deadline, submitted_at, submitted_by, device_id, locked_at, lock_reason, pending_device_id, last_seq, "
        "paused_at, pause_reason, end_reason) "
        "VALUES (%s, %s, %s, false, 'in_progress', %s, now(), now() + interval '100 minutes', NULL, '', %s, NULL, '', '', 0, NULL, '', '') "
        "RETURNING id"
    )
    event_sql = "INSERT INTO exams_attemptevent (attempt_id, kind, at, actor_id, detail) VALUES (%s, 'started', now(), %s, %s)"
    semaphore = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    attempts: list[int] = []

    async def start(enrolment: dict, form: list[tuple]) -> None:
        async with semaphore:
            began = time.perf_counter()
            try:
                async with pool.connection() as connection, connection.transaction():
                    device = f"{random.getrandbits(128):032x}"
                    cursor = await connection.execute(
                        attempt_sql, (enrolment["candidate"], args.exam, enrolment["enrolment"], random.getrandbits(62), device))
                    attempt_id = (await cursor.fetchone())[0]
                    params = []
                    for position, (version_id, order) in enumerate(form, start=1):
                        params += [attempt_id, position, version_id, Jsonb(order), points]
                    await connection.execute(items_sql, params)
                    await connection.execute(event_sql, (attempt_id, enrolment["candidate"],
                                                         Jsonb({"device": device[:8], "items": len(form)})))
            except psycopg.Error as exc:
                count_error(errors, exc)
                return
            latencies.append(time.perf_counter() - began)
            attempts.append(attempt_id)

    try:
        began = time.perf_counter()
        await asyncio.gather(*(start(e, f) for e, f in zip(enrolments, forms, strict=True)))
        result = summary(latencies, time.perf_counter() - began, errors)
    finally:
        await pool.close()
    result.update(concurrency=args.concurrency, pool=size, rows_per_start=args.item_count + 2)
    Path(args.out).write_text(json.dumps({"summary": result, "attempts": attempts}))
    return result


async def bound_saves(args) -> dict:
    attempt_ids: list[int] = json.loads(Path(args.attempts).read_text())
    async with await psycopg.AsyncConnection.connect(args.dsn) as connection:
        rows = await (await connection.execute(
            "SELECT attempt_id, id FROM exams_attemptitem WHERE attempt_id = ANY(%s)", (attempt_ids,))).fetchall()
    slots: dict[int, list[int]] = {}
    for attempt_id, item_id in rows:
        slots.setdefault(attempt_id, []).append(item_id)
    size = min(args.concurrency, POOL_MAX)
    pool = Pool(args.dsn, size, autocommit=True)
    await pool.open()
    upsert = (
        "INSERT INTO exams_response (attempt_item_id, attempt_id, value, flagged, seq, saved_at) "
        "VALUES (%s, %s, %s, %s, %s, now()) "
        "ON CONFLICT (attempt_item_id) DO UPDATE SET value = excluded.value, flagged = excluded.flagged, "
        "seq = excluded.seq, saved_at = excluded.saved_at WHERE exams_response.seq < excluded.seq"
    )
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + args.seconds

    async def candidate(attempt_id: int) -> None:
        seq = 0
        rng = random.Random(attempt_id)
        while time.perf_counter() < deadline:
            seq += 1
            began = time.perf_counter()
            try:
                async with pool.connection() as connection:
                    await connection.execute(upsert, (rng.choice(slots[attempt_id]), attempt_id,
                                                      Jsonb([rng.choice("ABCDE")]), False, seq))
            except psycopg.Error as exc:
                count_error(errors, exc)
                return
            latencies.append(time.perf_counter() - began)

    try:
        began = time.perf_counter()
        await asyncio.gather(*(candidate(a) for a in attempt_ids[: args.concurrency]))
        result = summary(latencies, time.perf_counter() - began, errors)
    finally:
        await pool.close()
    result.update(concurrency=args.concurrency, pool=size)
    Path(args.out).write_text(json.dumps({"summary": result}))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["starts", "saves"])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--enrolments")
    parser.add_argument("--attempts")
    parser.add_argument("--exam", type=int)
    parser.add_argument("--item-count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = asyncio.run(bound_starts(args) if args.command == "starts" else bound_saves(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
