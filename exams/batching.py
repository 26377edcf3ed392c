"""Group commit for answers: the saves of every page in this process go to the database together.

One writer per event loop takes whatever has queued up while the previous batch was being
written, stores it in one transaction and wakes the pages waiting for their acks. Under load the
batches grow by themselves; when idle a save is written at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref

from channels.db import database_sync_to_async
from django.utils import timezone
from django.utils.translation import gettext as _

from .failures import service_down
from .metrics import ANSWER_ACK_SECONDS, ANSWER_CHANGES
from .services import AnswerChange, SaveResult, responses_save

MAX_BATCH = 500

log = logging.getLogger(__name__)


class SaveBatcher:
    def __init__(self) -> None:
        self._pending: list[tuple[AnswerChange, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def save(self, changes: list[AnswerChange]) -> list[SaveResult]:
        loop = asyncio.get_running_loop()
        futures = []
        for change in changes:
            future = loop.create_future()
            self._pending.append((change, future))
            futures.append(future)
        if self._writer is None or self._writer.done():
            # In a context of its own: the writer outlives the save that started it. An HTTP view's
            # context holds its request thread's executor (asgiref AsyncToSync.executors.current),
            # gone once that request ends; a writer started there failed every later batch, the
            # sockets' too, with "CurrentThreadExecutor already quit" (issue 11, HTTP fallback).
            self._writer = loop.create_task(self._drain(), context=contextvars.Context())
        return list(await asyncio.gather(*futures, return_exceptions=True))

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                results = await database_sync_to_async(responses_save)(
                    changes=[change for change, _future in batch]
                )
            except Exception as exc:
                if len(batch) == 1 or service_down(exc):
                    # The database down: one by one, each change would wait out the pool's timeout
                    # again (60 s), and every page's socket of this process behind it (issue 11:
                    # PostgreSQL stopped 60 s kept the sockets away 30 s after it was back).
                    for _change, future in batch:
                        raise_on(future)
                    continue
                # One change the database rejects must not fail the others: write them one by one.
                for change, future in batch:
                    try:
                        [result] = await database_sync_to_async(responses_save)(changes=[change])
                    except (
                        Exception
                    ):  # this change alone, or the database is down: its page retries
                        raise_on(future)
                    else:
                        resolve(future, result)
                continue
            for (_change, future), result in zip(batch, results, strict=True):
                resolve(future, result)


def resolve(future: asyncio.Future, result: SaveResult) -> None:
    if not future.done():
        future.set_result(result)


def raise_on(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(SaveFailed())


class SaveFailed(Exception):
    """The database did not store this change; the page keeps it and sends it again."""


class SaveBusy(SaveFailed):
    """Not tried: its socket already has as many saves waiting as it may; the page sends it again."""


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SaveBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> SaveBatcher:
    """Return this event loop's batcher."""
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        _batchers[loop] = SaveBatcher()
    return _batchers[loop]


def acks(changes: list[AnswerChange], outcomes: list[SaveResult | BaseException]) -> list[dict]:
    """Return the page's acks for the batcher's outcomes: the same on the socket and over HTTP."""
    answers = []
    now = timezone.now()
    for change, outcome in zip(changes, outcomes, strict=True):
        ANSWER_ACK_SECONDS.observe(max(0.0, (now - change.received_at).total_seconds()))
        ANSWER_CHANGES.labels("error" if isinstance(outcome, BaseException) else outcome.code).inc()
        if isinstance(outcome, BaseException):
            log.warning("saving a change of attempt %s failed: %r", change.attempt_id, outcome)
            # The page keeps this change and sends it again.
            answers.append(
                {
                    "seq": change.seq,
                    "ok": False,
                    "code": "error",
                    "reason": _("The server could not save just now; retrying."),
                }
            )
        else:
            answers.append(outcome.__dict__)
    return answers
