from __future__ import annotations

from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "Exams"

    def ready(self) -> None:
        from . import form_cache, signals  # noqa: F401  (bank-change receivers; second-device login lock)
        from .audit import receivers  # noqa: F401  (sign-ins and attempt timelines into the audit log)
