"""A sitting of N submitted attempts on random forms, written with bulk SQL (COPY) in seconds.

Not `bench/grading/`: run as a script, bench/grading.py would then shadow (or be shadowed by) the
`grading` app; hence `grading_bench`.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from datetime import timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from exams.models import (
    Attempt,
    AttemptStatus,
    BlueprintEntry,
    Enrolment,
    Exam,
    ItemKind,
    ItemStatus,
    Room,
    Sitting,
    SubmittedBy,
)
from exams.services.bank import ItemContent, item_create, topic_get_or_create

LETTERS = "ABCDE"
KINDS = [ItemKind.SINGLE] * 12 + [ItemKind.MULTIPLE] * 5 + [ItemKind.CAUSE_EFFECT] * 3  # 60 / 25 / 15 %
MISKEYED = 3  # items whose key is wrong: strong candidates avoid the keyed option (the flags must find them)
BLANK = 0.02


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def _bank(bank_size: int, rng: np.random.Generator) -> list[dict]:
    topics = [topic_get_or_create(code=f"bench-topic-{t}", name=f"Bench topic {t}") for t in range(4)]
    versions = []
    for n in range(bank_size):
        kind = KINDS[n % len(KINDS)]
        options = [{"id": letter, "text": f"Option {letter} of item {n}"} for letter in LETTERS]
        if kind == ItemKind.MULTIPLE:
            key = sorted(rng.choice(list(LETTERS), size=2, replace=False).tolist())
            content = ItemContent(stem=f"Which apply ({n})?", options=options, key=key)
        elif kind == ItemKind.SINGLE:
            key = [str(rng.choice(list(LETTERS)))]
            content = ItemContent(stem=f"Which one ({n})?", options=options, key=key)
        else:
            key = [str(rng.choice(list(LETTERS)))]
            content = ItemContent(stem=f"Assertion {n}.", reason=f"Reason {n}.", key=key)
        item = item_create(code=f"BENCH-{n:04d}", topic=topics[n % len(topics)], kind=kind, content=content,
                           status=ItemStatus.LIVE)
        versions.append({"id": item.current_version_id, "kind": kind, "key": key})
    return versions


def _wrong(kind: str, key: list[str], rng_value: float) -> list[str]:
    """Return a wrong answer: another option, or for multiple response the key with one change."""
    others = [letter for letter in LETTERS if letter not in key]
    pick = others[int(rng_value * len(others)) % len(others)]
    if kind != ItemKind.MULTIPLE:
        return [pick]
    return sorted([*key[1:], pick]) if rng_value < 0.5 else sorted([*key, pick])


def sitting(*, attempts: int, items_per_form: int, bank_size: int, seed: int) -> tuple[int, list[int]]:
    """Create the sitting and its submitted attempts; return the sitting's id and the attempt ids."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    versions = _bank(bank_size, rng)
    exam = Exam.objects.create(code="bench-grading", title="Bench exam", item_count=items_per_form, duration_minutes=100)
    for topic_code in {f"bench-topic-{t}" for t in range(4)}:
        from exams.models import Topic

        BlueprintEntry.objects.create(exam=exam, topic=Topic.objects.get(code=topic_code), count=items_per_form // 4)
    now = timezone.now()
    the_sitting = Sitting.objects.create(exam=exam, name="Bench sitting", starts_at=now - timedelta(hours=3), proctored=False)
    room = Room.objects.create(sitting=the_sitting, name="Hall", seats=attempts)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bench{n:05d}", password="!", first_name="Bench", last_name=str(n)) for n in range(attempts)],
        batch_size=2000,
    )
    enrolments = Enrolment.objects.bulk_create(
        [Enrolment(sitting=the_sitting, room=room, candidate=user, ticket_number=f"B{n:05d}", grade="Bench", identity_confirmed_at=now)
         for n, user in enumerate(users)], batch_size=2000,
    )
    attempt_rows = Attempt.objects.bulk_create(
        [Attempt(candidate=user, exam=exam, enrolment=enrolment, status=AttemptStatus.SUBMITTED, form_seed=n,
                 started_at=now - timedelta(hours=2), deadline=now - timedelta(minutes=20),
                 submitted_at=now - timedelta(minutes=30), submitted_by=SubmittedBy.CANDIDATE, device_id="b" * 32)
         for n, (user, enrolment) in enumerate(zip(users, enrolments, strict=True))], batch_size=2000,
    )
    attempt_ids = [a.pk for a in attempt_rows]
    note(f"bank, exam and {attempts} attempts created in {time.perf_counter() - started:.1f} s")

    # Forms: items_per_form of the bank per attempt; answers from a 2-parameter logistic model.
    started = time.perf_counter()
    forms = np.argsort(rng.random((attempts, bank_size)), axis=1)[:, :items_per_form]
    ability = rng.normal(0, 1, attempts)
    difficulty = rng.normal(-0.5, 1, bank_size)
    discrimination = rng.uniform(0.6, 2.0, bank_size)
    discrimination[rng.choice(bank_size, MISKEYED, replace=False)] = -1.2
    p_right = 1 / (1 + np.exp(-discrimination[forms] * (ability[:, None] - difficulty[forms])))
    right = rng.random(forms.shape) < p_right
    blank = rng.random(forms.shape) < BLANK
    wrong_pick = rng.random(forms.shape)
    permutations = [json.dumps(list(p)) for p in itertools.permutations(LETTERS)]
    order_pick = rng.integers(0, len(permutations), forms.shape)
    fixed_order = json.dumps(list(LETTERS))
    points = str(exam.points_per_item())

    item_lines, response_lines = [], []
    slot_id = 0
    saved_at = (now - timedelta(minutes=31)).isoformat()
    for a, attempt_id in enumerate(attempt_ids):
        for position in range(items_per_form):
            slot_id += 1
            version = versions[forms[a, position]]
            kind = version["kind"]
            order = fixed_order if kind == ItemKind.CAUSE_EFFECT else permutations[order_pick[a, position]]
            item_lines.append(f"{slot_id}\t{attempt_id}\t{position + 1}\t{version['id']}\t{order}\t{points}\n")
            if blank[a, position]:
                value = []
            elif right[a, position]:
                value = version["key"]
            else:
                value = _wrong(kind, version["key"], wrong_pick[a, position])
            response_lines.append(f"{slot_id}\t{attempt_id}\t{json.dumps(value)}\tf\t{position + 1}\t{saved_at}\n")
    with transaction.atomic(), connection.cursor() as cursor:
        _copy(cursor, "COPY exams_attemptitem (id, attempt_id, position, item_version_id, option_order, points) FROM STDIN",
              item_lines)
        _copy(cursor, "COPY exams_response (attempt_item_id, attempt_id, value, flagged, seq, saved_at) FROM STDIN",
              response_lines)
        cursor.execute("SELECT setval(pg_get_serial_sequence('exams_attemptitem', 'id'), %s)", [slot_id])
        cursor.execute("UPDATE exams_attempt SET last_seq = %s WHERE id = ANY(%s)", [items_per_form, attempt_ids])
        cursor.execute("ANALYZE")
    note(f"{slot_id} form slots and answers written with COPY in {time.perf_counter() - started:.1f} s")
    return the_sitting.pk, attempt_ids


def _copy(cursor, statement: str, lines: list[str], chunk: int = 50_000) -> None:
    with cursor.cursor.copy(statement) as copy:
        for start in range(0, len(lines), chunk):
            copy.write("".join(lines[start:start + chunk]))
