"""The drafts of the two oversight reports, from the audit log and the proctoring records (R-AUD-2).

The software council's (002:4.1.2) covers sign-ins, device changes, server and software events,
key and item-confidentiality events, evidence openings and the audit chain's own check. The
external council's (002:4.2.1) covers the conduct of the exam: each room's steps and counts,
incidents by kind with their rooms, pauses, extensions, disqualifications, refusals and absences.

Events come from the audit log: every entry whose subject belongs to the sitting (its rooms,
enrolments, attempts, the items of its forms, its evidence files, its people's sign-ins) from
the moment entry opened. Sections are counts plus lists; a list stops at MAX_ROWS and says how
many more the log holds. The draft is a pure reading: nothing here writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _

from exams.audit import verify_chain
from exams.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AuditEntry,
    Council,
    Enrolment,
    ItemVersion,
    Sitting,
)
from proctoring.models import EvidenceAccess, IncidentKind

from .absentees import absentee_tally

MAX_ROWS = 100
SYSTEM_INCIDENTS = [IncidentKind.CONNECTION, IncidentKind.SECOND_DEVICE, *IncidentKind.signal_kinds()]


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    count: int | None = None  # events counted, when that is not the number of rows

    def as_json(self) -> dict:
        count = len(self.rows) if self.count is None else self.count
        more = max(len(self.rows) - MAX_ROWS, 0)
        return {"key": self.key, "title": self.title, "columns": self.columns, "count": count,
                "rows": [[str(cell) for cell in row] for row in self.rows[:MAX_ROWS]], "more": more}


class SittingLog:
    """The sitting's people, rooms and candidates, and the audit entries about them, in order."""

    def __init__(self, sitting: Sitting, *, ended_at: datetime, until: datetime) -> None:
        self.sitting, self.ended_at, self.until = sitting, ended_at, until
        self.zone = ZoneInfo(sitting.exam.time_zone)
        self.rooms = {room.pk: room for room in sitting.rooms.all()}
        self.enrolments = {e.pk: e for e in Enrolment.objects.filter(sitting=sitting).select_related("candidate")}
        self.attempts = dict(Attempt.objects.filter(enrolment__sitting=sitting, is_practice=False).values_list("pk", "enrolment_id"))
        self.evidence = {
            path: still_of or recording_of for path, still_of, recording_of in
            EvidenceAccess.objects.filter(Q(still__enrolment__sitting=sitting) | Q(recording__enrolment__sitting=sitting))
            .values_list("path", "still__enrolment_id", "recording__enrolment_id")
        }
        self.people = people = self._people()
        subjects = {f"room:{pk}" for pk in self.rooms} | {f"enrolment:{pk}" for pk in self.enrolments}
        subjects |= {f"attempt:{pk}" for pk in self.attempts} | {f"user:{pk}" for pk in people} | set(self.evidence)
        subjects |= {f"username:{user.get_username()}" for user in people.values()} | {f"sitting:{sitting.pk}"}
        item_versions = AttemptItem.objects.filter(attempt_id__in=self.attempts).values_list("item_version_id", flat=True).distinct()
        subjects |= {f"item_version:{pk}" for pk in item_versions}
        # One pass over the log from entry's opening; the subject test is a set lookup, so a
        # sitting with thousands of candidates does not become an IN list of thousands.
        self.entries = [
            entry for entry in AuditEntry.objects.filter(at__gte=sitting.entry_opens_at, at__lte=until).order_by("seq")
            .iterator(chunk_size=2000) if entry.subject in subjects
        ]

    def _people(self) -> dict[int, object]:
        """Return the sitting's people by id, each with a `role`: candidate, proctor or observer."""
        User = get_user_model()
        roles = {e.candidate_id: _("candidates") for e in self.enrolments.values()}
        for pk in User.objects.filter(observed_rooms__sitting=self.sitting).values_list("pk", flat=True):
            roles.setdefault(pk, _("observers and council members"))
        for pk in User.objects.filter(council_seats__sitting=self.sitting).values_list("pk", flat=True):
            roles.setdefault(pk, _("observers and council members"))
        for pk in User.objects.filter(proctored_rooms__sitting=self.sitting).values_list("pk", flat=True):
            roles[pk] = _("proctors")
        people = User.objects.in_bulk(list(roles))
        for pk, user in people.items():
            user.role = roles[pk]
        return people

    def of(self, *kinds: str) -> list[AuditEntry]:
        """Return the entries of these kinds (a kind ending in "." is a prefix)."""
        return [e for e in self.entries if any(e.kind.startswith(k) if k.endswith(".") else e.kind == k for k in kinds)]

    def time(self, moment: datetime | str | None) -> str:
        if moment is None:
            return "—"
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return moment.astimezone(self.zone).strftime("%H:%M")

    def enrolment_of(self, entry: AuditEntry) -> Enrolment | None:
        kind, _sep, pk = entry.subject.partition(":")
        if kind == "enrolment":
            return self.enrolments.get(int(pk))
        if kind == "attempt":
            return self.enrolments.get(self.attempts.get(int(pk)))
        if entry.subject in self.evidence:
            return self.enrolments.get(self.evidence[entry.subject])
        return self.enrolments.get(entry.data.get("enrolment")) if isinstance(entry.data.get("enrolment"), int) else None

    def room_name(self, entry: AuditEntry) -> str:
        kind, _sep, pk = entry.subject.partition(":")
        if kind == "room":
            return self.rooms[int(pk)].name
        enrolment = self.enrolment_of(entry)
        return self.rooms[enrolment.room_id].name if enrolment else "—"

    def ticket(self, entry: AuditEntry) -> str:
        enrolment = self.enrolment_of(entry)
        return enrolment.ticket_number if enrolment else "—"

    def actor_events(self, kind: str, *extra: str) -> list[list[str]]:
        """Return rows (time, room, ticket, reason, by, *data[extra]) of one kind of room event."""
        return [[self.time(e.at), self.room_name(e), self.ticket(e), e.data.get("reason", ""), e.actor_name or "—",
                 *(e.data.get(k, "") for k in extra)] for e in self.of(f"room.{kind}")]


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _rooms_of(log: SittingLog, entries: list[AuditEntry]) -> str:
    counts = Counter(log.room_name(e) for e in entries)
    return ", ".join(f"{room} ×{n}" for room, n in sorted(counts.items()))


