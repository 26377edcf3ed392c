"""At sign-in the person's remembered language comes with their session, on any device."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .models import UserLanguage
from .services import SESSION_KEY, is_known, language_choose


@receiver(user_logged_in)
def bring_the_chosen_language(sender, request, user, **kwargs) -> None:
    if not isinstance(request, HttpRequest) or not hasattr(request, "session"):
        return
    chosen = UserLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    if not chosen:
        # Chosen on the sign-in page (the switch's cookie): that is this person's choice from now on.
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if is_known(chosen):
            language_choose(user, chosen)
    if chosen and is_known(chosen):
        request.session[SESSION_KEY] = chosen
