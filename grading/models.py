"""Scores: per item and per attempt (R-GRADE-1)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from exams.models import Attempt, AttemptItem, Item, Sitting


class ItemScore(models.Model):
    """The points one slot of a form earned; null points: awaiting the committee."""

    class Method(models.TextChoices):
        AUTO = "auto", _("Scored by the machine")
        COMMITTEE = "committee", _("Marked by the committee")

    class Marking(models.TextChoices):
        NONE = "", _("Not marked by people")
        OPEN = "open", _("Awaiting its two marks")
        ADJUDICATION = "adjudication", _("Marks differ: awaiting the adjudicator")
        RESOLVED = "resolved", _("Resolved")

    attempt_item = models.OneToOneField(
        AttemptItem,
        verbose_name=_("form item"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="score",
    )
    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="item_scores"
    )
    method = models.CharField(_("scored by"), max_length=20, choices=Method.choices)
    marking = models.CharField(
        _("marking"), max_length=20, choices=Marking.choices, blank=True, default=""
    )
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=4, null=True, blank=True)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=4)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.CheckConstraint(
                condition=Q(points__isnull=True)
                | (Q(points__gte=0) & Q(points__lte=models.F("max_points"))),
                name="item_score_within_bounds",
            )
        ]


class CommitteeRole(models.Model):
    """Holds the committee's permissions; grant them through groups ("Markers", "Chairs")."""

    class Meta:
        verbose_name = _("committee role")
        verbose_name_plural = _("committee roles")
        managed = False  # no table: a home for permissions only
        default_permissions = ()
        permissions = [
            ("mark_answers", "Can mark free-text and fill-in answers (blind)"),
            ("adjudicate", "Can adjudicate answers whose two marks differ"),
            ("chair_marking", "Can assign marking, see progress and publish results"),
            ("correct_keys", "Can correct an item's key and re-score"),
            ("view_item_analysis", "Can see item analysis"),
        ]


