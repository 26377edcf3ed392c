from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from exams.models import Attempt, AttemptStatus

from .analysis.tasks import analyse_sitting  # noqa: F401 - registered with the worker from here
from .services import attempt_score


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def score_attempt(attempt_id: int) -> None:
    """Score a submitted attempt's machine-scored part. Idempotent: redelivery is harmless."""
    attempt_score(attempt_id=attempt_id)


# Longer than scoring normally takes, so a task already on its way is not queued twice for nothing
# (twice would be harmless: scoring is idempotent).
WAITING_TOO_LONG = timedelta(minutes=1)


@shared_task(acks_late=True)
def score_waiting_attempts() -> list[int]:
    """Queue scoring again for attempts submitted a while ago and still unscored (lost task)."""
    waiting = list(
        Attempt.objects.filter(status=AttemptStatus.SUBMITTED, submitted_at__lt=timezone.now() - WAITING_TOO_LONG)
        .values_list("pk", flat=True)[:500]
    )
    for attempt_id in waiting:
        score_attempt.delay(attempt_id)
    return waiting


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def email_published_results(sitting_id: int) -> int:
    """Tell every candidate of a published sitting that their result is there; return how many."""
    from .notify import results_published_mail

    return results_published_mail(sitting_id=sitting_id)



@shared_task(acks_late=True)
def rescore_for_correction(correction_id: int) -> int:
    """Queue the re-score of every attempt a correction has not re-scored yet; return how many."""
    from .models import KeyCorrection
    from .services.corrections import pending_attempt_ids

    correction = KeyCorrection.objects.filter(pk=correction_id, applied_at__isnull=False).first()
    if correction is None:
        return 0
    pending = pending_attempt_ids(correction)
    for attempt_id in pending:
        rescore_attempt.delay(correction_id, attempt_id)
    return len(pending)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def rescore_attempt(correction_id: int, attempt_id: int) -> bool:
    """Re-score one attempt for a correction; a second delivery changes nothing."""
    from .services import attempt_rescore

    return attempt_rescore(correction_id=correction_id, attempt_id=attempt_id) is not None


@shared_task(acks_late=True)
def rescore_pending() -> int:
    """Periodic: queue again re-scores whose task was lost (a worker killed mid-way)."""
    from .models import KeyCorrection
    from .services import correction_progress

    queued = 0
    for correction in KeyCorrection.objects.filter(applied_at__isnull=False, applied_at__gt=timezone.now() - timedelta(days=30)):
        progress = correction_progress(correction)
        if progress["done"] < progress["total"]:
            queued += rescore_for_correction(correction.pk)
    return queued
