"""The two oversight councils of a sitting and their reports (R-AUD-2, 002:4.1–4.2).

Each sitting has a software council (server, software, item confidentiality; 002:4.1) and an
external council (conduct of the exam, incidents, absences; 002:4.2). Each writes one report,
due within 2 hours of the sitting's end: the system drafts it from the audit log, the council
edits, signs and files it. A signature covers one exact text (its SHA-256); editing the text
voids the signatures; filing freezes the report. The rules that move a report live in
exams.oversight.services; the row-local ones here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .schedule import Sitting

REPORT_DUE_AFTER = timedelta(hours=2)  # 002:4.1.3, 4.2.2: "within 2 hours of the exam's end"


class Council(models.TextChoices):
    SOFTWARE = "software", _("Software oversight council")
    EXTERNAL = "external", _("External oversight council")


class Timeliness(models.TextChoices):
    FILED_ON_TIME = "filed_on_time", _("filed on time")
    FILED_LATE = "filed_late", _("filed late")
    OVERDUE = "overdue", _("overdue")
    DUE = "due", _("due")


def text_sha256(text: str) -> str:
    """Return the hex SHA-256 of the text as UTF-8: what a signature covers."""
    return hashlib.sha256(text.encode()).hexdigest()


class CouncilMember(models.Model):
    """A person on one council of one sitting: watches its rooms, edits, signs and files its report."""

    sitting = models.ForeignKey(
        Sitting, verbose_name=_("sitting"), on_delete=models.CASCADE, related_name="council_members"
    )
    council = models.CharField(_("council"), max_length=20, choices=Council.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="council_seats",
    )
    added_at = models.DateTimeField(_("added at"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        ordering = ["sitting", "council", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["sitting", "council", "user"], name="council_member_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.council}, {self.sitting})"


class OversightReport(models.Model):
    """One council's report on one sitting: drafted by the system, then edited, signed and filed."""

    sitting = models.ForeignKey(
        Sitting,
        verbose_name=_("sitting"),
        on_delete=models.PROTECT,
        related_name="oversight_reports",
    )
    council = models.CharField(_("council"), max_length=20, choices=Council.choices)
    # Fixed when the report is drafted (see exams.oversight.ending): the due time never moves after.
    sitting_ended_at = models.DateTimeField(_("sitting ended at"))
    due_at = models.DateTimeField(_("due at"))
    drafted_at = models.DateTimeField(_("drafted at"))
    # What the log said, as counts and lists (shown beside the text; never edited).
    facts = models.JSONField(_("facts"), default=dict)
    text = models.TextField(_("text"))
    revision = models.PositiveIntegerField(_("revision"), default=1)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_sha256 = models.CharField(_("SHA-256 of the filed text"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("oversight report")
        verbose_name_plural = _("oversight reports")
        ordering = ["sitting", "council"]
        constraints = [
            models.UniqueConstraint(fields=["sitting", "council"], name="one_report_per_council"),
            models.CheckConstraint(
                condition=Q(filed_at__isnull=True, filed_by__isnull=True, filed_sha256="")
                | (Q(filed_at__isnull=False, filed_by__isnull=False) & ~Q(filed_sha256="")),
                name="report_filing_complete",
            ),
        ]
        permissions = [
            ("manage_oversight", "Can appoint oversight councils and see every sitting's reports"),
            ("view_absentees", "Can see and download every sitting's absentee lists"),
        ]

    def __str__(self) -> str:
        return f"{self.get_council_display()}: {self.sitting}"

    @property
    def is_filed(self) -> bool:
        return self.filed_at is not None

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    def timeliness(self, now: datetime) -> str:
        """Return whether the report was filed on time, late, is overdue, or is still due."""
        if self.filed_at is not None:
            return (
                Timeliness.FILED_ON_TIME if self.filed_at <= self.due_at else Timeliness.FILED_LATE
            )
        return Timeliness.OVERDUE if now > self.due_at else Timeliness.DUE


class ReportSignature(models.Model):
    """A council member's signature on one exact text of a report. Voided, never deleted, by an edit."""

    report = models.ForeignKey(
        OversightReport,
        verbose_name=_("report"),
        on_delete=models.CASCADE,
        related_name="signatures",
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed at"))
    text_sha256 = models.CharField(_("SHA-256 of the signed text"), max_length=64)
    revision = models.PositiveIntegerField(_("revision"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report signature")
        verbose_name_plural = _("report signatures")
        ordering = ["report", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "signer"],
                condition=Q(voided_at__isnull=True),
                name="one_standing_signature_per_signer",
            ),
        ]

    @property
    def is_standing(self) -> bool:
        return self.voided_at is None
