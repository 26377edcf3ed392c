"""Loading a sitting's responses from the database, and the task that analyses them."""

from __future__ import annotations

import pytest

from exams.models import AttemptStatus, ItemKind
from grading.analysis.data import load_matrix
from grading.analysis.stats import analyse
from grading.analysis.tasks import (
    analyse_sitting,
    analysis_progress,
    analysis_queue,
    analysis_result,
    is_running,
)
from grading.models import AttemptScore, ItemScore


def test_matrix_holds_the_scored_slots_of_counted_attempts(scored_sitting, django_assert_num_queries):
    with django_assert_num_queries(2):
        matrix = load_matrix(scored_sitting.pk)
    attempts = scored_sitting.scored_attempts
    # The attempt still in progress is not there; nor are the text items awaiting the committee.
    assert sorted(matrix.attempt_ids) == sorted(a.pk for a in attempts)
    assert len(matrix) == ItemScore.objects.filter(attempt__in=attempts, points__isnull=False).count()
    assert {matrix.items[i].kind for i in matrix.cell_item} <= set(ItemKind.choice_kinds())
    # Per attempt, the loaded points add up to what scoring stored.
    earned: dict[int, float] = {}
    for attempt, got in zip(matrix.cell_attempt, matrix.cell_earned, strict=True):
        earned[matrix.attempt_ids[attempt]] = earned.get(matrix.attempt_ids[attempt], 0.0) + got
    for score in AttemptScore.objects.filter(attempt__in=attempts):
        assert earned[score.attempt_id] == float(score.auto_points)
    # Choices are the stored option ids.
    for info_index, chosen in zip(matrix.cell_item, matrix.cell_chosen, strict=True):
        info = matrix.items[info_index]
        assert chosen is not None and set(chosen) <= set(info.options)


def test_committee_marks_count_once_given_and_disqualified_attempts_never(scored_sitting):
    first, second = scored_sitting.scored_attempts[:2]
    before = load_matrix(scored_sitting.pk)
    # A resolved committee mark (the marking service's end state) joins the analysis.
    awaiting = ItemScore.objects.filter(attempt=first, points__isnull=True).first()
    ItemScore.objects.filter(pk=awaiting.pk).update(points=awaiting.max_points / 2)
    # Set directly: no service may disqualify an attempt that was already scored.
    second.__class__.objects.filter(pk=second.pk).update(status=AttemptStatus.DISQUALIFIED)
    after = load_matrix(scored_sitting.pk)
    assert second.pk not in after.attempt_ids
    marked = [i for i, info in enumerate(after.items) if info.version_id == awaiting.attempt_item.item_version_id]
    assert marked and marked[0] in after.cell_item
    second_cells = ItemScore.objects.filter(attempt=second, points__isnull=False).count()
    assert len(after) == len(before) - second_cells + 1


def test_the_analysis_of_a_sitting(scored_sitting):
    analysis = analyse(load_matrix(scored_sitting.pk))
    summary = analysis.summary
    assert summary.attempts == 5
    # Answered right: 100 %, 80 %, 60 %, 30 %, 0 % of each form's choice items.
    assert summary.mean == pytest.approx(54, abs=3)
    assert summary.kr20 is not None and 0.5 < summary.kr20 <= 1
    for item in analysis.items:
        assert 0 <= item.difficulty <= 1
        # Every attempt that had a choice item is counted once per option it chose, or as blank.
        if item.info.kind in ItemKind.single_choice_kinds():
            assert sum(o.total for o in item.options) == item.n


def test_task_stores_result_and_progress_and_is_idempotent(scored_sitting, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert analysis_result(scored_sitting.pk) is None
    analyse_sitting.delay(scored_sitting.pk)
    first = analysis_result(scored_sitting.pk)
    assert first["summary"]["attempts"] == 5 and first["computed_at"]
    assert analysis_progress(scored_sitting.pk)["state"] == "done"
    assert analysis_progress(scored_sitting.pk)["progress"] == 1.0
    analyse_sitting.delay(scored_sitting.pk)  # a redelivered task
    second = analysis_result(scored_sitting.pk)
    for key in ("summary", "items"):
        assert second[key] == first[key]


def test_queue_runs_after_commit_once(scored_sitting, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert analysis_queue(sitting_id=scored_sitting.pk) is True
        assert is_running(scored_sitting.pk)
        assert analysis_queue(sitting_id=scored_sitting.pk) is False, "a second click while it runs queues nothing"
    assert len(callbacks) == 1
    assert analysis_result(scored_sitting.pk)["summary"]["attempts"] == 5
    assert not is_running(scored_sitting.pk)


def test_empty_sitting(sitting):
    analysis = analyse(load_matrix(sitting.pk))
    assert analysis.summary.attempts == 0 and analysis.items == []
