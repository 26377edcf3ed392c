"""The system's append-only audit log (R-AUD-1): a hash chain, each entry sealed with an HMAC.

Each entry carries the previous entry's hash, and its own hash is an HMAC (server key) over its
content and that previous hash. Editing an entry breaks its hash; deleting one leaves a gap in
the sequence and a wrong "previous hash" in the next; swapping two breaks both. The application
never updates or deletes an entry, and on PostgreSQL the database refuses it too (a trigger, see
the migration). Writing: exams.audit.audit_append; checking: `manage.py verify_audit`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    seq = models.BigIntegerField(_("sequence number"), unique=True)
    at = models.DateTimeField(_("time"))
    # Plain values, not a foreign key: a deleted user must not change (or block) the log.
    actor_id = models.BigIntegerField(_("actor's id"), null=True, blank=True)
    actor_name = models.CharField(_("actor's name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=60)
    subject = models.CharField(_("subject"), max_length=120, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous entry's hash"), max_length=64)
    entry_hash = models.CharField(_("entry's hash"), max_length=64)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject", "seq"]), models.Index(fields=["kind", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.subject}"