def software_sections(log: SittingLog) -> list[Section]:
    in_sitting = [e for e in log.of("login") if e.at <= log.ended_at]
    by_role: dict[str, Counter] = defaultdict(Counter)
    for entry in in_sitting:
        by_role[log.people[int(entry.subject.partition(":")[2])].role][entry.subject] += 1
    people_per_role = Counter(user.role for user in log.people.values())
    sign_ins = Section("sign_ins", _("Sign-ins during the sitting"), [_("Who"), _("People"), _("Signed in"), _("Sign-ins")],
                       [[role, people_per_role[role], len(by_role[role]), sum(by_role[role].values())]
                        for role in sorted(people_per_role)], count=len(in_sitting))
    failed = Section("failed_sign_ins", _("Failed sign-ins"), [_("Time"), _("Username"), _("Address")],
                     [[log.time(e.at), e.subject.partition(":")[2], e.data.get("address", "")]
                      for e in log.of("login.failed") if e.at <= log.ended_at])
    devices = Section("device_changes", _("Device changes"), [_("Time"), _("Room"), _("Ticket"), _("Event"), _("Detail")], [
        [log.time(e.at), log.room_name(e), log.ticket(e), _label(AttemptEvent.Kind, e.kind.partition(".")[2]),
         e.data.get("reason") or _("first device %(first)s, second %(second)s") % {
             "first": e.data.get("first_device", ""), "second": e.data.get("device", "")}]
        for e in log.of("attempt.device_refused", "attempt.handed_over")
    ])
    system_rows = []
    for kind in [*SYSTEM_INCIDENTS, IncidentKind.TECHNICAL]:
        entries = log.of(f"incident.{kind}")
        system_rows.append([_label(IncidentKind, kind), len(entries), _rooms_of(log, entries) or "—"])
    # Refused saves are written in bulk (exams.services.answers), past the audit log's receiver:
    # they are read from the attempts' timelines instead.
    refused_saves = Counter()
    for attempt_id, detail in AttemptEvent.objects.filter(attempt_id__in=log.attempts, kind=AttemptEvent.Kind.SAVE_REFUSED,
                                                          at__lte=log.until).values_list("attempt_id", "detail"):
        refused_saves[log.rooms[log.enrolments[log.attempts[attempt_id]].room_id].name] += int(detail.get("count", 1))
    system_rows.append([_("Answers refused by the server"), sum(refused_saves.values()),
                        ", ".join(f"{room} ×{n}" for room, n in sorted(refused_saves.items())) or "—"])
    by_clock = [e for e in log.of("attempt.submitted") if e.data.get("by") == "clock"]
    system_rows.append([_("Attempts submitted by the server's clock"), len(by_clock), _rooms_of(log, by_clock) or "—"])
    system = Section("system_events", _("Server and software events"), [_("Event"), _("Count"), _("Rooms")], system_rows,
                     count=sum(int(row[1]) for row in system_rows))
    key_events = log.of("key.", "results.published")
    item_codes = dict(ItemVersion.objects.filter(pk__in=[int(e.subject.partition(":")[2]) for e in key_events
                                                         if e.subject.startswith("item_version:")])
                      .values_list("pk", "item__code"))
    keys = Section("confidentiality", _("Keys and item confidentiality"), [_("Time"), _("Who"), _("Event"), _("Subject")], [
        [log.time(e.at), e.actor_name or "—", e.kind,
         item_codes.get(int(e.subject.partition(":")[2]), e.subject) if e.subject.startswith("item_version:") else e.subject]
        for e in key_events
    ])
    evidence = Section("evidence_accesses", _("Evidence opened (stills and recordings)"),
                       [_("Time"), _("Who"), _("Room"), _("Ticket"), _("File")],
                       [[log.time(e.at), e.actor_name or "—", log.room_name(e), log.ticket(e), e.subject]
                        for e in log.of("evidence.opened")])
    checked, fault = verify_chain()
    chain = Section("audit_chain", _("Audit log entries checked when drafting (the whole chain)"),
                    [_("Entries checked"), _("Result")],
                    [[checked, _("intact") if fault is None else _("broken at entry %(seq)s: %(reason)s") % {
                        "seq": fault.seq, "reason": fault.reason}]], count=checked)
    return [sign_ins, failed, devices, system, keys, evidence, chain]


