"""Enrolling candidates from a CSV file (R-SCHED-2): accounts, enrolments and credentials e-mails.

`enrolment_import` is the one path for this rule; `manage.py enroll` calls it. See docs/enrolment.md.

Passwords. A new account gets a random password, which is mailed and never stored in clear. An
existing account (same username) is reused: its password is replaced only when the account has
never been used to log in (`last_login` is None), because then nobody can know its password except
from an e-mail we are about to (re)send, and the newest e-mail must work. An account that has logged
in keeps its password, and its e-mail says so instead of carrying one.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .errors import ExamError
from .models import Attempt, Enrolment, Room, Sitting

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("ticket_number", "given_name", "family_name", "email", "room", "seat", "grade")
OPTIONAL_COLUMNS = ("username",)
# The seat column must be there, but a blank seat is allowed: the model (and its unique constraint)
# lets a room that does not number its seats leave them blank.
REQUIRED_VALUES = ("ticket_number", "given_name", "family_name", "email", "room", "grade")

# Lower case without 0/o, 1/l/i: candidates copy the password by hand from a printout or a phone,
# often on a keyboard set to another script. Three groups of four: about 59 bits.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_GROUPS = 3

# A refusal lists this many problems, so that one run shows most of what to fix.
PROBLEMS_SHOWN = 30

RowsSource = str | bytes | os.PathLike


@dataclass(frozen=True)
class Problem:
    line: int | None
    text: str

    def __str__(self) -> str:
        if self.line is None:
            return self.text
        return _("line %(line)d: %(problem)s") % {"line": self.line, "problem": self.text}


class EnrolmentRefused(ExamError):
    """The file was refused as a whole; nothing was written and nothing sent."""

    def __init__(self, problems: list[Problem]) -> None:
        shown = [str(p) for p in problems[:PROBLEMS_SHOWN]]
        if len(problems) > PROBLEMS_SHOWN:
            shown.append(_("… and %(count)d more problems") % {"count": len(problems) - PROBLEMS_SHOWN})
        message = _("The enrolment file was refused; nothing was changed.") + "\n" + "\n".join(shown)
        super().__init__(message, code="enrolment_refused")
        self.problems = problems


@dataclass
class CandidateRow:
    line: int
    ticket_number: str
    given_name: str
    family_name: str
    email: str
    room_name: str
    seat: str
    grade: str
    username: str
    room: Room | None = None


@dataclass
class EnrolmentSummary:
    rows: int = 0
    accounts_created: int = 0
    accounts_reused: int = 0
    passwords_set: int = 0
    enrolments_created: int = 0
    enrolments_updated: int = 0
    enrolments_unchanged: int = 0
    emails_queued: int = 0  # in a dry run: the e-mails that would be sent
    emails_sent: int = 0
    emails_failed: list[str] = field(default_factory=list)  # ticket numbers
    dry_run: bool = False


@dataclass
class _Outgoing:
    enrolment_id: int
    ticket_number: str
    sent_at: datetime
    message: mail.EmailMessage


class _DryRun(Exception):
    """Raised at the end of a dry run so that transaction.atomic rolls every write back."""


def generate_password() -> str:
    """Return a random password that is easy to read and type: xxxx-xxxx-xxxx."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(4)) for _g in range(PASSWORD_GROUPS))
    return "-".join(groups)


