from __future__ import annotations

from celery import shared_task

from .services import attempts_submit_overdue
from .uploading.services import upload_check, upload_import


@shared_task(acks_late=True)
def submit_overdue_attempts() -> list[int]:
    """Submit attempts whose time ran out while no page was watching (R-TAKE-3)."""
    return attempts_submit_overdue()


@shared_task(acks_late=True)
def check_upload(upload_id: int) -> None:
    """Check an uploaded item or enrolment file and write its preview (issue 14, point 4)."""
    upload_check(upload_id)


@shared_task(acks_late=True)
def import_upload(upload_id: int) -> None:
    """Import an uploaded file the keeper has decided on, all or nothing."""
    upload_import(upload_id)
