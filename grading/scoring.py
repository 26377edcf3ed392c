"""Scoring rules, as pure functions (R-GRADE-1). Which rule applies is set per exam (Exam.multiple_response_scoring).

- Single best answer and cause–effect: right or wrong.
- Multiple response, "all_or_nothing" (the default): the chosen set must equal the key exactly.
- Multiple response, "partial": points × (right options chosen − wrong options chosen) ÷ options
  in the key, never below zero, cut (not rounded) to the 4 decimals points are kept in. So a
  candidate who ticks everything gains nothing, and no item ever takes points away.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from exams.models import ItemKind

ALL_OR_NOTHING = "all_or_nothing"
PARTIAL = "partial"
POINTS_PLACES = Decimal("0.0001")


def is_auto_scored(kind: str) -> bool:
    """Return whether the machine scores this kind (the committee marks the others)."""
    return kind in ItemKind.choice_kinds()


def choice_points(*, kind: str, key: Sequence[str], answer: Sequence[str] | None, points: Decimal,
                  rule: str = ALL_OR_NOTHING) -> Decimal:
    """Return the points a choice answer earns, by the exam's rule for multiple response."""
    if not is_auto_scored(kind):
        raise ValueError(f"{kind} is not scored by the machine")
    if not answer:
        return Decimal(0)
    chosen, keyed = set(answer), set(key)
    if kind != ItemKind.MULTIPLE or rule == ALL_OR_NOTHING:
        return points if chosen == keyed else Decimal(0)
    if rule != PARTIAL:
        raise ValueError(f"unknown multiple-response rule {rule!r}")
    net = len(chosen & keyed) - len(chosen - keyed)
    if net <= 0 or not keyed:
        return Decimal(0)
    return (points * net / len(keyed)).quantize(POINTS_PLACES, rounding=ROUND_DOWN)


def keyed_points(*, kind: str, accepted_keys: Sequence[Sequence[str]], answer: Sequence[str] | None, points: Decimal,
                 rule: str = ALL_OR_NOTHING) -> Decimal:
    """Return the points of an answer when any of several keys is accepted: the best it earns (R-GRADE-4)."""
    return max((choice_points(kind=kind, key=key, answer=answer, points=points, rule=rule) for key in accepted_keys),
               default=Decimal(0))