def enrolment_import(
    *, sitting: Sitting, rows_source: RowsSource, send_email: bool = True, resend: bool = False, dry_run: bool = False
) -> EnrolmentSummary:
    """Enrol the file's candidates into the sitting and queue their credentials e-mails.

    `rows_source` is a path (any os.PathLike) to a UTF-8 CSV file, or the CSV itself as str or
    bytes. The whole file is checked first; any problem raises EnrolmentRefused and changes
    nothing. Running the same file again changes nothing and sends nothing, unless `resend`.
    E-mails go out after the transaction commits; `summary.emails_sent` is filled then.
    """
    text = _read_text(rows_source)
    rows = _parsed_rows(text, sitting)
    summary = EnrolmentSummary(rows=len(rows), dry_run=dry_run)

    # A first look at the database, without locks: refuse early, and find out whose passwords to
    # hash. Hashing (PBKDF2, a fraction of a second each) happens here, outside the transaction,
    # because on SQLite the transaction holds the write lock and every candidate's answer saves
    # would wait behind hundreds of hashes.
    state = _DatabaseState.load(sitting, rows, lock=False)
    _refuse_if_any(state.problems(rows))
    hashed: dict[str, tuple[str, str]] = {}
    if send_email and not dry_run:
        for row in rows:
            if state.may_need_password(row, resend=resend):
                password = generate_password()
                hashed[row.username] = (password, make_password(password))

    outgoing: list[_Outgoing] = []
    try:
        with transaction.atomic():
            # Another import into the same sitting waits here, then sees our rows: without the lock
            # both could pass the checks and one would fail half-way on a unique constraint.
            locked_sitting = (
                Sitting.objects.select_for_update(of=("self",)).select_related("exam", "practice_exam").get(pk=sitting.pk)
            )
            # Parsed again for the rooms as they are now, under the lock (seats may have changed).
            rows = _parsed_rows(text, locked_sitting)
            state = _DatabaseState.load(locked_sitting, rows, lock=True)
            _refuse_if_any(state.problems(rows))
            outgoing = _apply(locked_sitting, rows, state, hashed, summary, send_email=send_email, resend=resend, dry_run=dry_run)
            if dry_run:
                raise _DryRun
            if outgoing:
                transaction.on_commit(lambda: _send_all(outgoing, summary))
    except _DryRun:
        pass
    except IntegrityError as exc:
        # Something outside this sitting's lock, e.g. another sitting's import creating the same
        # username at the same moment. Nothing was written; running again sees the new state.
        logger.warning("Enrolment import for sitting %s hit a conflict: %s", sitting.pk, exc)
        raise EnrolmentRefused(
            [Problem(None, _("Another change to the same accounts happened at the same time. Run the import again."))]
        ) from exc
    return summary


# --- Reading and checking the file ----------------------------------------------------------


def _read_text(rows_source: RowsSource) -> str:
    if isinstance(rows_source, str):
        return rows_source.removeprefix("\ufeff")
    data = rows_source if isinstance(rows_source, bytes) else Path(rows_source).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise EnrolmentRefused([Problem(line, _("the file is not UTF-8 text; save it as “CSV UTF-8”"))]) from exc


def _column_name(header_cell: str) -> str:
    # Spreadsheets people type by hand say "Ticket number" as often as "ticket_number".
    return re.sub(r"[\s-]+", "_", header_cell.strip().lower())


def _delimiter(text: str) -> str:
    # Excel in locales with a decimal comma (Mongolian among them) saves "CSV" with semicolons.
    first_line = text.split("\n", 1)[0]
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


def _refuse_if_any(problems: list[Problem]) -> None:
    if problems:
        raise EnrolmentRefused(sorted(problems, key=lambda p: p.line or 0))


