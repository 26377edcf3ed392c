"""The enrolment import: the file checked whole, then accounts and enrolments written in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from languages.services import language_from_enrolment_file

from ..models import Enrolment, Sitting
from .checks import DatabaseState, enrolment_changes
from .mail import Outgoing, credentials_message, send_all
from .parse_csv import CandidateRow, RowsSource, parsed_rows, read_text
from .passwords import password_and_hash
from .problems import EnrolmentRefused, Problem, refuse_if_any
from .summary import EnrolmentSummary

logger = logging.getLogger(__name__)


class _DryRun(Exception):
    """Raised at the end of a dry run so that transaction.atomic rolls every write back."""


def enrolment_import(
    *,
    sitting: Sitting,
    rows_source: RowsSource,
    send_email: bool = True,
    resend: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> EnrolmentSummary:
    """Enrol the file's candidates into the sitting and queue their credentials e-mails.

    `rows_source` is a path (any os.PathLike) to a CSV file or an Excel workbook, or the file's
    content as str or bytes. The whole file is checked first; any problem raises EnrolmentRefused and changes
    nothing. Running the same file again changes nothing and sends nothing, unless `resend`.
    E-mails go out after the transaction commits; `summary.emails_sent` is filled then.
    `progress(done, total)` is told as the passwords are made, the import's long part.
    """
    text = read_text(rows_source)
    rows = parsed_rows(text, sitting)
    summary = EnrolmentSummary(rows=len(rows), dry_run=dry_run)

    # A first look at the database, without locks: refuse early, and find out whose passwords to
    # hash. Hashing (PBKDF2, a fraction of a second each) happens here, outside the transaction,
    # because on SQLite the transaction holds the write lock and every candidate's answer saves
    # would wait behind hundreds of hashes.
    state = DatabaseState.load(sitting, rows, lock=False)
    refuse_if_any(state.problems(rows))
    hashed: dict[str, tuple[str, str]] = {}
    if send_email and not dry_run:
        for done, row in enumerate(rows, 1):
            if state.may_need_password(row, resend=resend):
                hashed[row.username] = password_and_hash()
            if progress is not None and (done % 20 == 0 or done == len(rows)):
                progress(done, len(rows))

    outgoing: list[Outgoing] = []
    try:
        with transaction.atomic():
            # Another import into the same sitting waits here, then sees our rows: without the lock
            # both could pass the checks and one would fail half-way on a unique constraint.
            locked_sitting = (
                Sitting.objects.select_for_update(of=("self",))
                .select_related("exam", "practice_exam")
                .get(pk=sitting.pk)
            )
            # Parsed again for the rooms as they are now, under the lock (seats may have changed).
            rows = parsed_rows(text, locked_sitting)
            state = DatabaseState.load(locked_sitting, rows, lock=True)
            refuse_if_any(state.problems(rows))
            outgoing = _apply(
                locked_sitting,
                rows,
                state,
                hashed,
                summary,
                send_email=send_email,
                resend=resend,
                dry_run=dry_run,
            )
            if dry_run:
                raise _DryRun
            if outgoing:
                transaction.on_commit(lambda: send_all(outgoing, summary))
    except _DryRun:
        pass
    except IntegrityError as exc:
        # Something outside this sitting's lock, e.g. another sitting's import creating the same
        # username at the same moment. Nothing was written; running again sees the new state.
        logger.warning("Enrolment import for sitting %s hit a conflict: %s", sitting.pk, exc)
        raise EnrolmentRefused(
            [
                Problem(
                    None,
                    _(
                        "Another change to the same accounts happened at the same time. Run the import again."
                    ),
                )
            ]
        ) from exc
    return summary


def _apply(
    sitting: Sitting,
    rows: list[CandidateRow],
    state: DatabaseState,
    hashed: dict[str, tuple[str, str]],
    summary: EnrolmentSummary,
    *,
    send_email: bool,
    resend: bool,
    dry_run: bool,
) -> list[Outgoing]:
    User = get_user_model()
    now = timezone.now()
    by_ticket = state.by_ticket

    # Free the seats of the file's candidates who move, before anyone takes a seat: the file may
    # swap two candidates, and the (room, seat) constraint is checked row by row.
    moving = [
        e.pk
        for row in rows
        if (e := by_ticket.get(row.ticket_number))
        and e.seat
        and (e.room_id, e.seat) != (row.room.pk, row.seat)
    ]
    Enrolment.objects.filter(pk__in=moving).update(seat="")

    outgoing: list[Outgoing] = []
    for row in rows:
        enrolment = by_ticket.get(row.ticket_number)
        changes = enrolment_changes(enrolment, row) if enrolment is not None else {}
        user = state.users.get(row.username)
        if user is None:
            user = User(
                username=row.username,
                first_name=row.given_name,
                last_name=row.family_name,
                email=row.email,
            )
            user.set_unusable_password()  # replaced below if the e-mail goes out now
            user.save()
            summary.accounts_created += 1
        else:
            summary.accounts_reused += 1
            # The board's file is the record of who sits: the name the candidate confirms comes from it.
            wanted = {
                "first_name": row.given_name,
                "last_name": row.family_name,
                "email": row.email,
            }
            stale = [name for name, value in wanted.items() if getattr(user, name) != value]
            for name in stale:
                setattr(user, name, wanted[name])
            if stale:
                user.save(update_fields=stale)

        if row.language:
            language_from_enrolment_file(user, row.language)

        if enrolment is None:
            enrolment = Enrolment.objects.create(
                sitting=sitting,
                room=row.room,
                candidate=user,
                ticket_number=row.ticket_number,
                seat=row.seat,
                grade=row.grade,
            )
            summary.enrolments_created += 1
        elif changes:
            summary.enrolments_updated += 1
            enrolment.candidate = user
            enrolment.room, enrolment.seat, enrolment.grade = row.room, row.seat, row.grade
            update_fields = ["room", "seat", "grade"]
            if enrolment.identity_confirmed_at is not None and changes.keys() & {
                "grade",
                "first_name",
                "last_name",
            }:
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
            # Not hashed at the first look only if the state changed before the lock (a rare race).
            password, password_hash = hashed.get(row.username) or password_and_hash()
            user.password = password_hash
            user.save(update_fields=["password"])
            summary.passwords_set += 1
        enrolment.credentials_sent_at = now
        enrolment.save(update_fields=["credentials_sent_at"])
        outgoing.append(
            Outgoing(
                enrolment_id=enrolment.pk,
                ticket_number=row.ticket_number,
                sent_at=now,
                message=credentials_message(
                    enrolment=enrolment, sitting=sitting, user=user, password=password
                ),
            )
        )
    return outgoing
