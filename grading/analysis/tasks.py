"""Item analysis as a background job, its progress and its result kept in the cache.

Nothing is stored in the database: the analysis is a pure function of the sitting's scores, so
a lost result is recomputed, not restored. Two keys per sitting, so that the page keeps showing
the last result while a new one is computed:
- `…:progress` — {"state": "running" | "done" | "failed", "progress": 0–1, "started_at", "error"};
- `…:result`   — the analysis as plain JSON with `computed_at`.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .data import load_matrix
from .stats import analyse

KEEP_RESULT_SECONDS = 60 * 60 * 24 * 90  # a sitting's analysis is looked at for weeks, not years
KEEP_PROGRESS_SECONDS = 60 * 60
# A job whose progress has not moved for this long died with its worker (acks_late redelivers it,
# but only when a worker restarts): the page then lets the committee start another one.
STALE_SECONDS = 10 * 60


def result_key(sitting_id: int) -> str:
    return f"grading:item-analysis:{sitting_id}:result"


def progress_key(sitting_id: int) -> str:
    return f"grading:item-analysis:{sitting_id}:progress"


def analysis_result(sitting_id: int) -> dict[str, Any] | None:
    """Return the last stored analysis of the sitting, or None."""
    return cache.get(result_key(sitting_id))


def analysis_progress(sitting_id: int) -> dict[str, Any] | None:
    """Return the state of the latest job for the sitting, or None if none ran recently."""
    return cache.get(progress_key(sitting_id))


def is_running(sitting_id: int, now: float | None = None) -> bool:
    """Return whether a job for the sitting is under way (and not given up for dead)."""
    state = analysis_progress(sitting_id)
    now = time.time() if now is None else now
    return bool(state and state["state"] == "running" and now - state["updated"] < STALE_SECONDS)


def _set_progress(sitting_id: int, state: str, progress: float, **extra: Any) -> None:
    cache.set(progress_key(sitting_id), {"state": state, "progress": round(progress, 3), "updated": time.time(), **extra},
              KEEP_PROGRESS_SECONDS)


def analysis_queue(*, sitting_id: int) -> bool:
    """Queue an analysis of the sitting after the current transaction commits; False if one runs."""
    if is_running(sitting_id):
        return False
    # Marked running at once, so a second click before the worker picks it up queues nothing more.
    _set_progress(sitting_id, "running", 0.0)
    transaction.on_commit(lambda: analyse_sitting.delay(sitting_id))
    return True


def analysis_run(sitting_id: int) -> dict[str, Any]:
    """Analyse the sitting now, in this process; store and return the result. Safe to repeat."""
    started = time.perf_counter()
    _set_progress(sitting_id, "running", 0.0)
    try:
        matrix = load_matrix(sitting_id)
        _set_progress(sitting_id, "running", 0.4)
        last = [0.0]

        def report(fraction: float) -> None:
            # Every 10 % at most: a cache write per cell would cost more than the analysis.
            if fraction - last[0] >= 0.1 or fraction >= 1:
                last[0] = fraction
                _set_progress(sitting_id, "running", 0.4 + 0.55 * fraction)

        analysis = analyse(matrix, progress=report)
    except Exception as exc:
        _set_progress(sitting_id, "failed", 0.0, error=str(exc)[:300])
        raise
    result = asdict(analysis)
    result.update(sitting_id=sitting_id, computed_at=timezone.now().isoformat(),
                  seconds=round(time.perf_counter() - started, 3))
    # Same input, same output: a redelivered task overwrites the result with an equal one.
    cache.set(result_key(sitting_id), result, KEEP_RESULT_SECONDS)
    _set_progress(sitting_id, "done", 1.0)
    return result


@shared_task(acks_late=True)
def analyse_sitting(sitting_id: int) -> None:
    """Compute the item analysis of a sitting and keep it in the cache (see the module docstring)."""
    analysis_run(sitting_id)
