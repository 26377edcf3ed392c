"""Every write of grading. Views, tasks and commands all call these."""

from .marking import adjudication_submit, assignment_set, mark_submit
from .results import attempt_total_refresh, clinical_score_enter, sitting_results_publish
from .scoring import attempt_score

__all__ = [
    "adjudication_submit", "assignment_set", "attempt_score", "attempt_total_refresh", "clinical_score_enter",
    "mark_submit", "sitting_results_publish",
]