class AttemptScore(models.Model):
    """The machine-scored part of an attempt, shown to the candidate at once (R-TAKE-6)."""

    attempt = models.OneToOneField(
        Attempt,
        verbose_name=_("attempt"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="score",
    )
    auto_points = models.DecimalField(_("machine-scored points"), max_digits=7, decimal_places=4)
    auto_max_points = models.DecimalField(
        _("machine-scored maximum"), max_digits=7, decimal_places=4
    )
    awaiting_items = models.PositiveSmallIntegerField(
        _("items awaiting marking"), help_text=_("Fill-in and free-text items the committee marks")
    )
    awaiting_points = models.DecimalField(
        _("points awaiting marking"), max_digits=7, decimal_places=4, default=Decimal(0)
    )
    scored_at = models.DateTimeField(_("scored at"))
    # The whole written part once the committee has resolved every item (R-GRADE-3).
    committee_points = models.DecimalField(
        _("committee's points"), max_digits=7, decimal_places=4, default=Decimal(0)
    )
    committee_max_points = models.DecimalField(
        _("committee's maximum"), max_digits=7, decimal_places=4, default=Decimal(0)
    )
    percent = models.PositiveSmallIntegerField(
        _("final percent"),
        null=True,
        blank=True,
        help_text=_("Final integer percent, once complete"),
    )
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Set once the candidate was mailed their published result: a retried task mails nobody twice.
    result_mailed_at = models.DateTimeField(_("result e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("attempt score")
        verbose_name_plural = _("attempt scores")

    def auto_percent(self) -> int:
        """Return the machine-scored part as a whole percent, rounded down (never up to a pass)."""
        if not self.auto_max_points:
            return 0
        return int((self.auto_points * 100) // self.auto_max_points)


class Mark(models.Model):
    """One committee member's points for one answer (R-GRADE-2). Two independent marks, and an
    adjudicator's when they differ by more than the exam's tolerance."""

    class Round(models.TextChoices):
        FIRST = "first", _("First mark")
        SECOND = "second", _("Second mark")
        ADJUDICATION = "adjudication", _("Adjudication")

    item_score = models.ForeignKey(
        ItemScore, verbose_name=_("item score"), on_delete=models.CASCADE, related_name="marks"
    )
    round = models.CharField(_("marking round"), max_length=20, choices=Round.choices)
    marker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marker"),
        on_delete=models.PROTECT,
        related_name="marks",
    )
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("mark")
        verbose_name_plural = _("marks")
        ordering = ["item_score", "at"]
        constraints = [
            models.UniqueConstraint(fields=["item_score", "round"], name="one_mark_per_round"),
            # Independence: nobody marks the same answer twice, or adjudicates their own mark.
            models.UniqueConstraint(fields=["item_score", "marker"], name="one_mark_per_person"),
            models.CheckConstraint(condition=Q(points__gte=0), name="mark_not_negative"),
        ]


class MarkingAssignment(models.Model):
    """The chair's allocation: who marks (or adjudicates) which item of a sitting."""

    class Role(models.TextChoices):
        MARKER = "marker", _("Marker")
        ADJUDICATOR = "adjudicator", _("Adjudicator")

    sitting = models.ForeignKey(
        Sitting,
        verbose_name=_("sitting"),
        on_delete=models.CASCADE,
        related_name="marking_assignments",
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="marking_assignments",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"))

    class Meta:
        verbose_name = _("marking assignment")
        verbose_name_plural = _("marking assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["sitting", "item", "user", "role"], name="assignment_unique"
            )
        ]


class ResultPublication(models.Model):
    """The committee's one action that shows a sitting's results to its candidates (R-GRADE-3)."""

    sitting = models.OneToOneField(
        Sitting, verbose_name=_("sitting"), on_delete=models.PROTECT, related_name="publication"
    )
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    attempts = models.PositiveIntegerField(_("number of attempts"))
    passed = models.PositiveIntegerField(_("number passed"))

    class Meta:
        verbose_name = _("result publication")
        verbose_name_plural = _("result publications")


class ClinicalScore(models.Model):
    """The clinical-case part's score, entered by the committee (R-GRADE-3, 002:3.2.1)."""

    attempt = models.OneToOneField(
        Attempt,
        verbose_name=_("attempt"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="clinical_score",
    )
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("clinical-case score")
        verbose_name_plural = _("clinical-case scores")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_points__gt=0)
                & Q(points__gte=0)
                & Q(points__lte=models.F("max_points")),
                name="clinical_score_within_bounds",
            ),
        ]


class KeyCorrection(models.Model):
    """The committee's correction of an item's key after a sitting (R-GRADE-4), from dry run to re-score.

    It applies to one item version (what the candidates saw). The newest applied correction of a
    version is the one scoring uses. A dropped item counts for nobody: its points leave both the
    score and the maximum ("the maximum lowered"); as results are shares of the maximum, that is
    the same percent as re-spreading its points over the other items.
    """

    class Action(models.TextChoices):
        CHANGE_KEY = "change_key", _("Change the key")
        ACCEPT_MORE = "accept_more", _("Accept several answers")
        DROP = "drop", _("Drop the item")

    item_version = models.ForeignKey(
        "exams.ItemVersion",
        verbose_name=_("item version"),
        on_delete=models.PROTECT,
        related_name="key_corrections",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # Every answer key that earns the points: one for a changed key, several when more are accepted.
    accepted_keys = models.JSONField(_("accepted answer keys"), default=list, blank=True)
    reason = models.CharField(_("reason"), max_length=1000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The dry run's findings, kept with the decision.
    affected = models.PositiveIntegerField(_("attempts affected"), default=0)
    changed = models.PositiveIntegerField(_("scores changed"), default=0)
    flips = models.PositiveIntegerField(_("pass/fail changes"), default=0)
    # Which results would change pass/fail: [{"code", "old", "new"}], anonymous codes only.
    flip_list = models.JSONField(_("list of pass/fail changes"), default=list, blank=True)

    class Meta:
        verbose_name = _("key correction")
        verbose_name_plural = _("key corrections")
        ordering = ["-created_at"]


class ScoreChange(models.Model):
    """One attempt re-scored by a key correction: before and after, exactly once per correction."""

    correction = models.ForeignKey(
        KeyCorrection,
        verbose_name=_("key correction"),
        on_delete=models.PROTECT,
        related_name="score_changes",
    )
    attempt = models.ForeignKey(
        Attempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="score_changes"
    )
    old_points = models.DecimalField(_("points before"), max_digits=7, decimal_places=4)
    new_points = models.DecimalField(_("points after"), max_digits=7, decimal_places=4)
    old_percent = models.PositiveSmallIntegerField(_("percent before"), null=True, blank=True)
    new_percent = models.PositiveSmallIntegerField(_("percent after"), null=True, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("score change")
        verbose_name_plural = _("score changes")
        constraints = [
            models.UniqueConstraint(
                fields=["correction", "attempt"], name="one_change_per_correction"
            )
        ]