def external_sections(log: SittingLog, now: datetime) -> list[Section]:
    nation = absentee_tally(log.sitting, list(log.rooms.values()), now=now)
    sat = Counter(log.enrolments[enrolment_id].room_id for enrolment_id in log.attempts.values())
    room_rows = []
    for region in nation.parts:
        for centre in region.parts:
            for leaf in centre.parts:
                steps = {e.kind: e.at for e in log.of("room.started", "room.collected", "room.ended")
                         if e.subject == f"room:{leaf.room.pk}"}
                decided = Counter(e.kind for e in log.of("room.admitted", "room.refused") if e.subject == f"room:{leaf.room.pk}")
                room_rows.append([leaf.name, f"{region.name} / {centre.name}", leaf.enrolled, decided["room.admitted"],
                                  decided["room.refused"], leaf.absent, sat[leaf.room.pk], log.time(steps.get("room.started")),
                                  log.time(steps.get("room.collected")), log.time(steps.get("room.ended"))])
    rooms = Section("rooms", _("Rooms"), [_("Room"), _("Region / test centre"), _("Enrolled"), _("Admitted"), _("Refused"),
                                          _("Absent"), _("Sat"), _("Started"), _("Collected"), _("Ended")], room_rows)
    incidents = log.of("incident.")
    by_kind: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in incidents:
        by_kind[entry.kind.partition(".")[2]].append(entry)
    kinds = Section("incidents_by_kind", _("Incidents by kind"), [_("Kind"), _("Count"), _("Rooms")], [
        [_label(IncidentKind, kind), len(entries), _rooms_of(log, entries)] for kind, entries in sorted(by_kind.items())
    ], count=len(incidents))
    recorded = Section("proctor_incidents", _("Incidents recorded by proctors"),
                       [_("Time"), _("Room"), _("Ticket"), _("Kind"), _("Note"), _("By")], [
        [log.time(e.at), log.room_name(e), log.ticket(e), _label(IncidentKind, e.kind.partition(".")[2]),
         e.data.get("note", ""), e.actor_name] for e in incidents if not e.data.get("by_system")
    ])
    who = [_("Time"), _("Room"), _("Ticket"), _("Reason"), _("By")]
    pauses = Section("pauses", _("Pauses (technical failures)"), who, log.actor_events("paused"))
    extensions = Section("extensions", _("Time extensions"), [*who, _("Minutes")], log.actor_events("extended", "minutes"))
    disqualified = Section("disqualifications", _("Disqualifications"), who, log.actor_events("disqualified"))
    refused = Section("refusals", _("Refused at check-in"), who, log.actor_events("refused"))
    absences = Section("absences", _("Absences per room"), [_("Room"), _("Region / test centre"), _("Absent"), _("Enrolled")], [
        [leaf.name, f"{region.name} / {centre.name}", leaf.absent, leaf.enrolled]
        for region in nation.parts for centre in region.parts for leaf in centre.parts
    ], count=nation.absent)
    return [rooms, kinds, recorded, pauses, extensions, disqualified, refused, absences]


