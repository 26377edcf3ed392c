from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProctoringConfig(AppConfig):
    name = "proctoring"
    verbose_name = _("Proctoring")

    def ready(self) -> None:
        from exams.health import register_probe

        from . import receivers  # noqa: F401  (attempt changes shown to the room)
        from .health import media_servers

        register_probe("media", media_servers)
