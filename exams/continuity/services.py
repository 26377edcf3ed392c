"""Server outages credited to the attempts they stopped; candidates' lost connections recorded.

Issue 10, points 25 and 26 (R-TAKE-7, R-TAKE-8; rule 002:1.4.2-1.4.5).

How an outage is seen: every serving process writes the site's heartbeat (one row) every
SITE_HEARTBEAT_SECONDS (exams.continuity.heartbeat). When the app or the database is down, no beat
is written; the first beat after a gap longer than OUTAGE_MIN_SECONDS settles the outage
[last beat, this beat]: every attempt that was running at its start gets the time back (deadline
moved on, like a pause), or, for an outage of 2 hours or more or one that pushes the end past the
exam's day, is ended and listed for rescheduling. The outage is counted from the last beat, so a
candidate may get up to one beat interval more than was lost, never less.

Order matters: an attempt whose deadline passed during the outage must be credited before the
clock submits it. The clock's submission path therefore asks `clock_may_submit` first: in a
serving process it beats (settling a pending gap) before going on; in any other process (the
Celery worker's periodic job) it waits while the heartbeat is stale, since the candidates cannot
reach the server then, or it has not settled the gap yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from languages.services import in_language_of

from ..audit import audit_append
from ..groups import push_to_attempt_after_commit
from ..models import (
    Attempt,
    AttemptConnection,
    AttemptEvent,
    AttemptStatus,
    Outage,
    SiteHeartbeat,
    SubmittedBy,
)

HEARTBEAT_ROW = 1
# How long after an outage a reconnecting page is still told of its credit.
NOTICE_REPEATED_FOR = timedelta(minutes=10)

# Set by exams.continuity.heartbeat in a process that serves candidates and writes the beats.
_serving_process = False


def mark_serving_process() -> None:
    global _serving_process
    _serving_process = True


def _outage_min() -> timedelta:
    return timedelta(seconds=settings.OUTAGE_MIN_SECONDS)


def site_beat(*, now: datetime | None = None) -> Outage | None:
    """Write the site's heartbeat; if the previous one is too old, settle that gap as an outage.

    Return the outage settled by this beat, if any.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The row may be missing (a fresh database); two processes creating it together must not fail.
        SiteHeartbeat.objects.bulk_create(
            [SiteHeartbeat(pk=HEARTBEAT_ROW, beat_at=now)], ignore_conflicts=True
        )
        # Race: every serving process beats, and two may find the same gap. The row lock makes the
        # second wait until the first has moved the beat on (and credited the gap), so it sees no
        # gap; Outage's unique start is the backstop.
        heartbeat = SiteHeartbeat.objects.select_for_update().get(pk=HEARTBEAT_ROW)
        previous = heartbeat.beat_at
        if now <= previous:
            return None  # another process beat later already (clocks of two hosts differ a little)
        heartbeat.beat_at = now
        heartbeat.save(update_fields=["beat_at"])
        if now - previous <= _outage_min():
            return None
        return outage_settle(started_at=previous, ended_at=now)


def clock_may_submit(*, now: datetime, attempt_id: int | None = None) -> bool:
    """Return whether the clock may submit now: no server-side failure is left to credit.

    Called at the top of every submission by the clock (exams.services.attempts.attempt_submit).
    """
    if attempt_id is not None and waiting_for_mass_drop_return(attempt_id=attempt_id, now=now):
        return False
    beat_at = (
        SiteHeartbeat.objects.filter(pk=HEARTBEAT_ROW).values_list("beat_at", flat=True).first()
    )
    if beat_at is None or now - beat_at <= _outage_min():
        return True  # no serving process beats here (tests, a management shell), or all is well
    if _serving_process:
        # This process is up: settle the gap, then the clock sees the new deadlines.
        site_beat(now=now)
        return True
    # The serving processes are down (or not yet beating again): the candidates cannot answer, so
    # time running out now is not their time. Wait; the first beat credits it.
    return False


def _exam_day_ends(attempt: Attempt, moment: datetime) -> datetime:
    """Return midnight after `moment` in the exam's time zone: the end of "the day" of 002:1.4.3."""
    zone = ZoneInfo(attempt.exam.time_zone)
    local = moment.astimezone(zone)
    next_day = (local + timedelta(days=1)).date()
    return datetime(next_day.year, next_day.month, next_day.day, tzinfo=zone)


