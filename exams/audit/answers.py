"""Answer saves in the chain: one sealed entry per stored batch, and checking AnswerLog against them.

A save is too frequent for an entry of its own (over a thousand a second would queue behind the
chain's one lock), so each `responses_save` batch appends one "answers.saved" entry in the batch's
own transaction: how many saves were accepted and refused (by reason), per attempt, the range of
AnswerLog ids the batch wrote, and a SHA-256 over those rows. The entry is sealed like any other,
so the digest cannot be changed; a row edited, deleted or added behind the application's back no
longer matches it (verify_answer_batches, run by `manage.py verify_audit`).

AnswerLog has no device column: the device is per attempt and batch (a save is only accepted
from the attempt's device, and the attempt is locked while its batch is written), so the entry
holds it per attempt — its first 8 characters, as the sign-in entries do.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from django.db.models import Count

from ..models import AnswerLog, AuditEntry
from .chain import ChainFault, audit_append

BATCH_KIND = "answers.saved"
# The columns the digest covers, in this order; a row is a tuple of them (as values_list gives).
ROW_FIELDS = ("id", "attempt_id", "position", "seq", "value", "flagged", "received_at")


def rows_digest(rows: Iterable[Sequence]) -> str:
    """Return the SHA-256 over answer-log rows (ROW_FIELDS, by id): one canonical JSON line each."""
    digest = hashlib.sha256()
    for *columns, received_at in rows:
        line = [*columns, received_at.astimezone(UTC).isoformat(timespec="microseconds")]
        digest.update(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def audit_answer_batch(*, rows: list[tuple], refused: list[tuple[int, str]], devices: dict[int, str],
                       at: datetime) -> AuditEntry:
    """Append the entry for one stored batch, in its transaction: call it last, after the batch's
    writes, so that the chain's lock is held only from this INSERT to the commit.

    `rows`: the AnswerLog rows the batch wrote (ROW_FIELDS); `refused`: (attempt id, reason code)
    per refused change; `devices`: the device of each attempt with accepted saves.
    """
    rows = sorted(rows)
    attempts: dict[int, dict] = {}
    for row in rows:
        attempts.setdefault(row[1], {"saved": 0})["saved"] += 1
    for attempt_id, code in refused:
        # "not_found": no such attempt, or not this candidate's; counted in the totals only.
        if code != "not_found":
            attempts.setdefault(attempt_id, {"saved": 0}).setdefault("refused", Counter())[code] += 1
    for attempt_id, device in devices.items():
        attempts[attempt_id]["device"] = device[:8]
    data = {"saved": len(rows), "refused": Counter(code for _attempt, code in refused),
            "attempts": {str(attempt_id): attempts[attempt_id] for attempt_id in sorted(attempts)}}
    subject = ""
    if rows:
        data.update(log_ids=[rows[0][0], rows[-1][0]], digest=rows_digest(rows))
        subject = f"answerlog:{rows[0][0]}-{rows[-1][0]}"
    return audit_append(BATCH_KIND, subject=subject, data=data, at=at)


def verify_answer_batches(entries: Iterator[AuditEntry] | None = None) -> tuple[int, ChainFault | None]:
    """Check AnswerLog against the sealed batches; return (batches checked, the first fault or None).

    Run it on a consistent snapshot (`manage.py verify_audit` does): a batch committing between
    two of its reads would otherwise look like rows without a seal.
    """
    if entries is None:
        entries = AuditEntry.objects.filter(kind=BATCH_KIND).order_by("seq").iterator(chunk_size=500)
    checked, first_id, sealed = 0, None, Counter()
    for entry in entries:
        checked += 1
        if not entry.data.get("saved"):
            continue
        fault = _batch_fault(entry)
        if fault is not None:
            return checked, fault
        first_id = entry.data["log_ids"][0] if first_id is None else min(first_id, entry.data["log_ids"][0])
        sealed.update({int(a): counts["saved"] for a, counts in entry.data["attempts"].items() if counts["saved"]})
    if first_id is not None:
        # Every row from the first sealed one on must be in some batch: a row added later is not.
        held = Counter(dict(AnswerLog.objects.filter(pk__gte=first_id).order_by().values("attempt_id")
                            .annotate(n=Count("id")).values_list("attempt_id", "n")))
        added = sorted(attempt_id for attempt_id in held if held[attempt_id] > sealed[attempt_id])
        if added:
            return checked, ChainFault(None, f"answer-log rows that no sealed batch holds (added): attempt(s) "
                                             f"{', '.join(map(str, added[:10]))}")
    return checked, None


def _batch_fault(entry: AuditEntry) -> ChainFault | None:
    data = entry.data
    first, last = data["log_ids"]
    expected = {int(a): counts["saved"] for a, counts in data["attempts"].items() if counts["saved"]}
    # Within the id range, the rows of the batch's attempts are the batch's rows: a batch locks
    # its attempts, so two batches touching one attempt write their rows one after the other.
    rows = list(AnswerLog.objects.filter(pk__range=(first, last), attempt_id__in=list(expected)).order_by("pk")
                .values_list(*ROW_FIELDS))
    found = Counter(row[1] for row in rows)
    short = sorted(a for a in expected if found[a] < expected[a])
    if short:
        missing = ", ".join(f"attempt {a}: {found[a]} of {expected[a]}" for a in short[:10])
        return ChainFault(entry.seq, f"answer-log rows {first}–{last} are missing (deleted): {missing}")
    if len(rows) != data["saved"] or rows_digest(rows) != data["digest"]:
        return ChainFault(entry.seq, f"answer-log rows {first}–{last} do not match its digest (edited or added)")
    return None

