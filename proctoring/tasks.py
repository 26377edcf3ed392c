"""Periodic jobs of the live room. Thin: each calls one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def mark_absentees() -> int:
    """R-SCHED-3: whoever has not started by the end of the entry window is absent."""
    return len(services.absentees_mark())


@shared_task(acks_late=True)
def delete_expired_evidence() -> dict[str, int]:
    """R-PROC-6: stills and recordings go once their exam's retention period is over."""
    return services.evidence_delete_expired()
