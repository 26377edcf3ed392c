"""The hash chain: appending under one lock, and checking every link."""

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
    # A key of its own if configured, so that rotating the session secret does not break the chain.
    return (getattr(settings, "AUDIT_HMAC_KEY", "") or f"audit:{settings.SECRET_KEY}").encode()


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


def _canonical(*, seq: int, at: datetime, actor_id: int | None, actor_name: str, kind: str, subject: str,
               data: dict, prev_hash: str) -> bytes:
    return json.dumps(
        {"seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "actor_id": actor_id,
         "actor_name": actor_name, "kind": kind, "subject": subject, "data": data, "prev": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()


def entry_hash(entry: AuditEntry) -> str:
    """Return the HMAC the entry must carry, from its stored content and its previous hash."""
    return hmac.new(_key(), _canonical(seq=entry.seq, at=entry.at, actor_id=entry.actor_id, actor_name=entry.actor_name,
                                       kind=entry.kind, subject=entry.subject, data=entry.data, prev_hash=entry.prev_hash),
                    hashlib.sha256).hexdigest()


def audit_append(kind: str, *, subject: str = "", data: dict | None = None, actor: AbstractBaseUser | None = None,
                 at: datetime | None = None) -> AuditEntry:
    """Append an entry in the caller's transaction: it commits, or vanishes, with the action it records."""
    at = at or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Held to the end of the transaction: the next append reads this one's hash.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditEntry.objects.order_by("-seq").only("seq", "entry_hash").first()
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1, at=at,
            actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
            actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
            kind=kind[:60], subject=subject[:120], data=_plain(data or {}), prev_hash=last.entry_hash if last else GENESIS,
        )
        entry.entry_hash = entry_hash(entry)
        entry.save(force_insert=True)
        return entry


@dataclass(frozen=True)
class ChainFault:
    seq: int | None  # the entry that does not hold; None for answer-log rows that no entry holds
    reason: str


def verify_chain(entries: Iterator[AuditEntry] | None = None) -> tuple[int, ChainFault | None]:
    """Check every link; return (entries checked, the first fault or None)."""
    entries = entries if entries is not None else AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for entry in entries:
        checked += 1
        if entry.seq != expected_seq:
            return checked, ChainFault(entry.seq, f"sequence jumps from {expected_seq - 1} to {entry.seq}: an entry is missing")
        if entry.prev_hash != prev_hash:
            return checked, ChainFault(entry.seq, "it does not follow the entry before it (deleted or moved entries)")
        if not hmac.compare_digest(entry.entry_hash, entry_hash(entry)):
            return checked, ChainFault(entry.seq, "its content does not match its seal (edited)")
        expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
    return checked, None
