from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def acknowledge_complaint(complaint_id: int) -> bool:
    """E-mail the candidate the complaint's reference number; a second delivery sends nothing."""
    from .notify import acknowledgement_mail

    return acknowledgement_mail(complaint_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def tell_decision(complaint_id: int) -> bool:
    """E-mail the candidate the decision and its reasons; a second delivery sends nothing."""
    from .notify import decision_mail

    return decision_mail(complaint_id)


@shared_task(acks_late=True)
def remind_due_complaints() -> dict[str, int]:
    """Periodic: remind the committee before a complaint's deadline, and once when it has passed."""
    from .notify import reminders_send

    return reminders_send()
