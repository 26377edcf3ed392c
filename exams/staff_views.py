"""Exam staff: attempts locked by a second device, and handing them over (R-TAKE-2)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .errors import ExamError
from .forms import HandOverForm, first_error
from .models import Attempt, AttemptStatus


@staff_member_required
def locked_attempts(request: HttpRequest) -> HttpResponse:
    attempts = Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, locked_at__isnull=False).select_related(
        "candidate", "exam", "enrolment__room"
    )
    return render(request, "exams/staff_locked.html", {"attempts": attempts})


@staff_member_required
@require_POST
def hand_over(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = get_object_or_404(Attempt, pk=attempt_id)
    form = HandOverForm(request.POST)
    try:
        if not form.is_valid():
            raise ExamError(first_error(form))
        services.attempt_hand_over(attempt_id=attempt.pk, by=request.user, to_new_device=form.cleaned_data["to"] == "new",
                                   reason=form.cleaned_data["reason"])
    except ExamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Attempt %(id)s unlocked.") % {"id": attempt.pk})
    return redirect("exams:locked_attempts")
