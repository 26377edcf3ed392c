"""Machine scoring of the choice items (R-GRADE-1); the grading issue adds configurable rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exams.models import AttemptItem, AttemptStatus, ItemKind
from exams.services import AnswerChange, attempt_start, attempt_submit, responses_save
from grading.models import AttemptScore, ItemScore
from grading.scoring import choice_points
from grading.services import attempt_score

ONE = Decimal(1)
letters = st.lists(st.sampled_from("ABCDE"), unique=True, max_size=5)


@given(key=letters.filter(bool), answer=letters)
def test_multiple_response_is_all_or_nothing(key, answer):
    points = choice_points(kind=ItemKind.MULTIPLE, key=key, answer=answer, points=ONE)
    assert points == (ONE if set(answer) == set(key) else 0)


@pytest.mark.parametrize("kind", [ItemKind.SINGLE, ItemKind.CAUSE_EFFECT])
def test_single_answer_kinds_are_right_or_wrong(kind):
    assert choice_points(kind=kind, key=["C"], answer=["C"], points=ONE) == ONE
    assert choice_points(kind=kind, key=["C"], answer=["B"], points=ONE) == 0
    assert choice_points(kind=kind, key=["C"], answer=None, points=ONE) == 0


def test_text_kinds_are_not_machine_scored():
    with pytest.raises(ValueError):
        choice_points(kind=ItemKind.FREE_TEXT, key=[], answer=["x"], points=ONE)


def answer_all(attempt, *, right: bool) -> int:
    """Answer every choice item right (or wrong); return how many choice items there are."""
    changes, choice_items = [], 0
    for seq, slot in enumerate(AttemptItem.objects.filter(attempt=attempt).select_related("item_version__item"), start=1):
        kind = slot.item_version.item.kind
        if kind in ItemKind.choice_kinds():
            choice_items += 1
            key = set(slot.item_version.key)
            picked = [i for i, option in enumerate(slot.option_order) if (option in key) == right]
            if kind in ItemKind.single_choice_kinds():
                picked = picked[:1]
            changes.append(AnswerChange(attempt_id=attempt.pk, candidate_id=attempt.candidate_id, device_id="a" * 32,
                                        position=slot.position, seq=seq, value=picked))
        else:
            changes.append(AnswerChange(attempt_id=attempt.pk, candidate_id=attempt.candidate_id, device_id="a" * 32,
                                        position=slot.position, seq=seq, value="an answer for the committee"))
    assert all(r.ok for r in responses_save(changes=changes))
    return choice_items


def test_scoring_counts_right_answers_and_queues_text_items(alice, alice_enrolment, exam, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # score explicitly below, twice
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    choice_items = answer_all(attempt, right=True)
    assert attempt_score(attempt_id=attempt.pk) is None, "an attempt in progress is not scored"
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    score = attempt_score(attempt_id=attempt.pk)
    per_item = exam.points_per_item()
    assert score.auto_points == per_item * choice_items == score.auto_max_points
    assert score.auto_percent() == 100
    assert score.awaiting_items == exam.item_count - choice_items
    again = attempt_score(attempt_id=attempt.pk)
    assert again.auto_points == score.auto_points
    assert ItemScore.objects.filter(attempt=attempt).count() == exam.item_count
    assert ItemScore.objects.filter(attempt=attempt, points__isnull=True).count() == score.awaiting_items
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SCORED
    assert attempt.events.filter(kind="scored").count() == 1


def test_wrong_answers_score_zero(alice, alice_enrolment):
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    answer_all(attempt, right=False)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    score = attempt_score(attempt_id=attempt.pk)
    assert score.auto_points == 0 and score.auto_percent() == 0


def test_percent_is_rounded_down_never_up_to_a_pass():
    score = AttemptScore(auto_points=Decimal("79.9"), auto_max_points=Decimal(100), awaiting_items=0, scored_at=None)
    assert score.auto_percent() == 79


def test_an_attempt_whose_scoring_task_was_lost_is_scored_later(alice, alice_enrolment, settings):
    from datetime import timedelta

    from django.utils import timezone

    from exams.models import Attempt
    from grading.tasks import score_waiting_attempts

    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing scores it at submission: the task is "lost"
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    Attempt.objects.filter(pk=attempt.pk).update(submitted_at=timezone.now() - timedelta(minutes=5))
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the periodic job's tasks run here, in-process
    assert score_waiting_attempts() == [attempt.pk]
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SCORED and AttemptScore.objects.filter(attempt=attempt).exists()
