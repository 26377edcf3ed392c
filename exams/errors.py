from __future__ import annotations


class ExamError(Exception):
    """A rule of the exam refused an action. The message is shown to the person as it is."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
