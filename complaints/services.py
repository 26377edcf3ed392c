"""Filing, assigning and deciding complaints (R-COMP-1..3). Each step is one transaction with its audit entry."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from exams.audit import audit_append
from exams.errors import ExamError
from exams.models import Attempt, AttemptStatus, Enrolment, Exam
from grading.models import AttemptScore

from .deadlines import WorkingCalendar, conduct_decision_due, score_decision_due
from .models import Complaint, ComplaintFile, ComplaintRules
from .uploads import CheckedFile, checked_files

MIN_GROUNDS = 20
MAX_GROUNDS = 10_000


class ComplaintError(ExamError):
    """A complaint rule refused an action; the message is shown as it is."""


def complaint_rules(exam: Exam) -> ComplaintRules:
    """The exam's rules, or the defaults (an unsaved row) when the board set none."""
    try:
        return exam.complaint_rules
    except ComplaintRules.DoesNotExist:
        return ComplaintRules(exam=exam)


def working_calendar(exam: Exam) -> WorkingCalendar:
    rules = complaint_rules(exam)
    return WorkingCalendar(country=exam.country, time_zone=exam.time_zone, day_starts=rules.day_starts, day_ends=rules.day_ends)


@dataclass(frozen=True)
class FilingWindow:
    """When a complaint of one kind about one attempt may be filed, and when it must be decided."""

    kind: str
    opens_at: datetime | None  # None: not open yet (results unpublished)
    closes_at: datetime | None  # None: open as long as the attempt runs
    decision_due_at: datetime | None

    no_score: bool = False  # the candidate never started: there is no score to complain about

    def refusal(self, now: datetime, calendar: WorkingCalendar) -> str | None:
        if self.no_score:
            return _("There is no score: you did not sit this exam.")
        if self.opens_at is None:
            return _("Complaints about the score can be filed once the results are published.")
        if now < self.opens_at:
            return _("Complaints can be filed from %(when)s.") % {"when": _local_text(self.opens_at, calendar)}
        if self.closes_at is not None and now > self.closes_at:
            return _("The time to file this complaint ended at %(when)s.") % {"when": _local_text(self.closes_at, calendar)}
        return None


def _local_text(moment: datetime, calendar: WorkingCalendar) -> str:
    return f"{date_format(calendar.local(moment), 'DATETIME_FORMAT')} ({calendar.time_zone})"


def _taking_ended_at(enrolment: Enrolment, attempt: Attempt | None) -> datetime | None:
    """When the candidate's part of the exam ended: the attempt's end, or, never started, entry closing for them."""
    if attempt is not None:
        return None if attempt.status == AttemptStatus.IN_PROGRESS else attempt.submitted_at or attempt.deadline
    from proctoring.models import RoomEvent

    # Refused at check-in, or marked absent when entry closed (which in a late-started room is after the sitting's).
    turned_away = (RoomEvent.objects.filter(enrolment=enrolment, kind__in=[RoomEvent.Kind.REFUSED, RoomEvent.Kind.ABSENT])
                   .order_by("-at").values_list("at", flat=True).first())
    return max(filter(None, [enrolment.sitting.entry_closes_at, turned_away]))


def exam_attempt(enrolment: Enrolment) -> Attempt | None:
    return enrolment.attempts.filter(is_practice=False).order_by("-started_at").first()


def filing_window(enrolment: Enrolment, kind: str, now: datetime) -> FilingWindow:
    exam = enrolment.sitting.exam
    rules, calendar = complaint_rules(exam), working_calendar(exam)
    attempt = exam_attempt(enrolment)
    if kind == Complaint.Kind.CONDUCT:
        ended = _taking_ended_at(enrolment, attempt)
        closes = ended + timedelta(hours=rules.conduct_filing_hours) if ended else None
        # "Within one working day after the exam": counted from the exam's day, not from the filing.
        due = conduct_decision_due(calendar, ended or now, rules.conduct_decision_working_days)
        opens = attempt.started_at if attempt else enrolment.sitting.entry_opens_at
        return FilingWindow(kind, opens, closes, due)
    if attempt is None:
        return FilingWindow(kind, None, None, None, no_score=True)
    published_at = (AttemptScore.objects.filter(attempt=attempt).values_list("published_at", flat=True).first())
    if published_at is None:
        return FilingWindow(kind, None, None, None)
    return score_window(exam, published_at)


def score_window(exam: Exam, published_at: datetime) -> FilingWindow:
    """The window for complaints about the score of results published at `published_at` (the chair sees it before publishing)."""
    rules, calendar = complaint_rules(exam), working_calendar(exam)
    due = score_decision_due(calendar, published_at)
    closes = min(calendar.add_working_hours(published_at, rules.score_filing_working_hours), due)
    return FilingWindow(Complaint.Kind.SCORE, published_at, closes, due)


