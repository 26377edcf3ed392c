"""Exams with their blueprints, sittings, rooms and enrolments (R-FORM-1, R-SCHED-1, R-SCHED-2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext_lazy as _

from languages.names import person_name

from .bank import ItemKind, Topic
from .places import validate_country, validate_time_zone


class Exam(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    is_practice = models.BooleanField(
        _("practice exam"),
        default=False,
        help_text=_("Draws only sample items; open before the day"),
    )
    item_count = models.PositiveSmallIntegerField(_("number of items"), default=100)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=100)
    points = models.DecimalField(
        _("total points"), max_digits=6, decimal_places=2, default=Decimal("100")
    )
    pass_percent = models.PositiveSmallIntegerField(_("pass mark (percent)"), default=80)
    evidence_retention_days = models.PositiveSmallIntegerField(
        _("evidence kept (days)"),
        default=90,
        help_text=_(
            "Days proctoring stills and recordings are kept after they were taken (R-PROC-6)"
        ),
    )
    # Scoring rules (R-GRADE-1..3); grading/scoring.py and grading/results.py apply them.
    multiple_response_scoring = models.CharField(
        _("multiple-response scoring"),
        max_length=20,
        default="all_or_nothing",
        choices=[
            ("all_or_nothing", _("All or nothing")),
            (
                "partial",
                _("Partial: (right chosen − wrong chosen) ÷ keyed options, never below zero"),
            ),
        ],
    )
    marking_tolerance_percent = models.PositiveSmallIntegerField(
        _("marking tolerance (percent)"),
        default=20,
        help_text=_(
            "Two committee marks further apart than this share of the item's points go to an adjudicator"
        ),
    )
    clinical_weight_percent = models.PositiveSmallIntegerField(
        _("clinical-case weight (percent)"),
        default=0,
        help_text=_("Weight of the clinical-case part in the final percent; 0 = the exam has none"),
    )
    # Where the exam is held: its working days, public holidays and clock (complaint deadlines, R-COMP-2).
    country = models.CharField(
        _("country"),
        max_length=2,
        default="MN",
        validators=[validate_country],
        help_text=_("ISO 3166 code: working days and public holidays follow this country"),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Asia/Ulaanbaatar",
        validators=[validate_time_zone],
        help_text=_("IANA time zone of the exam's days and working hours"),
    )
    # What a candidate who never chose a language reads: their sign-in e-mail, their pages after
    # signing in, their result (issue 12). Blank: the site's language (settings.LANGUAGE_CODE).
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Language of the candidates who have not chosen one; blank: the site's"),
    )

    class Meta:
        verbose_name = _("exam")
        verbose_name_plural = _("exams")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(item_count__gt=0), name="exam_has_items"),
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="exam_has_duration"),
            models.CheckConstraint(
                condition=Q(pass_percent__lte=100), name="exam_pass_percent_range"
            ),
            models.CheckConstraint(
                condition=Q(clinical_weight_percent__lte=100), name="exam_clinical_weight_range"
            ),
            models.CheckConstraint(
                condition=Q(marking_tolerance_percent__lte=100), name="exam_tolerance_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clock(self, moment: datetime, *, seconds: bool = False) -> str:
        """The moment's time of day on this exam's clock ("09:30"), as every message to its candidates
        and proctors says it, whatever time zone the server or the request runs in."""
        return time_format(
            timezone.localtime(moment, ZoneInfo(self.time_zone)), "H:i:s" if seconds else "H:i"
        )

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def points_per_item(self) -> Decimal:
        """Return each item's weight: the exam's points spread evenly over its items."""
        return (self.points / self.item_count).quantize(Decimal("0.0001"))


class BlueprintEntry(models.Model):
    """How many items of a topic (and, optionally, of one kind) each form draws."""

    exam = models.ForeignKey(
        Exam, verbose_name=_("exam"), on_delete=models.CASCADE, related_name="blueprint"
    )
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        _("item kind"),
        max_length=20,
        choices=ItemKind.choices,
        blank=True,
        help_text=_("Blank: any kind"),
    )
    count = models.PositiveSmallIntegerField(_("number of items"))

    class Meta:
        verbose_name = _("blueprint entry")
        verbose_name_plural = _("blueprint entries")
        ordering = ["exam", "topic__code", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "topic", "kind"], name="blueprint_entry_unique"
            ),
            models.CheckConstraint(condition=Q(count__gt=0), name="blueprint_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.topic.code}{' / ' + self.kind if self.kind else ''}"


class Sitting(models.Model):
    """One batch and session of an exam: a start time, an entry window, rooms."""

    exam = models.ForeignKey(
        Exam, verbose_name=_("exam"), on_delete=models.PROTECT, related_name="sittings"
    )
    practice_exam = models.ForeignKey(
        Exam,
        verbose_name=_("practice exam"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"is_practice": True},
        help_text=_("Open to this sitting's candidates until the sitting starts"),
    )
    name = models.CharField(_("name"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    entry_opens_minutes = models.PositiveSmallIntegerField(
        _("entry opens (minutes before)"), default=30, help_text=_("Minutes before the start")
    )
    late_entry_minutes = models.PositiveSmallIntegerField(
        _("late entry (minutes after)"),
        default=15,
        help_text=_("Minutes after the start a candidate may still begin; then absent"),
    )
    proctored = models.BooleanField(
        _("proctored"),
        default=True,
        help_text=_("Candidates check in with a proctor, who admits them and starts the room"),
    )
    start_code_required = models.BooleanField(
        _("start code required"),
        default=False,
        help_text=_("Candidates type the code their proctor gives when the room starts"),
    )

    class Meta:
        verbose_name = _("sitting")
        verbose_name_plural = _("sittings")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.exam.code}: {self.name}"

    @property
    def entry_opens_at(self) -> datetime:
        return self.starts_at - timedelta(minutes=self.entry_opens_minutes)

    @property
    def entry_closes_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.late_entry_minutes)

    def is_entry_open(self, now: datetime) -> bool:
        """Return whether candidates may enter (log in to the sitting and confirm) now."""
        return self.entry_opens_at <= now <= self.entry_closes_at

    def can_start(self, now: datetime) -> bool:
        """Return whether an attempt may begin now: from the start until entry closes."""
        return self.starts_at <= now <= self.entry_closes_at


class Room(models.Model):
    sitting = models.ForeignKey(
        Sitting, verbose_name=_("sitting"), on_delete=models.CASCADE, related_name="rooms"
    )
    name = models.CharField(_("name"), max_length=100)
    seats = models.PositiveSmallIntegerField(_("seats"), default=30)
    # The hierarchy absentee lists are summed up: room → test centre → region → national (R-SCHED-3).
    test_centre = models.CharField(_("test centre"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    proctors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proctors"),
        blank=True,
        related_name="proctored_rooms",
    )
    # Watch the room live like its proctors, but act on nothing.
    observers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("observers"),
        blank=True,
        related_name="observed_rooms",
    )

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["sitting", "name"]
        constraints = [models.UniqueConstraint(fields=["sitting", "name"], name="room_name_unique")]

    def __str__(self) -> str:
        return f"{self.sitting.name} / {self.name}"


class Enrolment(models.Model):
    """A candidate's place in a sitting: room, seat, ticket and the grade they sit for."""

    sitting = models.ForeignKey(
        Sitting, verbose_name=_("sitting"), on_delete=models.CASCADE, related_name="enrolments"
    )
    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="enrolments"
    )
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("candidate"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    ticket_number = models.CharField(_("ticket number"), max_length=40)
    seat = models.CharField(_("seat"), max_length=20, blank=True)
    grade = models.CharField(
        _("grade"), max_length=200, help_text=_("The grade or qualification sat for")
    )
    identity_confirmed_at = models.DateTimeField(_("identity confirmed at"), null=True, blank=True)
    credentials_sent_at = models.DateTimeField(_("sign-in details sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["sitting", "room", "seat"]
        constraints = [
            models.UniqueConstraint(
                fields=["sitting", "candidate"], name="enrolment_once_per_sitting"
            ),
            models.UniqueConstraint(
                fields=["sitting", "ticket_number"], name="enrolment_ticket_unique"
            ),
            models.UniqueConstraint(
                fields=["room", "seat"], condition=~Q(seat=""), name="enrolment_seat_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_number} {person_name(self.candidate)}"
