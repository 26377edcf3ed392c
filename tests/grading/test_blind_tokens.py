"""Blind marking cannot be undone from the page (issue 10, point 16): the form names an answer by an
opaque token bound to its marker, and the queue is served in an order that says nothing of the attempt."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from exams.models import ItemKind
from exams.services import attempt_start, attempt_submit
from grading import anonymity
from grading.models import ItemScore, Mark
from grading.services import assignment_set, attempt_score
from tests.factories import UserFactory, enrol, grant, make_bank, make_exam, make_sitting

from .test_scoring import answer_all
from .test_views import client_for

CANDIDATES = 8


@pytest.fixture
def many_answers(db, administrator):
    """One free-text item answered by eight candidates, two markers assigned to it."""
    exam = make_exam(make_bank(topics=1, per_kind=1), per_topic=5)
    sitting = make_sitting(exam)
    room = sitting.rooms.create(name="Room A")
    for n in range(CANDIDATES):
        candidate = UserFactory(username=f"cand{n}")
        attempt = attempt_start(
            candidate=candidate, enrolment_id=enrol(sitting, room, candidate).pk, device_id="a" * 32
        )
        answer_all(attempt, right=True)
        attempt_submit(attempt_id=attempt.pk, by="candidate")
        attempt_score(attempt_id=attempt.pk)
    scores = ItemScore.objects.filter(
        attempt__enrolment__sitting=sitting,
        attempt_item__item_version__item__kind=ItemKind.FREE_TEXT,
    )
    item_id = scores.values_list("attempt_item__item_version__item_id", flat=True).first()
    markers = [grant(UserFactory(username=f"m{n}"), "grading", "mark_answers") for n in (1, 2)]
    for marker in markers:
        assignment_set(
            sitting_id=sitting.pk,
            item_id=item_id,
            user=marker,
            role="marker",
            assigned=True,
            by=administrator,
        )
    return sitting, item_id, markers, scores


def hidden_answer(html: str) -> str:
    return re.search(r'name="answer" value="([^"]*)"', html).group(1)


def test_the_marking_page_exposes_no_sequential_id(many_answers):
    """Issue 10, point 16: the hidden `answer` was the score row's id (blocks of 100 per attempt)."""
    sitting, item_id, (first, _second), scores = many_answers
    page = client_for(first).get(reverse("grading:mark_next", args=[sitting.pk, item_id]))
    shown = page.context["blind"].item_score
    token = hidden_answer(page.content.decode())
    # A keyed digest, not the row's number: a short id may still occur in it by chance (it did, one
    # run in three, when this asserted that str(pk) was no substring), so what is checked is that it
    # is long, not a number, and differs from a neighbour's token in far more than a digit.
    assert (
        not token.isdigit()
        and len(token) >= 16
        and token not in (str(shown.pk), str(shown.attempt_id))
    )
    neighbour = anonymity.answer_token(shown.pk + 1, user_id=first.pk)
    assert sum(a != b for a, b in zip(token, neighbour, strict=False)) > len(token) // 2
    assert token == anonymity.answer_token(shown.pk, user_id=first.pk)
    for pk in scores.values_list("pk", flat=True):
        assert f'value="{pk}"' not in page.content.decode()


def test_the_queue_is_not_served_in_attempt_order(many_answers):
    """Issue 10, point 16: a marker met the answers in attempt order; now in a keyed-hash order."""
    sitting, item_id, (first, second), scores = many_answers
    url = reverse("grading:mark_next", args=[sitting.pk, item_id])
    served = {}
    for marker in (first, second):
        served[marker.pk] = []
        for _ in range(CANDIDATES):
            page = client_for(marker).get(url)
            score = page.context["blind"].item_score
            served[marker.pk].append(score.attempt_id)
            client_for(marker).post(
                url, {"answer": hidden_answer(page.content.decode()), "points": "0"}
            )
        assert client_for(marker).get(url).status_code == 302  # all marked
    in_attempt_order = sorted(served[first.pk])
    assert sorted(served[second.pk]) == in_attempt_order  # each marked every answer once
    assert served[first.pk] != in_attempt_order and served[second.pk] != in_attempt_order
    assert served[first.pk] != served[second.pk]  # and the two markers' orders differ


def test_a_forged_token_is_refused_without_a_500(many_answers):
    """Issue 10, point 16 (and 22): malformed or guessed answer names are refused with a message."""
    sitting, item_id, (first, _second), scores = many_answers
    url = reverse("grading:mark_next", args=[sitting.pk, item_id])
    for forged in ("abc", "", "9" * 40, "' OR 1=1 --", "x" * 500):
        for points in ("1", "abc", "1e999999", "-1"):
            response = client_for(first).post(
                url, {"answer": forged, "points": points}, follow=True
            )
            assert response.status_code == 200
            assert any(m.level_tag == "error" for m in response.context["messages"])
    assert not Mark.objects.exists()


def test_a_row_id_or_another_markers_token_names_nothing(many_answers):
    """Issue 10, point 16: the row's id, or a token shown to another marker, is refused."""
    sitting, item_id, (first, second), scores = many_answers
    url = reverse("grading:mark_next", args=[sitting.pk, item_id])
    theirs = hidden_answer(client_for(second).get(url).content.decode())
    some = scores.first()
    for answer in (
        theirs,
        str(some.pk),
        anonymity.answer_token(some.pk, user_id=first.pk, purpose="adjudicate"),
    ):
        response = client_for(first).post(url, {"answer": answer, "points": "0"}, follow=True)
        assert "No such answer." in [str(m) for m in response.context["messages"]]
    assert not Mark.objects.exists()
    client_for(first).post(
        url, {"answer": anonymity.answer_token(some.pk, user_id=first.pk), "points": "0"}
    )
    assert Mark.objects.filter(marker=first, item_score=some).exists()
