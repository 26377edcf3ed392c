"""The hash chain: appending under one lock, and checking every link.

Lock order (Issue 10, point 21). On PostgreSQL an append takes the chain's advisory lock and holds
it to the commit, so every audited write in the system queues on it. A transaction that holds it
must therefore never wait for a lock that another transaction holds while it waits for the chain:
that is a deadlock, which PostgreSQL breaks by failing one of the two (an HTTP 500). The rule:

1. Row locks first, always in this order, each kind in id order when there are several:
   sitting → enrolment → room session (a start only share-locks it) → attempt → check-in →
   item score → attempt score (and a complaint, a report or a key correction, each locked alone).
2. The chain's lock last: the first append of a transaction comes after every row lock it takes,
   and after it the transaction only inserts new rows (answer log, events) and commits. Where a
   step writes several audited things in a loop (Collect submits every attempt of a room, End
   marks every absentee), it locks all of their rows before the first one is written.
3. `select_for_update(no_key=True, of=("self",))`: FOR NO KEY UPDATE, because the foreign-key
   check of another transaction's insert takes FOR KEY SHARE on the parent row and FOR UPDATE
   would make it wait (Django's foreign keys are checked at commit: after the chain's lock); and
   `of=("self",)`, because without it PostgreSQL also locks every row the query joins — a model's
   default ordering (Enrolment orders by room) silently joined and locked the room and sitting.
4. An append first runs the checks of the foreign keys the transaction has written so far
   (SET CONSTRAINTS … IMMEDIATE, below), so that those waits, if any, happen before the chain's lock.

Issue 15 replaces this lock with a sequencer; until then, keep to this order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from ..models import AuditEntry

GENESIS = "0" * 64
# Any fixed number: the PostgreSQL advisory lock that orders appends (one chain, one writer at a time).
CHAIN_LOCK = 7_314_042


def _key() -> bytes:
    # A key of its own (config/secrets.py), never derived from the session secret: whoever holds
    # that one (it signs every cookie) must not be able to re-seal an edited entry.
    return settings.AUDIT_HMAC_KEY.encode()


def _plain(value: Any) -> Any:
    """Return `value` as JSON that reads back identically (the hash is over what is stored)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)  # Decimal, float, UUID…: as text, exactly


def _canonical(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    kind: str,
    subject: str,
    data: dict,
    prev_hash: str,
) -> bytes:
    return json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_name": actor_name,
            "kind": kind,
            "subject": subject,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def entry_hash(entry: AuditEntry) -> str:
    """Return the HMAC the entry must carry, from its stored content and its previous hash."""
    return hmac.new(
        _key(),
        _canonical(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            kind=entry.kind,
            subject=entry.subject,
            data=entry.data,
            prev_hash=entry.prev_hash,
        ),
        hashlib.sha256,
    ).hexdigest()


def audit_append(
    kind: str,
    *,
    subject: str = "",
    data: dict | None = None,
    actor: AbstractBaseUser | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction: it commits, or vanishes, with the action it records."""
    signed_in = actor is not None and actor.is_authenticated
    entry = AuditEntry(
        at=at or timezone.now(),
        actor_id=actor.pk if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
        kind=kind[:60],
        subject=subject[:120],
        data=_plain(data or {}),
    )
    # No savepoint: an action whose entry failed must not commit without it (the caller's whole
    # transaction rolls back), and on PostgreSQL the chain's lock is held from the head's read to
    # the commit, so every round trip saved here is one every other appender waits less.
    with transaction.atomic(savepoint=False):
        entry.seq, entry.prev_hash = _locked_head()
        entry.seq += 1
        entry.entry_hash = entry_hash(entry)
        entry.save(force_insert=True)
    return entry


HEAD = "SELECT seq, entry_hash FROM exams_auditentry ORDER BY seq DESC LIMIT 1"
CHECK_KEYS_NOW = "SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED;"


def _locked_head() -> tuple[int, str]:
    """Return the last entry's (seq, hash), or (0, GENESIS); on PostgreSQL after taking the chain's
    lock, held to the end of the transaction (the next append reads the entry this one writes)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip for all: the statements go as one query and run in turn, and
            # (READ COMMITTED, Django's default) the SELECT's snapshot is taken once the lock is
            # granted, so it sees the entry the previous holder committed.
            # First the foreign-key checks of what this transaction wrote so far, which Django
            # defers to the commit: run there, after the chain's lock, a check waiting on a row
            # that a transaction waiting for the chain has locked was a deadlock (Issue 10, point
            # 21). IMMEDIATE runs them now (before the lock); DEFERRED restores Django's default
            # for the rest of the transaction.
            cursor.execute(f"{CHECK_KEYS_NOW} SELECT pg_advisory_xact_lock({CHAIN_LOCK}); {HEAD}")
            for _statement in range(CHECK_KEYS_NOW.count(";") + 1):
                cursor.nextset()
        else:
            cursor.execute(HEAD)
        head = cursor.fetchone()
    return (head[0], head[1]) if head else (0, GENESIS)


@dataclass(frozen=True)
class ChainFault:
    seq: int | None  # the entry that does not hold; None for answer-log rows that no entry holds
    reason: str


def verify_chain(entries: Iterator[AuditEntry] | None = None) -> tuple[int, ChainFault | None]:
    """Check every link; return (entries checked, the first fault or None)."""
    entries = (
        entries
        if entries is not None
        else AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
    )
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for entry in entries:
        checked += 1
        if entry.seq != expected_seq:
            return checked, ChainFault(
                entry.seq,
                f"sequence jumps from {expected_seq - 1} to {entry.seq}: an entry is missing",
            )
        if entry.prev_hash != prev_hash:
            return checked, ChainFault(
                entry.seq, "it does not follow the entry before it (deleted or moved entries)"
            )
        if not hmac.compare_digest(entry.entry_hash, entry_hash(entry)):
            return checked, ChainFault(entry.seq, "its content does not match its seal (edited)")
        expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
    return checked, None
