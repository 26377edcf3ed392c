"""The attempt's life: start, device checks, submission (R-FORM-2, R-TAKE-2, R-TAKE-3, R-TAKE-6)."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..continuity import clock_may_submit
from ..drawing import BlueprintShortfall, draw_form
from ..errors import ExamError
from ..groups import push_to_attempt_after_commit
from ..models import Attempt, AttemptEvent, AttemptStatus, Enrolment, Exam, SubmittedBy
from ..selectors import blueprint_slots, live_pool_cached
from ..signals import attempt_submitted
from .form_writes import write_form


def _event(attempt: Attempt, kind: str, at: datetime, *, actor=None, **detail) -> None:
    AttemptEvent.objects.create(attempt=attempt, kind=kind, at=at, actor=actor, detail=detail)


def _create_attempt(*, candidate, exam: Exam, enrolment: Enrolment | None, device_id: str, now: datetime) -> Attempt:
    seed = secrets.randbits(62)
    try:
        drawn = draw_form(seed=seed, pool=live_pool_cached(exam), blueprint=blueprint_slots(exam))
    except BlueprintShortfall as exc:
        raise ExamError(_("This exam cannot be started: %(why)s Please tell the exam staff.") % {"why": exc}) from exc
    attempt = Attempt.objects.create(
        candidate=candidate, exam=exam, enrolment=enrolment, is_practice=exam.is_practice,
        form_seed=seed, started_at=now, deadline=now + exam.duration, device_id=device_id,
    )
    write_form(attempt_id=attempt.pk, drawn=drawn, points=exam.points_per_item())
    _event(attempt, AttemptEvent.Kind.STARTED, now, actor=candidate, device=device_id[:8], items=len(drawn))
    push_to_attempt_after_commit(attempt.pk, {"type": "attempt.started"})
    return attempt


def attempt_start(*, candidate: AbstractBaseUser, enrolment_id: int, device_id: str, start_code: str = "",
                  now: datetime | None = None) -> Attempt:
    """Start the candidate's attempt for an enrolment, or return the one already started.

    In a proctored sitting the candidate must be admitted and the room started (with its start
    code, when the sitting asks for one): see proctoring.services.start_refusal.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Locking the enrolment serialises two tabs pressing Start together; the unique
        # constraint on Attempt.enrolment is the backstop. Only the enrolment's row, FOR NO KEY
        # UPDATE (exams.audit.chain: lock order): without `of`, the joins (the sitting, the exam,
        # and the room that Enrolment's default ordering adds) were locked too, so every start
        # of a room queued on its row and every room event's key check waited for the starts.
        enrolment = (
            Enrolment.objects.select_for_update(no_key=True, of=("self",)).select_related("sitting__exam")
            .filter(pk=enrolment_id, candidate=candidate).first()
        )
        if enrolment is None:
            raise ExamError(_("No such enrolment."), code="not_found")
        existing = Attempt.objects.filter(enrolment=enrolment, is_practice=False).first()
        if existing is not None:
            return existing
        if enrolment.identity_confirmed_at is None:
            raise ExamError(_("Confirm your name and grade before you start."), code="identity")
        sitting = enrolment.sitting
        if now < sitting.starts_at:
            raise ExamError(_("The exam starts at %(time)s.") % {"time": sitting.exam.clock(sitting.starts_at, seconds=True)}, code="early")
        # A proctored sitting's entry closes relative to its room's start (start_refusal).
        if not sitting.proctored and now > sitting.entry_closes_at:
            raise ExamError(
                _("Entry closed at %(time)s; you are recorded as absent.") % {"time": sitting.exam.clock(sitting.entry_closes_at, seconds=True)},
                code="late",
            )
        from proctoring.services import start_refusal

        if (refusal := start_refusal(enrolment, start_code, now)) is not None:
            raise refusal
        try:
            with transaction.atomic():
                return _create_attempt(candidate=candidate, exam=sitting.exam, enrolment=enrolment, device_id=device_id, now=now)
        except IntegrityError:
            # Another process started it first (possible only on a database without row locks).
            return Attempt.objects.get(enrolment=enrolment, is_practice=False)


def practice_attempt_start(*, candidate: AbstractBaseUser, exam_id: int, device_id: str, now: datetime | None = None) -> Attempt:
    """Start a practice attempt (R-FORM-3), or return the candidate's practice attempt in progress."""
    now = now or timezone.now()
    with transaction.atomic():
        exam = Exam.objects.filter(pk=exam_id, is_practice=True).first()
        allowed = exam is not None and Enrolment.objects.filter(
            candidate=candidate, sitting__practice_exam=exam, sitting__starts_at__gt=now
        ).exists()
        if not allowed:
            raise ExamError(_("This practice exam is not open to you."), code="not_found")
        running = Attempt.objects.filter(
            candidate=candidate, exam=exam, is_practice=True, status=AttemptStatus.IN_PROGRESS, deadline__gt=now
        ).first()
        if running is not None:
            return running
        return _create_attempt(candidate=candidate, exam=exam, enrolment=None, device_id=device_id, now=now)


