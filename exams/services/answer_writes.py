"""Writing a batch of answer changes: the stored answers, the answer log, last_seq, the refusals,
and the batch's seal in the audit chain.

PostgreSQL gets the accepted changes in one statement (data-modifying CTEs over arrays, which
PostgreSQL runs exactly once each); other databases (SQLite in the embedded mode) get the same
rule statement by statement. Either way a stored answer is only replaced by a newer change, and
a change is logged once: the answer log has one row per (attempt, seq) (issue 11, point 4).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from ..audit import audit_answer_batch
from ..models import AnswerLog, AttemptEvent

# The rule of the whole answer path: only a newer change replaces a stored answer.
NEWER_ONLY = "WHERE exams_response.seq < excluded.seq"
UPSERT_SET = (
    "ON CONFLICT (attempt_item_id) DO UPDATE SET value = excluded.value, flagged = excluded.flagged, "
    f"seq = excluded.seq, saved_at = excluded.saved_at {NEWER_ONLY}"
)


@dataclass(frozen=True)
class AcceptedChange:
    attempt_item_id: int
    attempt_id: int
    position: int
    value_json: str
    flagged: bool
    seq: int
    device_id: str


POSTGRES_BATCH = f"""
WITH incoming AS (
    SELECT * FROM unnest(%(item)s::bigint[], %(attempt)s::bigint[], %(position)s::int[], %(value)s::text[],
                         %(flagged)s::bool[], %(seq)s::bigint[])
           AS t(item_id, attempt_id, position, value, flagged, seq)
), stored AS (
    -- One row per item: of two changes to one item in a batch only the newer can win anyway.
    INSERT INTO exams_response (attempt_item_id, attempt_id, value, flagged, seq, saved_at)
    SELECT DISTINCT ON (item_id) item_id, attempt_id, value::jsonb, flagged, seq, %(now)s
    FROM incoming ORDER BY item_id, seq DESC
    {UPSERT_SET}
), logged AS (
    -- A change already logged is not logged again (the caller filters them under the attempts'
    -- locks; this holds the rule even for a caller that did not): RETURNING gives only new rows.
    INSERT INTO exams_answerlog (attempt_id, position, seq, value, flagged, received_at)
    SELECT attempt_id, position, seq, value::jsonb, flagged, %(now)s FROM incoming
    ON CONFLICT (attempt_id, seq) WHERE NOT resent DO NOTHING
    RETURNING id, attempt_id, position, seq, value::text, flagged, received_at
), bumped AS (
    UPDATE exams_attempt AS a SET last_seq = newest.seq
    FROM (SELECT attempt_id, max(seq) AS seq FROM incoming GROUP BY attempt_id) AS newest
    WHERE a.id = newest.attempt_id AND a.last_seq < newest.seq
)
-- The rows as stored, for the batch's seal (the digest is over what a later reader sees).
SELECT * FROM logged
"""


def write_batch(*, accepted: list[AcceptedChange], refused: list[tuple[int, str]], now: datetime) -> None:
    """Store a batch inside the caller's transaction: the accepted changes, an event per attempt
    with refused changes, and last the batch's entry in the audit chain (so that the chain's lock
    is held only from that one INSERT to the commit). `refused`: (attempt id, reason code) each."""
    rows = write_accepted(accepted, now)
    logged_attempts = {row[1] for row in rows}
    per_attempt = Counter(attempt_id for attempt_id, code in refused if code != "not_found")
    if per_attempt:
        # bulk_create sends no post_save, so these events are not chain entries of their own:
        # the batch's entry below counts them, by attempt and reason.
        AttemptEvent.objects.bulk_create(
            AttemptEvent(attempt_id=attempt_id, kind=AttemptEvent.Kind.SAVE_REFUSED, at=now, detail={"count": count})
            for attempt_id, count in per_attempt.items()
        )
    # The entry covers the rows written: an attempt whose changes were all logged before has none.
    devices = {c.attempt_id: c.device_id for c in accepted if c.attempt_id in logged_attempts}
    audit_answer_batch(rows=rows, refused=refused, devices=devices, at=now)


def already_logged(changes: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Return those of the (attempt id, seq) pairs that the answer log holds already.

    Under the attempts' row locks (services.responses_save) the answer is final until commit: a
    batch with the same change waits for the lock and, in READ COMMITTED, then sees this one's rows.
    """
    wanted = set(changes)
    if not wanted:
        return set()
    # One query on the (attempt, seq) index: a superset of the pairs, cut down here.
    # Rows marked resent are second copies of unmarked ones; leaving them out lets the partial
    # unique index answer.
    found = AnswerLog.objects.filter(
        attempt_id__in={attempt_id for attempt_id, _seq in wanted}, seq__in={seq for _attempt_id, seq in wanted},
        resent=False,
    ).values_list("attempt_id", "seq")
    return wanted & set(found)


def write_accepted(changes: list[AcceptedChange], now: datetime) -> list[tuple]:
    """Store the accepted changes of a batch, inside the caller's transaction; return the answer-log
    rows written (exams.audit.answers.ROW_FIELDS): none for a change whose (attempt, seq) is
    logged already, and one for a change sent twice in the batch (the first)."""
    firsts: dict[tuple[int, int], AcceptedChange] = {}
    for change in changes:
        firsts.setdefault((change.attempt_id, change.seq), change)
    changes = list(firsts.values())
    if not changes:
        return []
    if connection.vendor == "postgresql":
        return _write_postgres(changes, now)
    return _write_portable(changes, now)


def _write_postgres(changes: list[AcceptedChange], now: datetime) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(POSTGRES_BATCH, {
            "item": [c.attempt_item_id for c in changes], "attempt": [c.attempt_id for c in changes],
            "position": [c.position for c in changes], "value": [c.value_json for c in changes],
            "flagged": [c.flagged for c in changes], "seq": [c.seq for c in changes], "now": now,
        })
        return [(pk, attempt_id, position, seq, json.loads(value), flagged, received_at)
                for pk, attempt_id, position, seq, value, flagged, received_at in cursor.fetchall()]


def _write_portable(changes: list[AcceptedChange], now: datetime) -> list[tuple]:
    # responses_save has left out the changes logged before; this keeps the promise for any other
    # caller. Should a duplicate slip in between, the unique constraint refuses the batch and the
    # batcher writes its changes one by one.
    logged_before = already_logged((c.attempt_id, c.seq) for c in changes)
    highest: dict[int, int] = {}
    for c in changes:
        highest[c.attempt_id] = max(highest.get(c.attempt_id, 0), c.seq)
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO exams_response (attempt_item_id, attempt_id, value, flagged, seq, saved_at) "
            f"VALUES (%s, %s, %s, %s, %s, %s) {UPSERT_SET}",
            [(c.attempt_item_id, c.attempt_id, c.value_json, c.flagged, c.seq, now) for c in changes],
        )
        cursor.executemany(
            "UPDATE exams_attempt SET last_seq = %s WHERE id = %s AND last_seq < %s",
            [(seq, attempt_id, seq) for attempt_id, seq in highest.items()],
        )
    logged = AnswerLog.objects.bulk_create(
        AnswerLog(attempt_id=c.attempt_id, position=c.position, seq=c.seq, value=json.loads(c.value_json),
                  flagged=c.flagged, received_at=now)
        for c in changes
        if (c.attempt_id, c.seq) not in logged_before
    )
    # bulk_create sets the ids where the database returns them (SQLite 3.35+, PostgreSQL).
    return [(row.pk, row.attempt_id, row.position, row.seq, row.value, row.flagged, row.received_at) for row in logged]

