"""The exam page's WebSocket: answers in, acks, clock and lock/submit pushes out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone
from django.utils.translation import gettext as _

from .batching import SaveBusy, acks, batcher
from .continuity import connection_back, connection_lost, recent_outage_notice
from .groups import attempt_group
from .metrics import EXAM_SOCKETS
from .middleware import DEVICE_COOKIE
from .models import Attempt, SubmittedBy
from .payload import clock_payload
from .services import (
    AnswerChange,
    MalformedSave,
    attempt_open_on_device,
    attempt_submit,
    changes_from_message,
)
from .sockets import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, RefusingConsumer

__all__ = ["CLOSE_NOT_FOUND", "CLOSE_UNAUTHENTICATED", "AttemptConsumer", "RefusingConsumer"]

log = logging.getLogger(__name__)


def _with_exam(attempt: Attempt) -> Attempt:
    """The attempt with its exam loaded, in the database thread: the state's clock (Exam.clock)
    reads it later in async code, which may not query."""
    attempt.exam  # noqa: B018 - loads and caches the relation
    return attempt


class AttemptConsumer(RefusingConsumer):
    # Bad frames (binary, too large, not JSON, too deep, not an object) are refused by the base
    # (exams.sockets) before they get here; a save's changes are judged by changes_from_message,
    # the same reading as the HTTP fallback's, so both paths refuse alike and say why.
    # Not 64 KiB: a save holds the newest change of up to 200 items, and one free-text answer
    # alone may be 20,000 characters, 60 KB in UTF-8 in Chinese; a save refused for its size
    # would be sent again and again. 1 MiB is Daphne's own cap on a message (it closes with 1009
    # above it), so nothing larger can arrive under Daphne anyway.
    max_frame_bytes = 1024 * 1024
    # Saves of one socket waiting for the database at once; past it a save is acked "error" at once
    # (the page keeps the changes and sends them again) rather than piling up.
    max_saves_waiting = 8
    attempt_id: int | None = None
    watches_connection = False
    counted = False  # in EXAM_SOCKETS (accepted)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._saves: set[asyncio.Task] = set()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.device_id = self.scope.get("cookies", {}).get(DEVICE_COOKIE, "")
        attempt = await self._open(int(self.scope["url_route"]["kwargs"]["attempt_id"]))
        if attempt is None:
            await self.refuse(CLOSE_NOT_FOUND)
            return
        self.attempt_id = attempt.pk
        # Redis first: with the channel layer down the connect fails here, before anything is noted
        # (connection_back tells the proctors' room through that same layer).
        await self.channel_layer.group_add(attempt_group(attempt.pk), self.channel_name)
        await self.accept()
        EXAM_SOCKETS.inc()
        self.counted = True
        self.watches_connection = attempt.is_in_progress and attempt.device_id == self.device_id
        attempt, notice = await self._back(attempt)
        await self._send_state(attempt, notice=notice)

    async def disconnect(self, code: int) -> None:
        for save in self._saves:
            save.cancel()  # the page sends what was not acked again on its next socket
        if self.counted:
            EXAM_SOCKETS.dec()
        if self.attempt_id is not None:
            await self.channel_layer.group_discard(
                attempt_group(self.attempt_id), self.channel_name
            )
        if self.watches_connection:
            # A killed server never gets here: its gap is the heartbeat's (exams.continuity).
            try:
                await database_sync_to_async(connection_lost)(attempt_id=self.attempt_id)
            except Exception:  # noqa: BLE001 - a closing socket must not fail over a note (database down)
                log.warning(
                    "could not note the lost connection of attempt %s",
                    self.attempt_id,
                    exc_info=True,
                )

    async def receive_json(self, content: Any, **kwargs) -> None:
        kind = content.get("t") if isinstance(content, dict) else None
        if kind == "save":
            await self._start_save(content.get("changes"))
        elif kind == "ping":
            await self.send_json(
                {"t": "pong", "c": content.get("c"), "s": int(timezone.now().timestamp() * 1000)}
            )
        elif kind == "deadline":
            attempt = await self._submit_if_overdue()
            await self._send_state(attempt)
        else:
            await self.send_error(_("Unknown message."), code="unknown")

    async def _start_save(self, raw_changes: Any) -> None:
        """Save without holding up this socket's other messages: a ping waiting behind a save that
        waits for the database went unanswered, and the page gave the socket up as silent after
        25 s (issue 11: 500 pages at once when PostgreSQL stopped)."""
        try:
            changes = changes_from_message(
                raw_changes,
                attempt_id=self.attempt_id,
                candidate_id=self.user_id,
                device_id=self.device_id,
                received_at=timezone.now(),
            )
        except MalformedSave as refusal:
            await self.send_error(refusal.reason, code=refusal.code)
            return
        if len(self._saves) >= self.max_saves_waiting:
            await self.send_json(
                {"t": "ack", "results": acks(changes, [SaveBusy()] * len(changes))}
            )
            return
        self._saves.add(task := asyncio.create_task(self._save(changes)))
        task.add_done_callback(self._saves.discard)

    async def _save(self, changes: list[AnswerChange]) -> None:
        outcomes = await batcher().save(changes)
        await self.send_json({"t": "ack", "results": acks(changes, outcomes)})

    # --- pushes from services (handler names match the message type) ---------------------------
    async def attempt_locked(self, event: dict) -> None:
        await self.send_json({"t": "locked", "reason": event["reason"]})

    async def attempt_unlocked(self, event: dict) -> None:
        attempt = await database_sync_to_async(Attempt.objects.select_related("exam").get)(
            pk=self.attempt_id
        )
        if attempt.device_id != self.device_id:
            await self.send_json(
                {"t": "moved", "reason": _("The exam staff moved this attempt to another device.")}
            )
            await self.close()
            return
        await self._send_state(attempt)

    async def attempt_started(self, event: dict) -> None:
        pass  # for the proctors' room; the page that started it already knows

    async def attempt_state(self, event: dict) -> None:
        """A proctor paused, resumed or extended the attempt, or a server outage was credited
        (exams.continuity): the page gets the new clock, and why when the server says so."""
        attempt = await database_sync_to_async(Attempt.objects.select_related("exam").get)(
            pk=self.attempt_id
        )
        # An extension's minutes and reason go with the new clock, for the page to tell the candidate;
        # a notice says why the end moved otherwise (a server outage credited).
        await self._send_state(
            attempt, extension=event.get("extension"), notice=event.get("notice", "")
        )

    async def attempt_connection(self, event: dict) -> None:
        pass  # a lost connection was recorded: for the proctors' room

    async def attempt_ended(self, event: dict) -> None:
        await self.send_json({"t": "ended", "reason": event["reason"]})

    async def attempt_submitted(self, event: dict) -> None:
        await self.send_json({"t": "submitted", "by": event["by"]})

    async def attempt_scored(self, event: dict) -> None:
        await self.send_json({"t": "scored"})

    # --- helpers ----------------------------------------------------------------------------------
    async def _send_state(
        self, attempt: Attempt, extension: dict | None = None, notice: str = ""
    ) -> None:
        message = {
            "t": "state",
            **clock_payload(attempt, timezone.now()),
            "thisDevice": attempt.device_id == self.device_id,
            "notice": notice,
        }
        if extension:
            message["extension"] = extension
        await self.send_json(message)

    @database_sync_to_async
    def _open(self, attempt_id: int) -> Attempt | None:
        attempt = Attempt.objects.filter(pk=attempt_id, candidate_id=self.user_id).first()
        if attempt is None:
            return None
        return _with_exam(attempt_open_on_device(attempt_id=attempt.pk, device_id=self.device_id))

    @database_sync_to_async
    def _back(self, attempt: Attempt) -> tuple[Attempt, str]:
        """Return the attempt as the page is to see it now, and the outage notice for the page.

        One trip to the database thread: after a server restart hundreds of pages connect at
        once, and a process runs all of its sockets' database work in that one thread.
        """
        # Issue 10, point 26: a long absence of the candidate's page is recorded when it comes
        # back. Only the attempt's own device counts: a refused second device is not its page.
        # Before the first state: if most of the sitting was away too, the credit (point 25) moves
        # the deadline, and the page must not see its time as up meanwhile.
        if self.watches_connection and connection_back(attempt_id=attempt.pk):
            attempt = Attempt.objects.select_related("exam").get(pk=attempt.pk)
        # Issue 10, point 25: a page coming back after a server outage is told why its end moved.
        return attempt, recent_outage_notice(attempt_id=attempt.pk)

    @database_sync_to_async
    def _submit_if_overdue(self) -> Attempt:
        return _with_exam(attempt_submit(attempt_id=self.attempt_id, by=SubmittedBy.CLOCK))
