"""Item statistics against values worked out by hand on small data sets, and their properties."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grading.analysis.stats import (
    ItemInfo,
    MatrixBuilder,
    OptionCount,
    analyse,
    histogram,
    item_flags,
    kr20,
    top_bottom,
)

# Five attempts, one fixed form of four items (rows: attempts A1…A5; columns: items I1…I4):
#   A1 1 1 1 1 | 4      p: .8 .6 .4 .4   p·q: .16 .24 .24 .24  Σ = .88
#   A2 1 1 1 0 | 3      totals 4 3 2 1 1: mean 2.2, σ² = 6.8 / 5 = 1.36
#   A3 1 1 0 0 | 2      KR-20 = 4/3 · (1 − .88 / 1.36) = 8/17
#   A4 1 0 0 0 | 1
#   A5 0 0 0 1 | 1
FIXED = [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
# I4 is a single-answer item, key B; what each attempt chose (A4 left it blank).
I4_CHOICES = [("B",), ("C",), ("C",), (), ("B",)]


def info(i: int, *, options=(), key=()) -> ItemInfo:
    return ItemInfo(version_id=100 + i, code=f"I{i}", version=1, topic="t", kind="single", options=options, key=key)


def fixed_matrix(order=(0, 1, 2, 3)):
    items = [info(1), info(2), info(3), info(4, options=("A", "B", "C"), key=("B",))]
    builder = MatrixBuilder([items[i] for i in order])
    for attempt, row in enumerate(FIXED, start=1):
        for i in order:
            chosen = I4_CHOICES[attempt - 1] if i == 3 else None
            builder.add(attempt_id=attempt, version_id=101 + i, earned=row[i], possible=1.0, chosen=chosen)
    return builder.build()


def by_code(analysis):
    return {item.info.code: item for item in analysis.items}


def test_difficulty_is_the_share_correct():
    items = by_code(analyse(fixed_matrix()))
    assert [items[c].difficulty for c in ("I1", "I2", "I3", "I4")] == pytest.approx([0.8, 0.6, 0.4, 0.4])
    assert all(items[c].n == 5 for c in items)


def test_point_biserial_is_item_against_rest():
    items = by_code(analyse(fixed_matrix()))
    # I4 against the rest scores 3 3 2 1 0: cov = .6 − .4·1.8 = −.12; r = −.12 / √(.24 · 1.36)
    assert items["I4"].point_biserial == pytest.approx(-0.12 / math.sqrt(0.24 * 1.36))
    # I1 against 3 2 1 0 1: cov = 1.2 − .8·1.4 = .08; var(rest) = 3 − 1.96 = 1.04
    assert items["I1"].point_biserial == pytest.approx(0.08 / math.sqrt(0.16 * 1.04))


def test_kr20_mean_and_sd_of_a_fixed_form():
    summary = analyse(fixed_matrix()).summary
    assert summary.kr20 == pytest.approx(8 / 17)
    assert summary.items_per_form == 4
    assert summary.mean == pytest.approx(55.0)
    assert summary.sd == pytest.approx(100 * math.sqrt(1.36) / 4)
    assert summary.sem == pytest.approx(summary.sd * math.sqrt(1 - 8 / 17))
    assert summary.histogram[19] == 1 and summary.histogram[15] == 1 and summary.histogram[10] == 1
    assert summary.histogram[5] == 2 and sum(summary.histogram) == 5


def test_kr20_with_random_forms_uses_the_average_form():
    # Four attempts, forms of two items drawn from three:
    #   A1: I1=1 I2=1   A2: I1=1 I3=0   A3: I2=0 I3=1   A4: I1=0 I2=0
    # p = 2/3, 1/3, 1/2. E[Σpq] = (3·2/9 + 3·2/9 + 2·1/4) / 4 = 11/24 = 33/72.
    # Deviations d = x − p per attempt: (1/3, 2/3) (1/3, −1/2) (−1/3, 1/2) (−2/3, −1/3);
    # their means 1/2, −1/12, 1/12, −1/2; adjusted totals ×k=2: 1, −1/6, 1/6, −1 → σ² = 37/72.
    # (Raw totals 2 1 1 0 have σ² = 36/72: the forms differ in difficulty: Σp = 1, 7/6, 5/6, 1.)
    # KR-20 = 2/1 · (1 − 33/37) = 8/37.
    builder = MatrixBuilder([info(1), info(2), info(3)])
    for attempt, cells in enumerate([{1: 1, 2: 1}, {1: 1, 3: 0}, {2: 0, 3: 1}, {1: 0, 2: 0}], start=1):
        for item, right in cells.items():
            builder.add(attempt_id=attempt, version_id=100 + item, earned=right, possible=1, chosen=None)
    analysis = analyse(builder.build())
    assert analysis.summary.kr20 == pytest.approx(8 / 37)
    assert by_code(analysis)["I3"].n == 2
    assert by_code(analysis)["I3"].difficulty == pytest.approx(0.5)


def test_top_and_bottom_27_percent():
    # ceil(.27 · 5) = 2 each; A4 and A5 tie at .25 and both are in the bottom group.
    top, bottom = top_bottom([1.0, 0.75, 0.5, 0.25, 0.25])
    assert (top, bottom) == ({0, 1}, {3, 4})
    assert top_bottom([0.5]) == (set(), set())
    # Never overlapping, even when 27 % rounds up past half.
    top, bottom = top_bottom([0.1, 0.2, 0.3])
    assert top == {2} and bottom == {0}


def test_option_counts_split_by_top_and_bottom():
    items = by_code(analyse(fixed_matrix()))
    counts = {o.option: (o.total, o.top, o.bottom, o.is_key) for o in items["I4"].options}
    # Top group A1 (B), A2 (C); bottom group A4 (blank), A5 (B).
    assert counts == {"A": (0, 0, 0, False), "B": (2, 1, 1, True), "C": (2, 1, 0, False), "": (1, 0, 1, False)}
    assert items["I4"].upper_lower == pytest.approx(0.0)
    assert items["I1"].upper_lower == pytest.approx(0.5)
    assert items["I1"].options == []  # no choices recorded: nothing to count


def test_flags():
    items = by_code(analyse(fixed_matrix()))
    assert items["I4"].flags == ["miskeyed"]  # negative discrimination
    assert items["I1"].flags == []
    key, distractor = OptionCount("B", True, 10, 3, 5), OptionCount("C", False, 10, 6, 1)
    assert item_flags(difficulty=0.5, point_biserial=0.3, options=[key, distractor]) == ["miskeyed"]
    assert item_flags(difficulty=0.95, point_biserial=0.1, options=[]) == ["too_easy"]
    assert item_flags(difficulty=0.9, point_biserial=0.1, options=[]) == []
    assert item_flags(difficulty=0.1, point_biserial=None, options=[]) == ["too_hard"]
    assert item_flags(difficulty=0.2, point_biserial=0.0, options=[]) == []


def test_partial_marks_count_as_fractions():
    builder = MatrixBuilder([info(1), info(2)])
    builder.add(attempt_id=1, version_id=101, earned=1.5, possible=2, chosen=None)
    builder.add(attempt_id=1, version_id=102, earned=1, possible=1, chosen=None)
    builder.add(attempt_id=2, version_id=101, earned=0.5, possible=2, chosen=None)
    builder.add(attempt_id=2, version_id=102, earned=0, possible=1, chosen=None)
    analysis = analyse(builder.build())
    assert by_code(analysis)["I1"].difficulty == pytest.approx(0.5)
    assert analysis.summary.mean == pytest.approx(100 * (2.5 / 3 + 0.5 / 3) / 2)


def test_undefined_numbers_are_none():
    assert kr20(items_per_form=1, attempts=10, form_item_variance=1, total_variance=1) is None
    assert kr20(items_per_form=10, attempts=10, form_item_variance=1, total_variance=0) is None
    analysis = analyse(MatrixBuilder([]).build())
    assert analysis.summary.attempts == 0 and analysis.summary.mean is None and analysis.summary.kr20 is None


def test_histogram_bands():
    assert histogram([0, 4.99, 5, 57, 55.00000000000001, 56.99999999999999, 80, 100]) == [
        2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1, 0, 0, 1]


# --- properties -----------------------------------------------------------------------------------
@st.composite
def random_forms(draw):
    """A bank, attempts with random forms drawn from it, 0/1 or partial scores, some choices."""
    bank = draw(st.integers(2, 8))
    attempts = draw(st.integers(0, 12))
    partial = draw(st.booleans())
    cells = []
    for attempt in range(attempts):
        form = draw(st.lists(st.integers(0, bank - 1), min_size=1, max_size=bank, unique=True))
        for item in form:
            earned = draw(st.sampled_from([0, 0.5, 1])) if partial else draw(st.integers(0, 1))
            chosen = draw(st.sampled_from([(), ("A",), ("B",), ("A", "B")]))
            cells.append((attempt, item, float(earned), chosen))
    return bank, cells


def build(bank, cells, item_order):
    builder = MatrixBuilder([info(i, options=("A", "B"), key=("A",)) for i in item_order])
    for attempt, item, earned, chosen in cells:
        builder.add(attempt_id=attempt, version_id=100 + item, earned=earned, possible=1.0, chosen=chosen)
    return builder.build()


@settings(max_examples=150, deadline=None)
@given(data=random_forms(), seed=st.integers(0, 2**32))
def test_properties_of_the_statistics(data, seed):
    bank, cells = data
    analysis = analyse(build(bank, cells, range(bank)))
    for item in analysis.items:
        assert 0 <= item.difficulty <= 1
        assert item.point_biserial is None or -1 <= item.point_biserial <= 1
        assert item.upper_lower is None or -1 <= item.upper_lower <= 1
    assert analysis.summary.kr20 is None or analysis.summary.kr20 <= 1 + 1e-12
    assert sum(analysis.summary.histogram) == analysis.summary.attempts

    # Neither the order of the items in the bank nor the order the cells arrive in changes anything.
    shuffler = random.Random(seed)
    order = list(range(bank))
    shuffler.shuffle(order)
    shuffled_cells = list(cells)
    shuffler.shuffle(shuffled_cells)
    again = analyse(build(bank, shuffled_cells, order))
    if analysis.summary.kr20 is None:
        assert again.summary.kr20 is None
    else:
        assert again.summary.kr20 == pytest.approx(analysis.summary.kr20, abs=1e-9)
    before = {i.info.code: (i.n, i.difficulty, i.point_biserial) for i in analysis.items}
    after = {i.info.code: (i.n, i.difficulty, i.point_biserial) for i in again.items}
    assert before.keys() == after.keys()
    for code, (n, p, r) in before.items():
        assert after[code][0] == n and after[code][1] == pytest.approx(p)
        assert (r is None and after[code][2] is None) or after[code][2] == pytest.approx(r, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(matrix=st.integers(2, 6).flatmap(lambda k: st.lists(st.lists(st.integers(0, 1), min_size=k, max_size=k), min_size=2, max_size=15)))
def test_a_fixed_form_gives_the_textbook_kr20(matrix):
    k, n = len(matrix[0]), len(matrix)
    builder = MatrixBuilder([info(i) for i in range(k)])
    for attempt, row in enumerate(matrix):
        for item, right in enumerate(row):
            builder.add(attempt_id=attempt, version_id=100 + item, earned=right, possible=1, chosen=None)
    ours = analyse(builder.build()).summary.kr20
    totals = [sum(row) for row in matrix]
    mean = sum(totals) / n
    variance = sum((t - mean) ** 2 for t in totals) / n
    pq = sum((p := sum(row[i] for row in matrix) / n) * (1 - p) for i in range(k))
    if variance == 0:
        assert ours is None
    else:
        assert ours == pytest.approx(k / (k - 1) * (1 - pq / variance), abs=1e-9)
