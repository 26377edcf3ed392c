"""A small scored sitting: candidates answer through the services, the machine scores them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache

from exams.models import AttemptItem, ItemKind
from exams.services import AnswerChange, attempt_start, attempt_submit, responses_save
from grading.analysis.tasks import progress_key, result_key
from grading.services import attempt_score
from tests.factories import UserFactory, enrol

DEVICE = "d" * 32


def answer(attempt, *, right_share: float) -> None:
    """Answer the attempt's choice items: the first `right_share` of them right, the rest wrong;
    text items get a text. Through responses_save, as the exam page does."""
    slots = list(AttemptItem.objects.filter(attempt=attempt).select_related("item_version__item"))
    choice_slots = [s for s in slots if s.item_version.item.kind in ItemKind.choice_kinds()]
    right_until = round(right_share * len(choice_slots))
    changes = []
    for seq, slot in enumerate(slots, start=1):
        kind = slot.item_version.item.kind
        if kind in ItemKind.choice_kinds():
            key = set(slot.item_version.key)
            right = choice_slots.index(slot) < right_until
            picked = [i for i, option in enumerate(slot.option_order) if (option in key) == right]
            if kind in ItemKind.single_choice_kinds():
                picked = picked[:1]
            value = picked
        else:
            value = "an answer for the committee"
        changes.append(AnswerChange(attempt_id=attempt.pk, candidate_id=attempt.candidate_id, device_id=DEVICE,
                                    position=slot.position, seq=seq, value=value))
    assert all(result.ok for result in responses_save(changes=changes))


@pytest.fixture
def scored_sitting(sitting, room_a, settings):
    """Return the sitting with five scored attempts (scores spread out), one in progress."""
    settings.CELERY_TASK_ALWAYS_EAGER = False  # scored explicitly below
    attempts = []
    for n, share in enumerate([1.0, 0.8, 0.6, 0.3, 0.0]):
        candidate = UserFactory(username=f"cand{n}")
        enrolment = enrol(sitting, room_a, candidate)
        attempt = attempt_start(candidate=candidate, enrolment_id=enrolment.pk, device_id=DEVICE)
        answer(attempt, right_share=share)
        attempt_submit(attempt_id=attempt.pk, by="candidate")
        attempt_score(attempt_id=attempt.pk)
        attempts.append(attempt)
    late = UserFactory(username="still_writing")
    attempt_start(candidate=late, enrolment_id=enrol(sitting, room_a, late).pk, device_id=DEVICE)
    sitting.scored_attempts = attempts
    return sitting


@pytest.fixture
def sitting(sitting):
    """The shared sitting, with no analysis left in the cache by an earlier run that had its id
    (test databases start their ids afresh; the cache may be a Redis that outlives them)."""
    cache.delete_many([result_key(sitting.pk), progress_key(sitting.pk)])
    return sitting


@pytest.fixture
def analyst(db):
    user = UserFactory(username="analyst")
    user.user_permissions.add(Permission.objects.get(codename="view_item_analysis", content_type__app_label="grading"))
    return user
