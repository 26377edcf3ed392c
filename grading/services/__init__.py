"""Every write of grading. Views, tasks and commands all call these."""

from .corrections import (
    attempt_rescore,
    correction_progress,
    key_correction_apply,
    key_correction_preview,
)
from .marking import adjudication_submit, assignment_set, assignments_bulk_set, mark_submit
from .results import attempt_total_refresh, clinical_score_enter, sitting_results_publish
from .scoring import attempt_score

__all__ = [
    "adjudication_submit",
    "assignment_set",
    "assignments_bulk_set",
    "attempt_rescore",
    "attempt_score",
    "correction_progress",
    "key_correction_apply",
    "key_correction_preview",
    "attempt_total_refresh",
    "clinical_score_enter",
    "mark_submit",
    "sitting_results_publish",
]
