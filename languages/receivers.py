"""At sign-in the person's remembered language comes with their session, on any device."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .services import SESSION_KEY, chosen_language, is_known, language_choose


@receiver(user_logged_in)
def bring_the_chosen_language(sender, request, user, **kwargs) -> None:
    if not isinstance(request, HttpRequest) or not hasattr(request, "session"):
        return
    chosen = chosen_language(user)
    if chosen is None:
        # Chosen on the sign-in page (the switch's cookie): that is this person's choice from now on.
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if is_known(cookie):
            language_choose(user, cookie)
            chosen = cookie
    if chosen is not None:
        request.session[SESSION_KEY] = chosen
