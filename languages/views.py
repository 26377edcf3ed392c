"""The language switch of every page (templates/base.html)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import LanguageForm
from .services import language_choose, remember_on_this_browser


def _safe_next(request: HttpRequest, target: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else "/"


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    """Switch the language; for a signed-in person remember it (their e-mails, their other devices)."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages offered."))
        return HttpResponseRedirect(_safe_next(request, request.POST.get("next", "")))
    code = form.cleaned_data["language"]
    response = HttpResponseRedirect(_safe_next(request, form.cleaned_data["next"]))
    remember_on_this_browser(response, code)
    if request.user.is_authenticated:
        language_choose(request.user, code)
    return response
