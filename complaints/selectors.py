"""What the complaint pages list: the committee's cases by urgency, the candidate's filing windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _

from exams.models import Enrolment
from grading.anonymity import anonymous_code
from languages.names import person_name

from .models import Complaint
from .services import FilingWindow, complaint_rules, filing_window, working_calendar


def duration_text(span: timedelta) -> str:
    """'2 d 3 h', '3 h 20 min', '12 min': what a person reads at a glance."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@dataclass
class CaseRow:
    complaint: Complaint
    who: str  # the complainant's name only for the member deciding the case, else an anonymous code
    time_left: timedelta | None
    overdue: bool

    @property
    def time_left_text(self) -> str:
        if self.time_left is None:
            return ""
        if self.overdue:
            return _("overdue by %(t)s") % {"t": duration_text(self.time_left)}
        return _("%(t)s left") % {"t": duration_text(self.time_left)}


def complainant_code(complaint: Complaint) -> str:
    """How the committee names a complainant it does not decide for: a code of its own, not the marking code."""
    return anonymous_code(complaint.enrolment_id, purpose="complaint")


def committee_rows(user: AbstractBaseUser, now: datetime, *, decided: bool = False) -> list[CaseRow]:
    """Open cases overdue first, then by deadline; or the decided ones, newest first."""
    cases = Complaint.objects.select_related("enrolment__sitting__exam", "assigned_to", "candidate")
    if decided:
        cases = cases.filter(status=Complaint.Status.DECIDED).order_by("-decided_at")[:200]
    else:
        cases = (cases.exclude(status=Complaint.Status.DECIDED)
                 .annotate(late=Case(When(decision_due_at__lt=now, then=Value(0)), default=Value(1), output_field=IntegerField()))
                 .order_by("late", "decision_due_at"))
    rows = []
    for complaint in cases:
        who = person_name(complaint.candidate) if complaint.assigned_to_id == user.pk \
            else _("Candidate %(code)s") % {"code": complainant_code(complaint)}
        left = None if decided else complaint.decision_due_at - now
        rows.append(CaseRow(complaint, who, left, left is not None and left < timedelta(0)))
    return rows


@dataclass
class FilingChoice:
    kind: str
    label: str
    window: FilingWindow
    refusal: str | None
    closes_text: str


def filing_choices(enrolment: Enrolment, now: datetime) -> list[FilingChoice]:
    """Each kind of complaint with whether it can be filed now, and until when, for the filing page."""
    calendar = working_calendar(enrolment.sitting.exam)
    choices = []
    for kind, label in Complaint.Kind.choices:
        window = filing_window(enrolment, kind, now)
        refusal = window.refusal(now, calendar)
        closes = ""
        if refusal is None and window.closes_at is not None:
            closes = _("open for %(t)s more") % {"t": duration_text(window.closes_at - now)}
        elif refusal is None:
            closes = _("open while the exam runs, and %(h)d hours after it ends") % {
                "h": complaint_rules(enrolment.sitting.exam).conduct_filing_hours}
        choices.append(FilingChoice(kind, str(label), window, refusal, closes))
    return choices

