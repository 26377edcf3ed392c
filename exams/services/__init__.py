"""Every write that matters. Views, consumers, tasks and commands all call these."""

from .answers import (
    MAX_CHANGES_PER_MESSAGE,
    AnswerChange,
    MalformedSave,
    SaveResult,
    changes_from_message,
    responses_save,
)
from .attempts import (
    attempt_hand_over,
    attempt_mark_scored,
    attempt_open_on_device,
    attempt_start,
    attempt_submit,
    attempts_submit_overdue,
    practice_attempt_start,
)
from .bank import item_create, item_revise, item_update_metadata, topic_get_or_create
from .schedule import enrolment_confirm_identity, sitting_check_blueprint

__all__ = [
    "MAX_CHANGES_PER_MESSAGE", "AnswerChange", "MalformedSave", "SaveResult", "changes_from_message", "responses_save",
    "attempt_hand_over", "attempt_mark_scored", "attempt_open_on_device", "attempt_start", "attempt_submit",
    "attempts_submit_overdue", "practice_attempt_start",
    "item_create", "item_revise", "item_update_metadata", "topic_get_or_create",
    "enrolment_confirm_identity", "sitting_check_blueprint",
]
