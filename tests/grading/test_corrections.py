"""Key corrections: dry run, apply, re-score exactly once, logged (R-GRADE-4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exams.models import AttemptItem, ItemKind
from grading.models import AttemptScore, ItemScore, KeyCorrection, ScoreChange
from grading.services import (
    attempt_rescore,
    correction_progress,
    key_correction_apply,
    key_correction_preview,
)
from grading.services.results import GradingError

from ..factories import grant
from .test_marking import committee, mark_everything, scored  # noqa: F401 - fixtures


@pytest.fixture
def complete(scored, committee):  # noqa: F811
    mark_everything(scored, committee[0])
    return scored


def single_slot(attempt) -> AttemptItem:
    return (
        AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=ItemKind.SINGLE)
        .select_related("item_version")
        .first()
    )


def test_a_changed_key_is_dry_run_then_applied_and_logged(
    complete, administrator, django_capture_on_commit_callbacks
):
    chair = grant(administrator, "grading", "correct_keys")
    slot = single_slot(complete)
    before = AttemptScore.objects.get(attempt=complete)
    assert before.percent == 100
    wrong_now = [o for o in slot.option_order if o not in slot.item_version.key][0]
    preview = key_correction_preview(
        item_version_id=slot.item_version_id,
        action="change_key",
        accepted_keys=[[wrong_now]],
        reason="The key was B; the right answer is another",
        by=chair,
    )
    assert (preview.correction.affected, preview.correction.changed) == (1, 1)
    assert AttemptScore.objects.get(attempt=complete).percent == 100, "a dry run changes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        key_correction_apply(correction_id=preview.correction.pk, by=chair)
    after = AttemptScore.objects.get(attempt=complete)
    assert after.percent < 100 and ItemScore.objects.get(attempt_item=slot).points == 0
    preview.correction.refresh_from_db()
    assert preview.correction.applied_by == chair and preview.correction.created_by == chair
    change = ScoreChange.objects.get(correction=preview.correction, attempt=complete)
    assert (change.old_percent, change.new_percent) == (100, after.percent)
    assert correction_progress(preview.correction) == {"done": 1, "total": 1}
    assert (
        attempt_rescore(correction_id=preview.correction.pk, attempt_id=complete.pk) is None
    )  # exactly once


def test_accepting_more_answers_gives_the_points_for_any(
    complete, administrator, django_capture_on_commit_callbacks
):
    chair = grant(administrator, "grading", "correct_keys")
    slot = single_slot(complete)
    other = [o for o in slot.option_order if o not in slot.item_version.key][0]
    preview = key_correction_preview(
        item_version_id=slot.item_version_id,
        action="accept_more",
        accepted_keys=[slot.item_version.key, [other]],
        reason="Both defensible",
        by=chair,
    )
    assert preview.correction.changed == 0  # the candidate's answer was right under both
    with django_capture_on_commit_callbacks(execute=True):
        key_correction_apply(correction_id=preview.correction.pk, by=chair)
    assert AttemptScore.objects.get(attempt=complete).percent == 100


def test_a_dropped_item_leaves_the_points_and_the_maximum(
    complete, administrator, django_capture_on_commit_callbacks
):
    chair = grant(administrator, "grading", "correct_keys")
    slot = single_slot(complete)
    before = AttemptScore.objects.get(attempt=complete)
    preview = key_correction_preview(
        item_version_id=slot.item_version_id,
        action="drop",
        accepted_keys=[],
        reason="Ambiguous",
        by=chair,
    )
    with django_capture_on_commit_callbacks(execute=True):
        key_correction_apply(correction_id=preview.correction.pk, by=chair)
    after = AttemptScore.objects.get(attempt=complete)
    assert after.auto_max_points == before.auto_max_points - slot.points
    assert after.percent == 100  # everything else was right
    assert ItemScore.objects.get(attempt_item=slot).max_points == 0


def test_a_flip_from_fail_to_pass_is_shown_in_the_dry_run(complete, administrator, exam):
    chair = grant(administrator, "grading", "correct_keys")
    slot = single_slot(complete)
    # Make the attempt fail by a hair: 100 % now, so lower the pass mark's other side: raise it to 100
    # and mark this item's answer wrong by changing the key; then changing it back flips again.
    exam.pass_percent = 100
    exam.save()
    wrong_now = [o for o in slot.option_order if o not in slot.item_version.key][0]
    preview = key_correction_preview(
        item_version_id=slot.item_version_id,
        action="change_key",
        accepted_keys=[[wrong_now]],
        reason="test",
        by=chair,
    )
    assert (
        preview.correction.flips == 1
        and preview.flips[0]["old"] == 100
        and preview.flips[0]["new"] < 100
    )


def test_applying_a_flip_turns_the_pass_into_a_fail(
    complete, administrator, exam, django_capture_on_commit_callbacks
):
    chair = grant(administrator, "grading", "correct_keys")
    slot = single_slot(complete)
    exam.pass_percent = 100
    exam.save()
    from grading.services import attempt_total_refresh

    attempt_total_refresh(attempt_id=complete.pk)
    assert AttemptScore.objects.get(attempt=complete).passed is True
    wrong_now = [o for o in slot.option_order if o not in slot.item_version.key][0]
    preview = key_correction_preview(
        item_version_id=slot.item_version_id,
        action="change_key",
        accepted_keys=[[wrong_now]],
        reason="test",
        by=chair,
    )
    with django_capture_on_commit_callbacks(execute=True):
        key_correction_apply(correction_id=preview.correction.pk, by=chair)
    after = AttemptScore.objects.get(attempt=complete)
    assert after.passed is False and after.percent == preview.flips[0]["new"]


@pytest.mark.parametrize(
    ("action", "keys"),
    [
        ("change_key", []),
        ("change_key", [["Z"]]),
        ("change_key", [["A", "B"]]),
        ("change_key", [["A"], ["B"]]),
        ("nonsense", [["A"]]),
    ],
)
def test_malformed_corrections_are_refused(complete, administrator, action, keys):
    chair = grant(administrator, "grading", "correct_keys")
    with pytest.raises(GradingError):
        key_correction_preview(
            item_version_id=single_slot(complete).item_version_id,
            action=action,
            accepted_keys=keys,
            reason="x",
            by=chair,
        )
    assert not KeyCorrection.objects.exists()


def test_a_correction_needs_a_reason_and_is_applied_once(
    complete, administrator, django_capture_on_commit_callbacks
):
    chair = grant(administrator, "grading", "correct_keys")
    slot = single_slot(complete)
    with pytest.raises(GradingError):
        key_correction_preview(
            item_version_id=slot.item_version_id,
            action="drop",
            accepted_keys=[],
            reason=" ",
            by=chair,
        )
    preview = key_correction_preview(
        item_version_id=slot.item_version_id, action="drop", accepted_keys=[], reason="x", by=chair
    )
    with django_capture_on_commit_callbacks(execute=True):
        key_correction_apply(correction_id=preview.correction.pk, by=chair)
    with pytest.raises(GradingError):
        key_correction_apply(correction_id=preview.correction.pk, by=chair)
    assert Decimal(ScoreChange.objects.get().new_points) <= Decimal(
        ScoreChange.objects.get().old_points
    )
