"""Score every attempt with grading.services.attempt_score; the bound: the same scores in NumPy."""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal

import numpy as np
from django.db import connection

from exams.models import ItemKind
from grading.models import AttemptScore
from grading.services import attempt_score

LETTERS = "ABCDE"
REPEATS = 5  # the NumPy computation is short: its best of five is the bound


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def _mask(option_ids) -> int:
    return sum(1 << LETTERS.index(o) for o in option_ids or () if o in LETTERS)


def load_arrays(sitting_id: int) -> dict[str, np.ndarray]:
    """Return the sitting's slots as arrays: attempt index, points, key mask, answer mask, kind."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT ai.attempt_id, ai.points::float8, iv.key::text, r.value::text, it.kind
            FROM exams_attemptitem ai
            JOIN exams_attempt a ON a.id = ai.attempt_id
            JOIN exams_enrolment e ON e.id = a.enrolment_id
            JOIN exams_itemversion iv ON iv.id = ai.item_version_id
            JOIN exams_item it ON it.id = iv.item_id
            LEFT JOIN exams_response r ON r.attempt_item_id = ai.id
            WHERE e.sitting_id = %s AND NOT a.is_practice
            ORDER BY ai.attempt_id""", [sitting_id])
        rows = cursor.fetchall()
    masks: dict[str | None, int] = {}

    def mask(text: str | None) -> int:
        if text not in masks:
            masks[text] = _mask(json.loads(text)) if text else 0
        return masks[text]

    attempt_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    unique_ids, attempt_index = np.unique(attempt_ids, return_inverse=True)
    choice = ItemKind.choice_kinds()
    return {
        "attempt_ids": unique_ids, "attempt": attempt_index,
        "points": np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows)),
        "key": np.fromiter((mask(row[2]) for row in rows), dtype=np.int16, count=len(rows)),
        "answer": np.fromiter((mask(row[3]) for row in rows), dtype=np.int16, count=len(rows)),
        "auto": np.fromiter((row[4] in choice for row in rows), dtype=bool, count=len(rows)),
    }


def numpy_scores(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Return each attempt's machine-scored points: all or nothing, the chosen set equal to the key."""
    right = (arrays["answer"] == arrays["key"]) & (arrays["answer"] != 0) & arrays["auto"]
    return np.bincount(arrays["attempt"], weights=np.where(right, arrays["points"], 0.0), minlength=len(arrays["attempt_ids"]))


def run(sitting_id: int, attempt_ids: list[int]) -> tuple[float, float, list[str]]:
    problems = []
    started = time.perf_counter()
    for attempt_id in attempt_ids:
        attempt_score(attempt_id=attempt_id)
    ours_seconds = time.perf_counter() - started
    rate = len(attempt_ids) / ours_seconds
    note(f"attempt_score: {len(attempt_ids)} attempts in {ours_seconds:.1f} s ({1000 * ours_seconds / len(attempt_ids):.2f} ms each)")

    started = time.perf_counter()
    arrays = load_arrays(sitting_id)
    load_seconds = time.perf_counter() - started
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        totals = numpy_scores(arrays)
        best = min(best, time.perf_counter() - started)
    bound_rate = len(arrays["attempt_ids"]) / best
    note(f"NumPy: {len(arrays['points'])} slots read into arrays in {load_seconds:.1f} s (not in the bound), "
         f"scored in {1000 * best:.1f} ms; with the read: {len(arrays['attempt_ids']) / (load_seconds + best):.0f} attempts/s")

    ours = dict(AttemptScore.objects.filter(attempt_id__in=attempt_ids).values_list("attempt_id", "auto_points"))
    mismatched = [int(a) for a, total in zip(arrays["attempt_ids"], totals, strict=True)
                  if ours.get(int(a)) != Decimal(f"{total:.4f}")]
    if len(ours) != len(attempt_ids) or mismatched:
        problems.append(f"grading: {len(ours)} attempts scored of {len(attempt_ids)}; totals differ from NumPy for "
                        f"{len(mismatched)} (e.g. {mismatched[:5]})")
    else:
        note(f"totals identical for all {len(ours)} attempts (mean {float(np.mean(totals)):.2f} points)")
    return rate, bound_rate, problems
