"""Every write of the live room. Views, consumers, tasks and commands all call these."""

from .actions import (
    attempt_disqualify,
    attempt_extend,
    attempt_hand_over_by_proctor,
    attempt_pause,
    attempt_resume,
)
from .checkin import absentees_mark, checkin_admit, checkin_arrive, checkin_refuse
from .entry import (
    entry_closes_for,
    may_join_live_room,
    publish_refusal,
    room_session_for,
    start_refusal,
)
from .evidence import evidence_delete_expired, evidence_hook, evidence_open
from .incidents import (
    candidate_offline,
    candidate_online,
    connection_lost_check,
    incident_record,
    system_incident_open,
)
from .messages import message_send, messages_mark_read
from .room import room_advance
from .signals import (
    clean_media_state,
    clean_signals,
    media_state_report,
    signals_recheck,
    signals_report,
    signals_waiting,
)
from .system_check import PASSING_UPLOAD_MBPS, REQUIRED_UPLOAD_MBPS, system_check_record

__all__ = [
    "PASSING_UPLOAD_MBPS", "REQUIRED_UPLOAD_MBPS", "absentees_mark", "attempt_disqualify", "attempt_extend", "attempt_hand_over_by_proctor", "attempt_pause",
    "attempt_resume", "candidate_offline", "candidate_online", "checkin_admit", "checkin_arrive", "checkin_refuse",
    "clean_media_state", "clean_signals", "connection_lost_check", "entry_closes_for", "evidence_delete_expired", "evidence_hook", "evidence_open",
    "incident_record", "may_join_live_room", "media_state_report", "message_send", "messages_mark_read", "publish_refusal", "room_advance", "room_session_for", "signals_recheck", "signals_report", "signals_waiting",
    "start_refusal", "system_check_record", "system_incident_open",
]
