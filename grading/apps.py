from __future__ import annotations

from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (marks, score changes, corrections, publication into the audit log)
