from __future__ import annotations

from exams.errors import ExamError


class ProctoringError(ExamError):
    """A proctoring rule refused an action; the message is shown to the person as it is."""
