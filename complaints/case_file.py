"""Everything the committee needs to decide one complaint, read in one place (R-COMP-3).

The attempt's timeline merges what the system recorded about it — its events (start, device
changes, pauses, extensions, submission), every answer save, the room's steps, the check-in,
incidents with their stills and the messages with the proctor — into one list ordered by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exams.models import (
    CAUSE_EFFECT_OPTIONS,
    AnswerLog,
    Attempt,
    AttemptEvent,
    AttemptItem,
    Enrolment,
    ItemKind,
)
from grading.models import AttemptScore, ItemScore
from proctoring.models import Incident, Message, RoomEvent, Still

from .models import Complaint

# Room steps already told by the attempt's own events, incidents or messages: not repeated.
ROOM_KINDS_SHOWN = {
    RoomEvent.Kind.ARRIVED,
    RoomEvent.Kind.ADMITTED,
    RoomEvent.Kind.REFUSED,
    RoomEvent.Kind.ABSENT,
    RoomEvent.Kind.STARTED,
    RoomEvent.Kind.COLLECTED,
    RoomEvent.Kind.ENDED,
    RoomEvent.Kind.STILL,
}


@dataclass
class TimelineEntry:
    at: datetime
    source: str  # attempt, save, room, incident, message: the page styles and filters by it
    label: str
    detail: str = ""
    actor: str = ""
    stills: list[Still] = field(default_factory=list)
    important: bool = False


# The names of what an attempt's events record (exams.services.attempts, exams.continuity,
# proctoring.services.actions), as the case file's reader reads them. A key missing here is shown as
# it is recorded: add it when an event records something new.
DETAIL_LABELS = {
    "device": gettext_lazy("device"),
    "first_device": gettext_lazy("first device"),
    "from_device": gettext_lazy("from device"),
    "to_device": gettext_lazy("to device"),
    "items": gettext_lazy("items"),
    "reason": gettext_lazy("reason"),
    "by": gettext_lazy("by"),
    "count": gettext_lazy("changes"),
    "outage": gettext_lazy("outage"),
    "from": gettext_lazy("from"),
    "to": gettext_lazy("to"),
    "seconds": gettext_lazy("lasted"),
    "paused_seconds": gettext_lazy("paused for"),
    "time_left_seconds": gettext_lazy("time left"),
    "old_deadline": gettext_lazy("old end"),
    "new_deadline": gettext_lazy("new end"),
    "minutes": gettext_lazy("minutes"),
    "reschedule": gettext_lazy("re-sit offered"),
    "notice": gettext_lazy("notice"),
    "side": gettext_lazy("whose side"),
    "outcome": gettext_lazy("outcome"),
    "at_clock": gettext_lazy("time left on the clock"),
}
# Recorded codes (who submitted; whose side a lost connection was on), as words.
VALUE_LABELS = {
    "candidate": gettext_lazy("the candidate"),
    "deadline": gettext_lazy("time running out"),
    "proctor": gettext_lazy("the proctor"),
    "server": gettext_lazy("the exam server"),
    "server_network": gettext_lazy("the network of the whole sitting"),
    True: gettext_lazy("yes"),
    False: gettext_lazy("no"),
    "for the committee to confirm; the system voids nothing": gettext_lazy(
        "for the committee to confirm; the system voids nothing"
    ),
}


def _value_text(key: str, value: Any) -> str:
    """A recorded value as a person reads it: times in the exam's clock, seconds as minutes, lists joined."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool | str) and value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    if key.endswith("seconds") and isinstance(value, int | float):
        minutes, seconds = divmod(int(value), 60)
        if minutes:
            return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
        return _("%(seconds)d s") % {"seconds": seconds}
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return timezone.localtime(moment).strftime("%H:%M:%S")
    return str(value)


def _detail_text(detail: dict[str, Any]) -> str:
    shown = {k: v for k, v in (detail or {}).items() if v not in (None, "", [], {})}
    return ", ".join(
        f"{DETAIL_LABELS.get(k, k.replace('_', ' '))}: {_value_text(k, v)}"
        for k, v in shown.items()
    )


