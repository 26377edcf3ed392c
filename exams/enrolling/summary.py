"""What an enrolment import did (or, in a dry run, would do)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EnrolmentSummary:
    rows: int = 0
    accounts_created: int = 0
    accounts_reused: int = 0
    passwords_set: int = 0
    enrolments_created: int = 0
    enrolments_updated: int = 0
    enrolments_unchanged: int = 0
    emails_queued: int = 0  # in a dry run: the e-mails that would be sent
    emails_sent: int = 0
    emails_failed: list[str] = field(default_factory=list)  # ticket numbers
    dry_run: bool = False
