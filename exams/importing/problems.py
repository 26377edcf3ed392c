"""How an import is refused: every problem with its line, the file refused as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from ..errors import ExamError

# A committee fixes a file better from a complete list, but a wrong file type can give thousands.
MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    code: str = ""
    source: str = ""  # the file inside a package ("items/q12.xml"); "" for the file itself

    def __str__(self) -> str:
        if self.source:
            return _("%(source)s: %(problem)s") % {
                "source": self.source,
                "problem": str(Problem(self.line, self.message, self.code)),
            }
        if self.line is None:
            return self.message
        if self.code:
            return _("line %(line)d (item %(code)s): %(problem)s") % {
                "line": self.line,
                "code": self.code,
                "problem": self.message,
            }
        return _("line %(line)d: %(problem)s") % {"line": self.line, "problem": self.message}


class ImportRefused(ExamError):
    """The file was refused as a whole; `problems` holds each one with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        lines = [str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            lines.append(
                _("… and %(n)d more problems.") % {"n": len(problems) - MAX_PROBLEMS_SHOWN}
            )
        super().__init__("\n".join(lines), code="import_refused")
        self.problems = problems


def refused(line: int | None, message: str) -> ImportRefused:
    return ImportRefused([Problem(line, message)])


class BadItem(Exception):
    """An item's first problem; caught per item so the others are still checked."""


def as_clause(message: str) -> str:
    """Return a service's sentence as a clause to follow "line 14 (item X): "."""
    message = message.strip().rstrip(".")
    # Lower "The key …" but not an initialism such as "SBA items …".
    if len(message) > 1 and message[0].isupper() and not message[1].isupper():
        message = message[0].lower() + message[1:]
    return message
