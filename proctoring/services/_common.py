"""Pieces every proctoring service uses: the room log and the pushes that follow a write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from exams.models import Enrolment

from ..groups import candidate_group, push_after_commit, room_group
from ..models import RoomEvent


def log_room_event(*, room_id: int, kind: str, at: datetime, actor: AbstractBaseUser | None = None,
                   enrolment: Enrolment | None = None, reason: str = "", **detail: Any) -> RoomEvent:
    return RoomEvent.objects.create(room_id=room_id, enrolment=enrolment, kind=kind, at=at, actor=actor,
                                    reason=reason[:1000], detail=detail)


def push_tile_after_commit(room_id: int, enrolment_id: int) -> None:
    """Tell the room's proctors that one candidate's tile changed; the tile is read after commit."""

    from ..selectors import candidate_tile

    push_after_commit(room_group(room_id), lambda: {"type": "room.candidate", "tile": candidate_tile(enrolment_id)})


def push_to_candidate_after_commit(enrolment_id: int, message: dict[str, Any]) -> None:
    push_after_commit(candidate_group(enrolment_id), message)


def push_to_room_after_commit(room_id: int, message: dict[str, Any]) -> None:
    push_after_commit(room_group(room_id), message)
