"""Continuity of a sitting: the site's heartbeat, server outages, and candidates' lost connections.

A server-side outage stops the candidates' work but not their clocks; by 002:1.4.3 and 1.4.5 the
lost time is credited afterwards (R-TAKE-7). A candidate's own lost connection is only recorded;
the committee decides what it means (R-TAKE-8, 002:1.4.2).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .attempts import Attempt


class SiteHeartbeat(models.Model):
    """One row (pk 1): when a serving process last said it was alive. A gap in the beats is an outage."""

    beat_at = models.DateTimeField(_("last beat"))

    class Meta:
        verbose_name = _("site heartbeat")
        verbose_name_plural = _("site heartbeats")

    def __str__(self) -> str:
        return f"Site alive at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Outage(models.Model):
    """A server-side outage: from the last heartbeat before it to the first one after it."""

    started_at = models.DateTimeField(
        _("started at"), help_text=_("The last heartbeat before the outage")
    )
    ended_at = models.DateTimeField(
        _("ended at"), help_text=_("The first heartbeat after the outage")
    )
    settled_at = models.DateTimeField(_("settled at"))
    credited = models.PositiveIntegerField(
        _("attempts credited"), default=0, help_text=_("Attempts whose deadline moved on")
    )
    interrupted = models.PositiveIntegerField(
        _("attempts interrupted"), default=0, help_text=_("Attempts ended, to be rescheduled")
    )

    class Meta:
        verbose_name = _("server outage")
        verbose_name_plural = _("server outages")
        ordering = ["-started_at"]
        constraints = [
            # Two processes seeing the same gap record (and credit) it once.
            models.UniqueConstraint(fields=["started_at"], name="outage_once_per_gap"),
            models.CheckConstraint(
                condition=models.Q(ended_at__gt=models.F("started_at")),
                name="outage_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Outage {self.started_at:%Y-%m-%d %H:%M:%S} – {self.ended_at:%H:%M:%S}"

    @property
    def seconds(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())


class AttemptConnection(models.Model):
    """Whether the attempt's page is connected; when it went away. Read on reconnect (R-TAKE-8)."""

    attempt = models.OneToOneField(
        Attempt,
        verbose_name=_("attempt"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="connection",
    )
    lost_at = models.DateTimeField(_("connection lost at"), null=True, blank=True)
    # Kept after the page is back: pages of one sitting lost together are the server side's failure.
    last_lost_at = models.DateTimeField(_("connection last lost at"), null=True, blank=True)

    class Meta:
        verbose_name = _("attempt connection")
        verbose_name_plural = _("attempt connections")
        indexes = [models.Index(fields=["last_lost_at"])]
