"""Which language a person reads, and how to write to them in it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import translation

from .models import UserLanguage

# Where the chosen language rides along with the session, so that no request needs a query for it.
SESSION_KEY = "language"


def is_known(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def chosen_language(user: Any) -> str | None:
    """The language `user` chose, if they chose one the site still offers."""
    if user is None or not getattr(user, "pk", None):
        return None
    chosen = UserLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return chosen if chosen and is_known(chosen) else None


def language_of(user: Any) -> str:
    """The language `user` chose, or the site's (settings.LANGUAGE_CODE) if they never chose."""
    return chosen_language(user) or settings.LANGUAGE_CODE


def language_choose(user: Any, code: str) -> None:
    """Remember `code` as the language of `user` (a signed-in person using the switch)."""
    UserLanguage.objects.update_or_create(user_id=user.pk, defaults={"language": code})


@contextlib.contextmanager
def in_language_of(user: Any) -> Iterator[str]:
    """Render what is sent to `user` (an e-mail's subject and body) in their language."""
    code = language_of(user)
    with translation.override(code):
        yield code
