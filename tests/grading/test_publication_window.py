"""Publishing waits until nobody can still start or write in the sitting (issue 10, point 11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exams.models import Attempt, Sitting
from exams.services import attempt_start, attempt_submit
from grading.models import ResultPublication
from grading.services import attempt_score, results, sitting_results_publish
from grading.services.results import GradingError
from proctoring.models import CheckIn, RoomSession

from ..factories import grant
from .test_marking import committee, mark_everything, scored  # noqa: F401 - fixtures


@pytest.fixture
def chair(administrator):
    return grant(administrator, "grading", "chair_marking")


@pytest.fixture
def marked(scored, committee):  # noqa: F811
    mark_everything(scored, committee[0])
    return scored


def test_publishing_is_refused_while_an_enrolled_candidate_can_still_start(
    marked, chair, bob_enrolment
):
    """Issue 10, point 11: the chair published while a second candidate could still enter, sit and
    never be marked. Now the service refuses, says why and from when, then publishes once entry closed."""
    sitting = Sitting.objects.select_related("exam").get(pk=bob_enrolment.sitting_id)
    with pytest.raises(GradingError) as refused:
        sitting_results_publish(sitting_id=sitting.pk, by=chair)
    assert refused.value.code == "open"
    assert (
        "1 candidate can still start" in refused.value.message
        and "You can publish from" in refused.value.message
    )
    # The grace: a start read its clock just before entry closed and may still be committing.
    with pytest.raises(GradingError):
        sitting_results_publish(
            sitting_id=sitting.pk,
            by=chair,
            now=sitting.entry_closes_at + results.START_IN_FLIGHT / 2,
        )
    assert not ResultPublication.objects.exists()
    publication = sitting_results_publish(
        sitting_id=sitting.pk,
        by=chair,
        now=sitting.entry_closes_at + results.START_IN_FLIGHT + timedelta(seconds=1),
    )
    assert publication.attempts == 1


def test_publishing_waits_for_a_paused_attempt_and_for_one_still_written(
    marked, chair, bob, bob_enrolment
):
    """Issue 10, point 11: an attempt still being written (paused, or extended past entry's close)
    blocks publication until it is handed in."""
    sitting = bob_enrolment.sitting
    attempt = attempt_start(candidate=bob, enrolment_id=bob_enrolment.pk, device_id="b" * 32)
    Attempt.objects.filter(pk=attempt.pk).update(paused_at=timezone.now(), pause_reason="camera")
    late = sitting.entry_closes_at + timedelta(hours=5)
    with pytest.raises(GradingError) as refused:
        sitting_results_publish(sitting_id=sitting.pk, by=chair, now=late)
    assert (
        "1 attempt is still being written" in refused.value.message
        and "paused" in refused.value.message
    )
    assert "depends on the proctors" in refused.value.message
    Attempt.objects.filter(pk=attempt.pk).update(paused_at=None)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    attempt_score(attempt_id=attempt.pk)
    with pytest.raises(GradingError) as refused:  # now only bob's answers wait for their marks
        sitting_results_publish(sitting_id=sitting.pk, by=chair, now=late)
    assert "awaiting marks" in refused.value.message


def test_a_proctored_room_not_yet_started_keeps_publication_waiting(
    marked, chair, bob_enrolment, proctor_b
):
    """Issue 10, point 11: in a proctored sitting entry closes only after the proctor starts the
    room; an admitted candidate who has not started yet can still start until then."""
    sitting = bob_enrolment.sitting
    Sitting.objects.filter(pk=sitting.pk).update(proctored=True)
    CheckIn.objects.create(
        enrolment=bob_enrolment, status=CheckIn.Status.ADMITTED, decided_at=timezone.now()
    )
    a_day_later = sitting.entry_closes_at + timedelta(days=1)
    with pytest.raises(GradingError) as refused:
        sitting_results_publish(sitting_id=sitting.pk, by=chair, now=a_day_later)
    assert (
        "Room B" in refused.value.message and "1 candidate can still start" in refused.value.message
    )
    started = a_day_later - timedelta(minutes=5)
    RoomSession.objects.update_or_create(
        room_id=bob_enrolment.room_id,
        defaults={"stage": RoomSession.Stage.STARTED, "started_at": started},
    )
    with pytest.raises(GradingError):  # entry runs on for late_entry_minutes after the room's start
        sitting_results_publish(sitting_id=sitting.pk, by=chair, now=a_day_later)
    CheckIn.objects.filter(enrolment=bob_enrolment).update(
        status=CheckIn.Status.ABSENT, reason="did not start"
    )
    assert sitting_results_publish(sitting_id=sitting.pk, by=chair, now=a_day_later).attempts == 1
