"""A signed-in person's chosen language wins over the browser's (it follows them to any device)."""

from __future__ import annotations

from django.utils import translation

from .services import SESSION_KEY, is_known


class ChosenLanguageMiddleware:
    """After LocaleMiddleware and the session: activate the language in the session, if any."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The session is read anyway for the sign-in; a visitor without one keeps LocaleMiddleware's.
        chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if chosen and is_known(chosen):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)
