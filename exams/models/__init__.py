"""Question bank, exams and their schedule, and the candidates' attempts."""

from .attempts import (
    AnswerLog,
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    Response,
    SubmittedBy,
)
from .audit import AuditEntry
from .bank import CAUSE_EFFECT_OPTIONS, Difficulty, Item, ItemKind, ItemStatus, ItemVersion, Topic
from .continuity import AttemptConnection, Outage, SiteHeartbeat
from .oversight import Council, CouncilMember, OversightReport, ReportSignature
from .schedule import BlueprintEntry, Enrolment, Exam, Room, Sitting
from .uploads import Upload

__all__ = [
    "AuditEntry", "AnswerLog", "Attempt", "AttemptEvent", "AttemptItem", "AttemptStatus", "Response", "SubmittedBy",
    "CAUSE_EFFECT_OPTIONS", "Difficulty", "Item", "ItemKind", "ItemStatus", "ItemVersion", "Topic",
    "BlueprintEntry", "Enrolment", "Exam", "Room", "Sitting",
    "AttemptConnection", "Outage", "SiteHeartbeat",
    "Council", "CouncilMember", "OversightReport", "ReportSignature",
    "Upload",
]