def attempt_open_on_device(*, attempt_id: int, device_id: str, now: datetime | None = None) -> Attempt:
    """Return the attempt after checking the device; a second device locks it (R-TAKE-2).

    Both screens are told: the refused device by the returned state, the first one by a push.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # NO KEY: rows that reference the attempt (answer log, events) are inserted meanwhile,
        # and their key checks must not wait for this lock (exams.audit.chain: lock order).
        attempt = Attempt.objects.select_for_update(no_key=True).get(pk=attempt_id)
        if not attempt.is_in_progress or attempt.device_id == device_id:
            return attempt
        if attempt.pending_device_id == device_id and attempt.is_locked:
            return attempt  # the same second device reloading: already locked and recorded
        attempt.locked_at = now
        attempt.pending_device_id = device_id
        attempt.lock_reason = _(
            "The attempt was opened on a second device at %(time)s. It is locked until the exam staff "
            "move it to one device."
        ) % {"time": attempt.exam.clock(now, seconds=True)}
        attempt.save(update_fields=["locked_at", "pending_device_id", "lock_reason"])
        _event(attempt, AttemptEvent.Kind.DEVICE_REFUSED, now, device=device_id[:8], first_device=attempt.device_id[:8])
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.locked", "reason": attempt.lock_reason})
        return attempt


def attempt_hand_over(*, attempt_id: int, by: AbstractBaseUser, to_new_device: bool, reason: str, now: datetime | None = None) -> Attempt:
    """Unlock a locked attempt onto the new device (or back onto the first one)."""
    now = now or timezone.now()
    if not reason.strip():
        raise ExamError(_("Give a reason for the hand-over."))
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update(no_key=True).get(pk=attempt_id)
        if not attempt.is_locked:
            raise ExamError(_("This attempt is not locked."))
        previous = attempt.device_id
        if to_new_device:
            attempt.device_id = attempt.pending_device_id
        attempt.locked_at = None
        attempt.lock_reason = ""
        attempt.pending_device_id = ""
        attempt.save(update_fields=["device_id", "locked_at", "lock_reason", "pending_device_id"])
        _event(
            attempt, AttemptEvent.Kind.HANDED_OVER, now, actor=by, reason=reason,
            from_device=previous[:8], to_device=attempt.device_id[:8],
        )
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.unlocked", "device": attempt.device_id[:8]})
        return attempt


def attempt_submit(*, attempt_id: int, by: str, actor: AbstractBaseUser | None = None, now: datetime | None = None) -> Attempt:
    """Submit the attempt: final, then scored in the background (R-TAKE-6, R-GRADE-1).

    Idempotent: submitting a submitted attempt returns it unchanged. The clock submits only once
    the deadline plus grace has passed, so a save in flight at the deadline is not cut off.
    """
    now = now or timezone.now()
    # Issue 10, point 25: a server outage is credited before the clock may end anyone's time
    # (exams.continuity): while one is not yet settled, the clock waits. Before any lock is taken.
    if by == SubmittedBy.CLOCK and not clock_may_submit(now=now, attempt_id=attempt_id):
        return Attempt.objects.get(pk=attempt_id)
    with transaction.atomic():
        # The row lock orders a submission after any save batch holding the attempt, so the
        # score sees every answer stored before it. NO KEY: see attempt_open_on_device.
        attempt = Attempt.objects.select_for_update(no_key=True).get(pk=attempt_id)
        if not attempt.is_in_progress:
            return attempt
        if by == SubmittedBy.CLOCK and not attempt.is_overdue(now):
            return attempt
        if by == SubmittedBy.CANDIDATE and attempt.is_locked:
            raise ExamError(attempt.lock_reason)
        assert AttemptStatus.can_move(attempt.status, AttemptStatus.SUBMITTED)
        attempt.status = AttemptStatus.SUBMITTED
        # The clock's submission is dated when answers closed; a candidate's or the staff's when
        # it happened (a paused attempt collected late must not look submitted before that).
        attempt.submitted_at = now if by == SubmittedBy.STAFF else min(now, attempt.answers_close_at())
        attempt.submitted_by = by
        # A paused attempt collected by the proctor is over, not paused any more.
        attempt.paused_at, attempt.pause_reason = None, ""
        attempt.save(update_fields=["status", "submitted_at", "submitted_by", "paused_at", "pause_reason"])
        _event(attempt, AttemptEvent.Kind.SUBMITTED, now, actor=actor, by=by)
        push_to_attempt_after_commit(attempt.pk, {"type": "attempt.submitted", "by": by})

        attempt_submitted.send(sender=Attempt, attempt_id=attempt.pk)
        return attempt


def attempts_submit_overdue(*, now: datetime | None = None) -> list[int]:
    """Submit every attempt whose time ran out while nobody was looking; return their ids."""
    now = now or timezone.now()
    due = list(
        Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, deadline__lt=now, paused_at__isnull=True)
        .values_list("pk", flat=True)
    )
    submitted = []
    for attempt_id in due:
        attempt = attempt_submit(attempt_id=attempt_id, by=SubmittedBy.CLOCK, now=now)
        if attempt.status != AttemptStatus.IN_PROGRESS:
            submitted.append(attempt_id)
    return submitted


def attempt_mark_scored(*, attempt_id: int, now: datetime | None = None) -> bool:
    """Move a submitted attempt to scored; return False if another worker got there first."""
    now = now or timezone.now()
    # Conditional update: of two workers scoring the same attempt, only one moves it and logs it.
    moved = Attempt.objects.filter(pk=attempt_id, status=AttemptStatus.SUBMITTED).update(status=AttemptStatus.SCORED)
    if moved:
        AttemptEvent.objects.create(attempt_id=attempt_id, kind=AttemptEvent.Kind.SCORED, at=now)
        push_to_attempt_after_commit(attempt_id, {"type": "attempt.scored"})
    return bool(moved)
