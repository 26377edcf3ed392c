"""Committee marking end to end in Chromium: two markers and an adjudicator mark a free-text answer
blind, the chair publishes, the candidate sees the result (R-GRADE-2, R-GRADE-3)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exams.models import Attempt, AttemptStatus, ItemKind
from exams.services import attempt_start
from grading.models import ItemScore, ResultPublication
from grading.services import assignment_set, attempt_score
from tests.factories import (
    UserFactory,
    answer_every_item,
    enrol,
    grant,
    make_bank,
    make_exam,
    make_sitting,
    right_answer,
)

pytestmark = pytest.mark.e2e
DEVICE = "e" * 32
ESSAY = "The anastomosis is checked for leaks before closing; drains are placed as the guide says."


@pytest.fixture
def marked_sitting(transactional_db):
    exam = make_exam(make_bank(topics=1, per_kind=1), per_topic=5)
    sitting = make_sitting(exam)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    attempt = attempt_start(
        candidate=alice,
        enrolment_id=enrol(sitting, sitting.rooms.create(name="Room A"), alice).pk,
        device_id=DEVICE,
    )

    def value(slot):
        kind = slot.item_version.item.kind
        if kind == ItemKind.FREE_TEXT:
            return ESSAY
        if kind == ItemKind.FILL_IN:
            return slot.item_version.key[
                0
            ].upper()  # right, typed differently: the pre-match still finds it
        return right_answer(slot)

    answer_every_item(attempt, value)
    Attempt.objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by="candidate"
    )
    attempt_score(attempt_id=attempt.pk)
    chair = UserFactory(username="chair", first_name="Chair", last_name="Person")
    grant(chair, "grading", "chair_marking")
    people = {name: UserFactory(username=name) for name in ("marker1", "marker2", "judge")}
    grant(people["marker1"], "grading", "mark_answers")
    grant(people["marker2"], "grading", "mark_answers")
    grant(people["judge"], "grading", "adjudicate")
    for score in ItemScore.objects.filter(attempt=attempt, method="committee").select_related(
        "attempt_item__item_version"
    ):
        item_id = score.attempt_item.item_version.item_id
        for name in ("marker1", "marker2"):
            assignment_set(
                sitting_id=sitting.pk,
                item_id=item_id,
                user=people[name],
                role="marker",
                assigned=True,
                by=chair,
            )
        assignment_set(
            sitting_id=sitting.pk,
            item_id=item_id,
            user=people["judge"],
            role="adjudicator",
            assigned=True,
            by=chair,
        )
    return sitting, attempt


def mark_all(page, base, points_for):
    page.goto(f"{base}/grading/")
    while page.get_by_role("link", name="Mark").count():
        page.get_by_role("link", name="Mark").first.click()
        while page.get_by_test_id("answer-text").count():
            text = page.get_by_test_id("answer-text").inner_text()
            page.get_by_test_id("points").fill(points_for(text))
            page.get_by_role("button", name="Save and next").click()
        page.goto(f"{base}/grading/")


def test_two_markers_and_an_adjudicator_mark_blind_then_the_result_is_published(
    live_server_proc, new_context, login, marked_sitting, screenshot
):
    sitting, attempt = marked_sitting
    base = live_server_proc.url
    essay_max = ItemScore.objects.get(
        attempt=attempt, attempt_item__item_version__item__kind=ItemKind.FREE_TEXT
    ).max_points

    first = new_context().new_page()
    login(first, "marker1")
    first.get_by_test_id("committee-link").click()
    first.get_by_role("link", name="Mark").first.click()
    text = first.content()
    assert "Alice" not in text and "Batbayar" not in text and "alice" not in text  # blind
    from grading.anonymity import anonymous_code

    expect(first.get_by_test_id("anonymous-code")).to_have_text(anonymous_code(attempt.pk))
    # Issue 10, point 16: the form names the answer by an opaque token, not the score row's id.
    token = first.locator("input[name=answer]").get_attribute("value")
    assert (
        not token.isdigit()
        and not ItemScore.objects.filter(pk__in=[t for t in token.split() if t.isdigit()]).exists()
    )
    screenshot(first, "marking-screen")
    mark_all(first, base, lambda text: str(essay_max))  # full points on both answers

    second = new_context().new_page()
    login(second, "marker2")
    # Far from the first marker on the essay: it goes to the adjudicator. Same on the fill-in.
    mark_all(second, base, lambda text: "0" if ESSAY[:20] in text else str(essay_max))
    assert (
        ItemScore.objects.filter(attempt=attempt, marking=ItemScore.Marking.ADJUDICATION).count()
        == 1
    )

    judge = new_context().new_page()
    login(judge, "judge")
    judge.goto(f"{base}/grading/")
    judge.get_by_role("link", name="Adjudicate").click()
    expect(judge.get_by_test_id("marks")).to_contain_text("First mark")
    judge.get_by_test_id("points").fill(str(essay_max / 2))
    judge.get_by_role("button", name="Decide").click()
    assert (
        ItemScore.objects.get(
            attempt=attempt, attempt_item__item_version__item__kind=ItemKind.FREE_TEXT
        ).points
        == essay_max / 2
    )

    chair = new_context().new_page()
    login(chair, "chair")
    chair.goto(f"{base}/grading/sittings/{sitting.pk}/")
    expect(chair.get_by_test_id("awaiting-marks")).to_have_text("0")
    chair.get_by_test_id("publish").click()
    expect(chair.get_by_test_id("publication")).to_contain_text("Published")
    screenshot(chair, "chair-sitting")
    assert ResultPublication.objects.filter(sitting=sitting).exists()

    candidate = new_context().new_page()
    login(candidate, "alice")
    candidate.goto(f"{base}/attempts/{attempt.pk}/result/")
    from grading.models import AttemptScore

    final = AttemptScore.objects.get(attempt=attempt)
    expect(candidate.get_by_test_id("final-percent")).to_have_text(f"{final.percent} %")
    expect(candidate.get_by_test_id("verdict")).to_be_visible()
    screenshot(candidate, "published-result")
    assert final.committee_points == essay_max / 2 + essay_max  # adjudicated essay + agreed fill-in
