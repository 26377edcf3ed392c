"""Which language a person reads, and how to write to them in it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation

from .models import UserLanguage


def is_known(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def chosen_language(user: Any) -> str | None:
    """The language `user` chose, if they chose one the site still offers."""
    if user is None or not getattr(user, "pk", None):
        return None
    chosen = UserLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return chosen if chosen and is_known(chosen) else None


def language_of(user: Any, default: str = "") -> str:
    """The language `user` chose; if they never chose, `default` (an exam's language, say) when the
    site offers it, else the site's (settings.LANGUAGE_CODE)."""
    return chosen_language(user) or (default if is_known(default) else settings.LANGUAGE_CODE)


def language_choose(user: Any, code: str) -> None:
    """Remember `code` as the language of `user` (a signed-in person using the switch)."""
    UserLanguage.objects.update_or_create(
        user_id=user.pk, defaults={"language": code, "from_enrolment_file": False}
    )


def language_from_enrolment_file(user: Any, code: str) -> bool:
    """Take `code`, the language the board's enrolment file names for `user`, unless the person
    chose one themselves on the switch. Return whether their language changed."""
    row, created = UserLanguage.objects.get_or_create(
        user_id=user.pk, defaults={"language": code, "from_enrolment_file": True}
    )
    if created:
        return True
    return bool(
        UserLanguage.objects.filter(pk=row.pk, from_enrolment_file=True)
        .exclude(language=code)
        .update(language=code)
    )


def remember_on_this_browser(response: HttpResponse, code: str) -> None:
    """Set the language cookie (LocaleMiddleware reads it on every request), as Django's
    set_language does. A cookie, not the session: the exam page's HTTP fallback turns requests
    away before it reads the session (exams.fallback), and a language in the session would have
    every request read it first."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@contextlib.contextmanager
def in_language_of(user: Any, default: str = "") -> Iterator[str]:
    """Render what is sent to `user` (an e-mail's subject and body) in their language (language_of)."""
    code = language_of(user, default)
    with translation.override(code):
        yield code
