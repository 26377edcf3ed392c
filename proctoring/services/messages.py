"""The chat between a candidate and their room's proctors (R-PROC-4: message the candidate, read replies)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Enrolment

from ..errors import ProctoringError
from ..models import Message, RoomEvent
from ._common import (
    log_room_event,
    push_tile_after_commit,
    push_to_candidate_after_commit,
    push_to_room_after_commit,
)

MAX_MESSAGE_LENGTH = 1000


def message_send(*, enrolment_id: int, author: AbstractBaseUser, text: str, now: datetime | None = None) -> Message:
    """Send a chat line: from a proctor of the candidate's room, or from the candidate themself."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise ProctoringError(_("Write a message first."))
    if len(text) > MAX_MESSAGE_LENGTH or "\x00" in text:
        raise ProctoringError(_("A message is at most %(n)d characters.") % {"n": MAX_MESSAGE_LENGTH})
    with transaction.atomic():
        enrolment = Enrolment.objects.filter(pk=enrolment_id).first()
        if enrolment is None:
            raise ProctoringError(_("No such candidate."), code="not_found")
        if enrolment.candidate_id == author.pk:
            from_proctor = False
        elif enrolment.room.proctors.filter(pk=author.pk).exists():
            from_proctor = True
        else:
            raise ProctoringError(_("No such candidate in your rooms."), code="not_found")
        message = Message.objects.create(enrolment=enrolment, from_proctor=from_proctor, author=author, text=text, at=now)
        if from_proctor:
            log_room_event(room_id=enrolment.room_id, kind=RoomEvent.Kind.MESSAGE, at=now, actor=author, enrolment=enrolment,
                           reason=text)
        from ..selectors import message_payload

        payload = {"message": message_payload(message)}
        push_to_candidate_after_commit(enrolment.pk, {"type": "candidate.message", **payload})
        push_to_room_after_commit(enrolment.room_id, {"type": "room.message", **payload})
        push_tile_after_commit(enrolment.room_id, enrolment.pk)
        return message


def messages_mark_read(*, enrolment_id: int, by_proctor: bool, now: datetime | None = None) -> int:
    """Mark the other side's messages read; return how many changed."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Message.objects.filter(enrolment_id=enrolment_id, from_proctor=not by_proctor, read_at__isnull=True).update(read_at=now)
        if changed and by_proctor:
            room_id = Enrolment.objects.filter(pk=enrolment_id).values_list("room_id", flat=True).get()
            push_tile_after_commit(room_id, enrolment_id)
        return changed
