"""Failed sign-ins, counted per account and where they came from, and per address."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class ThrottleScope(models.TextChoices):
    ACCOUNT = "account", _("Account from one address or device")
    ADDRESS = "address", _("Every account from one address")


class SignInThrottle(models.Model):
    """Failures of one account from one source (an address, or a known device), or of every
    account from one address. A row is a delay, never a lock: `blocked_until` is at most a few
    minutes ahead, and the holder of the password on a known device is not counted here at all."""

    scope = models.CharField(_("scope"), max_length=10, choices=ThrottleScope.choices)
    # Lower-cased and stripped; empty for the address scope.
    username = models.CharField(_("username"), max_length=150, blank=True)
    # "ip:<address>" or "device:<token of a known-device cookie>".
    source = models.CharField(_("source"), max_length=80)
    failures = models.PositiveIntegerField(_("failed sign-ins"), default=0)
    refused = models.PositiveIntegerField(_("refused while waiting"), default=0)
    first_failure_at = models.DateTimeField(_("first failure"))
    last_failure_at = models.DateTimeField(_("last failure"))
    blocked_until = models.DateTimeField(_("wait until"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "username", "source"], name="signin_throttle_one_row_per_key"
            ),
        ]
        indexes = [models.Index(fields=["last_failure_at"], name="signin_throttle_recent")]
        permissions = [("clear_signinthrottle", _("Can clear sign-in throttles"))]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.username or '*'} @ {self.source_label}"

    @property
    def source_label(self) -> str:
        """Return the source as staff read it: the address, or "known device" (never its token)."""
        kind, _sep, value = self.source.partition(":")
        return str(_("known device")) if kind == "device" else value

    def wait_seconds(self, now: datetime) -> int:
        """Return the whole seconds left before this key may try again (0: it may now)."""
        if self.blocked_until is None or self.blocked_until <= now:
            return 0
        return max(1, int((self.blocked_until - now).total_seconds() + 0.999))
