"""The base of every JSON WebSocket of the project: bad frames refused with a reason, visitors
turned away so that the page knows why.

A frame that is not a JSON object (binary, too large, not JSON, nested too deep, a list or a
number) used to end in an exception, and the socket closed with 1011 and no reason (issue 11,
point 5). Now it is answered with `{"t": "error", "code": …, "reason": …}` and the socket stays
open: the page goes on, and whoever sent it learns why.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
REFUSAL_CLOSE_DELAY = 0.2  # seconds

# For sockets whose messages are small (a chat line, a signal report, a viewing request).
DEFAULT_MAX_FRAME_BYTES = 64 * 1024
# The deepest message a page sends is a save: message → changes → change → chosen options.
DEFAULT_MAX_DEPTH = 8


class BadFrame(Exception):
    """A frame refused before any handler sees it; `code` names the kind for the page."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def nesting_depth(value: Any, limit: int) -> int:
    """Return how deeply lists and objects nest in `value` (a scalar is 0), counting no further
    than limit + 1. Without recursion, so that no frame can exhaust the stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def decode_frame(text: str | None, *, max_bytes: int, max_depth: int) -> dict:
    """Return the JSON object a text frame holds, or raise BadFrame saying why not."""
    if text is None:
        raise BadFrame("binary", _("Binary messages are not accepted; send JSON text."))
    # A character is at most 4 bytes in UTF-8: only a long frame needs encoding to be measured.
    if len(text) > max_bytes or (
        len(text) * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes
    ):
        raise BadFrame(
            "too_large", _("The message is larger than %(n)d KiB.") % {"n": max_bytes // 1024}
        )
    try:
        content = json.loads(text)
    except RecursionError:
        # CPython's decoder stops at the interpreter's recursion limit: deeper than any depth allowed.
        raise BadFrame("too_deep", _("The message is nested too deeply.")) from None
    except ValueError:
        raise BadFrame("malformed", _("The message is not valid JSON.")) from None
    if not isinstance(content, dict):
        raise BadFrame("malformed", _("A message must be a JSON object."))
    if nesting_depth(content, max_depth) > max_depth:
        raise BadFrame("too_deep", _("The message is nested too deeply."))
    return content


class JsonSocket(AsyncJsonWebsocketConsumer):
    """A JSON socket that answers a bad frame with an error message instead of closing with 1011."""

    max_frame_bytes = DEFAULT_MAX_FRAME_BYTES
    max_depth = DEFAULT_MAX_DEPTH

    async def dispatch(self, message: dict) -> None:
        """As channels' own, without its `aclose_old_connections()` before every message.

        That call runs in the one thread a process has for all its sockets' database work
        (sync_to_async, thread-sensitive), so while a query there waited (the database gone, a
        lock) no socket of the process could even answer a ping: 500 pages gave their sockets up
        as silent when PostgreSQL stopped, and redialled into the same queue (issue 11). Our
        consumers reach the database only through database_sync_to_async, which closes old
        connections around each call itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs
    ) -> None:
        try:
            content = decode_frame(
                text_data, max_bytes=self.max_frame_bytes, max_depth=self.max_depth
            )
        except BadFrame as refusal:
            await self.send_error(refusal.reason, code=refusal.code)
            return
        await self.receive_json(content, **kwargs)

    async def send_error(self, reason: str, *, code: str = "refused") -> None:
        """Tell the page a message was refused; the socket stays open."""
        await self.send_json({"t": "error", "code": code, "reason": reason})


class RefusingConsumer(JsonSocket):
    """A socket that can turn a visitor away so that the page knows why."""

    async def refuse(self, code: int) -> None:
        # Accept first: a close before accept reaches the browser as a refused handshake (1006),
        # and the page could not tell "signed out" or "not yours" from a network failure. The reason
        # also goes as a message, and the close waits a moment: a close sent right behind the
        # accept was now and then lost in Daphne's handshake (1006 again).
        await self.accept()
        await self.send_json({"t": "refused", "code": code})
        await asyncio.sleep(REFUSAL_CLOSE_DELAY)
        await self.close(code=code)
