from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    name = "signin"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        from django.contrib import admin

        from . import receivers  # noqa: F401 - connects the sign-in signal receivers
        from .forms import ThrottledAdminAuthenticationForm

        # /admin/login/ goes through the same throttle as the candidates' page (point 15).
        admin.site.login_form = ThrottledAdminAuthenticationForm
