from __future__ import annotations

from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "Exams"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (login of a second device locks a running attempt)
