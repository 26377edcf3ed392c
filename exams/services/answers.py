"""Storing answers (R-TAKE-4): many changes, from many candidates, in one transaction.

Every change carries a per-attempt sequence number chosen by the page. A stored answer is only
ever replaced by a change with a higher number, so a retry, a duplicate or a late-arriving older
change can never overwrite a newer answer. The consumer batches changes from all pages of a
process into one call, which is what lets one process store over a thousand answers a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..form_cache import form_rules
from ..models import Attempt, AttemptStatus, ItemKind
from .answer_writes import AcceptedChange, already_logged, write_batch

# The columns the rules below read; the rest of the row is not loaded on this hot path.
ATTEMPT_FIELDS = ("candidate_id", "status", "submitted_at", "locked_at", "lock_reason", "device_id", "deadline",
                  "paused_at", "pause_reason", "end_reason")
MAX_FILL_IN_LENGTH = 500
MAX_FREE_TEXT_LENGTH = 20_000


@dataclass(frozen=True)
class AnswerChange:
    attempt_id: int
    candidate_id: int
    device_id: str
    position: int
    seq: int
    # Choice items: the display indexes picked (0 = the first option as shown); others: text.
    value: Any
    flagged: bool = False
    # When the server received the change: lateness is judged by this, not by when the batch it
    # waited in was written (at the end-of-exam rush those can be seconds apart).
    received_at: datetime | None = None


# The most changes one save may carry, on the socket and over HTTP alike. The page sends at most
# this many; 40,000 in one request held the attempts' locks in one transaction and stalled every
# other candidate's saves.
MAX_CHANGES_PER_MESSAGE = 200


class MalformedSave(Exception):
    """A save message that is not what the page sends: refused whole, with the reason, and nothing
    of it is stored. `code` is "too_many" for a save over the cap, else "malformed"."""

    def __init__(self, reason: str, *, code: str = "malformed") -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


def _whole_number(value: Any) -> bool:
    # As JSON has them: not text ("5"), not a fraction (270.7), not true/false.
    return isinstance(value, int) and not isinstance(value, bool)


def changes_from_message(raw_changes: Any, *, attempt_id: int, candidate_id: int, device_id: str,
                         received_at: datetime | None = None) -> list[AnswerChange]:
    """Return the changes a page sent ([{"pos", "seq", "value", "flagged"}, …]) or raise MalformedSave.

    The one reading of a save for the socket and the HTTP fallback, so both refuse alike and say
    why. Only the shape is judged here: the ranges and the value are the rules' (responses_save),
    one change at a time, so that one bad answer never fails the others.
    """
    if not isinstance(raw_changes, list):
        raise MalformedSave(_("A save must carry a list of changes."))
    if len(raw_changes) > MAX_CHANGES_PER_MESSAGE:
        raise MalformedSave(_("Too many changes in one save: at most %(n)d at a time.") % {"n": MAX_CHANGES_PER_MESSAGE},
                            code="too_many")
    changes = []
    for number, raw in enumerate(raw_changes, start=1):
        if not isinstance(raw, dict):
            raise MalformedSave(_("Change %(n)d is not an object with pos, seq and value.") % {"n": number})
        position, seq, flagged = raw.get("pos"), raw.get("seq"), raw.get("flagged", False)
        if not _whole_number(position):
            raise MalformedSave(_("Change %(n)d: the item number (pos) must be a whole number.") % {"n": number})
        if not _whole_number(seq):
            raise MalformedSave(_("Change %(n)d: the sequence number (seq) must be a whole number.") % {"n": number})
        if not isinstance(flagged, bool):
            raise MalformedSave(_("Change %(n)d: flagged must be true or false.") % {"n": number})
        changes.append(AnswerChange(attempt_id=attempt_id, candidate_id=candidate_id, device_id=device_id,
                                    position=position, seq=seq, value=raw.get("value"), flagged=flagged,
                                    received_at=received_at))
    return changes


@dataclass(frozen=True)
class SaveResult:
    seq: int
    ok: bool
    code: str = "saved"
    reason: str = ""


class _Refused(Exception):
    def __init__(self, code: str, reason: str) -> None:
        self.code, self.reason = code, reason


def _attempt_refusal(attempt: Attempt | None, change: AnswerChange, now: datetime) -> _Refused | None:
    if attempt is None or attempt.candidate_id != change.candidate_id:
        return _Refused("not_found", _("No such attempt."))
    if attempt.status == AttemptStatus.DISQUALIFIED:
        return _Refused("ended", _("The proctor ended this attempt: %(reason)s") % {"reason": attempt.end_reason})
    if not attempt.is_in_progress:
        return _Refused(
            "submitted",
            _("This attempt was submitted at %(time)s; answers are no longer accepted.") % {"time": attempt.exam.clock(attempt.submitted_at, seconds=True)},
        )
    if attempt.is_locked:
        return _Refused("locked", attempt.lock_reason)
    if attempt.device_id != change.device_id:
        return _Refused("device", _("This attempt is open on another device; answers from this one are not saved."))
    arrived = change.received_at or now
    if attempt.is_paused and arrived > attempt.pause_grace_ends_at():
        # Not refused for good: the page keeps the answer and sends it again after the resume.
        return _Refused("paused", _("The exam is paused: %(reason)s") % {"reason": attempt.pause_reason})
    if arrived > attempt.answers_close_at():
        return _Refused(
            "late",
            _("Time ran out at %(deadline)s; this answer arrived at %(now)s and was not saved.")
            % {"deadline": attempt.exam.clock(attempt.deadline, seconds=True), "now": attempt.exam.clock(arrived, seconds=True)},
        )
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


MAX_SEQ = 2**63 - 1  # a bigint column


def stored_value(kind: str, option_order: list[str], value: Any) -> Any:
    """Return the value to store for what the page sent, or raise _Refused if it is malformed."""
    if value is None or value == "" or value == []:
        return None
    if kind in ItemKind.choice_kinds():
        if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            raise _Refused("invalid", _("A choice answer must be a list of option numbers."))
        if len(set(value)) != len(value) or any(i < 0 or i >= len(option_order) for i in value):
            raise _Refused("invalid", _("That option does not exist."))
        if kind in ItemKind.single_choice_kinds() and len(value) > 1:
            raise _Refused("invalid", _("Only one option may be chosen for this item."))
        return sorted(option_order[i] for i in value)
    if not isinstance(value, str):
        raise _Refused("invalid", _("This answer must be text."))
    if "\x00" in value or not _encodable(value):
        # PostgreSQL refuses NUL and lone surrogates; refused here, they cannot fail a whole batch.
        raise _Refused("invalid", _("The answer contains characters that cannot be stored."))
    limit = MAX_FILL_IN_LENGTH if kind == ItemKind.FILL_IN else MAX_FREE_TEXT_LENGTH
    if len(value) > limit:
        raise _Refused("invalid", _("The answer is longer than %(limit)d characters.") % {"limit": limit})
    return value


def _valid_seq(seq: Any) -> bool:
    return isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= MAX_SEQ


def _sent_by_its_page(attempt: Attempt | None, change: AnswerChange) -> bool:
    # Another candidate's or another device's change is never told that it was saved.
    return attempt is not None and attempt.candidate_id == change.candidate_id and attempt.device_id == change.device_id


def responses_save(*, changes: list[AnswerChange], now: datetime | None = None) -> list[SaveResult]:
    """Store the changes that the rules allow and return one result per change, in order."""
    now = now or timezone.now()
    if not changes:
        return []
    with transaction.atomic():
        # Lock the attempts (in id order, so two batches never deadlock) so that a submission
        # waits for this batch and then sees every answer in it. NO KEY: the answer-log insert
        # below only needs the key share lock and must not conflict with our own lock.
        attempt_ids = sorted({c.attempt_id for c in changes})
        attempts = {
            a.pk: a
            for a in Attempt.objects.select_for_update(no_key=True).filter(pk__in=attempt_ids).order_by("pk").only(*ATTEMPT_FIELDS)
        }
        forms = form_rules(attempt_ids)
        # A change the answer log holds already (the page sent it again after a reconnect lost its
        # ack) is acknowledged again without a second row (issue 11, point 4), even if the attempt
        # has been submitted since: it was saved. Read under the locks above, so a batch carrying
        # the same change at the same time waits for this one and then finds its rows.
        logged = already_logged((c.attempt_id, c.seq) for c in changes if _valid_seq(c.seq))
        results: list[SaveResult] = []
        accepted: list[AcceptedChange] = []
        refused: list[tuple[int, str]] = []
        for change in changes:
            attempt = attempts.get(change.attempt_id)
            if (change.attempt_id, change.seq) in logged and _sent_by_its_page(attempt, change):
                results.append(SaveResult(seq=change.seq, ok=True))
                continue
            try:
                problem = _attempt_refusal(attempt, change, now)
                if problem is not None:
                    raise problem
                if not _valid_seq(change.seq):
                    raise _Refused("invalid", _("A change needs a positive sequence number."))
                slot = forms.get(change.attempt_id, {}).get(change.position)
                if slot is None:
                    raise _Refused("invalid", _("There is no item %(n)s in this form.") % {"n": change.position})
                value = stored_value(slot.kind, list(slot.option_order), change.value)
            except _Refused as refusal:
                results.append(SaveResult(seq=change.seq, ok=False, code=refusal.code, reason=refusal.reason))
                refused.append((change.attempt_id, refusal.code))
                continue
            accepted.append(AcceptedChange(attempt_item_id=slot.attempt_item_id, attempt_id=change.attempt_id,
                                           position=change.position, value_json=json.dumps(value),
                                           flagged=bool(change.flagged), seq=change.seq, device_id=change.device_id))
            results.append(SaveResult(seq=change.seq, ok=True))
        write_batch(accepted=accepted, refused=refused, now=now)
        return results