def _positions(attempt: Attempt | None, positions: Sequence[int]) -> list[int]:
    count = attempt.items.count() if attempt else 0
    chosen = sorted({int(p) for p in positions})
    wrong = [p for p in chosen if not 1 <= p <= count]
    if wrong:
        raise ComplaintError(_("Question %(n)d is not on your exam (it has %(count)d).") % {"n": wrong[0], "count": count})
    return chosen


def complaint_file(*, enrolment_id: int, candidate: AbstractBaseUser, kind: str, grounds: str,
                   positions: Sequence[int] = (), uploads: Sequence[UploadedFile] = (), now: datetime | None = None) -> Complaint:
    """File a complaint about the candidate's own exam (sat, or refused entry); refuse it whole, with the reason, or store it all."""
    now = now or timezone.now()
    enrolment = Enrolment.objects.select_related("sitting__exam").filter(pk=enrolment_id, candidate=candidate).first()
    if enrolment is None:
        raise ComplaintError(_("There is no such exam of yours."))
    attempt = exam_attempt(enrolment)
    if kind not in Complaint.Kind.values:
        raise ComplaintError(_("Choose what the complaint is about."))
    grounds = (grounds or "").strip()
    if len(grounds) < MIN_GROUNDS:
        raise ComplaintError(_("Write the grounds of your complaint (at least %(n)d characters).") % {"n": MIN_GROUNDS})
    if len(grounds) > MAX_GROUNDS:
        raise ComplaintError(_("The grounds may be at most %(n)d characters.") % {"n": MAX_GROUNDS})
    window = filing_window(enrolment, kind, now)
    refusal = window.refusal(now, working_calendar(enrolment.sitting.exam))
    if refusal:
        raise ComplaintError(refusal, code="window")
    chosen = _positions(attempt, positions)
    _refuse_beyond_cap(enrolment)  # before the files are read: the cheap refusal first
    files = checked_files(uploads)  # all are checked before anything is written
    stored: list[str] = []
    try:
        with transaction.atomic():
            # Race: two filings sent at once (two tabs, a script) both counted under the cap before
            # either was written. The enrolment's row, locked (NO KEY: inserts that refer to it are not
            # held up), makes them count one after the other. Taken before the audit chain's lock, the
            # order every other write that locks an enrolment keeps.
            Enrolment.objects.select_for_update(no_key=True, of=("self",)).filter(pk=enrolment.pk).first()
            _refuse_beyond_cap(enrolment)
            complaint = Complaint.objects.create(
                reference=f"new-{uuid.uuid4().hex[:16]}", enrolment=enrolment, attempt=attempt, candidate=candidate, kind=kind,
                grounds=grounds, positions=chosen, filed_at=now, decision_due_at=window.decision_due_at,
            )
            complaint.reference = f"C{timezone.localtime(now).year}-{complaint.pk:05d}"
            complaint.save(update_fields=["reference"])
            for checked in files:
                stored.append(_store(complaint, checked))
            audit_append("complaint.filed", subject=f"complaint:{complaint.pk}", actor=candidate, at=now, data={
                "reference": complaint.reference, "enrolment": enrolment.pk, "attempt": attempt.pk if attempt else None,
                "kind": kind, "positions": chosen,
                "grounds_sha256": _digest(grounds), "files": [_file_entry(f) for f in files],
                "decision_due_at": window.decision_due_at,
            })
            from .tasks import acknowledge_complaint

            transaction.on_commit(lambda: acknowledge_complaint.delay(complaint.pk), robust=True)
    except BaseException:
        for name in stored:  # nothing half-written: the files go with the rows that were rolled back
            default_storage.delete(name)
        raise
    return complaint


def _file_entry(checked: CheckedFile) -> dict:
    entry = {"name": checked.name, "sha256": checked.sha256}
    if checked.original_sha256:  # a rewritten copy is stored: what came, and what it was without
        entry.update(original_sha256=checked.original_sha256, removed=list(checked.removed))
    return entry


def _refuse_beyond_cap(enrolment: Enrolment) -> None:
    """Refuse a complaint past the number one candidate may file about one exam (settings)."""
    cap = int(getattr(settings, "COMPLAINT_MAX_PER_ENROLMENT", 10))
    if Complaint.objects.filter(enrolment=enrolment).count() >= cap:
        raise ComplaintError(
            _("You have filed %(n)d complaints about this exam, the most that can be filed; the committee "
              "decides each of them.") % {"n": cap},
            code="too_many")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _store(complaint: Complaint, checked: CheckedFile) -> str:
    row = ComplaintFile(complaint=complaint, original_name=checked.original_name[:200], content_type=checked.content_type,
                        size=len(checked.content), sha256=checked.sha256, width=checked.width, height=checked.height)
    row.stored.save(checked.name, ContentFile(checked.content), save=False)
    row.save()
    return row.stored.name


