from __future__ import annotations

from celery import shared_task

from .services import attempt_score


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def score_attempt(attempt_id: int) -> None:
    """Score a submitted attempt's machine-scored part. Idempotent: redelivery is harmless."""
    attempt_score(attempt_id=attempt_id)
