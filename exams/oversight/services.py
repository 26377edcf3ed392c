"""Every write of the oversight councils and their reports (R-AUD-2). Views, the periodic job and
the demo call these; each writes its audit entry in the same transaction.

Who does what:
- staff with `exams.manage_oversight` appoint and remove council members (the view checks it);
- a council member watches every room of the sitting as an observer (Room.observers, the live
  room's read-only path in proctoring.access), and edits, signs and files their council's report;
- filing needs standing signatures on the current text from more than half of the council's
  members, the filer's among them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.audit import audit_append
from exams.errors import ExamError
from exams.models import Council, CouncilMember, OversightReport, ReportSignature, Room, Sitting
from exams.models.oversight import REPORT_DUE_AFTER, text_sha256

from .drafting import report_draft
from .ending import sitting_ended_at

# Sittings that started longer ago than this are not looked at by the periodic job: one that ended
# before oversight reports existed would otherwise be drafted, already overdue, years later.
LOOKBACK = timedelta(days=14)
MAX_TEXT = 100_000


class OversightError(ExamError):
    """An oversight rule refused an action; the message is shown to the person as it is."""


def _audit(kind: str, sitting_id: int, *, by: AbstractBaseUser | None, at: datetime, **data) -> None:
    audit_append(f"oversight.{kind}", subject=f"sitting:{sitting_id}", actor=by, at=at, data=data)


def council_observers_sync(*, sitting_id: int) -> None:
    """Make every council member of the sitting an observer of each of its rooms (rooms added later too)."""
    members = list(CouncilMember.objects.filter(sitting_id=sitting_id).values_list("user_id", flat=True).distinct())
    if members:
        for room in Room.objects.filter(sitting_id=sitting_id):
            room.observers.add(*members)  # adding an existing link is a no-op


def council_member_add(*, sitting_id: int, council: str, user: AbstractBaseUser, by: AbstractBaseUser,
                       now: datetime | None = None) -> CouncilMember:
    """Appoint `user` to one council of the sitting; they watch its rooms from now on."""
    now = now or timezone.now()
    if council not in Council.values:
        raise OversightError(_("No such council."))
    with transaction.atomic():
        member, created = CouncilMember.objects.get_or_create(
            sitting_id=sitting_id, council=council, user=user, defaults={"added_at": now, "added_by": by})
        if created:
            council_observers_sync(sitting_id=sitting_id)
            _audit("member_added", sitting_id, by=by, at=now, council=council, user=user.get_username())
        return member


def council_member_remove(*, sitting_id: int, council: str, user: AbstractBaseUser, by: AbstractBaseUser,
                          now: datetime | None = None) -> None:
    """Take `user` off a council; with no seat left in the sitting they stop watching its rooms.

    The observer links of a council member belong to the council: an observer appointed to the
    rooms by hand and then to a council loses the rooms with the last seat.
    """
    now = now or timezone.now()
    with transaction.atomic():
        deleted, _kinds = CouncilMember.objects.filter(sitting_id=sitting_id, council=council, user=user).delete()
        if not deleted:
            return
        if not CouncilMember.objects.filter(sitting_id=sitting_id, user=user).exists():
            for room in Room.objects.filter(sitting_id=sitting_id):
                room.observers.remove(user)
        _audit("member_removed", sitting_id, by=by, at=now, council=council, user=user.get_username())


def reports_draft(*, sitting_id: int, now: datetime | None = None) -> list[OversightReport]:
    """Draft the sitting's missing reports if it has ended; return the reports drafted now."""
    now = now or timezone.now()
    with transaction.atomic():
        # Beat firing twice, or `tick` beside a worker: both may find the sitting ended. The row
        # lock makes the second wait, and then it finds the reports there (SQLite: the IMMEDIATE
        # transaction serialises them the same way).
        sitting = Sitting.objects.select_for_update(no_key=True, of=("self",)).select_related("exam").get(pk=sitting_id)
        ended_at = sitting_ended_at(sitting, now)
        if ended_at is None:
            return []
        drafted = []
        existing = set(OversightReport.objects.filter(sitting=sitting).values_list("council", flat=True))
        for council in [c for c in Council.values if c not in existing]:
            due_at = ended_at + REPORT_DUE_AFTER
            facts, text = report_draft(sitting, council, ended_at=ended_at, due_at=due_at, now=now)
            report = OversightReport.objects.create(sitting=sitting, council=council, sitting_ended_at=ended_at,
                                                    due_at=due_at, drafted_at=now, facts=facts, text=text)
            _audit("drafted", sitting.pk, by=None, at=now, council=council, report=report.pk, ended_at=ended_at,
                   due_at=due_at, sha256=report.sha256)
            drafted.append(report)
        return drafted


