"""What an enrolment import did (or, in a dry run, would do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _


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


def summary_lines(sitting: Any, summary: EnrolmentSummary) -> list[str]:
    """Return the summary as sentences for a person (the command prints them, the upload shows them)."""
    lines = [
        _("Dry run: nothing was changed and nothing sent.")
        if summary.dry_run
        else _("Enrolled into %(sitting)s.") % {"sitting": sitting},
        _("Candidates in the file: %(count)d") % {"count": summary.rows},
        _("Accounts created: %(count)d, reused: %(reused)d")
        % {"count": summary.accounts_created, "reused": summary.accounts_reused},
        _("Enrolments created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d")
        % {
            "created": summary.enrolments_created,
            "updated": summary.enrolments_updated,
            "unchanged": summary.enrolments_unchanged,
        },
    ]
    if summary.dry_run:
        lines.append(_("E-mails that would be sent: %(count)d") % {"count": summary.emails_queued})
    else:
        lines.append(_("E-mails sent: %(count)d") % {"count": summary.emails_sent})
    return lines
