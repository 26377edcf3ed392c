"""A candidate's attempt: its frozen form, the answers, and its timeline (R-FORM-2, R-TAKE-*)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .bank import ItemVersion
from .schedule import Enrolment, Exam


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    SCORED = "scored", _("Auto-scored")
    DISQUALIFIED = "disqualified", _("Ended by the proctor: disqualified")
    # A server-side failure of 2 hours or more, or past the day, ends the sitting for the
    # candidate, who is rescheduled (002:1.4.3-1.4.4). Not scored: it is not a finish.
    INTERRUPTED = "interrupted", _("Ended by a server outage: to be rescheduled")

    @classmethod
    def allowed_transitions(cls) -> dict[str, frozenset[str]]:
        """Return, for each status, the statuses it may move to. The one place this is written."""
        return {
            cls.IN_PROGRESS: frozenset({cls.SUBMITTED, cls.DISQUALIFIED, cls.INTERRUPTED}),
            cls.SUBMITTED: frozenset({cls.SCORED}),
            # Re-scoring (a key correction) keeps an attempt scored.
            cls.SCORED: frozenset({cls.SCORED}),
            # Final for the system; only the committee, deciding a complaint, may undo it.
            cls.DISQUALIFIED: frozenset(),
            # Final for the system; the committee reschedules the candidate.
            cls.INTERRUPTED: frozenset(),
        }

    @classmethod
    def can_move(cls, current: str, new: str) -> bool:
        return new in cls.allowed_transitions().get(current, frozenset())


class SubmittedBy(models.TextChoices):
    CANDIDATE = "candidate", _("The candidate")
    CLOCK = "clock", _("The server, when time ran out")
    STAFF = "staff", _("Exam staff")
    OUTAGE = "outage", _("The server, after an outage too long to continue")


class Attempt(models.Model):
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("candidate"),
        on_delete=models.PROTECT,
        related_name="attempts",
    )
    exam = models.ForeignKey(
        Exam, verbose_name=_("exam"), on_delete=models.PROTECT, related_name="attempts"
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attempts",
    )
    is_practice = models.BooleanField(_("practice attempt"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    form_seed = models.BigIntegerField(
        _("form seed"),
        help_text=_("Seed the form was drawn with; with the bank it reproduces the form"),
    )
    started_at = models.DateTimeField(_("started at"))
    deadline = models.DateTimeField(_("deadline"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.CharField(
        _("submitted by"), max_length=20, choices=SubmittedBy.choices, blank=True
    )
    # One device at a time (R-TAKE-2): the device that started, and the one that tried to join.
    device_id = models.CharField(_("device"), max_length=64)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    lock_reason = models.CharField(_("lock reason"), max_length=300, blank=True)
    pending_device_id = models.CharField(_("device waiting to join"), max_length=64, blank=True)
    # The highest change sequence number the server has stored for this attempt.
    last_seq = models.BigIntegerField(_("last change number"), default=0)
    # A pause for a technical failure stops the clock (R-TAKE-7); on resume the deadline moves on
    # by the pause's length.
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_reason = models.CharField(_("pause reason"), max_length=300, blank=True)
    # Why the proctor ended the attempt (status disqualified).
    end_reason = models.CharField(_("reason for ending"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-started_at"]
        constraints = [
            # One real attempt per enrolment; practice attempts are unlimited.
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(is_practice=False),
                name="one_attempt_per_enrolment",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("started_at")),
                name="attempt_deadline_after_start",
            ),
            models.CheckConstraint(
                condition=Q(is_practice=True) | Q(enrolment__isnull=False),
                name="real_attempt_has_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"Attempt {self.pk} of {self.candidate} on {self.exam.code}"

    @property
    def is_in_progress(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def clock_now(self, now: datetime) -> datetime:
        """Return the moment the attempt's clock shows: it stands still from the pause on."""
        return min(self.paused_at, now) if self.paused_at is not None else now

    def time_left(self, now: datetime) -> timedelta:
        """Return how long the candidate still has; zero once the deadline has passed."""
        return max(self.deadline - self.clock_now(now), timedelta(0))

    def deadline_after_resume(self, now: datetime) -> datetime:
        """Return the deadline once a pause ends now: moved on by exactly the pause's length."""
        if self.paused_at is None:
            return self.deadline
        return self.deadline + max(now - self.paused_at, timedelta(0))

    def answers_close_at(self) -> datetime:
        """Return the last moment a save is accepted: the deadline plus the in-flight grace."""
        return self.deadline + timedelta(seconds=settings.ANSWER_GRACE_SECONDS)

    def pause_grace_ends_at(self) -> datetime | None:
        """Return until when a save sent just before the pause is still taken, or None if running."""
        if self.paused_at is None:
            return None
        return self.paused_at + timedelta(seconds=settings.ANSWER_GRACE_SECONDS)

    def is_overdue(self, now: datetime) -> bool:
        """Return whether the server should now submit this attempt on the clock's behalf."""
        return self.is_in_progress and not self.is_paused and now > self.answers_close_at()