def may_decide(user: AbstractBaseUser) -> bool:
    return user.has_perm("complaints.decide_complaint")


def may_assign(user: AbstractBaseUser) -> bool:
    return user.has_perm("complaints.assign_complaint")


def deciders() -> QuerySet:
    """The active users who may take and decide a case (directly or through a group)."""
    granted = {"content_type__app_label": "complaints", "codename": "decide_complaint"}
    return (get_user_model().objects.filter(Q(user_permissions__in=Permission.objects.filter(**granted))
                                            | Q(groups__permissions__in=Permission.objects.filter(**granted)), is_active=True)
            .distinct().order_by("username"))


def _open_for_update(complaint_id: int) -> Complaint:
    # Only the complaint's row (exams.audit.chain: lock order).
    complaint = Complaint.objects.select_for_update(no_key=True, of=("self",)).filter(pk=complaint_id).first()
    if complaint is None:
        raise ComplaintError(_("There is no such complaint."))
    if not complaint.is_open:
        raise ComplaintError(_("This complaint is already decided."))
    return complaint


def complaint_assign(*, complaint_id: int, member: AbstractBaseUser, by: AbstractBaseUser,
                     now: datetime | None = None) -> Complaint:
    """Give the case to a committee member: anyone who decides may take one; only who assigns may give one."""
    now = now or timezone.now()
    if not may_decide(member):
        raise ComplaintError(_("%(name)s does not decide complaints.") % {"name": member.get_username()})
    if member.pk != by.pk and not may_assign(by):
        raise ComplaintError(_("Only the chair assigns cases to others."))
    with transaction.atomic():
        complaint = _open_for_update(complaint_id)
        if complaint.assigned_to_id and complaint.assigned_to_id != member.pk and not may_assign(by):
            raise ComplaintError(_("This case is already being decided by a colleague."))
        complaint.assigned_to, complaint.assigned_at, complaint.status = member, now, Complaint.Status.ASSIGNED
        complaint.save(update_fields=["assigned_to", "assigned_at", "status"])
        audit_append("complaint.assigned", subject=f"complaint:{complaint.pk}", actor=by, at=now,
                     data={"reference": complaint.reference, "to": member.get_username()})
    return complaint


def complaint_decide(*, complaint_id: int, by: AbstractBaseUser, decision: str, reasons: str, remedy: str,
                     now: datetime | None = None) -> Complaint:
    """Record the decision of the member deciding the case; the candidate is told by e-mail after commit."""
    now = now or timezone.now()
    reasons = (reasons or "").strip()
    if decision not in Complaint.Decision.values:
        raise ComplaintError(_("Choose the decision: upheld, partly upheld or rejected."))
    if remedy not in Complaint.Remedy.values:
        raise ComplaintError(_("Choose the remedy."))
    if decision == Complaint.Decision.REJECTED and remedy != Complaint.Remedy.NONE:
        raise ComplaintError(_("A rejected complaint has no remedy."))
    if len(reasons) < MIN_GROUNDS:
        raise ComplaintError(_("Give the reasons for the decision (at least %(n)d characters): the candidate reads them.")
                             % {"n": MIN_GROUNDS})
    with transaction.atomic():
        complaint = _open_for_update(complaint_id)
        if complaint.assigned_to_id != by.pk:
            raise ComplaintError(_("Only the member the case is assigned to decides it; take the case first."))
        if remedy == Complaint.Remedy.RESCORE and complaint.attempt_id is None:
            raise ComplaintError(_("There is nothing to re-score: the candidate did not sit the exam."))
        complaint.decision, complaint.reasons, complaint.remedy = decision, reasons, remedy
        complaint.decided_by, complaint.decided_at, complaint.status = by, now, Complaint.Status.DECIDED
        complaint.save(update_fields=["decision", "reasons", "remedy", "decided_by", "decided_at", "status"])
        audit_append("complaint.decided", subject=f"complaint:{complaint.pk}", actor=by, at=now, data={
            "reference": complaint.reference, "decision": decision, "remedy": remedy, "reasons_sha256": _digest(reasons),
            "on_time": now <= complaint.decision_due_at,
        })
        from .tasks import tell_decision

        transaction.on_commit(lambda: tell_decision.delay(complaint.pk), robust=True)
        if remedy == Complaint.Remedy.RESCORE:
            from grading.tasks import score_attempt

            # Scoring again applies every key correction made meanwhile (for the items concerned too).
            transaction.on_commit(lambda: score_attempt.delay(complaint.attempt_id), robust=True)
    return complaint