def outage_settle(
    *, started_at: datetime, ended_at: datetime, now: datetime | None = None
) -> Outage | None:
    """Record the outage and credit (or end) every attempt it stopped; None if already recorded."""
    now = now or ended_at
    with transaction.atomic():
        outage, created = Outage.objects.get_or_create(
            started_at=started_at, defaults={"ended_at": ended_at, "settled_at": now}
        )
        if not created:
            return None  # another process settled this gap first
        lost = ended_at - started_at
        too_long = lost >= timedelta(seconds=settings.OUTAGE_END_SITTING_SECONDS)
        # Running at the outage's start and with time left then. A paused attempt's clock was
        # stopped anyway. Locked in id order, like every multi-attempt write, so that two never wait
        # on each other in opposite orders.
        stopped = (
            Attempt.objects.select_for_update(no_key=True, of=("self",))
            .select_related("exam", "candidate")
            .filter(
                status=AttemptStatus.IN_PROGRESS,
                paused_at__isnull=True,
                started_at__lt=ended_at,
                deadline__gt=started_at,
            )
            .order_by("pk")
        )
        for attempt in stopped:
            credit = ended_at - max(started_at, attempt.started_at)
            new_deadline = attempt.deadline + credit
            # The day is the one the sitting was to end on: one planned to run past midnight (or
            # taken late in the evening) is not ended by a short outage for that alone.
            day_ends = _exam_day_ends(attempt, max(started_at, attempt.deadline))
            if too_long or new_deadline > day_ends:
                _interrupt(attempt, outage=outage, lost=lost, now=now)
                outage.interrupted += 1
            else:
                _credit(attempt, outage=outage, credit=credit, new_deadline=new_deadline, now=now)
                outage.credited += 1
        outage.save(update_fields=["credited", "interrupted"])
        audit_append(
            "outage.settled",
            subject=f"outage:{outage.pk}",
            at=now,
            data={
                "from": started_at,
                "to": ended_at,
                "seconds": outage.seconds,
                "credited": outage.credited,
                "interrupted": outage.interrupted,
            },
        )
        return outage


def _for_the_candidate(attempt: Attempt):
    """What the candidate is told is stored as text: written in their language, on the exam's clock."""
    return in_language_of(attempt.candidate, default=attempt.exam.language)


def _credit_notice(
    attempt: Attempt, outage: Outage, credit: timedelta, new_deadline: datetime
) -> str:
    seconds = int(credit.total_seconds())
    clock = attempt.exam.clock
    with _for_the_candidate(attempt):
        return _(
            "The exam server was unavailable from %(start)s to %(end)s. Your clock was stopped for that time: "
            "%(minutes)s min %(seconds)s s added. Your exam now ends at %(new_end)s."
        ) % {
            "start": clock(outage.started_at, seconds=True),
            "end": clock(outage.ended_at, seconds=True),
            "minutes": seconds // 60,
            "seconds": seconds % 60,
            "new_end": clock(new_deadline, seconds=True),
        }


def _credit(
    attempt: Attempt, *, outage: Outage, credit: timedelta, new_deadline: datetime, now: datetime
) -> None:
    old_deadline = attempt.deadline
    attempt.deadline = new_deadline
    attempt.save(update_fields=["deadline"])
    notice = _credit_notice(attempt, outage, credit, new_deadline)
    AttemptEvent.objects.create(
        attempt=attempt,
        kind=AttemptEvent.Kind.SYSTEM_PAUSED,
        at=now,
        detail={
            "outage": outage.pk,
            "from": outage.started_at.isoformat(),
            "to": outage.ended_at.isoformat(),
            "seconds": int(credit.total_seconds()),
            "old_deadline": old_deadline.isoformat(),
            "new_deadline": new_deadline.isoformat(),
            # What the candidate was told; sent again when the page reconnects (recent_outage_notice).
            "notice": notice,
        },
    )
    # "attempt.state" is the push the page already turns into its new end time; "notice" says why.
    push_to_attempt_after_commit(
        attempt.pk,
        {
            "type": "attempt.state",
            "notice": notice,
            "outage": outage.pk,
            "creditSeconds": int(credit.total_seconds()),
        },
    )


