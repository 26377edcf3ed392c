"""Blind double marking, adjudication, totals and publication (R-GRADE-2, R-GRADE-3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from exams.models import AttemptStatus, ItemKind
from exams.services import attempt_start, attempt_submit
from grading.anonymity import anonymous_code
from grading.models import AttemptScore, ItemScore, Mark, MarkingAssignment, ResultPublication
from grading.services import (
    adjudication_submit,
    assignment_set,
    attempt_score,
    clinical_score_enter,
    mark_submit,
    sitting_results_publish,
)
from grading.services.marking import marks_agree, mean_of_marks
from grading.services.results import GradingError

from ..factories import UserFactory, grant
from .test_scoring import answer_all


@pytest.fixture
def scored(alice, alice_enrolment, exam):
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    answer_all(attempt, right=True)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    attempt_score(attempt_id=attempt.pk)
    return attempt


@pytest.fixture
def committee(db, scored, administrator):
    markers = [
        grant(UserFactory(username=f"marker{n}"), "grading", "mark_answers") for n in (1, 2, 3)
    ]
    judge = grant(UserFactory(username="judge"), "grading", "adjudicate")
    sitting = scored.enrolment.sitting
    items = {
        s.attempt_item.item_version.item
        for s in ItemScore.objects.filter(attempt=scored, method="committee")
    }
    for item in items:
        for marker in markers:
            assignment_set(
                sitting_id=sitting.pk,
                item_id=item.pk,
                user=marker,
                role="marker",
                assigned=True,
                by=administrator,
            )
        assignment_set(
            sitting_id=sitting.pk,
            item_id=item.pk,
            user=judge,
            role="adjudicator",
            assigned=True,
            by=administrator,
        )
    return markers, judge


def open_answers(attempt):
    return list(
        ItemScore.objects.filter(attempt=attempt, method="committee").select_related("attempt_item")
    )


def test_close_marks_give_their_mean_rounded_half_up():
    assert mean_of_marks(Decimal("0.50"), Decimal("0.75")) == Decimal("0.63")
    assert marks_agree(Decimal("0.5"), Decimal("0.7"), Decimal(1), 20)
    assert not marks_agree(Decimal("0.5"), Decimal("0.75"), Decimal(1), 20)


def test_two_close_marks_resolve_an_answer(scored, committee):
    (first, second, _third), _judge = committee
    answer = open_answers(scored)[0]
    top = answer.max_points
    mark_submit(item_score_id=answer.pk, marker=first, points=top)
    answer.refresh_from_db()
    assert answer.marking == ItemScore.Marking.OPEN and answer.points is None
    mark_submit(
        item_score_id=answer.pk, marker=second, points=top * Decimal("0.9"), comment="nearly all"
    )
    answer.refresh_from_db()
    assert answer.marking == ItemScore.Marking.RESOLVED
    assert answer.points == mean_of_marks(top, (top * Decimal("0.9")).quantize(Decimal("0.01")))


def test_far_apart_marks_go_to_the_adjudicator_whose_mark_stands(scored, committee):
    (first, second, _third), judge = committee
    answer = open_answers(scored)[0]
    mark_submit(item_score_id=answer.pk, marker=first, points=0)
    mark_submit(item_score_id=answer.pk, marker=second, points=answer.max_points)
    answer.refresh_from_db()
    assert answer.marking == ItemScore.Marking.ADJUDICATION
    adjudication_submit(
        item_score_id=answer.pk,
        adjudicator=judge,
        points=Decimal("0.5"),
        comment="half the points made",
    )
    answer.refresh_from_db()
    assert (answer.marking, answer.points) == (ItemScore.Marking.RESOLVED, Decimal("0.50"))
    assert [m.round for m in answer.marks.all()] == [
        Mark.Round.FIRST,
        Mark.Round.SECOND,
        Mark.Round.ADJUDICATION,
    ]


def test_marking_is_independent_and_bounded(scored, committee, bob):
    (first, second, third), judge = committee
    answer = open_answers(scored)[0]
    mark_submit(item_score_id=answer.pk, marker=first, points=0)
    with pytest.raises(GradingError):
        mark_submit(item_score_id=answer.pk, marker=first, points=0)  # nobody marks twice
    with pytest.raises(GradingError):
        mark_submit(
            item_score_id=answer.pk, marker=second, points=answer.max_points + 1
        )  # above the item's points
    with pytest.raises(GradingError):
        mark_submit(item_score_id=answer.pk, marker=second, points="-1")
    with pytest.raises(GradingError):
        mark_submit(item_score_id=answer.pk, marker=bob, points=0)  # not a marker of this item
    mark_submit(item_score_id=answer.pk, marker=second, points=0)
    with pytest.raises(GradingError):
        mark_submit(item_score_id=answer.pk, marker=third, points=0)  # already two marks
    with pytest.raises(GradingError):
        adjudication_submit(
            item_score_id=answer.pk, adjudicator=judge, points=0
        )  # the marks agreed


def test_the_chair_assigns_only_people_with_the_right(scored, administrator, bob):
    item = open_answers(scored)[0].attempt_item.item_version.item
    with pytest.raises(GradingError):
        assignment_set(
            sitting_id=scored.enrolment.sitting_id,
            item_id=item.pk,
            user=bob,
            role="marker",
            assigned=True,
            by=administrator,
        )
    assert not MarkingAssignment.objects.exists()


def test_the_anonymous_code_is_stable_and_does_not_show_the_id(scored):
    code = anonymous_code(scored.pk)
    assert code == anonymous_code(scored.pk) and len(code) == 9 and code[4] == "-"
    assert code != anonymous_code(scored.pk + 1)


def mark_everything(attempt, markers, fraction=Decimal(1)):
    first, second = markers[:2]
    for answer in open_answers(attempt):
        points = (answer.max_points * fraction).quantize(Decimal("0.01"))
        mark_submit(item_score_id=answer.pk, marker=first, points=points)
        mark_submit(item_score_id=answer.pk, marker=second, points=points)


def test_the_final_percent_comes_when_every_answer_is_marked(scored, committee, exam):
    markers, _judge = committee
    score = AttemptScore.objects.get(attempt=scored)
    assert score.percent is None and score.awaiting_items > 0
    mark_everything(scored, markers, fraction=Decimal("0.5"))
    score.refresh_from_db()
    assert score.awaiting_items == 0
    written = (score.auto_points + score.committee_points) / (
        score.auto_max_points + score.committee_max_points
    )
    assert score.percent == int(written * 100) and score.passed == (
        score.percent >= exam.pass_percent
    )


def test_publication_waits_for_marking_then_shows_and_mails_once(
    scored, committee, administrator, alice, django_capture_on_commit_callbacks
):
    chair = grant(administrator, "grading", "chair_marking")
    sitting = scored.enrolment.sitting
    with pytest.raises(GradingError):
        sitting_results_publish(sitting_id=sitting.pk, by=chair)
    mark_everything(scored, committee[0])
    with django_capture_on_commit_callbacks(execute=True):
        publication = sitting_results_publish(sitting_id=sitting.pk, by=chair)
    assert (publication.attempts, publication.passed) == (1, 1)
    assert AttemptScore.objects.get(attempt=scored).published_at == publication.published_at
    assert (
        len(mail.outbox) == 1
        and mail.outbox[0].to == [alice.email]
        and "100 %" in mail.outbox[0].body
    )
    from grading.tasks import email_published_results

    assert email_published_results(sitting.pk) == 0  # a retried task mails nobody twice
    with pytest.raises(GradingError):
        sitting_results_publish(sitting_id=sitting.pk, by=chair)  # once
    with pytest.raises(GradingError):
        mark_submit(
            item_score_id=open_answers(scored)[0].pk, marker=committee[0][2], points=0
        )  # frozen after


def test_a_clinical_part_must_be_entered_before_the_result(scored, committee, administrator, exam):
    exam.clinical_weight_percent = 30
    exam.save()
    mark_everything(scored, committee[0])
    score = AttemptScore.objects.get(attempt=scored)
    assert score.percent is None  # the clinical score is missing
    clinical_score_enter(
        attempt_id=scored.pk, by=administrator, points=Decimal(10), max_points=Decimal(20)
    )
    score.refresh_from_db()
    assert score.percent == 85 and score.passed  # 100 % × 0.7 + 50 % × 0.3


def test_a_disqualified_attempt_is_not_scored(alice, alice_enrolment):
    from exams.models import Attempt

    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    Attempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.DISQUALIFIED)
    assert attempt_score(attempt_id=attempt.pk) is None
    assert not ItemScore.objects.filter(attempt=attempt).exists()


def test_partial_credit_is_applied_when_the_exam_asks(alice, alice_enrolment, exam):
    exam.multiple_response_scoring = "partial"
    exam.save()
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    from exams.models import AttemptItem
    from exams.services import AnswerChange, responses_save

    slot = AttemptItem.objects.filter(
        attempt=attempt, item_version__item__kind=ItemKind.MULTIPLE
    ).first()
    keyed = [slot.option_order.index(option) for option in slot.item_version.key]
    responses_save(
        changes=[
            AnswerChange(
                attempt_id=attempt.pk,
                candidate_id=alice.pk,
                device_id="a" * 32,
                position=slot.position,
                seq=1,
                value=keyed[:1],
            )
        ]
    )
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    attempt_score(attempt_id=attempt.pk)
    assert ItemScore.objects.get(attempt_item=slot).points == (slot.points / len(keyed)).quantize(
        Decimal("0.0001"), rounding="ROUND_DOWN"
    )
    assert ResultPublication.objects.count() == 0
