"""A language chosen on the sign-in page (the switch's cookie) becomes the person's own at sign-in.

The other way round (a remembered choice coming to a new device) is the sign-in page's:
signin.views.SignInView sets the cookie on its answer."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .services import chosen_language, is_known, language_choose


@receiver(user_logged_in)
def keep_the_language_chosen_before_sign_in(sender, request, user, **kwargs) -> None:
    if not isinstance(request, HttpRequest) or chosen_language(user) is not None:
        return
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if is_known(cookie):
        language_choose(user, cookie)
