"""Channel-layer group names, and who may join them, in one place."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import Signal

# Sent (after commit) whenever an attempt's state changes, with `attempt_id` and the `message`
# pushed to its pages: the proctoring app listens to show it to the room's proctors, so the exam
# delivery code needs to know nothing of proctoring.
attempt_changed = Signal()


def attempt_group(attempt_id: int) -> str:
    """Return the group of every open page of one attempt. Only its candidate joins it."""
    return f"attempt.{attempt_id}"


def group_send_from_sync(group: str, message: dict[str, Any]) -> None:
    """Send `message` to a channel-layer group from synchronous code (a service, a task)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(layer.group_send)(group, message)
        return
    # Sync code on a thread whose event loop is running (a test beside Playwright's sync API):
    # async_to_sync refuses that thread, so the send runs on one of its own.
    sender = threading.Thread(target=async_to_sync(layer.group_send), args=(group, message))
    sender.start()
    sender.join()


def push_to_attempt_after_commit(attempt_id: int, message: dict[str, Any]) -> None:
    """Send `message` to the attempt's pages once the surrounding transaction has committed.

    Consumers handle it in the method named by message["type"] (dots become underscores).
    """

    def send() -> None:
        group_send_from_sync(attempt_group(attempt_id), message)
        attempt_changed.send(sender=None, attempt_id=attempt_id, message=message)

    transaction.on_commit(send)
