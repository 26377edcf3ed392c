"""Scoring rules, as pure functions (R-GRADE-1). The grading issue makes these configurable."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from exams.models import ItemKind


def is_auto_scored(kind: str) -> bool:
    """Return whether the machine scores this kind (the committee marks the others)."""
    return kind in ItemKind.choice_kinds()


def choice_points(*, kind: str, key: Sequence[str], answer: Sequence[str] | None, points: Decimal) -> Decimal:
    """Return the points a choice answer earns.

    Single best answer and cause–effect: right or wrong. Multiple response: all-or-nothing,
    the chosen set must equal the key exactly.
    """
    if not is_auto_scored(kind):
        raise ValueError(f"{kind} is not scored by the machine")
    if not answer:
        return Decimal(0)
    return points if set(answer) == set(key) else Decimal(0)
