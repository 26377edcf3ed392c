"""Scoring rules and the result arithmetic (R-GRADE-1, R-GRADE-3), as properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exams.models import ItemKind
from grading.results import final_percent, passes
from grading.scoring import PARTIAL, choice_points

ONE = Decimal(1)
options = st.lists(st.sampled_from("ABCDEFG"), unique=True, max_size=7)


@given(key=options.filter(bool), answer=options, points=st.decimals(min_value=Decimal("0.5"), max_value=5, places=2))
def test_partial_credit_stays_between_zero_and_the_items_points(key, answer, points):
    got = choice_points(kind=ItemKind.MULTIPLE, key=key, answer=answer, points=points, rule=PARTIAL)
    assert 0 <= got <= points
    if set(answer) == set(key):
        assert got == points
    if not set(answer) & set(key):
        assert got == 0


@given(key=options.filter(bool))
def test_ticking_every_option_gains_nothing_under_partial_credit(key):
    every = list("ABCDEFG")
    wrong = len(set(every) - set(key))
    got = choice_points(kind=ItemKind.MULTIPLE, key=key, answer=every, points=ONE, rule=PARTIAL)
    assert got == (0 if wrong >= len(key) else (ONE * (len(key) - wrong) / len(key)).quantize(Decimal("0.0001"), rounding="ROUND_DOWN"))


def test_partial_credit_by_hand():
    key = ["A", "C", "E"]
    assert choice_points(kind=ItemKind.MULTIPLE, key=key, answer=["A", "C"], points=ONE, rule=PARTIAL) == Decimal("0.6666")
    assert choice_points(kind=ItemKind.MULTIPLE, key=key, answer=["A", "B"], points=ONE, rule=PARTIAL) == 0
    assert choice_points(kind=ItemKind.MULTIPLE, key=key, answer=["A", "C", "B"], points=ONE, rule=PARTIAL) == Decimal("0.3333")
    # Partial credit is for multiple response only: single answer stays right or wrong.
    assert choice_points(kind=ItemKind.SINGLE, key=["A"], answer=["A"], points=ONE, rule=PARTIAL) == ONE


@given(got=st.integers(0, 10_000), of=st.integers(1, 10_000))
def test_the_final_percent_is_the_exact_share_rounded_down(got, of):
    got = min(got, of)
    percent = final_percent(written_points=Decimal(got) / 100, written_max=Decimal(of) / 100)
    assert percent * of <= got * 100 < (percent + 1) * of


@pytest.mark.parametrize(("points", "percent", "passed"), [
    (Decimal("79.5"), 79, False), (Decimal("79.9999"), 79, False), (Decimal("80"), 80, True), (Decimal("100"), 100, True),
])
def test_a_pass_is_never_made_by_rounding(points, percent, passed):
    got = final_percent(written_points=points, written_max=Decimal(100))
    assert (got, passes(got, 80)) == (percent, passed)


def test_the_clinical_part_weighs_in_by_its_weight():
    # 70 % written and 100 % clinical at 30 % weight: 0.7 × 0.7 + 1.0 × 0.3 = 0.79 → 79, a fail.
    assert final_percent(written_points=Decimal(70), written_max=Decimal(100), clinical_points=Decimal(20),
                         clinical_max=Decimal(20), clinical_weight=30) == 79
    with pytest.raises(ValueError):
        final_percent(written_points=Decimal(70), written_max=Decimal(100), clinical_weight=30)


marks = st.decimals(min_value=0, max_value=20, places=2)


@given(first=marks, second=marks, tolerance=st.integers(0, 100))
def test_two_marks_resolve_to_their_mean_or_go_to_adjudication(first, second, tolerance):
    from grading.services.marking import marks_agree, mean_of_marks

    max_points = Decimal(20)
    if marks_agree(first, second, max_points, tolerance):
        mean = mean_of_marks(first, second)
        assert min(first, second) <= mean <= max(first, second)
        assert abs(mean - (first + second) / 2) <= Decimal("0.005")
        assert abs(first - second) <= max_points * tolerance / 100
    else:
        assert abs(first - second) > max_points * tolerance / 100
    assert marks_agree(first, second, max_points, tolerance) == marks_agree(second, first, max_points, tolerance)
