"""Exam staff: the server outages, and the candidates whose sitting one ended (002:1.4.3-1.4.4)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..models import Attempt, AttemptStatus, Outage


@staff_member_required
def outages(request: HttpRequest) -> HttpResponse:
    to_reschedule = (
        Attempt.objects.filter(status=AttemptStatus.INTERRUPTED)
        .select_related("candidate", "exam", "enrolment__sitting", "enrolment__room")
        .order_by("exam__code", "enrolment__sitting__starts_at", "candidate__username")
    )
    return render(
        request,
        "exams/staff_outages.html",
        {"to_reschedule": to_reschedule, "outages": Outage.objects.all()[:50]},
    )
