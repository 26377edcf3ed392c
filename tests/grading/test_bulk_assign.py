"""Assigning two markers and an adjudicator to many items at once (issue 10, point 12)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from grading.models import MarkingAssignment
from grading.services import assignment_set, marking
from grading.services.results import GradingError

from ..factories import grant
from .test_marking import committee, open_answers, scored  # noqa: F401 - fixtures
from .test_views import client_for


def check(plans, item_ids, markers, adjudicators):
    assert [p.item_id for p in plans] == item_ids
    for plan in plans:
        assert (
            len(plan.markers) == 2
            and len(set(plan.markers)) == 2
            and set(plan.markers) <= set(markers)
        )
        assert plan.adjudicator in adjudicators and plan.adjudicator not in plan.markers


@given(items=st.integers(1, 60), markers=st.integers(2, 9), adjudicators=st.integers(1, 4))
def test_a_balanced_split_gives_two_distinct_markers_and_even_loads(items, markers, adjudicators):
    """Issue 10, point 12: every item two distinct markers, loads differ by at most 1, adjudicator
    distinct from both (markers and adjudicators apart)."""
    item_ids = list(range(100, 100 + items))
    marker_ids = list(range(1, markers + 1))
    judge_ids = list(range(50, 50 + adjudicators))
    plans = marking.balanced_split(item_ids=item_ids, markers=marker_ids, adjudicators=judge_ids)
    check(plans, item_ids, marker_ids, judge_ids)
    loads = Counter(u for p in plans for u in p.markers)
    assert max(loads[u] for u in marker_ids) - min(loads[u] for u in marker_ids) <= 1
    judge_loads = Counter(p.adjudicator for p in plans)
    assert max(judge_loads[u] for u in judge_ids) - min(judge_loads[u] for u in judge_ids) <= 1


@given(items=st.integers(1, 30), people=st.integers(3, 7), data=st.data())
def test_a_split_with_people_in_both_roles_never_makes_a_marker_adjudicate_their_item(
    items, people, data
):
    """Issue 10, point 12: the same people may mark and adjudicate, never on the same item."""
    everyone = list(range(1, people + 1))
    markers = data.draw(st.lists(st.sampled_from(everyone), min_size=2, unique=True))
    judges = data.draw(st.lists(st.sampled_from(everyone), min_size=1, unique=True))
    item_ids = list(range(items))
    if all(
        set(judges) <= set(pair) for pair in combinations(markers, 2)
    ):  # nobody left to adjudicate
        with pytest.raises(GradingError):
            marking.balanced_split(item_ids=item_ids, markers=markers, adjudicators=judges)
        return
    check(
        marking.balanced_split(item_ids=item_ids, markers=markers, adjudicators=judges),
        item_ids,
        markers,
        judges,
    )


def test_existing_assignments_are_kept_and_counted(scored, committee, administrator):  # noqa: F811
    """Issue 10, point 12: an item that already has a marker gets one more; loads count it."""
    (first, second, third), judge = committee
    sitting_id = scored.enrolment.sitting_id
    MarkingAssignment.objects.all().delete()
    items = sorted({a.attempt_item.item_version.item_id for a in open_answers(scored)})
    assignment_set(
        sitting_id=sitting_id,
        item_id=items[0],
        user=first,
        role="marker",
        assigned=True,
        by=administrator,
    )
    added = marking.assignments_bulk_set(
        sitting_id=sitting_id,
        item_ids=items,
        markers=[first, second, third],
        adjudicators=[judge],
        by=administrator,
    )
    rows = MarkingAssignment.objects.filter(sitting_id=sitting_id)
    assert added == rows.count() - 1
    for item in items:
        on_item = rows.filter(item_id=item)
        assert (
            on_item.filter(role="marker").count() == 2
            and on_item.filter(role="adjudicator").count() == 1
        )
    assert rows.filter(item_id=items[0], user=first, role="marker").exists()
    loads = Counter(rows.filter(role="marker").values_list("user_id", flat=True))
    assert max(loads.values()) - min(loads.values()) <= 1
    assert (
        marking.assignments_bulk_set(
            sitting_id=sitting_id,
            item_ids=items,
            markers=[first, second, third],
            adjudicators=[judge],
            by=administrator,
        )
        == 0
    )  # twice: nothing more


def test_the_chair_assigns_every_item_in_one_post(scored, committee, administrator, alice):  # noqa: F811
    """Issue 10, point 12: one form, one submit, for all items; a bad choice keeps the form as chosen."""
    (first, second, third), judge = committee
    sitting_id = scored.enrolment.sitting_id
    MarkingAssignment.objects.all().delete()
    chair = grant(administrator, "grading", "chair_marking")
    url = reverse("grading:chair_sitting", args=[sitting_id])
    items = sorted({a.attempt_item.item_version.item_id for a in open_answers(scored)})
    form = {
        "action": "bulk_assign",
        "items": [str(i) for i in items],
        "markers": [first.pk, second.pk, third.pk],
        "adjudicators": [judge.pk],
        "split": "balanced",
    }
    assert client_for(alice).post(url, form).status_code == 404
    refused = client_for(chair).post(url, {**form, "markers": [first.pk], "items": [str(items[0])]})
    assert refused.status_code == 400 and "at least two markers" in refused.content.decode()
    kept = refused.context["bulk_form"]
    assert kept["items"].value() == [str(items[0])] and kept["markers"].value() == [str(first.pk)]
    assert (
        client_for(chair).post(url, {**form, "items": ["999999"]}).status_code == 400
    )  # not an item of the sitting
    assert not MarkingAssignment.objects.exists()
    assert client_for(chair).post(url, form).status_code == 302
    rows = MarkingAssignment.objects.filter(sitting_id=sitting_id)
    assert rows.count() == 3 * len(items)
    for item in items:
        assert sorted(rows.filter(item_id=item).values_list("role", flat=True)) == [
            "adjudicator",
            "marker",
            "marker",
        ]