class AttemptItem(models.Model):
    """One slot of the frozen form: which item version, at which position, options in which order."""

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    item_version = models.ForeignKey(
        ItemVersion, verbose_name=_("item version"), on_delete=models.PROTECT, related_name="+"
    )
    # Option ids in the order this candidate sees them (empty for items without options).
    option_order = models.JSONField(_("option order"), default=list, blank=True)
    points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=4)

    class Meta:
        verbose_name = _("form item")
        verbose_name_plural = _("form items")
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="attempt_item_position_unique"
            )
        ]


class Response(models.Model):
    """The latest state of one answer: value, flag, and the change number that produced it."""

    attempt_item = models.OneToOneField(
        AttemptItem,
        verbose_name=_("form item"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="response",
    )
    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="responses"
    )
    # Choice items: list of option ids (the bank's ids, not display letters); others: text.
    value = models.JSONField(_("answer"), null=True, blank=True)
    flagged = models.BooleanField(_("flagged"), default=False)
    seq = models.BigIntegerField(_("change number"))
    saved_at = models.DateTimeField(_("saved at"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")


class AnswerLog(models.Model):
    """Every accepted change, in the order it was stored: the answer history for a case file.

    One row per change: a change the page sends again (its ack was lost in a reconnect) has the
    same (attempt, seq) and is acknowledged without a second row (issue 11, point 4).
    """

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="answer_log"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    seq = models.BigIntegerField(_("change number"))
    value = models.JSONField(_("answer"), null=True, blank=True)
    flagged = models.BooleanField(_("flagged"), default=False)
    received_at = models.DateTimeField(_("received at"))
    # A second row of a change, written by a resend before the rule above held (migration 0008
    # marks them). Kept rather than deleted: the batch's sealed digest covers it, and deleting it
    # would read as tampering to verify_audit. No new row is ever marked.
    resent = models.BooleanField(_("resent"), db_default=False)

    class Meta:
        verbose_name = _("answer history entry")
        verbose_name_plural = _("answer history entries")
        ordering = ["attempt", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "seq"],
                condition=Q(resent=False),
                name="answer_log_one_row_per_change",
            ),
        ]


class AttemptEvent(models.Model):
    """The attempt's timeline: start, device changes, submission, scoring. Appended, never edited."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        DEVICE_REFUSED = "device_refused", _("Second device refused; attempt locked")
        HANDED_OVER = "handed_over", _("Handed over to a device")
        SUBMITTED = "submitted", _("Submitted")
        SCORED = "scored", _("Auto-scored")
        SAVE_REFUSED = "save_refused", _("Answer refused")
        PAUSED = "paused", _("Paused")
        RESUMED = "resumed", _("Resumed")
        EXTENDED = "extended", _("Time extended")
        DISQUALIFIED = "disqualified", _("Ended by the proctor: disqualified")
        # Issue 10, points 25-26 (exams.continuity).
        SYSTEM_PAUSED = "system_paused", _("Server outage: the lost time was credited")
        INTERRUPTED = "interrupted", _("Server outage too long: ended, to be rescheduled")
        CONNECTION_LOST = "connection_lost", _("The candidate's connection was lost")

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    detail = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("attempt event")
        verbose_name_plural = _("attempt events")
        ordering = ["attempt", "at", "id"]
