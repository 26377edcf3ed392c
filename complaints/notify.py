"""The e-mails of a complaint: the acknowledgement, the decision, and the committee's reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from languages.services import in_language_of

from .models import Complaint
from .services import complaint_rules, deciders


def _link(name: str, reference: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[reference])


def _mail_once(complaint: Complaint, field: str, subject: str, template: str, to: list[Any], **context) -> bool:
    """Send one e-mail to each of `to` (users), each in their own language, and stamp `field`; a
    second delivery of the task finds it stamped and sends nothing. `subject` is the message to
    translate (marked with gettext_noop), with the complaint's %(ref)s."""
    if getattr(complaint, field) is not None:
        return False
    for recipient in to:
        # A candidate who never chose a language reads the exam's; a committee member, the site's.
        with in_language_of(recipient, default=complaint.exam.language if recipient.pk == complaint.candidate_id else ""):
            body = render_to_string(template, {"complaint": complaint, **context})
            send_mail(_(subject) % {"ref": complaint.reference}, body, None, [recipient.email])
    return bool(Complaint.objects.filter(pk=complaint.pk, **{f"{field}__isnull": True}).update(**{field: timezone.now()}))


def _candidate(complaint: Complaint) -> list[Any]:
    return [complaint.candidate] if complaint.candidate.email else []


def acknowledgement_mail(complaint_id: int) -> bool:
    complaint = Complaint.objects.select_related("candidate", "enrolment__sitting__exam").get(pk=complaint_id)
    return _mail_once(complaint, "acknowledged_at", gettext_noop("Complaint %(ref)s received"),
                      "complaints/email/acknowledgement.txt", _candidate(complaint),
                      url=_link("complaints:mine", complaint.reference))


def decision_mail(complaint_id: int) -> bool:
    complaint = Complaint.objects.select_related("candidate", "enrolment__sitting__exam").get(pk=complaint_id)
    if complaint.is_open:
        return False
    return _mail_once(complaint, "decision_mailed_at", gettext_noop("Decision on complaint %(ref)s"),
                      "complaints/email/decision.txt", _candidate(complaint),
                      url=_link("complaints:mine", complaint.reference))


def _deciders_of(complaint: Complaint) -> list[Any]:
    """Who is reminded: the member deciding the case, or, before it is taken, everyone who may take it
    (one mail per address)."""
    users = [complaint.assigned_to] if complaint.assigned_to_id else deciders()
    return list({user.email: user for user in sorted(users, key=lambda user: user.pk) if user.email}.values())


def reminders_send(now: datetime | None = None) -> dict[str, int]:
    """Remind the committee of complaints close to their deadline, and tell it once of those past it."""
    now = now or timezone.now()
    sent = {"reminded": 0, "overdue": 0}
    open_cases = Complaint.objects.exclude(status=Complaint.Status.DECIDED).select_related("assigned_to", "enrolment__sitting__exam")
    for complaint in open_cases.filter(reminded_at__isnull=True, decision_due_at__gt=now):
        if complaint.decision_due_at - now <= timedelta(hours=complaint_rules(complaint.exam).reminder_hours):
            sent["reminded"] += _mail_once(
                complaint, "reminded_at", gettext_noop("Complaint %(ref)s is due soon"),
                "complaints/email/reminder.txt", _deciders_of(complaint), overdue=False, url=_link("complaints:case", complaint.reference))
    for complaint in open_cases.filter(overdue_notified_at__isnull=True, decision_due_at__lte=now):
        sent["overdue"] += _mail_once(
            complaint, "overdue_notified_at", gettext_noop("Complaint %(ref)s is overdue"),
            "complaints/email/reminder.txt", _deciders_of(complaint), overdue=True, url=_link("complaints:case", complaint.reference))
    return sent
