"""Classical item statistics for one sitting, as pure functions over a response matrix (R-GRADE-5).

Pure Python on purpose: the analysis runs in the web and worker processes, which do not otherwise
need NumPy, and one pass over 10,000 attempts × 100 items takes a couple of seconds
(bench/grading.py measures it against a NumPy computation of the same numbers).

What counts
-----------
A cell is one scored slot of one attempt: the points it earned and could earn, and, for choice
items, the option ids chosen. Items the committee has not marked yet are not cells: they are left
out of the item statistics *and* of the attempt's total, so an attempt with two answers awaiting
marks is scored on the items it has marks for. Every score is therefore a proportion of the points
the attempt could earn on its marked items (`score = Σ earned / Σ possible`), which keeps attempts
with different numbers of marked items comparable.

An item's score in an attempt is `earned / possible` (0 or 1 for machine-scored items, a fraction
for committee marks). With 0/1 scores every formula below is the textbook one; with fractions,
`p·q` becomes the item's variance, which turns KR-20 into Cronbach's alpha (the same number when
every item is 0/1).

Random forms and KR-20
----------------------
Every candidate gets a form drawn at random from the bank, so an item is in only some attempts and
no two attempts need share a single item: there is no fixed k × N matrix for the textbook formula.
We use the *average-form* KR-20:

    KR-20 = k / (k − 1) · (1 − E[Σ p·q] / σ²)

- `k` is the mean number of scored items per attempt (every form has the exam's item count, so
  this is 100 unless marks are still missing);
- `E[Σ p·q]` is the sum of item variances an average form has: k times the mean, over attempts, of
  the mean of (xᵢ − pᵢ)² over the attempt's items. With forms of equal length that is
  Σᵢ nᵢ·pᵢ·qᵢ / N — each item weighted by how often it was drawn, exactly as a random form weights
  it (nᵢ: attempts that had item i, N: attempts);
- `σ²` is the variance of the *form-adjusted* total: k times the mean, over the attempt's items, of
  (xᵢ − pᵢ), i.e. the candidate's score measured from what the same form gives an average
  candidate.

Why adjust the total: with random forms part of the spread of raw totals is the spread of form
difficulty (some draws are easier). That is not true-score variance, but the formula would count
it as such — raw totals inflate KR-20, and on small or uneven data push it above 1. Measured from
each item's own p, the easier and harder forms are put on one footing. On a fixed form (every
attempt has every item) the adjustment is a constant shift, so this is exactly the textbook KR-20
(the tests check it), and by Cauchy–Schwarz on each attempt's items, (Σ dᵢ)² ≤ k·Σ dᵢ², it can
never exceed 1 (a Hypothesis property checks that too). It may be negative for a test whose items
do not measure one thing.

All variances and standard deviations are population ones (divide by N), as KR-20 uses them.

Discrimination
--------------
The point-biserial is the *corrected* item–rest correlation: the item's score against the
attempt's score on its other items. Against the total including the item it would be inflated,
and with a form of few marked items noticeably so. The upper–lower index D (share right among the
top 27 % minus the share among the bottom 27 %) is given as well. Top and bottom groups are the
ceil(27 % × N) best and worst attempts by score (ties broken by attempt id), never overlapping.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

GROUP_FRACTION = 0.27  # Kelley's 27 %: the split that makes the upper–lower index most stable
TOO_EASY = 0.9  # p above this: nearly everyone gets it; it tells candidates apart poorly
TOO_HARD = 0.2  # p below this: nearly nobody does; often a sign of a wrong key or a flawed stem
HISTOGRAM_BIN = 5  # percent points per bar: 20 bars, the pass mark (80) on a bar's edge


@dataclass(frozen=True)
class ItemInfo:
    """What the analysis shows about an item version besides its numbers."""

    version_id: int
    code: str
    version: int
    topic: str
    kind: str
    options: tuple[str, ...] = ()  # option ids in the bank's order; empty for text kinds
    key: tuple[str, ...] = ()  # the right option ids; empty for text kinds


@dataclass
class ResponseMatrix:
    """A sitting's scored cells, column by column (a million rows stay a few arrays)."""

    items: list[ItemInfo] = field(default_factory=list)
    attempt_ids: list[int] = field(default_factory=list)
    cell_attempt: array = field(default_factory=lambda: array("l"))  # index into attempt_ids
    cell_item: array = field(default_factory=lambda: array("l"))  # index into items
    cell_earned: array = field(default_factory=lambda: array("d"))
    cell_possible: array = field(default_factory=lambda: array("d"))
    # Option ids chosen (a shared tuple per distinct answer); () = omitted; None = not a choice item.
    cell_chosen: list[tuple[str, ...] | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.cell_item)


