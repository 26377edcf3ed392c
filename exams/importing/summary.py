"""What an import did (or, in a dry run, would do), as numbers and as sentences for a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .plan import Step
from .problems import Problem


@dataclass(frozen=True)
class Revision:
    """An item of the bank the file changes: which, where in the file, and what differs."""

    code: str
    line: int
    differences: list[str]


@dataclass(frozen=True)
class Row:
    """One item of the file as the preview shows it: what it is and what the import does to it."""

    source: str
    line: int
    code: str
    kind: str
    topic: str
    topic_name: str  # the file's name for a topic the import creates; "" for the bank's own
    stem: str
    outcome: str  # "create", "revise" or "unchanged"
    differences: list[str]
    lost: list[str]


@dataclass
class ImportSummary:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    topics_created: list[str] = field(default_factory=list)
    dry_run: bool = False
    revisions: list[Revision] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    # Items the bank cannot hold, each with its reason: left out of an import of the items that
    # passed; in a dry run, what an import of the whole file would be refused for.
    refused: list[Problem] = field(default_factory=list)


def summary_of(
    steps: list[Step], new_topics: dict[str, str], refused: list[Problem], *, dry_run: bool
) -> ImportSummary:
    summary = ImportSummary(topics_created=sorted(new_topics), dry_run=dry_run, refused=refused)
    for step in steps:
        parsed = step.parsed
        if step.item is None:
            summary.created += 1
            outcome = "create"
        elif step.content_changed or step.item_changes:
            summary.revised += 1
            summary.revisions.append(Revision(parsed.code, parsed.line, step.differences))
            outcome = "revise"
        else:
            summary.unchanged += 1
            outcome = "unchanged"
        summary.rows.append(
            Row(
                source=parsed.source,
                line=parsed.line,
                code=parsed.code,
                kind=parsed.kind,
                topic=parsed.topic,
                topic_name=parsed.topic_name if parsed.topic in new_topics else "",
                stem=parsed.content.stem,
                outcome=outcome,
                differences=step.differences if outcome == "revise" else [],
                lost=parsed.lost,
            )
        )
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
        if summary.refused:
            lines.append(_("%(n)d items would be left out:") % {"n": len(summary.refused)})
            lines += [str(problem) for problem in summary.refused]
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
        if summary.refused:
            lines.append(_("%(n)d items were left out, as asked:") % {"n": len(summary.refused)})
            lines += [str(problem) for problem in summary.refused]
    # What a file from another system had that the bank does not keep, item by item.
    lines += [
        _("%(code)s (line %(line)d) loses: %(what)s")
        % {"code": row.code, "line": row.line, "what": "; ".join(row.lost)}
        for row in summary.rows
        if row.lost
    ]
    return lines
