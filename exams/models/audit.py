"""The system's append-only audit log (R-AUD-1): a hash chain, each entry sealed with an HMAC.

Each entry carries the previous entry's hash, and its own hash is an HMAC (server key) over its
content and that previous hash. Editing an entry breaks its hash; deleting one leaves a gap in
the sequence and a wrong "previous hash" in the next; swapping two breaks both. The application
never updates or deletes an entry, and on PostgreSQL the database refuses it too (a trigger, see
the migration). Writing: exams.audit.audit_append; checking: `manage.py verify_audit`.
"""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    # Plain values, not a foreign key: a deleted user must not change (or block) the log.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=120, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject", "seq"]), models.Index(fields=["kind", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.subject}"