class MatrixBuilder:
    """Collect cells in any order; `build()` returns the matrix."""

    def __init__(self, items: Iterable[ItemInfo]) -> None:
        self.matrix = ResponseMatrix(items=list(items))
        self._item_index = {item.version_id: i for i, item in enumerate(self.matrix.items)}
        self._attempt_index: dict[int, int] = {}

    def add(self, *, attempt_id: int, version_id: int, earned: float, possible: float,
            chosen: tuple[str, ...] | None) -> None:
        if possible <= 0:
            return  # a slot worth nothing says nothing about the candidate
        m = self.matrix
        attempt = self._attempt_index.get(attempt_id)
        if attempt is None:
            attempt = self._attempt_index[attempt_id] = len(m.attempt_ids)
            m.attempt_ids.append(attempt_id)
        m.cell_attempt.append(attempt)
        m.cell_item.append(self._item_index[version_id])
        m.cell_earned.append(earned)
        m.cell_possible.append(possible)
        m.cell_chosen.append(chosen)

    def add_rows(self, rows: Iterable[tuple[int, int, float, float, tuple[str, ...] | None]]) -> None:
        """Add (attempt_id, version_id, earned, possible, chosen) rows: `add` for a million rows."""
        m = self.matrix
        # Bound once: at a million rows, attribute look-ups and keyword calls are most of the time.
        attempt_index, item_index = self._attempt_index, self._item_index
        attempt_ids, cell_attempt, cell_item = m.attempt_ids, m.cell_attempt.append, m.cell_item.append
        cell_earned, cell_possible, cell_chosen = m.cell_earned.append, m.cell_possible.append, m.cell_chosen.append
        for attempt_id, version_id, earned, possible, chosen in rows:
            if possible <= 0:
                continue
            attempt = attempt_index.get(attempt_id)
            if attempt is None:
                attempt = attempt_index[attempt_id] = len(attempt_ids)
                attempt_ids.append(attempt_id)
            cell_attempt(attempt)
            cell_item(item_index[version_id])
            cell_earned(earned)
            cell_possible(possible)
            cell_chosen(chosen)

    def build(self) -> ResponseMatrix:
        return self.matrix


@dataclass
class OptionCount:
    option: str  # an option id, or "" for "no answer"
    is_key: bool
    total: int = 0
    top: int = 0
    bottom: int = 0


@dataclass
class ItemStats:
    info: ItemInfo
    n: int  # attempts that had the item (and a mark for it)
    difficulty: float | None  # p: mean share of the item's points earned
    point_biserial: float | None  # corrected item–rest correlation
    upper_lower: float | None  # D = p(top 27 %) − p(bottom 27 %)
    n_top: int
    n_bottom: int
    options: list[OptionCount]
    flags: list[str]


@dataclass
class Summary:
    attempts: int
    items: int  # distinct item versions seen
    items_per_form: float  # k: mean scored items per attempt
    mean: float | None  # percent
    sd: float | None  # percent, population SD
    kr20: float | None
    sem: float | None  # standard error of measurement, percent: sd · √(1 − KR-20)
    histogram: list[int]  # attempts per HISTOGRAM_BIN-wide percent band, 0–5 … 95–100


@dataclass
class Analysis:
    summary: Summary
    items: list[ItemStats]


# --- the pieces ------------------------------------------------------------------------------------
def attempt_totals(matrix: ResponseMatrix) -> tuple[list[float], list[float], list[int]]:
    """Return per attempt: points earned, points possible and the number of scored items."""
    earned = [0.0] * len(matrix.attempt_ids)
    possible = [0.0] * len(matrix.attempt_ids)
    counts = [0] * len(matrix.attempt_ids)
    for attempt, got, could in zip(matrix.cell_attempt, matrix.cell_earned, matrix.cell_possible, strict=True):
        earned[attempt] += got
        possible[attempt] += could
        counts[attempt] += 1
    return earned, possible, counts


def mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    """Return the mean and population standard deviation, or Nones for no values."""
    if not values:
        return None, None
    mean = math.fsum(values) / len(values)
    variance = math.fsum((v - mean) ** 2 for v in values) / len(values)
    return mean, math.sqrt(variance)


