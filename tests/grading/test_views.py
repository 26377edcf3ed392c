"""The committee's pages: blind marking, adjudication, the chair, and the candidate's published result."""
# ruff: noqa: F811 - the fixtures imported from test_marking are these tests' parameters

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from grading import anonymity
from grading.anonymity import anonymous_code
from grading.models import ItemScore, ResultPublication

from ..factories import grant
from .test_marking import committee, open_answers, scored  # noqa: F401 - fixtures


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def answer(scored):
    return open_answers(scored)[0]


def test_the_marking_screen_is_blind(scored, committee, answer, alice):
    (first, _second, _third), _judge = committee
    item = answer.attempt_item.item_version.item
    page = client_for(first).get(
        reverse("grading:mark_next", args=[scored.enrolment.sitting_id, item.pk])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert anonymous_code(scored.pk) in text
    for identity in (
        alice.get_full_name(),
        alice.username,
        scored.enrolment.ticket_number,
        f"/attempts/{scored.pk}/",
    ):
        assert identity not in text


def test_marking_through_the_page_and_outsiders_get_404(
    scored, committee, answer, alice, proctor_a, bob
):
    (first, second, _third), _judge = committee
    item = answer.attempt_item.item_version.item
    url = reverse("grading:mark_next", args=[scored.enrolment.sitting_id, item.pk])
    for outsider in (alice, proctor_a, bob):
        assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302
    next_answer = client_for(first).get(url).context["blind"].item_score
    client_for(first).post(
        url,
        {
            "answer": anonymity.answer_token(next_answer.pk, user_id=first.pk),
            "points": "0.5",
            "comment": "half",
        },
    )
    client_for(second).post(
        url, {"answer": anonymity.answer_token(next_answer.pk, user_id=second.pk), "points": "0.5"}
    )
    next_answer.refresh_from_db()
    assert next_answer.marking == ItemScore.Marking.RESOLVED and next_answer.points == Decimal(
        "0.50"
    )


def test_the_chair_page_publishes_and_the_candidate_sees_the_result(
    scored, committee, administrator, alice
):
    chair = grant(administrator, "grading", "chair_marking")
    sitting_id = scored.enrolment.sitting_id
    url = reverse("grading:chair_sitting", args=[sitting_id])
    assert client_for(alice).get(url).status_code == 404
    page = client_for(chair).get(url)
    assert page.status_code == 200 and page.context["readiness"]["awaiting_marks"] > 0
    result_url = reverse("exams:attempt_result", args=[scored.pk])
    assert "published-result" not in client_for(alice).get(result_url).content.decode()
    (first, second, _third), _judge = committee
    for answer in open_answers(scored):
        for marker in (first, second):
            client_for(marker).post(
                reverse(
                    "grading:mark_next", args=[sitting_id, answer.attempt_item.item_version.item_id]
                ),
                {
                    "answer": anonymity.answer_token(answer.pk, user_id=marker.pk),
                    "points": str(answer.max_points),
                },
            )
    published = client_for(chair).post(url, {"action": "publish"}, follow=True)
    # Issue 10, point 13: the confirmation says in words what it counts, not "1 / 1".
    n = len(open_answers(scored))
    assert [str(m) for m in published.context["messages"]] == [
        f"Results published for 1 attempt, every one scored: 1 passed. {n} of {n} committee answers marked."
    ]
    assert ResultPublication.objects.filter(sitting_id=sitting_id).exists()
    result = client_for(alice).get(result_url).content.decode()
    assert 'data-testid="final-percent">100 %' in result and "Passed" in result


def test_a_key_correction_through_the_pages(
    scored,
    committee,
    administrator,
    alice,
    proctor_a,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from exams.models import AttemptItem, ItemKind
    from grading.models import KeyCorrection

    from .test_marking import mark_everything

    mark_everything(scored, committee[0])
    chair = grant(administrator, "grading", "correct_keys")
    for outsider in (alice, proctor_a, committee[0][0]):
        assert client_for(outsider).get(reverse("grading:corrections")).status_code == 404
    slot = (
        AttemptItem.objects.filter(attempt=scored, item_version__item__kind=ItemKind.SINGLE)
        .select_related("item_version__item")
        .first()
    )
    other = [o for o in slot.option_order if o not in slot.item_version.key][0]
    response = client_for(chair).post(
        reverse("grading:corrections"),
        {
            "item": slot.item_version.item.code,
            "action": "change_key",
            "keys": other,
            "reason": "Key was wrong",
        },
    )
    correction = KeyCorrection.objects.get()
    assert response.url == reverse("grading:correction", args=[correction.pk])
    page = client_for(chair).get(response.url).content.decode()
    assert 'data-testid="changed">1<' in page and 'data-testid="apply"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client_for(chair).post(response.url)
    assert client_for(chair).get(
        reverse("grading:correction_progress", args=[correction.pk])
    ).json() == {"done": 1, "total": 1}


def test_the_chair_enters_the_clinical_part(scored, committee, administrator, exam):
    from grading.models import AttemptScore

    from .test_marking import mark_everything

    exam.clinical_weight_percent = 30
    exam.save()
    mark_everything(scored, committee[0])
    chair = grant(administrator, "grading", "chair_marking")
    url = reverse("grading:chair_sitting", args=[scored.enrolment.sitting_id])
    assert scored.enrolment.ticket_number in client_for(chair).get(url).content.decode()
    client_for(chair).post(
        url, {"action": "clinical", "attempt": scored.pk, "points": "15", "max_points": "20"}
    )
    assert (
        AttemptScore.objects.get(attempt=scored).percent == 92
    )  # 100 × 0.7 + 75 × 0.3 = 92.5 → 92


def test_a_refused_key_correction_keeps_what_was_typed(scored, administrator):
    """Issue 10, point 13: a refused dry run cleared the whole form, the reason included."""
    from exams.models import AttemptItem, ItemKind
    from grading.models import KeyCorrection

    chair = grant(administrator, "grading", "correct_keys")
    slot = (
        AttemptItem.objects.filter(attempt=scored, item_version__item__kind=ItemKind.SINGLE)
        .select_related("item_version__item")
        .first()
    )
    typed = {
        "item": slot.item_version.item.code,
        "action": "accept_more",
        "keys": "Z | Q",
        "reason": "Two options are defensible after the 2025 guideline",
    }
    page = client_for(chair).post(reverse("grading:corrections"), typed)
    html = page.content.decode()
    assert page.status_code == 400 and "A key must name options of the item." in html
    for value in (typed["item"], "Z | Q", typed["reason"]):
        assert f'value="{value}"' in html
    assert re.search(r'<input[^>]*value="accept_more"[^>]*checked', html)
    unknown = (
        client_for(chair)
        .post(reverse("grading:corrections"), {**typed, "item": "NO-SUCH"})
        .content.decode()
    )
    assert "No item with that code." in unknown and f'value="{typed["reason"]}"' in unknown
    assert not KeyCorrection.objects.exists()


def test_malformed_posts_to_the_committee_pages_get_no_500(scored, committee, administrator):
    """Issue 10, points 12, 13, 16 (and 22): every grading POST goes through a form; garbage gets a message."""
    chair = grant(administrator, "grading", "chair_marking", "correct_keys")
    (first, _second, _third), judge = committee
    sitting_id = scored.enrolment.sitting_id
    item_id = open_answers(scored)[0].attempt_item.item_version.item_id
    huge = "9" * 400
    posts = [
        (
            chair,
            reverse("grading:chair_sitting", args=[sitting_id]),
            {"action": "clinical", "attempt": "abc", "points": huge},
        ),
        (
            chair,
            reverse("grading:chair_sitting", args=[sitting_id]),
            {"action": "bulk_assign", "items": ["x"], "markers": ["y"]},
        ),
        (
            chair,
            reverse("grading:chair_sitting", args=[sitting_id]),
            {"action": "assign", "item": huge, "user": "z", "role": "boss"},
        ),
        (chair, reverse("grading:chair_sitting", args=[sitting_id]), {"action": "nonsense"}),
        (
            chair,
            reverse("grading:corrections"),
            {"item": "", "action": "explode", "version": "abc"},
        ),
        (
            first,
            reverse("grading:mark_next", args=[sitting_id, item_id]),
            {"answer": huge, "points": huge, "comment": "x" * 5000},
        ),
        (
            judge,
            reverse("grading:adjudicate", args=[sitting_id, item_id]),
            {"answer": "abc", "points": "NaN"},
        ),
    ]
    for user, url, data in posts:
        response = client_for(user).post(url, data)
        assert response.status_code in (302, 400), (url, data, response.status_code)
    assert not ResultPublication.objects.exists()
