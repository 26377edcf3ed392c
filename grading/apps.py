from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = _("Grading")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (marks, score changes, corrections, publication into the audit log)