def _parsed_rows(text: str, sitting: Sitting) -> list[CandidateRow]:
    """Return the file's candidates, or raise EnrolmentRefused naming every problem in the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    problems: list[Problem] = []
    rows: list[CandidateRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise EnrolmentRefused([Problem(1, _("the file is empty; the first line must name the columns"))])
        columns = [_column_name(cell) for cell in header]
        repeated = sorted(name for name, count in Counter(c for c in columns if c).items() if count > 1)
        if repeated:
            problems.append(Problem(1, _("the header repeats the column(s) %(columns)s") % {"columns": ", ".join(repeated)}))
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            problems.append(Problem(1, _("the header lacks the column(s) %(columns)s") % {"columns": ", ".join(missing)}))
        _refuse_if_any(problems)

        rooms = {room.name: room for room in sitting.rooms.all()}
        next_line = reader.line_num + 1
        for record in reader:
            # line_num counts physical lines, so a quoted field with a line break still gives the
            # line where the record starts, which is what the person sees in an editor.
            line, next_line = next_line, reader.line_num + 1
            if not any(value.strip() for value in record):
                continue  # blank lines and the ",,,,,," rows spreadsheets leave at the end
            if any(value.strip() for value in record[len(columns) :]):
                problems.append(Problem(line, _("the line has more values than the header has columns")))
                continue
            values = {name: value.strip() for name, value in zip(columns, record, strict=False)}
            row, row_problems = _checked_row(line, values, rooms)
            problems.extend(row_problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, _("this is not a well-formed CSV line (%(error)s)") % {"error": exc}))
    if not rows and not problems:
        problems.append(Problem(None, _("The file names no candidates.")))
    problems.extend(_duplicates(rows))
    _refuse_if_any(problems)
    return rows


def _max_length(model: Any, field_name: str) -> int:
    return model._meta.get_field(field_name).max_length


def _checked_row(line: int, values: dict[str, str], rooms: dict[str, Room]) -> tuple[CandidateRow | None, list[Problem]]:
    User = get_user_model()
    problems = [
        Problem(line, _("the column %(column)s is empty") % {"column": column})
        for column in REQUIRED_VALUES
        if not values.get(column)
    ]
    ticket = values.get("ticket_number", "")
    username_given = bool(values.get("username"))
    row = CandidateRow(
        line=line,
        ticket_number=ticket,
        given_name=values.get("given_name", ""),
        family_name=values.get("family_name", ""),
        email=values.get("email", ""),
        room_name=values.get("room", ""),
        seat=values.get("seat", ""),
        grade=values.get("grade", ""),
        username=values.get("username") or ticket.lower(),
    )
    limits = [
        ("ticket_number", row.ticket_number, _max_length(Enrolment, "ticket_number")),
        ("given_name", row.given_name, _max_length(User, "first_name")),
        ("family_name", row.family_name, _max_length(User, "last_name")),
        ("email", row.email, _max_length(User, "email")),
        ("seat", row.seat, _max_length(Enrolment, "seat")),
        ("grade", row.grade, _max_length(Enrolment, "grade")),
    ]
    for column, value, limit in limits:
        if limit and len(value) > limit:
            problems.append(
                Problem(line, _("the column %(column)s is longer than %(limit)d characters") % {"column": column, "limit": limit})
            )
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            problems.append(Problem(line, _("“%(email)s” is not an e-mail address") % {"email": row.email}))
        else:
            row.email = User.objects.normalize_email(row.email)
    if row.room_name:
        row.room = rooms.get(row.room_name)
        if row.room is None:
            problems.append(
                Problem(
                    line,
                    _("this sitting has no room “%(room)s” (its rooms: %(rooms)s)")
                    % {"room": row.room_name, "rooms": ", ".join(sorted(rooms)) or "—"},
                )
            )
    if row.username:
        try:
            User.username_validator(row.username)
            if len(row.username) > _max_length(User, "username"):
                raise ValidationError("too long")
        except ValidationError:
            if username_given:
                problems.append(
                    Problem(
                        line,
                        _("“%(username)s” cannot be a username (letters, digits and @ . + - _ only)")
                        % {"username": row.username},
                    )
                )
            else:
                problems.append(
                    Problem(
                        line, _("the ticket number “%(ticket)s” cannot be a username; add a username column") % {"ticket": ticket}
                    )
                )
    return (None if problems else row), problems


def _duplicates(rows: list[CandidateRow]) -> list[Problem]:
    """Return a problem for each row that repeats a ticket, username, seat or e-mail of an earlier row."""
    problems: list[Problem] = []
    seen: dict[tuple[str, ...], int] = {}

    def repeats(key: tuple[str, ...], line: int) -> int | None:
        earlier = seen.setdefault(key, line)
        return earlier if earlier != line else None

    for row in rows:
        # Case does not make two tickets, usernames or mailboxes different people.
        earlier = repeats(("ticket", row.ticket_number.casefold()), row.line)
        if earlier:
            problems.append(
                Problem(
                    row.line,
                    _("the ticket number %(ticket)s is also on line %(other)d") % {"ticket": row.ticket_number, "other": earlier},
                )
            )
        else:
            earlier = repeats(("username", row.username.casefold()), row.line)
            if earlier:
                problems.append(
                    Problem(
                        row.line,
                        _("the username %(username)s is also on line %(other)d") % {"username": row.username, "other": earlier},
                    )
                )
        earlier = repeats(("email", row.email.casefold()), row.line)
        if earlier:
            problems.append(
                Problem(row.line, _("the e-mail %(email)s is also on line %(other)d") % {"email": row.email, "other": earlier})
            )
        if row.seat:
            earlier = repeats(("seat", row.room_name, row.seat.casefold()), row.line)
            if earlier:
                problems.append(
                    Problem(
                        row.line,
                        _("seat %(seat)s of %(room)s is also on line %(other)d")
                        % {"seat": row.seat, "room": row.room_name, "other": earlier},
                    )
                )
    return problems


# --- Checking against the database ----------------------------------------------------------


@dataclass
class _DatabaseState:
    users: dict[str, Any]  # username -> User
    privileged_user_ids: set[int]
    enrolments: list[Enrolment]  # all of the sitting's
    started_enrolment_ids: set[int]

    @classmethod
    def load(cls, sitting: Sitting, rows: list[CandidateRow], *, lock: bool) -> _DatabaseState:
        User = get_user_model()
        usernames = [row.username for row in rows]
        users = User.objects.filter(username__in=usernames)
        enrolments = Enrolment.objects.filter(sitting=sitting).select_related("candidate", "room")
        if lock:
            # Logins write last_login, and confirming identity writes the enrolment: hold both
            # still while we decide whose password to replace and which enrolments to change.
            users = users.select_for_update()
            enrolments = enrolments.select_for_update(of=("self",))
        # Staff, proctors and anyone given permissions must never have their account taken over
        # by a line in a CSV file (their e-mail and, if unused, their password would change).
        privileged = User.objects.filter(username__in=usernames).filter(
            Q(is_staff=True)
            | Q(is_superuser=True)
            | Q(groups__isnull=False)
            | Q(user_permissions__isnull=False)
            | Q(proctored_rooms__isnull=False)
        )
        enrolment_list = list(enrolments)
        started = Attempt.objects.filter(enrolment__in=[e.pk for e in enrolment_list]).values_list("enrolment_id", flat=True)
        return cls(
            users={user.username: user for user in users},
            privileged_user_ids=set(privileged.values_list("pk", flat=True)),
            enrolments=enrolment_list,
            started_enrolment_ids=set(started),
        )

    @cached_property
    def by_ticket(self) -> dict[str, Enrolment]:
        return {e.ticket_number: e for e in self.enrolments}

    def enrolment_of(self, row: CandidateRow) -> Enrolment | None:
        """Return the row's existing enrolment in this sitting (only valid once problems() is empty)."""
        return self.by_ticket.get(row.ticket_number)

    def may_need_password(self, row: CandidateRow, *, resend: bool) -> bool:
        user = self.users.get(row.username)
        if user is not None and user.last_login is not None:
            return False
        enrolment = self.enrolment_of(row)
        return enrolment is None or enrolment.credentials_sent_at is None or resend

    def problems(self, rows: list[CandidateRow]) -> list[Problem]:
        problems: list[Problem] = []
        by_ticket = self.by_ticket
        by_candidate = {e.candidate_id: e for e in self.enrolments}
        by_seat = {(e.room_id, e.seat.casefold()): e for e in self.enrolments if e.seat}
        file_tickets = {row.ticket_number for row in rows}
        for row in rows:
            user = self.users.get(row.username)
            if user is not None and user.pk in self.privileged_user_ids:
                problems.append(
                    Problem(
                        row.line,
                        _("the username %(username)s belongs to a staff account; give this candidate another username")
                        % {"username": row.username},
                    )
                )
                continue
            if user is not None and not user.is_active:
                problems.append(Problem(row.line, _("the account %(username)s is deactivated") % {"username": row.username}))
            enrolment = by_ticket.get(row.ticket_number)
            if enrolment is not None and (user is None or enrolment.candidate_id != user.pk):
                problems.append(
                    Problem(
                        row.line,
                        _("the ticket number %(ticket)s is already enrolled in this sitting for another person (%(username)s)")
                        % {"ticket": row.ticket_number, "username": enrolment.candidate.username},
                    )
                )
                continue
            other = by_candidate.get(user.pk) if user is not None else None
            if other is not None and other.ticket_number != row.ticket_number:
                problems.append(
                    Problem(
                        row.line,
                        _("%(username)s is already enrolled in this sitting with the ticket number %(ticket)s")
                        % {"username": row.username, "ticket": other.ticket_number},
                    )
                )
                continue
            if enrolment is not None and enrolment.pk in self.started_enrolment_ids and _changes(enrolment, row):
                problems.append(
                    Problem(
                        row.line,
                        _("ticket %(ticket)s has already started the exam; its enrolment can no longer change")
                        % {"ticket": row.ticket_number},
                    )
                )
            occupant = by_seat.get((row.room.pk, row.seat.casefold())) if row.seat else None
            # An occupant that is itself in the file moves to the seat the file gives it, and the
            # file's own seats were checked for repeats, so only occupants outside the file clash.
            if occupant is not None and occupant.ticket_number not in file_tickets:
                problems.append(
                    Problem(
                        row.line,
                        _("seat %(seat)s of %(room)s is already taken by ticket %(ticket)s")
                        % {"seat": row.seat, "room": row.room_name, "ticket": occupant.ticket_number},
                    )
                )
        problems.extend(self._over_capacity(rows, file_tickets))
        return problems

    def _over_capacity(self, rows: list[CandidateRow], file_tickets: set[str]) -> list[Problem]:
        staying = Counter(e.room_id for e in self.enrolments if e.ticket_number not in file_tickets)
        rows_by_room: dict[int, list[CandidateRow]] = defaultdict(list)
        for row in rows:
            rows_by_room[row.room.pk].append(row)
        problems = []
        for room_rows in rows_by_room.values():
            room = room_rows[0].room
            free = room.seats - staying[room.pk]
            if len(room_rows) > free:
                first_over = room_rows[max(free, 0)]
                problems.append(
                    Problem(
                        first_over.line,
                        _("%(room)s has %(seats)d seats and %(taken)d are taken by others; this line is one candidate too many")
                        % {"room": room.name, "seats": room.seats, "taken": staying[room.pk]},
                    )
                )
        return problems


