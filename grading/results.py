"""From points to the result a candidate is told (R-GRADE-3), as pure functions.

The rounding, written down once: the final percent is the exact fraction of the points, times
100, rounded DOWN to a whole number. 79.99 % is 79 and fails at a pass mark of 80; nobody is
pushed over the line by rounding. With a clinical-case part of weight w %, the exact fraction is
written × (100 − w) % + clinical × w %, then rounded down the same way.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction


def final_percent(*, written_points: Decimal, written_max: Decimal, clinical_points: Decimal | None = None,
                  clinical_max: Decimal | None = None, clinical_weight: int = 0) -> int:
    """Return the final whole percent, rounded down (see the module's docstring)."""
    if written_max <= 0:
        raise ValueError("the written part has no points")
    share = Fraction(written_points) / Fraction(written_max)
    if clinical_weight:
        if clinical_points is None or not clinical_max:
            raise ValueError("the clinical-case score is missing")
        clinical = Fraction(clinical_points) / Fraction(clinical_max)
        share = share * Fraction(100 - clinical_weight, 100) + clinical * Fraction(clinical_weight, 100)
    return math.floor(share * 100)


def passes(percent: int, pass_percent: int) -> bool:
    """Return whether a final percent passes: at or above the exam's pass mark (80 %)."""
    return percent >= pass_percent
