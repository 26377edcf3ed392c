"""Checking the file's rows against the database: accounts, the sitting's enrolments, seats."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _

from ..models import Attempt, Enrolment, Sitting
from .parse_csv import CandidateRow
from .problems import Problem


@dataclass
class DatabaseState:
    users: dict[str, Any]  # username -> User
    privileged_user_ids: set[int]
    enrolments: list[Enrolment]  # all of the sitting's
    started_enrolment_ids: set[int]

    @classmethod
    def load(cls, sitting: Sitting, rows: list[CandidateRow], *, lock: bool) -> DatabaseState:
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
        started = Attempt.objects.filter(enrolment__in=[e.pk for e in enrolment_list]).values_list(
            "enrolment_id", flat=True
        )
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
                        _(
                            "the username %(username)s belongs to a staff account; give this candidate another username"
                        )
                        % {"username": row.username},
                    )
                )
                continue
            if user is not None and not user.is_active:
                problems.append(
                    Problem(
                        row.line,
                        _("the account %(username)s is deactivated") % {"username": row.username},
                    )
                )
            enrolment = by_ticket.get(row.ticket_number)
            if enrolment is not None and (user is None or enrolment.candidate_id != user.pk):
                problems.append(
                    Problem(
                        row.line,
                        _(
                            "the ticket number %(ticket)s is already enrolled in this sitting for another person (%(username)s)"
                        )
                        % {"ticket": row.ticket_number, "username": enrolment.candidate.username},
                    )
                )
                continue
            other = by_candidate.get(user.pk) if user is not None else None
            if other is not None and other.ticket_number != row.ticket_number:
                problems.append(
                    Problem(
                        row.line,
                        _(
                            "%(username)s is already enrolled in this sitting with the ticket number %(ticket)s"
                        )
                        % {"username": row.username, "ticket": other.ticket_number},
                    )
                )
                continue
            if (
                enrolment is not None
                and enrolment.pk in self.started_enrolment_ids
                and enrolment_changes(enrolment, row)
            ):
                problems.append(
                    Problem(
                        row.line,
                        _(
                            "ticket %(ticket)s has already started the exam; its enrolment can no longer change"
                        )
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
                        % {
                            "seat": row.seat,
                            "room": row.room_name,
                            "ticket": occupant.ticket_number,
                        },
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
                        _(
                            "%(room)s has %(seats)d seats and %(taken)d are taken by others; this line is one candidate too many"
                        )
                        % {"room": room.name, "seats": room.seats, "taken": staying[room.pk]},
                    )
                )
        return problems


def enrolment_changes(enrolment: Enrolment, row: CandidateRow) -> dict[str, str]:
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
