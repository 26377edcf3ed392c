"""How an enrolment file is refused: every problem with its line, nothing written and nothing sent."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from ..errors import ExamError

# A refusal lists this many problems, so that one run shows most of what to fix.
PROBLEMS_SHOWN = 30


@dataclass(frozen=True)
class Problem:
    line: int | None
    text: str

    def __str__(self) -> str:
        if self.line is None:
            return self.text
        return _("line %(line)d: %(problem)s") % {"line": self.line, "problem": self.text}


class EnrolmentRefused(ExamError):
    """The file was refused as a whole; nothing was written and nothing sent."""

    def __init__(self, problems: list[Problem]) -> None:
        shown = [str(p) for p in problems[:PROBLEMS_SHOWN]]
        if len(problems) > PROBLEMS_SHOWN:
            shown.append(
                _("… and %(count)d more problems") % {"count": len(problems) - PROBLEMS_SHOWN}
            )
        message = (
            _("The enrolment file was refused; nothing was changed.") + "\n" + "\n".join(shown)
        )
        super().__init__(message, code="enrolment_refused")
        self.problems = problems


def refuse_if_any(problems: list[Problem]) -> None:
    if problems:
        raise EnrolmentRefused(sorted(problems, key=lambda p: p.line or 0))
