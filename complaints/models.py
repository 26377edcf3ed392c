"""Complaints after (or during) an exam, their evidence files and the committee's decisions (R-COMP-1..3)."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from exams.models import Attempt, Enrolment, Exam


class ComplaintRules(models.Model):
    """An exam's complaint windows and working hours; an exam without a row uses the defaults below."""

    exam = models.OneToOneField(
        Exam, verbose_name=_("exam"), on_delete=models.CASCADE, related_name="complaint_rules"
    )
    day_starts = models.TimeField(
        _("working day starts"),
        default=time(9, 0),
        help_text=_("Working hours start (exam's time zone)"),
    )
    day_ends = models.TimeField(
        _("working day ends"),
        default=time(18, 0),
        help_text=_("Working hours end (exam's time zone)"),
    )
    conduct_filing_hours = models.PositiveSmallIntegerField(
        _("conduct complaints: filing window (hours)"),
        default=4,
        help_text=_(
            "A complaint about how the exam was run may be filed from the start of the attempt "
            "until this many hours after it ended"
        ),
    )
    conduct_decision_working_days = models.PositiveSmallIntegerField(
        _("conduct complaints: decided within (working days)"),
        default=1,
        help_text=_(
            "…and is decided by the close of this working day after the exam's day (rule 5.1.2: one)"
        ),
    )
    score_filing_working_hours = models.PositiveSmallIntegerField(
        _("score complaints: filing window (working hours)"),
        default=3,
        help_text=_(
            "A complaint about the score may be filed for this many working hours after results "
            "are published, never past the close of that working day"
        ),
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder (hours before a deadline)"),
        default=2,
        help_text=_("The committee is reminded when this many hours are left before a deadline"),
    )

    class Meta:
        verbose_name = _("complaint rules")
        verbose_name_plural = _("complaint rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(day_starts__lt=models.F("day_ends")), name="complaint_rules_working_day"
            ),
            models.CheckConstraint(
                condition=Q(conduct_decision_working_days__gte=1), name="complaint_rules_one_day"
            ),
        ]

    def __str__(self) -> str:
        return f"Complaint rules of {self.exam}"


class Complaint(models.Model):
    class Kind(models.TextChoices):
        CONDUCT = "conduct", _("How the exam was run")
        SCORE = "score", _("The score")

    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        ASSIGNED = "assigned", _("Being decided")
        DECIDED = "decided", _("Decided")

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Upheld")
        PARTLY = "partly", _("Partly upheld")
        REJECTED = "rejected", _("Rejected")

    class Remedy(models.TextChoices):
        RESCORE = "rescore", _("The attempt is re-scored")
        RESIT = "resit", _("A re-sit is offered")
        NONE = "none", _("None")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.PROTECT, related_name="complaints"
    )
    # None when the candidate never started: refused at check-in, or marked absent.
    attempt = models.ForeignKey(
        Attempt,
        verbose_name=_("attempt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("candidate"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    grounds = models.TextField(_("grounds"))
    # Question numbers on the candidate's own form (1-based), as the candidate saw them.
    positions = models.JSONField(_("question numbers"), default=list, blank=True)
    filed_at = models.DateTimeField(_("filed at"))
    decision_due_at = models.DateTimeField(_("decision due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.FILED
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints_assigned",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    reasons = models.TextField(_("reasons for the decision"), blank=True)
    remedy = models.CharField(_("remedy"), max_length=10, choices=Remedy.choices, blank=True)
    # A context: the complaint page says "decided by" a deadline, not a person.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("the person who decided", "decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints_decided",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    decision_mailed_at = models.DateTimeField(_("decision e-mailed at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("committee reminded at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["decision_due_at"]
        default_permissions = ("view",)
        permissions = [
            ("decide_complaint", "Can take a complaint's case and decide it"),
            ("assign_complaint", "Can assign complaints to committee members"),
        ]
        indexes = [models.Index(fields=["status", "decision_due_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status="decided",
                    decided_at__isnull=False,
                    decision__gt="",
                    remedy__gt="",
                    reasons__gt="",
                )
                | (~Q(status="decided") & Q(decided_at__isnull=True, decision="")),
                name="complaint_decided_in_full",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DECIDED

    @property
    def exam(self) -> Exam:
        return self.enrolment.sitting.exam


class ComplaintFile(models.Model):
    """One supporting file, as stored: images re-encoded by Pillow, PDFs checked (complaints.uploads)."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="files"
    )
    original_name = models.CharField(_("original name"), max_length=200)
    content_type = models.CharField(_("file type"), max_length=40)
    stored = models.FileField(_("stored file"), upload_to="complaints/%Y/%m/")
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint file")
        verbose_name_plural = _("complaint files")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name
