"""The oversight job (R-AUD-2). Thin: it calls one service and is safe to run twice.

Registered with the worker through CELERY_IMPORTS (config/settings.py): autodiscovery finds only
`<app>.tasks` modules, and this package lives inside the exams app.
"""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def draft_oversight_reports() -> list[int]:
    """Keep council members on their sittings' rooms; draft both reports of every sitting that ended."""
    return services.reports_draft_due()
