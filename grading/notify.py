"""The e-mail a candidate gets when their sitting's results are published (R-GRADE-3)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from languages.services import in_language_of

from .models import AttemptScore


def results_published_mail(*, sitting_id: int) -> int:
    """Mail each candidate of the sitting not mailed yet; return how many were mailed now."""
    waiting = (
        AttemptScore.objects.filter(attempt__enrolment__sitting_id=sitting_id, published_at__isnull=False, result_mailed_at__isnull=True)
        .select_related("attempt__candidate", "attempt__exam")
    )
    mailed = 0
    for score in waiting:
        candidate = score.attempt.candidate
        if candidate.email:
            with in_language_of(candidate, default=score.attempt.exam.language):
                body = render_to_string("grading/email/result_published.txt", {
                    "candidate": candidate, "score": score, "exam": score.attempt.exam,
                    "url": settings.SITE_URL.rstrip("/") + reverse("exams:attempt_result", args=[score.attempt_id]),
                })
                send_mail(_("Your result: %(exam)s") % {"exam": score.attempt.exam.title}, body, None, [candidate.email])
        # Conditional: a second worker on the same sitting does not mail again.
        mailed += AttemptScore.objects.filter(pk=score.pk, result_mailed_at__isnull=True).update(result_mailed_at=timezone.now())
    return mailed