def recent_outage_notice(*, attempt_id: int, now: datetime | None = None) -> str:
    """Return what the candidate should be told of an outage settled in the last few minutes, or "".

    The credit is settled by the restarted server's first beat, usually before the candidate's page
    has reconnected: the push then reaches nobody, so the page hears it again on connecting.
    """
    now = now or timezone.now()
    event = (
        AttemptEvent.objects.filter(
            attempt_id=attempt_id,
            kind__in=[AttemptEvent.Kind.SYSTEM_PAUSED, AttemptEvent.Kind.INTERRUPTED],
            at__gte=now - NOTICE_REPEATED_FOR,
        )
        .order_by("-at", "-id")
        .first()
    )
    return str(event.detail.get("notice", "")) if event is not None else ""


def _interrupt(attempt: Attempt, *, outage: Outage, lost: timedelta, now: datetime) -> None:
    assert AttemptStatus.can_move(attempt.status, AttemptStatus.INTERRUPTED)
    attempt.status = AttemptStatus.INTERRUPTED
    # Answers stopped at the outage's start; everything stored until then is kept for the record.
    attempt.submitted_at, attempt.submitted_by = outage.started_at, SubmittedBy.OUTAGE
    with _for_the_candidate(attempt):
        attempt.end_reason = _(
            "The exam server was unavailable from %(start)s to %(end)s, too long to continue today. By the rules "
            "(002:1.4.3) this sitting has ended for you and you will be given a new date. Your answers are kept."
        ) % {
            "start": attempt.exam.clock(outage.started_at, seconds=True),
            "end": attempt.exam.clock(outage.ended_at, seconds=True),
        }
    attempt.save(update_fields=["status", "submitted_at", "submitted_by", "end_reason"])
    AttemptEvent.objects.create(
        attempt=attempt,
        kind=AttemptEvent.Kind.INTERRUPTED,
        at=now,
        detail={
            "outage": outage.pk,
            "from": outage.started_at.isoformat(),
            "to": outage.ended_at.isoformat(),
            "seconds": int(lost.total_seconds()),
            "reschedule": True,
            "notice": attempt.end_reason,
        },
    )
    push_to_attempt_after_commit(
        attempt.pk, {"type": "attempt.state", "notice": attempt.end_reason, "outage": outage.pk}
    )


# --- the candidate's side (point 26) ----------------------------------------------------------------
def connection_lost(*, attempt_id: int, now: datetime | None = None) -> None:
    """Note that the attempt's page went away. Nothing is recorded yet: a reload comes straight back."""
    now = now or timezone.now()
    # Conditional update first (the common case, one statement); the insert only for the first drop.
    if not AttemptConnection.objects.filter(attempt_id=attempt_id).update(
        lost_at=now, last_lost_at=now
    ):
        AttemptConnection.objects.bulk_create(
            [AttemptConnection(attempt_id=attempt_id, lost_at=now, last_lost_at=now)],
            ignore_conflicts=True,
        )


def _lost_with_most_of_the_sitting(attempt: Attempt, lost_at: datetime) -> bool:
    """Return whether most of the attempt's sitting lost their pages together with it.

    "Every socket of a sitting dropping together" is a failure on the server's side (its network,
    a proxy), even though the heartbeat went on. Counted among the sitting's attempts running then.
    """
    if attempt.enrolment_id is None:
        return False  # practice: no sitting
    window = timedelta(seconds=settings.MASS_DROP_WINDOW_SECONDS)
    sitting_attempts = Attempt.objects.filter(
        enrolment__sitting_id=attempt.enrolment.sitting_id,
        is_practice=False,
        started_at__lt=lost_at,
    ).exclude(submitted_at__lt=lost_at)
    running = sitting_attempts.count()
    lost_together = AttemptConnection.objects.filter(
        attempt__in=sitting_attempts, last_lost_at__range=(lost_at - window, lost_at + window)
    ).count()
    return lost_together >= settings.MASS_DROP_MIN and 2 * lost_together > running


