"""Analyse the sitting with grading.analysis; the bound: a plain psycopg read plus the same statistics in NumPy."""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
from django.db import connection

from grading.analysis.data import load_matrix
from grading.analysis.stats import GROUP_FRACTION, analyse

LETTERS = "ABCDE"


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def read_rows(sitting_id: int) -> list[tuple]:
    """The rows data.load_matrix reads, with one plain query (no ORM)."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT s.attempt_id, ai.item_version_id, s.points::float8, s.max_points::float8, r.value::text
            FROM grading_itemscore s
            JOIN exams_attempt a ON a.id = s.attempt_id
            JOIN exams_enrolment e ON e.id = a.enrolment_id
            JOIN exams_attemptitem ai ON ai.id = s.attempt_item_id
            LEFT JOIN exams_response r ON r.attempt_item_id = s.attempt_item_id
            WHERE e.sitting_id = %s AND NOT a.is_practice AND a.status IN ('submitted', 'scored')
              AND s.points IS NOT NULL""", [sitting_id])
        return cursor.fetchall()


def numpy_analysis(rows: list[tuple]) -> dict:
    """Difficulty, item–rest point-biserial, KR-20 (average form) and option counts, vectorised."""
    masks: dict[str | None, int] = {}

    def mask(text: str | None) -> int:
        if text not in masks:
            masks[text] = sum(1 << LETTERS.index(o) for o in (json.loads(text) if text else []) if o in LETTERS)
        return masks[text]

    n_rows = len(rows)
    attempt_ids, attempt = np.unique(np.fromiter((r[0] for r in rows), np.int64, n_rows), return_inverse=True)
    version_ids, item = np.unique(np.fromiter((r[1] for r in rows), np.int64, n_rows), return_inverse=True)
    earned = np.fromiter((r[2] for r in rows), np.float64, n_rows)
    possible = np.fromiter((r[3] for r in rows), np.float64, n_rows)
    chosen = np.fromiter((mask(r[4]) for r in rows), np.int16, n_rows)
    n_attempts, n_items = len(attempt_ids), len(version_ids)

    x = earned / possible
    n = np.bincount(item, minlength=n_items)
    p = np.bincount(item, x, n_items) / n
    total_earned = np.bincount(attempt, earned, n_attempts)
    total_possible = np.bincount(attempt, possible, n_attempts)
    counts = np.bincount(attempt, minlength=n_attempts)
    rest = (total_earned[attempt] - earned) / (total_possible[attempt] - possible)

    def per_item(values: np.ndarray) -> np.ndarray:
        return np.bincount(item, values, n_items) / n

    cov = per_item(x * rest) - per_item(x) * per_item(rest)
    r = cov / np.sqrt((per_item(x * x) - per_item(x) ** 2) * (per_item(rest * rest) - per_item(rest) ** 2))

    d = x - p[item]
    k = counts.mean()
    total_variance = np.mean((k * np.bincount(attempt, d, n_attempts) / counts) ** 2)
    form_variance = k * np.mean(np.bincount(attempt, d * d, n_attempts) / counts)
    kr20 = k / (k - 1) * (1 - form_variance / total_variance)

    scores = total_earned / total_possible
    size = min(math.ceil(GROUP_FRACTION * n_attempts), n_attempts // 2)
    # Ties broken by attempt id, as stats.top_bottom does (np.unique sorted the ids: index order).
    ranked = np.lexsort((np.arange(n_attempts), -scores))
    top, bottom = np.zeros(n_attempts, bool), np.zeros(n_attempts, bool)
    top[ranked[:size]], bottom[ranked[n_attempts - size:]] = True, True
    options = {}
    for bit, letter in enumerate(LETTERS):
        picked = ((chosen >> bit) & 1).astype(np.float64)
        options[letter] = [np.bincount(item, picked * w, n_items) for w in (1.0, top[attempt], bottom[attempt])]
    blank = (chosen == 0).astype(np.float64)
    options[""] = [np.bincount(item, blank * w, n_items) for w in (1.0, top[attempt], bottom[attempt])]
    return {"version_ids": version_ids, "p": p, "r": r, "kr20": kr20, "options": options}


def run(sitting_id: int) -> tuple[float, float, list[str]]:
    problems = []
    started = time.perf_counter()
    matrix = load_matrix(sitting_id)
    loaded = time.perf_counter()
    analysis = analyse(matrix)
    seconds = time.perf_counter() - started
    note(f"item analysis: load {loaded - started:.2f} s + statistics {seconds - (loaded - started):.2f} s; "
         f"{analysis.summary.attempts} attempts, {analysis.summary.items} items, {len(matrix)} cells; "
         f"KR-20 {analysis.summary.kr20:.4f}, mean {analysis.summary.mean:.1f} %, SD {analysis.summary.sd:.1f}; "
         f"{sum(1 for i in analysis.items if i.flags)} items flagged "
         f"({sum(1 for i in analysis.items if 'miskeyed' in i.flags)} as miskeyed)")

    started = time.perf_counter()
    rows = read_rows(sitting_id)
    read = time.perf_counter()
    bound = numpy_analysis(rows)
    bound_seconds = time.perf_counter() - started
    note(f"bound: psycopg read {read - started:.2f} s + NumPy {bound_seconds - (read - started):.2f} s")

    index = {int(v): i for i, v in enumerate(bound["version_ids"])}
    worst = 0.0
    for item in analysis.items:
        i = index[item.info.version_id]
        worst = max(worst, abs(item.difficulty - bound["p"][i]), abs(item.point_biserial - bound["r"][i]))
        for option in item.options:
            expected = [int(c[i]) for c in bound["options"][option.option]]
            if [option.total, option.top, option.bottom] != expected:
                problems.append(f"item_analysis: option counts of {item.info.code} {option.option!r} differ from NumPy")
                break
    worst = max(worst, abs(analysis.summary.kr20 - bound["kr20"]))
    if worst > 1e-9:
        problems.append(f"item_analysis: statistics differ from NumPy by up to {worst:.2e}")
    else:
        note(f"difficulty, point-biserial, KR-20 and option counts agree with NumPy (largest difference {worst:.1e})")
    return seconds, bound_seconds, problems[:10]