def _text(council: str, sitting: Sitting, log: SittingLog, sections: list[dict], due_at: datetime) -> str:
    """Return the draft's text: a heading, each section as counts and a list, and room for the council's findings."""
    stamp = "%Y-%m-%d %H:%M"
    lines = [
        str(Council(council).label).upper() + " — " + _("REPORT"),
        f"{sitting.exam.title} — {sitting.name}",
        _("Started %(start)s, ended %(end)s (%(zone)s); due by %(due)s.") % {
            "start": sitting.starts_at.astimezone(log.zone).strftime(stamp), "end": log.ended_at.astimezone(log.zone).strftime(stamp),
            "zone": sitting.exam.time_zone, "due": due_at.astimezone(log.zone).strftime(stamp)},
        "",
    ]
    for number, section in enumerate(sections, start=1):
        lines.append(f"{number}. {section['title']}: {section['count']}")
        if section["rows"]:
            lines.append("   " + " | ".join(section["columns"]))
            lines += ["   - " + " | ".join(row) for row in section["rows"]]
        if section["more"]:
            lines.append("   " + _("… and %(n)d more in the audit log.") % {"n": section["more"]})
        lines.append("")
    lines += [_("Findings and recommendations of the council:"), "", ""]
    return "\n".join(lines)


def report_draft(sitting: Sitting, council: str, *, ended_at: datetime, due_at: datetime, now: datetime) -> tuple[dict, str]:
    """Return the facts (JSON) and the draft text of one council's report."""
    log = SittingLog(sitting, ended_at=ended_at, until=now)
    sections = software_sections(log) if council == Council.SOFTWARE else external_sections(log, now)
    facts = {"sections": [section.as_json() for section in sections], "entries_read": len(log.entries)}
    return facts, _text(council, sitting, log, facts["sections"], due_at)