def top_bottom(scores: list[float], tiebreak: list[int] | None = None,
               fraction: float = GROUP_FRACTION) -> tuple[set[int], set[int]]:
    """Return the attempt indexes in the top and the bottom group: ceil(fraction × N) each, disjoint."""
    size = min(math.ceil(fraction * len(scores)), len(scores) // 2)
    if size == 0:
        return set(), set()
    # Scores tie in whole points, so many attempts sit on the group boundary: ties break by attempt
    # id (`tiebreak`), not by the order the database happened to return rows in, so the groups are
    # the same on every run.
    order = tiebreak if tiebreak is not None else range(len(scores))
    ranked = sorted(range(len(scores)), key=lambda a: (-scores[a], order[a]))
    return set(ranked[:size]), set(ranked[-size:])


def pearson(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float | None:
    """Return the correlation from running sums, or None when either side does not vary."""
    if n < 2:
        return None
    var_x = sxx / n - (sx / n) ** 2
    var_y = syy / n - (sy / n) ** 2
    if var_x <= 1e-12 or var_y <= 1e-12:
        return None
    r = (sxy / n - (sx / n) * (sy / n)) / math.sqrt(var_x * var_y)
    return max(-1.0, min(1.0, r))  # rounding may step a hair outside


def kr20(*, items_per_form: float, attempts: int, form_item_variance: float, total_variance: float) -> float | None:
    """Return the average-form KR-20 (see the module docstring), or None where it is undefined.

    `form_item_variance` is E[Σ p·q] of an average form; `total_variance` that of the adjusted totals.
    """
    if items_per_form <= 1 or attempts < 2 or total_variance <= 1e-12:
        return None
    return items_per_form / (items_per_form - 1) * (1 - form_item_variance / total_variance)


def form_adjusted_variances(matrix: ResponseMatrix, difficulty: list[float], counts: list[int],
                            items_per_form: float) -> tuple[float, float]:
    """Return (E[Σ p·q] of an average form, variance of the form-adjusted totals)."""
    attempts = len(counts)
    deviation = [0.0] * attempts
    squared = [0.0] * attempts
    for attempt, item, got, could in zip(matrix.cell_attempt, matrix.cell_item, matrix.cell_earned,
                                          matrix.cell_possible, strict=True):
        d = got / could - difficulty[item]
        deviation[attempt] += d
        squared[attempt] += d * d
    k = items_per_form
    # Each attempt's mean deviation, scaled to k items: attempts still missing a mark or two count
    # on the same scale as complete ones. Squared about 0 (the items' own means), not about their
    # mean: that keeps KR-20 ≤ 1 with forms of any length; with equal lengths their mean is 0 anyway.
    total_variance = math.fsum((k * dev / c) ** 2 for dev, c in zip(deviation, counts, strict=True)) / attempts
    form_item_variance = k * math.fsum(sq / c for sq, c in zip(squared, counts, strict=True)) / attempts
    return form_item_variance, total_variance


def item_flags(*, difficulty: float | None, point_biserial: float | None, options: list[OptionCount]) -> list[str]:
    """Return the item's warning flags: "miskeyed", "too_easy", "too_hard"."""
    flags = []
    keyed = [o.top for o in options if o.is_key]
    distractors = [o.top for o in options if not o.is_key and o.option]
    # A wrong key shows as the strong candidates disagreeing with it: the item correlates
    # negatively with the rest of the test, or a distractor draws more of the top group than the key.
    if (point_biserial is not None and point_biserial < 0) or (keyed and distractors and max(distractors) > min(keyed)):
        flags.append("miskeyed")
    if difficulty is not None and difficulty > TOO_EASY:
        flags.append("too_easy")
    if difficulty is not None and difficulty < TOO_HARD:
        flags.append("too_hard")
    return flags


def histogram(percents: Iterable[float], bin_width: int = HISTOGRAM_BIN) -> list[int]:
    """Return counts per percent band [0, w), [w, 2w) … with 100 in the last band."""
    bins = [0] * math.ceil(100 / bin_width)
    for percent in percents:
        # round(): 0.55 × 100 is 55.00000000000001 but 0.57 × 100 is 56.99999999999999.
        index = int(round(percent, 9) // bin_width)
        bins[max(0, min(index, len(bins) - 1))] += 1
    return bins


# --- the whole analysis ----------------------------------------------------------------------------
def analyse(matrix: ResponseMatrix, progress: Callable[[float], None] | None = None) -> Analysis:
    """Return the sitting's summary and per-item statistics."""
    progress = progress or (lambda _fraction: None)
    earned_by_attempt, possible_by_attempt, counts = attempt_totals(matrix)
    scores = [e / p for e, p in zip(earned_by_attempt, possible_by_attempt, strict=True)]
    attempts = len(scores)
    top, bottom = top_bottom(scores, matrix.attempt_ids)
    progress(0.2)

    n_items = len(matrix.items)
    n, sx, sxx = [0] * n_items, [0.0] * n_items, [0.0] * n_items
    # Sums for the item–rest correlation, over the cells whose attempt has other marked items.
    rn = [0] * n_items
    rx, rxx, ry, ryy, rxy = ([0.0] * n_items for _ in range(5))
    top_n, top_x, bottom_n, bottom_x = [0] * n_items, [0.0] * n_items, [0] * n_items, [0.0] * n_items
    # option id → [total, top, bottom], per item
    chosen_counts: list[dict[str, list[int]]] = [{} for _ in range(n_items)]
    step = max(len(matrix) // 10, 1)
    for cell, (attempt, item, got, could, chosen) in enumerate(zip(
        matrix.cell_attempt, matrix.cell_item, matrix.cell_earned, matrix.cell_possible, matrix.cell_chosen, strict=True,
    )):
        x = got / could
        n[item] += 1
        sx[item] += x
        sxx[item] += x * x
        rest_possible = possible_by_attempt[attempt] - could
        if rest_possible > 0:
            rest = (earned_by_attempt[attempt] - got) / rest_possible
            rn[item] += 1
            rx[item] += x
            rxx[item] += x * x
            ry[item] += rest
            ryy[item] += rest * rest
            rxy[item] += x * rest
        in_top, in_bottom = attempt in top, attempt in bottom
        if in_top:
            top_n[item] += 1
            top_x[item] += x
        elif in_bottom:
            bottom_n[item] += 1
            bottom_x[item] += x
        if chosen is not None:
            counts_here = chosen_counts[item]
            for option in chosen or ("",):
                tally = counts_here.get(option)
                if tally is None:
                    tally = counts_here[option] = [0, 0, 0]
                tally[0] += 1
                tally[1] += in_top
                tally[2] += in_bottom
        if cell % step == 0:
            progress(0.2 + 0.7 * cell / len(matrix))

    item_stats, difficulty = [], [0.0] * n_items
    for i, info in enumerate(matrix.items):
        if n[i] == 0:
            continue
        p = difficulty[i] = sx[i] / n[i]
        r = pearson(rn[i], rx[i], ry[i], rxx[i], ryy[i], rxy[i])
        options = _option_counts(info, chosen_counts[i])
        upper_lower = top_x[i] / top_n[i] - bottom_x[i] / bottom_n[i] if top_n[i] and bottom_n[i] else None
        item_stats.append(ItemStats(
            info=info, n=n[i], difficulty=p, point_biserial=r, upper_lower=upper_lower, n_top=top_n[i],
            n_bottom=bottom_n[i], options=options, flags=item_flags(difficulty=p, point_biserial=r, options=options),
        ))

    items_per_form = sum(counts) / attempts if attempts else 0.0
    reliability = None
    if attempts:
        form_item_variance, total_variance = form_adjusted_variances(matrix, difficulty, counts, items_per_form)
        reliability = kr20(items_per_form=items_per_form, attempts=attempts, form_item_variance=form_item_variance,
                           total_variance=total_variance)
    percents = [100 * s for s in scores]
    mean, sd = mean_sd(percents)
    sem = sd * math.sqrt(max(1 - reliability, 0.0)) if sd is not None and reliability is not None else None
    progress(1.0)
    summary = Summary(attempts=attempts, items=len(item_stats), items_per_form=items_per_form, mean=mean, sd=sd,
                      kr20=reliability, sem=sem, histogram=histogram(percents))
    return Analysis(summary=summary, items=item_stats)


def _option_counts(info: ItemInfo, tallies: dict[str, list[int]]) -> list[OptionCount]:
    """Return the counts per option in the bank's order, then any unknown ids, then "no answer"."""
    if not info.options and not tallies:
        return []
    key = set(info.key)
    ordered = list(info.options) + sorted(o for o in tallies if o and o not in info.options)
    counts = [OptionCount(option=o, is_key=o in key, **_tally(tallies.get(o))) for o in ordered]
    counts.append(OptionCount(option="", is_key=False, **_tally(tallies.get(""))))
    return counts


def _tally(tally: list[int] | None) -> dict[str, int]:
    total, top, bottom = tally or (0, 0, 0)
    return {"total": total, "top": top, "bottom": bottom}
