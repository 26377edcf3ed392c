from __future__ import annotations

from celery import shared_task

from .services import attempts_submit_overdue


@shared_task(acks_late=True)
def submit_overdue_attempts() -> list[int]:
    """Submit attempts whose time ran out while no page was watching (R-TAKE-3)."""
    return attempts_submit_overdue()