def _changes(enrolment: Enrolment, row: CandidateRow) -> dict[str, str]:
    """Return the enrolment's and its account's fields the row changes, with their new values."""
    user = enrolment.candidate
    wanted = {
        "room_id": row.room.pk,
        "seat": row.seat,
        "grade": row.grade,
        "first_name": row.given_name,
        "last_name": row.family_name,
        "email": row.email,
    }
    current = {
        "room_id": enrolment.room_id,
        "seat": enrolment.seat,
        "grade": enrolment.grade,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
    }
    return {name: value for name, value in wanted.items() if current[name] != value}


# --- Writing ----------------------------------------------------------------------------------


def _apply(
    sitting: Sitting,
    rows: list[CandidateRow],
    state: _DatabaseState,
    hashed: dict[str, tuple[str, str]],
    summary: EnrolmentSummary,
    *,
    send_email: bool,
    resend: bool,
    dry_run: bool,
) -> list[_Outgoing]:
    User = get_user_model()
    now = timezone.now()
    by_ticket = state.by_ticket

    # Free the seats of the file's candidates who move, before anyone takes a seat: the file may
    # swap two candidates, and the (room, seat) constraint is checked row by row.
    moving = [
        e.pk
        for row in rows
        if (e := by_ticket.get(row.ticket_number)) and e.seat and (e.room_id, e.seat) != (row.room.pk, row.seat)
    ]
    Enrolment.objects.filter(pk__in=moving).update(seat="")

    outgoing: list[_Outgoing] = []
    for row in rows:
        enrolment = by_ticket.get(row.ticket_number)
        changes = _changes(enrolment, row) if enrolment is not None else {}
        user = state.users.get(row.username)
        if user is None:
            user = User(username=row.username, first_name=row.given_name, last_name=row.family_name, email=row.email)
            user.set_unusable_password()  # replaced below if the e-mail goes out now
            user.save()
            summary.accounts_created += 1
        else:
            summary.accounts_reused += 1
            # The board's file is the record of who sits: the name the candidate confirms comes from it.
            wanted = {"first_name": row.given_name, "last_name": row.family_name, "email": row.email}
            stale = [name for name, value in wanted.items() if getattr(user, name) != value]
            for name in stale:
                setattr(user, name, wanted[name])
            if stale:
                user.save(update_fields=stale)

        if enrolment is None:
            enrolment = Enrolment.objects.create(
                sitting=sitting, room=row.room, candidate=user, ticket_number=row.ticket_number, seat=row.seat, grade=row.grade
            )
            summary.enrolments_created += 1
        elif changes:
            summary.enrolments_updated += 1
            enrolment.candidate = user
            enrolment.room, enrolment.seat, enrolment.grade = row.room, row.seat, row.grade
            update_fields = ["room", "seat", "grade"]
            if enrolment.identity_confirmed_at is not None and changes.keys() & {"grade", "first_name", "last_name"}:
                # The candidate confirmed a name and grade that are no longer the ones on record
                # (R-SCHED-2): they confirm again at their next login.
                enrolment.identity_confirmed_at = None
                update_fields.append("identity_confirmed_at")
            enrolment.save(update_fields=update_fields)
        else:
            enrolment.candidate = user
            summary.enrolments_unchanged += 1

        if not send_email or (enrolment.credentials_sent_at is not None and not resend):
            continue
        summary.emails_queued += 1
        if dry_run:
            continue
        password = None
        if user.last_login is None:
            password, password_hash = hashed.get(row.username) or _fresh_hash()
            user.password = password_hash
            user.save(update_fields=["password"])
            summary.passwords_set += 1
        enrolment.credentials_sent_at = now
        enrolment.save(update_fields=["credentials_sent_at"])
        outgoing.append(
            _Outgoing(
                enrolment_id=enrolment.pk,
                ticket_number=row.ticket_number,
                sent_at=now,
                message=credentials_message(enrolment=enrolment, sitting=sitting, user=user, password=password),
            )
        )
    return outgoing