def exam_timeline(enrolment: Enrolment, attempt: Attempt | None) -> list[TimelineEntry]:
    """The candidate's exam in time order: check-in and the room, and the attempt if there was one."""

    def _actor(user) -> str:
        # The candidate is "the candidate": a case file does not name the complainant to its readers.
        if user is None:
            return ""
        return _("the candidate") if user.pk == enrolment.candidate_id else user.get_username()

    entries: list[TimelineEntry] = []
    if attempt is not None:
        for event in attempt.events.select_related("actor"):
            entries.append(
                TimelineEntry(
                    event.at,
                    "attempt",
                    event.get_kind_display(),
                    _detail_text(event.detail),
                    _actor(event.actor),
                    important=event.kind != AttemptEvent.Kind.STARTED,
                )
            )
        # A change resent after a reconnect and logged twice before issue 11 is one save, not two.
        for save in AnswerLog.objects.filter(attempt=attempt, resent=False).order_by(
            "received_at", "seq"
        ):
            entries.append(
                TimelineEntry(
                    save.received_at,
                    "save",
                    _("Answer %(n)d saved") % {"n": save.position},
                    _("cleared")
                    if save.value in (None, "", [])
                    else str(save.value) + (" ⚑" if save.flagged else ""),
                )
            )
    enrolment_id = enrolment.pk
    room_events = (
        RoomEvent.objects.filter(
            Q(enrolment_id=enrolment_id) | Q(enrolment__isnull=True, room__enrolments=enrolment_id),
            kind__in=ROOM_KINDS_SHOWN,
        )
        .select_related("actor")
        .order_by("at", "id")
    )
    stills = {s.pk: s for s in Still.objects.filter(enrolment_id=enrolment_id)}
    for event in room_events:
        still = stills.get((event.detail or {}).get("still"))
        entries.append(
            TimelineEntry(
                event.at,
                "room",
                event.get_kind_display(),
                event.reason,
                _actor(event.actor),
                stills=[still] if still else [],
            )
        )
    for incident in Incident.objects.filter(enrolment_id=enrolment_id).select_related(
        "raised_by", "still", "screen_still"
    ):
        ended = (
            _("ended %(at)s, lasted %(time)s")
            % {
                "at": _value_text("at", incident.ended_at.isoformat()),
                "time": incident.duration_label(),
            }
            if incident.ended_at
            else ""
        )
        entries.append(
            TimelineEntry(
                incident.at,
                "incident",
                _("Incident: %(kind)s") % {"kind": incident.get_kind_display()},
                "; ".join(
                    part
                    for part in (
                        incident.note,
                        ended,
                        _("by the system") if incident.by_system else "",
                    )
                    if part
                ),
                _actor(incident.raised_by),
                stills=[s for s in (incident.still, incident.screen_still) if s],
                important=True,
            )
        )
    for message in Message.objects.filter(enrolment_id=enrolment_id).select_related("author"):
        entries.append(
            TimelineEntry(
                message.at,
                "message",
                _("Proctor wrote") if message.from_proctor else _("Candidate wrote"),
                message.text,
                _actor(message.author),
            )
        )
    return sorted(entries, key=lambda entry: entry.at)


@dataclass
class AnswerRow:
    position: int
    code: str
    kind: str
    stem: str
    answer: str
    key: str
    points: Decimal | None
    max_points: Decimal
    marking: str
    concerned: bool


def _choice_text(options: dict[str, str], value: Any) -> str:
    if not value:
        return "—"
    ids = value if isinstance(value, list) else [value]
    return "; ".join(f"{option_id}: {options.get(option_id, '?')}" for option_id in ids)


def answer_rows(attempt: Attempt, concerned: set[int]) -> list[AnswerRow]:
    """The candidate's answers in the order of their form, with keys and points (the committee sees keys)."""
    slots = (
        AttemptItem.objects.filter(attempt=attempt)
        .select_related("item_version__item", "response")
        .order_by("position")
    )
    scores = {s.attempt_item_id: s for s in ItemScore.objects.filter(attempt=attempt)}
    rows = []
    for slot in slots:
        version, kind = slot.item_version, slot.item_version.item.kind
        value = getattr(getattr(slot, "response", None), "value", None)
        if kind in ItemKind.choice_kinds():
            source = CAUSE_EFFECT_OPTIONS if kind == ItemKind.CAUSE_EFFECT else version.options
            options = {o["id"]: str(o["text"]) for o in source}
            answer, key = _choice_text(options, value), _choice_text(options, version.key)
        else:
            answer = _value_text("answer", value) if value not in (None, "") else "—"
            key = _value_text("key", version.key) if version.key not in (None, "", []) else ""
        score = scores.get(slot.pk)
        rows.append(
            AnswerRow(
                slot.position,
                version.item.code,
                version.item.get_kind_display(),
                version.stem,
                answer,
                key,
                score.points if score else None,
                score.max_points if score else slot.points,
                score.get_marking_display() if score and score.marking else "",
                slot.position in concerned,
            )
        )
    return rows


@dataclass
class CaseFile:
    complaint: Complaint
    timeline: list[TimelineEntry]
    answers: list[AnswerRow]
    score: AttemptScore | None
    earlier: list[Complaint]
    files: list


def case_file(complaint: Complaint) -> CaseFile:
    attempt = complaint.attempt
    return CaseFile(
        complaint=complaint,
        timeline=exam_timeline(complaint.enrolment, attempt),
        answers=answer_rows(attempt, set(complaint.positions or [])) if attempt else [],
        score=AttemptScore.objects.filter(attempt=attempt).first() if attempt else None,
        earlier=list(
            Complaint.objects.filter(
                candidate_id=complaint.candidate_id, filed_at__lt=complaint.filed_at
            )
            .select_related("enrolment__sitting__exam")
            .order_by("-filed_at")
        ),
        files=list(complaint.files.all()),
    )
