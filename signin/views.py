from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from exams.selectors import exam_language_of
from languages.services import chosen_language, remember_on_this_browser

from . import throttle
from .forms import ThrottleClearForm, ThrottledAuthenticationForm, ThrottleSearchForm

CLEAR_PERMISSION = "signin.clear_signinthrottle"


class SignInView(LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # The language this person chose, on whatever device they chose it (issue 12); a candidate
        # who never chose reads their exam's, if the board set one.
        user = form.get_user()
        language = chosen_language(user) or exam_language_of(user)
        if language:
            remember_on_this_browser(response, language)
        return response


@login_required
@permission_required(CLEAR_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def throttles(request: HttpRequest) -> HttpResponse:
    """Exam staff see who is being slowed down at sign-in and clear it (issue 10, point 14)."""
    search = ThrottleSearchForm(request.GET or None)
    username = search.cleaned_data["username"] if search.is_valid() else ""
    clear_form = ThrottleClearForm(request.POST or None)
    if request.method == "POST":
        if clear_form.is_valid():
            try:
                row = throttle.throttle_clear(
                    throttle_id=clear_form.cleaned_data["throttle"],
                    by=request.user,
                    reason=clear_form.cleaned_data["reason"],
                )
            except throttle.ThrottleError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Cleared: %(who)s can sign in again from %(source)s.")
                    % {"who": row.username or _("every account"), "source": row.source_label},
                )
            target = reverse("signin:throttles")
            return redirect(f"{target}?{urlencode({'username': username})}" if username else target)
        messages.error(request, _("That request was not understood; nothing was cleared."))
    return render(
        request,
        "signin/throttles.html",
        {
            "search": search,
            "rows": throttle.active_throttles(username=username)[:200],
            "now": throttle.timezone.now(),
        },
    )