def connection_back(*, attempt_id: int, now: datetime | None = None) -> AttemptEvent | None:
    """The page is connected again: if it was away long enough, record a lost connection (R-TAKE-8).

    Recorded as the candidate's side unless a server outage overlapped it (credited by the
    heartbeat), or most of the sitting lost their pages at the same moment: then it is the server's
    side, and this attempt is credited the time it was away, as for an outage (002:1.4.5). A
    candidate-side loss is only recorded: by the rules the attempt may then be void (002:1.4.2),
    but the committee decides that, never the system.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Race: two tabs reconnecting together. The row lock lets one of them take `lost_at`.
        connection = (
            AttemptConnection.objects.select_for_update(no_key=True)
            .filter(attempt_id=attempt_id)
            .first()
        )
        if connection is None or connection.lost_at is None:
            return None
        lost_at, connection.lost_at = connection.lost_at, None
        connection.save(update_fields=["lost_at"])
        away = now - lost_at
        if away < timedelta(seconds=settings.CONNECTION_LOST_MIN_SECONDS):
            return None
        attempt = (
            Attempt.objects.select_for_update(no_key=True, of=("self",))
            .select_related("enrolment", "exam", "candidate")
            .filter(pk=attempt_id, status=AttemptStatus.IN_PROGRESS)
            .first()
        )
        if attempt is None:
            return None
        if Outage.objects.filter(started_at__lt=now, ended_at__gt=lost_at).exists():
            side = "server"  # the heartbeat's outage credit covers it
        elif _lost_with_most_of_the_sitting(attempt, lost_at):
            side = "server_network"
        else:
            side = "candidate"
        detail = {
            "from": lost_at.isoformat(),
            "to": now.isoformat(),
            "seconds": int(away.total_seconds()),
            "side": side,
        }
        if side == "candidate":
            # Said in the record itself, for whoever reads the case file.
            detail["outcome"] = "for the committee to confirm; the system voids nothing"
        event = AttemptEvent.objects.create(
            attempt=attempt, kind=AttemptEvent.Kind.CONNECTION_LOST, at=now, detail=detail
        )
        if side == "server_network" and not attempt.is_paused and attempt.deadline > lost_at:
            _credit_mass_drop(attempt, lost_at=lost_at, now=now)
        else:
            # The proctor's tile is refreshed through the usual attempt push.
            push_to_attempt_after_commit(attempt.pk, {"type": "attempt.connection"})
        return event


def _credit_mass_drop(attempt: Attempt, *, lost_at: datetime, now: datetime) -> None:
    credit = now - lost_at
    old_deadline, new_deadline = attempt.deadline, attempt.deadline + credit
    attempt.deadline = new_deadline
    attempt.save(update_fields=["deadline"])
    seconds = int(credit.total_seconds())
    clock = attempt.exam.clock
    with _for_the_candidate(attempt):
        notice = _(
            "The connection to the exam server was lost for most candidates from %(start)s to %(end)s. Your clock "
            "was stopped for that time: %(minutes)s min %(seconds)s s added. Your exam now ends at %(new_end)s."
        ) % {
            "start": clock(lost_at, seconds=True),
            "end": clock(now, seconds=True),
            "minutes": seconds // 60,
            "seconds": seconds % 60,
            "new_end": clock(new_deadline, seconds=True),
        }
    AttemptEvent.objects.create(
        attempt=attempt,
        kind=AttemptEvent.Kind.SYSTEM_PAUSED,
        at=now,
        detail={
            "cause": "sitting_disconnected",
            "from": lost_at.isoformat(),
            "to": now.isoformat(),
            "seconds": seconds,
            "old_deadline": old_deadline.isoformat(),
            "new_deadline": new_deadline.isoformat(),
            "notice": notice,
        },
    )
    push_to_attempt_after_commit(
        attempt.pk,
        {"type": "attempt.state", "notice": notice, "outage": "network", "creditSeconds": seconds},
    )


def waiting_for_mass_drop_return(*, attempt_id: int, now: datetime) -> bool:
    """Return whether the clock must wait for this attempt: its page is away with most of its
    sitting's (so its credit is given on return), and not yet for as long as ends a sitting."""
    connection = AttemptConnection.objects.filter(
        attempt_id=attempt_id, lost_at__isnull=False
    ).first()
    if connection is None or now - connection.lost_at >= timedelta(
        seconds=settings.OUTAGE_END_SITTING_SECONDS
    ):
        return False
    attempt = Attempt.objects.select_related("enrolment").get(pk=attempt_id)
    return _lost_with_most_of_the_sitting(attempt, connection.lost_at)