def reports_draft_due(*, now: datetime | None = None) -> list[int]:
    """The periodic job: keep council members on every room, draft the reports of ended sittings."""
    now = now or timezone.now()
    recent = Sitting.objects.filter(starts_at__gte=now - LOOKBACK)
    for sitting_id in recent.filter(council_members__isnull=False).values_list("pk", flat=True).distinct():
        council_observers_sync(sitting_id=sitting_id)
    waiting = (recent.filter(starts_at__lte=now).annotate(reports=Count("oversight_reports"))
               .filter(reports__lt=len(Council.values)).values_list("pk", flat=True))
    return [report.pk for sitting_id in list(waiting) for report in reports_draft(sitting_id=sitting_id, now=now)]


def _report_for_member(report_id: int, user: AbstractBaseUser) -> OversightReport:
    """Return the report, row-locked, if `user` sits on its council and it is not filed."""
    report = OversightReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None or not CouncilMember.objects.filter(sitting_id=report.sitting_id, council=report.council, user=user).exists():
        raise OversightError(_("No such report of your council."), code="not_found")
    if report.is_filed:
        raise OversightError(_("This report was filed on %(at)s; it can no longer change.") % {
            "at": timezone.localtime(report.filed_at).strftime("%Y-%m-%d %H:%M")}, code="filed")
    return report


def report_edit(*, report_id: int, by: AbstractBaseUser, text: str, revision: int, now: datetime | None = None) -> OversightReport:
    """Replace the report's text; every standing signature is voided (it covered the old text).

    `revision` is the one the editor started from: an edit made meanwhile by another member is
    not overwritten unseen.
    """
    now = now or timezone.now()
    # Browsers send a textarea's line breaks as CRLF; the signed hash must not depend on the browser.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise OversightError(_("The report cannot be empty."))
    if len(text) > MAX_TEXT:
        raise OversightError(_("The report is longer than %(n)d characters.") % {"n": MAX_TEXT})
    with transaction.atomic():
        report = _report_for_member(report_id, by)
        if revision != report.revision:
            raise OversightError(_("Another member changed the report while you were editing; your text is below, "
                                   "compare it with theirs and save again."), code="stale")
        if text == report.text:
            return report
        standing = list(report.signatures.filter(voided_at__isnull=True).select_related("signer"))
        ReportSignature.objects.filter(pk__in=[s.pk for s in standing]).update(voided_at=now)
        report.text, report.revision, report.edited_at, report.edited_by = text, report.revision + 1, now, by
        report.save(update_fields=["text", "revision", "edited_at", "edited_by"])
        _audit("edited", report.sitting_id, by=by, at=now, council=report.council, report=report.pk, revision=report.revision,
               sha256=report.sha256, voided=[s.signer.get_username() for s in standing])
        return report


def report_sign(*, report_id: int, by: AbstractBaseUser, sha256: str, now: datetime | None = None) -> ReportSignature:
    """Sign the report's current text; `sha256` is the hash of the text the signer read."""
    now = now or timezone.now()
    with transaction.atomic():
        report = _report_for_member(report_id, by)
        if sha256 != report.sha256:
            raise OversightError(_("The text changed since you opened it; read it again before signing."), code="stale")
        standing = report.signatures.filter(signer=by, voided_at__isnull=True).first()
        if standing is not None:
            return standing  # an edit voids every signature, so a standing one covers this text
        signature = ReportSignature.objects.create(report=report, signer=by, signed_at=now, text_sha256=report.sha256,
                                                   revision=report.revision)
        _audit("signed", report.sitting_id, by=by, at=now, council=report.council, report=report.pk,
               revision=report.revision, sha256=report.sha256)
        return signature


def standing_signatures(report: OversightReport) -> list[ReportSignature]:
    """Return the signatures that count: standing, on the current text, by current members."""
    members = CouncilMember.objects.filter(sitting_id=report.sitting_id, council=report.council).values("user_id")
    return list(report.signatures.filter(voided_at__isnull=True, text_sha256=text_sha256(report.text), signer__in=members)
                .select_related("signer"))


def signatures_needed(report: OversightReport) -> int:
    """Return how many signatures filing needs: more than half of the council's members."""
    return CouncilMember.objects.filter(sitting_id=report.sitting_id, council=report.council).count() // 2 + 1


def report_file(*, report_id: int, by: AbstractBaseUser, now: datetime | None = None) -> OversightReport:
    """File the report as signed: from now on it never changes."""
    now = now or timezone.now()
    with transaction.atomic():
        report = _report_for_member(report_id, by)
        signed = standing_signatures(report)
        if by.pk not in {s.signer_id for s in signed}:
            raise OversightError(_("Sign the report before you file it."))
        needed = signatures_needed(report)
        if len(signed) < needed:
            raise OversightError(_("Filing needs the signatures of %(needed)d members of the council; %(have)d signed.")
                                 % {"needed": needed, "have": len(signed)})
        report.filed_at, report.filed_by, report.filed_sha256 = now, by, report.sha256
        report.save(update_fields=["filed_at", "filed_by", "filed_sha256"])
        _audit("filed", report.sitting_id, by=by, at=now, council=report.council, report=report.pk, sha256=report.filed_sha256,
               signers=sorted(s.signer.get_username() for s in signed), due_at=report.due_at,
               on_time=report.filed_at <= report.due_at)
        return report
