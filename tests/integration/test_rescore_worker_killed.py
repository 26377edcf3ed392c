"""A key correction re-scores every affected attempt exactly once, even when the worker dies mid-way
(R-GRADE-4). A real Celery worker process on the tests' Redis broker; SIGKILL in the middle of the
re-score; a new worker (which purges the queue at start: the remaining tasks are lost) and the
periodic job that queues whatever is not re-scored yet."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from exams.models import Attempt, AttemptItem, AttemptStatus, ItemKind
from exams.services import AnswerChange, attempt_start, responses_save
from grading.models import AttemptScore, KeyCorrection, ScoreChange
from grading.services import attempt_score, key_correction_preview
from tests.factories import UserFactory, enrol, make_bank, make_exam, make_sitting
from tests.servers import celery_client, require_service, running_worker, wait_until

pytestmark = [pytest.mark.integration]

ATTEMPTS = 40
DEVICE = "d" * 32


@pytest.fixture
def worker(request, transactional_db):
    require_service(bool(settings.REDIS_URL), "REDIS_URL (a Redis broker) for a real Celery worker")
    with running_worker(f"{request.node.name}-worker") as running:
        yield running


def _scored_attempts(n: int) -> list[Attempt]:
    """n attempts on one sitting, every choice item answered with the (old) key, scored."""
    exam = make_exam(make_bank(topics=1, per_kind=2), per_topic=10)
    sitting = make_sitting(exam)
    room = sitting.rooms.create(name="Room A", seats=n)
    attempts = []
    for i in range(n):
        candidate = UserFactory(username=f"cand{i}")
        attempt = attempt_start(candidate=candidate, enrolment_id=enrol(sitting, room, candidate).pk, device_id=DEVICE)
        slots = AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=ItemKind.SINGLE).select_related("item_version")
        responses_save(changes=[
            AnswerChange(attempt_id=attempt.pk, candidate_id=candidate.pk, device_id=DEVICE, position=slot.position, seq=seq,
                         value=[slot.option_order.index(slot.item_version.key[0])])
            for seq, slot in enumerate(slots, start=1)
        ])
        # Submitted by hand: attempt_submit would queue scoring on this process's broker, not the worker's.
        Attempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.SUBMITTED, submitted_at=timezone.now(),
                                                     submitted_by="candidate")
        attempt_score(attempt_id=attempt.pk)
        attempts.append(attempt)
    return attempts


def test_a_rescore_survives_a_killed_worker_and_scores_each_attempt_once(worker, administrator):
    attempts = _scored_attempts(ATTEMPTS)
    slot = AttemptItem.objects.filter(attempt=attempts[0], item_version__item__kind=ItemKind.SINGLE).select_related("item_version").first()
    version = slot.item_version
    wrong = [o for o in slot.option_order if o not in version.key][0]
    before = {a.pk: AttemptScore.objects.get(attempt=a).auto_points for a in attempts}
    affected = {a.pk for a in attempts if AttemptItem.objects.filter(attempt=a, item_version=version).exists()}

    preview = key_correction_preview(item_version_id=version.pk, action="change_key", accepted_keys=[[wrong]],
                                     reason="integration test", by=administrator)
    # Applied by hand for the same reason: the service queues on this process's broker.
    KeyCorrection.objects.filter(pk=preview.correction.pk).update(applied_at=timezone.now(), affected=len(affected))
    client = celery_client()
    for attempt_id in sorted(affected):
        client.send_task("grading.tasks.rescore_attempt", args=[preview.correction.pk, attempt_id])

    done = ScoreChange.objects.filter(correction=preview.correction)
    wait_until(lambda: done.count() >= 3, timeout=60, message="the worker has re-scored a few attempts")
    worker.kill()  # SIGKILL, mid-way: whatever it held is lost
    killed_at = done.count()
    assert killed_at < len(affected), "the re-score finished before the kill: make it longer"

    worker.start()  # purges the queue: the remaining tasks are gone, as after a lost broker
    client.send_task("grading.tasks.rescore_pending")  # what beat does every minute
    wait_until(lambda: done.count() == len(affected), timeout=90, message="every affected attempt re-scored")

    assert sorted(done.values_list("attempt_id", flat=True)) == sorted(affected)  # each exactly once
    for attempt in attempts:
        points = AttemptScore.objects.get(attempt=attempt).auto_points
        if attempt.pk in affected:
            assert points == before[attempt.pk] - slot.points  # the old key's answer is now wrong
        else:
            assert points == before[attempt.pk]
