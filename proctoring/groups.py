"""Channel-layer groups of the live room, and who may join them, in one place.

- `room_group(room)`: the room pages of that room's proctors and observers (see proctoring.access).
- `candidate_group(enrolment)`: the proctoring sockets of one candidate (waiting room, exam page).
Groups are per room and per candidate, never global: group_send costs grow with group size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from exams.groups import group_send_from_sync


def room_group(room_id: int) -> str:
    return f"proctor-room.{room_id}"


def candidate_group(enrolment_id: int) -> str:
    return f"proctor-candidate.{enrolment_id}"


def push_after_commit(group: str, message: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
    """Send `message` to `group` once the surrounding transaction has committed.

    `message` may be a function: it is then called after the commit, so it reads what was written.
    """

    def send() -> None:
        group_send_from_sync(group, message() if callable(message) else message)

    transaction.on_commit(send)
