"""What every page's template needs beyond Django's own context processors."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def language_switch(request: HttpRequest) -> dict:
    """The languages of the switch in templates/base.html, each named in itself (settings.LANGUAGES,
    not translated: Django's own names would say "Англи" for English on a Mongolian page, and its
    local name for Mongolian is "Mongolian")."""
    return {"language_switch": settings.LANGUAGES}
