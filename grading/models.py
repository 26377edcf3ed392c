"""Scores: per item and per attempt (R-GRADE-1)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from exams.models import Attempt, AttemptItem


class ItemScore(models.Model):
    """The points one slot of a form earned; null points: awaiting the committee."""

    class Method(models.TextChoices):
        AUTO = "auto", _("Scored by the machine")
        COMMITTEE = "committee", _("Marked by the committee")

    attempt_item = models.OneToOneField(AttemptItem, primary_key=True, on_delete=models.CASCADE, related_name="score")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="item_scores")
    method = models.CharField(max_length=20, choices=Method.choices)
    points = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    max_points = models.DecimalField(max_digits=6, decimal_places=4)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(points__isnull=True) | (Q(points__gte=0) & Q(points__lte=models.F("max_points"))),
                name="item_score_within_bounds",
            )
        ]


class CommitteeRole(models.Model):
    """Holds the committee's permissions; grant them through groups ("Markers", "Chairs")."""

    class Meta:
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

    attempt = models.OneToOneField(Attempt, primary_key=True, on_delete=models.CASCADE, related_name="score")
    auto_points = models.DecimalField(max_digits=7, decimal_places=4)
    auto_max_points = models.DecimalField(max_digits=7, decimal_places=4)
    awaiting_items = models.PositiveSmallIntegerField(help_text=_("Fill-in and free-text items the committee marks"))
    awaiting_points = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    scored_at = models.DateTimeField()

    def auto_percent(self) -> int:
        """Return the machine-scored part as a whole percent, rounded down (never up to a pass)."""
        if not self.auto_max_points:
            return 0
        return int((self.auto_points * 100) // self.auto_max_points)