def _fresh_hash() -> tuple[str, str]:
    # Only when the state changed between the first look and the lock (a rare race).
    password = generate_password()
    return password, make_password(password)


# --- The e-mail -------------------------------------------------------------------------------


def _local(moment: datetime) -> tuple[str, str]:
    """Return (date, time) of the moment in the exam's time zone, whatever zone is active now."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return formats.date_format(local, "DATE_FORMAT"), formats.date_format(local, "H:i")


def credentials_message(*, enrolment: Enrolment, sitting: Sitting, user: Any, password: str | None) -> mail.EmailMessage:
    """Return the credentials e-mail of one candidate; `password` None means "use the one you have"."""
    starts_date, starts_time = _local(sitting.starts_at)
    opens_date, opens_time = _local(sitting.entry_opens_at)
    closes_date, closes_time = _local(sitting.entry_closes_at)
    context = {
        "full_name": user.get_full_name() or user.username,
        "exam_title": sitting.exam.title,
        "sitting_name": sitting.name,
        "starts_date": starts_date,
        "starts_time": starts_time,
        # A window that crosses midnight (or a date line in the zone) shows its dates.
        "entry_opens": opens_time if opens_date == starts_date else f"{opens_date} {opens_time}",
        "entry_closes": closes_time if closes_date == starts_date else f"{closes_date} {closes_time}",
        "time_zone": settings.TIME_ZONE,
        "room": enrolment.room.name,
        "seat": enrolment.seat,
        "ticket_number": enrolment.ticket_number,
        "grade": enrolment.grade,
        "username": user.username,
        "password": password,
        "login_url": settings.SITE_URL.rstrip("/") + reverse("login"),
        "has_practice_exam": sitting.practice_exam_id is not None,
    }
    subject = _("Your sign-in details for %(exam)s") % {"exam": sitting.exam.title}
    body = render_to_string("exams/email/credentials.txt", context)
    return mail.EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])


def _send_all(outgoing: list[_Outgoing], summary: EnrolmentSummary) -> None:
    """Send each e-mail; a failed one has its credentials_sent_at cleared so a plain re-run retries it."""
    failed: list[_Outgoing] = []
    try:
        connection = mail.get_connection()
        connection.open()
    except Exception:
        logger.exception("Could not connect to send %d credentials e-mails", len(outgoing))
        failed = list(outgoing)
    else:
        try:
            for item in outgoing:
                item.message.connection = connection
                try:
                    item.message.send()
                except Exception:
                    # One bad mailbox (or a server hiccup) must not stop the others.
                    logger.exception("Could not send the credentials e-mail of ticket %s", item.ticket_number)
                    failed.append(item)
                else:
                    summary.emails_sent += 1
        finally:
            connection.close()
    for item in failed:
        # Conditional: only undo our own stamp, not a later import's.
        Enrolment.objects.filter(pk=item.enrolment_id, credentials_sent_at=item.sent_at).update(credentials_sent_at=None)
        summary.emails_failed.append(item.ticket_number)
