"""Reading the enrolment CSV into checked candidate rows: each row, then the rows together."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from languages.codes import language_code, offered_languages

from ..models import Enrolment, Room, Sitting
from ..spreadsheets import decoded, delimiter_of, known_column, xlsx_rows
from .problems import EnrolmentRefused, Problem, refuse_if_any

REQUIRED_COLUMNS = ("ticket_number", "given_name", "family_name", "email", "room", "seat", "grade")
# language: the candidate's, as a code or a name ("mn", "zh-CN", "中文"); blank: the exam's (issue 12).
OPTIONAL_COLUMNS = ("username", "language")
# The seat column must be there, but a blank seat is allowed: the model (and its unique constraint)
# lets a room that does not number its seats leave them blank.
REQUIRED_VALUES = ("ticket_number", "given_name", "family_name", "email", "room", "grade")

# Other spellings people give these columns: "E-mail" and "Ticket number" match by themselves
# (exams.spreadsheets.known_column); these are other words for the same.
COLUMN_ALIASES = {
    "mail": "email",
    "emailaddress": "email",
    "firstname": "given_name",
    "lastname": "family_name",
    "surname": "family_name",
    "ticket": "ticket_number",
    "ticketno": "ticket_number",
}

RowsSource = str | bytes | os.PathLike
# An .xlsx workbook is a zip file: it starts as every zip does.
ZIP_SIGNATURE = b"PK\x03\x04"


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
    language: str = ""
    room: Room | None = None


def read_text(rows_source: RowsSource) -> str:
    """Return the file as CSV text: a CSV as it is, an Excel workbook's first sheet as a CSV."""
    if isinstance(rows_source, str):
        return rows_source.removeprefix("\ufeff")
    data = rows_source if isinstance(rows_source, bytes) else Path(rows_source).read_bytes()
    if data.startswith(ZIP_SIGNATURE):
        return _workbook_as_csv(data)
    try:
        return decoded(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise EnrolmentRefused(
            [Problem(line, _("the file is not UTF-8 text; save it as “CSV UTF-8”"))]
        ) from exc


def _workbook_as_csv(data: bytes) -> str:
    """Return the workbook's first sheet as CSV text, one line per row, so that every problem's line
    is the row the person sees in the spreadsheet: a line break inside a cell (never meant in a
    name, an address or a grade) becomes a space."""
    try:
        rows = xlsx_rows(data)
    except ValueError as exc:
        raise EnrolmentRefused(
            [
                Problem(
                    None,
                    _("the file is not an Excel workbook that can be read (%(error)s)")
                    % {"error": exc},
                )
            ]
        ) from exc
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([" ".join(cell.split("\n")) for cell in row])
    return out.getvalue()


def _column_name(header_cell: str) -> str:
    # Spreadsheets people type by hand say "Ticket number" or "E-mail" as often as "ticket_number".
    return known_column(header_cell, (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS), COLUMN_ALIASES)


def parsed_rows(text: str, sitting: Sitting) -> list[CandidateRow]:
    """Return the file's candidates, or raise EnrolmentRefused naming every problem in the file."""
    # Excel in locales with a decimal comma (Mongolian among them) saves "CSV" with semicolons.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
    problems: list[Problem] = []
    rows: list[CandidateRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise EnrolmentRefused(
                [Problem(1, _("the file is empty; the first line must name the columns"))]
            )
        columns = [_column_name(cell) for cell in header]
        repeated = sorted(
            name for name, count in Counter(c for c in columns if c).items() if count > 1
        )
        if repeated:
            problems.append(
                Problem(
                    1,
                    _("the header repeats the column(s) %(columns)s")
                    % {"columns": ", ".join(repeated)},
                )
            )
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            problems.append(
                Problem(
                    1,
                    _("the header lacks the column(s) %(columns)s")
                    % {"columns": ", ".join(missing)},
                )
            )
        refuse_if_any(problems)

        rooms = {room.name: room for room in sitting.rooms.all()}
        next_line = reader.line_num + 1
        for record in reader:
            # line_num counts physical lines, so a quoted field with a line break still gives the
            # line where the record starts, which is what the person sees in an editor.
            line, next_line = next_line, reader.line_num + 1
            if not any(value.strip() for value in record):
                continue  # blank lines and the ",,,,,," rows spreadsheets leave at the end
            if any(value.strip() for value in record[len(columns) :]):
                problems.append(
                    Problem(line, _("the line has more values than the header has columns"))
                )
                continue
            values = {name: value.strip() for name, value in zip(columns, record, strict=False)}
            row, row_problems = _checked_row(line, values, rooms)
            problems.extend(row_problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(
            Problem(
                reader.line_num,
                _("this is not a well-formed CSV line (%(error)s)") % {"error": exc},
            )
        )
    if not rows and not problems:
        problems.append(Problem(None, _("The file names no candidates.")))
    problems.extend(_duplicates(rows))
    refuse_if_any(problems)
    return rows


def _max_length(model: Any, field_name: str) -> int:
    return model._meta.get_field(field_name).max_length


def _checked_row(
    line: int, values: dict[str, str], rooms: dict[str, Room]
) -> tuple[CandidateRow | None, list[Problem]]:
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
    written_language = values.get("language", "")
    if written_language:
        row.language = language_code(written_language) or ""
        if not row.language:
            problems.append(
                Problem(
                    line,
                    _("“%(language)s” is not a language this site offers (%(languages)s)")
                    % {"language": written_language, "languages": offered_languages()},
                )
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
                Problem(
                    line,
                    _("the column %(column)s is longer than %(limit)d characters")
                    % {"column": column, "limit": limit},
                )
            )
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            problems.append(
                Problem(line, _("“%(email)s” is not an e-mail address") % {"email": row.email})
            )
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
                        _(
                            "“%(username)s” cannot be a username (letters, digits and @ . + - _ only)"
                        )
                        % {"username": row.username},
                    )
                )
            else:
                problems.append(
                    Problem(
                        line,
                        _(
                            "the ticket number “%(ticket)s” cannot be a username; add a username column"
                        )
                        % {"ticket": ticket},
                    )
                )
    return (None if problems else row), problems


def _duplicates(rows: list[CandidateRow]) -> list[Problem]:
    """Return a problem for each row that repeats a ticket, username, seat or e-mail of an earlier row."""
    problems: list[Problem] = []
    seen: dict[tuple[str, ...], int] = {}

    def repeated(row: CandidateRow, key: tuple[str, ...], message: str, **values: str) -> bool:
        """Note a problem and return True if an earlier row had the same key."""
        earlier = seen.setdefault(key, row.line)
        if earlier == row.line:
            return False
        problems.append(Problem(row.line, message % {**values, "other": earlier}))
        return True

    for row in rows:
        # Case does not make two tickets, usernames or mailboxes different people.
        ticket = row.ticket_number
        if not repeated(
            row,
            ("ticket", ticket.casefold()),
            _("the ticket number %(ticket)s is also on line %(other)d"),
            ticket=ticket,
        ):
            repeated(
                row,
                ("username", row.username.casefold()),
                _("the username %(username)s is also on line %(other)d"),
                username=row.username,
            )
        repeated(
            row,
            ("email", row.email.casefold()),
            _("the e-mail %(email)s is also on line %(other)d"),
            email=row.email,
        )
        if row.seat:
            repeated(
                row,
                ("seat", row.room_name, row.seat.casefold()),
                _("seat %(seat)s of %(room)s is also on line %(other)d"),
                seat=row.seat,
                room=row.room_name,
            )
    return problems
