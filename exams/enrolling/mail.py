"""The credentials e-mail: written per candidate, sent after the transaction commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from languages.names import person_name
from languages.services import in_language_of

from ..models import Enrolment, Sitting
from .summary import EnrolmentSummary

logger = logging.getLogger(__name__)


@dataclass
class Outgoing:
    enrolment_id: int
    ticket_number: str
    sent_at: datetime
    message: mail.EmailMessage


def _local(moment: datetime, zone: str) -> tuple[str, str]:
    """Return (date, time) of the moment in the exam's time zone, whatever zone is active now."""
    local = timezone.localtime(moment, ZoneInfo(zone))
    return formats.date_format(local, "DATE_FORMAT"), formats.date_format(local, "H:i")


def credentials_message(
    *, enrolment: Enrolment, sitting: Sitting, user: Any, password: str | None
) -> mail.EmailMessage:
    """Return the credentials e-mail of one candidate; `password` None means "use the one you have"."""
    # In the candidate's language (issue 12), or the exam's if they never chose one: the words and
    # the date formats alike; the times on the exam's clock.
    zone = sitting.exam.time_zone
    with in_language_of(user, default=sitting.exam.language):
        starts_date, starts_time = _local(sitting.starts_at, zone)
        opens_date, opens_time = _local(sitting.entry_opens_at, zone)
        closes_date, closes_time = _local(sitting.entry_closes_at, zone)
        context = {
            "full_name": person_name(user),
            "exam_title": sitting.exam.title,
            "sitting_name": sitting.name,
            "starts_date": starts_date,
            "starts_time": starts_time,
            # A window that crosses midnight (or a date line in the zone) shows its dates.
            "entry_opens": opens_time
            if opens_date == starts_date
            else f"{opens_date} {opens_time}",
            "entry_closes": closes_time
            if closes_date == starts_date
            else f"{closes_date} {closes_time}",
            "time_zone": zone,
            "room": enrolment.room.name,
            "seat": enrolment.seat,
            "ticket_number": enrolment.ticket_number,
            "grade": enrolment.grade,
            "username": user.username,
            "password": password,
            "login_url": settings.SITE_URL.rstrip("/") + reverse("login"),
            "has_practice_exam": sitting.practice_exam_id is not None,
        }
        subject = _("Your sign-in details for %(exam)s") % {"exam": sitting.exam.title}
        body = render_to_string("exams/email/credentials.txt", context)
        return mail.EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
        )


def send_all(outgoing: list[Outgoing], summary: EnrolmentSummary) -> None:
    """Send each e-mail; a failed one has its credentials_sent_at cleared so a plain re-run retries it."""
    failed: list[Outgoing] = []
    try:
        connection = mail.get_connection()
        connection.open()
    except Exception:
        logger.exception("Could not connect to send %d credentials e-mails", len(outgoing))
        failed = list(outgoing)
    else:
        try:
            for item in outgoing:
                item.message.connection = connection
                try:
                    item.message.send()
                except Exception:
                    # One bad mailbox (or a server hiccup) must not stop the others.
                    logger.exception(
                        "Could not send the credentials e-mail of ticket %s", item.ticket_number
                    )
                    failed.append(item)
                else:
                    summary.emails_sent += 1
        finally:
            connection.close()
    for item in failed:
        # Conditional: only undo our own stamp, not a later import's.
        Enrolment.objects.filter(pk=item.enrolment_id, credentials_sent_at=item.sent_at).update(
            credentials_sent_at=None
        )
        summary.emails_failed.append(item.ticket_number)
