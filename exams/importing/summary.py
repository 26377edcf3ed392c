"""What an import did (or, in a dry run, would do), as numbers and as sentences for a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .plan import Step


@dataclass(frozen=True)
class Revision:
    """An item of the bank the file changes: which, where in the file, and what differs."""

    code: str
    line: int
    differences: list[str]


@dataclass
class ImportSummary:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    topics_created: list[str] = field(default_factory=list)
    dry_run: bool = False
    revisions: list[Revision] = field(default_factory=list)


def summary_of(steps: list[Step], new_topics: dict[str, str], *, dry_run: bool) -> ImportSummary:
    summary = ImportSummary(topics_created=sorted(new_topics), dry_run=dry_run)
    for step in steps:
        if step.item is None:
            summary.created += 1
        elif step.content_changed or step.item_changes:
            summary.revised += 1
            summary.revisions.append(Revision(step.parsed.code, step.parsed.line, step.differences))
        else:
            summary.unchanged += 1
    return summary


def summary_lines(summary: ImportSummary) -> list[str]:
    """Return the summary as sentences for a person (the command prints them; a page may too)."""
    numbers = {
        "created": summary.created,
        "revised": summary.revised,
        "unchanged": summary.unchanged,
    }
    topics = {"codes": ", ".join(summary.topics_created)}
    if summary.dry_run:
        lines = [
            _(
                "Dry run, nothing was written: %(created)d items would be created, %(revised)d "
                "revised, %(unchanged)d left unchanged."
            )
            % numbers
        ]
        if summary.topics_created:
            lines.append(_("Topics that would be created: %(codes)s") % topics)
        # Which items a re-import would revise and why, before it does (a spreadsheet may have
        # turned "1/2" into a date): read these before importing for real.
        lines += [
            _("Would revise %(code)s (line %(line)d): %(what)s")
            % {"code": r.code, "line": r.line, "what": "; ".join(r.differences)}
            for r in summary.revisions
        ]
    else:
        lines = [
            _("%(created)d items created, %(revised)d revised, %(unchanged)d unchanged.") % numbers
        ]
        if summary.topics_created:
            lines.append(_("Topics created: %(codes)s") % topics)
        lines += [
            _("Revised %(code)s (line %(line)d): %(what)s")
            % {"code": r.code, "line": r.line, "what": "; ".join(r.differences)}
            for r in summary.revisions
        ]
    return lines
