from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = _("Exams")

    def ready(self) -> None:
        from . import form_cache, signals  # noqa: F401  (bank-change receivers; second-device login lock)
        from .audit import receivers  # noqa: F401  (sign-ins and attempt timelines into the audit log)
