"""Lock order: no two transactions wait for each other (Issue 10, point 21).

The audit chain's lock (exams.audit.chain) is held from an append to the commit, so a transaction
that holds it must wait for nothing another appender may hold. These tests make each inversion
that was found happen on purpose, on PostgreSQL, with two real connections and an Event to
interleave them, and then run a drill of concurrent arrivals, admissions, starts and saves.
Before the fix each interleaving ended in "deadlock detected" (an HTTP 500 in a view).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.models.signals import pre_save
from django.utils import timezone

from exams.audit import audit_append, verify_answer_batches, verify_chain
from exams.models import Attempt, AttemptEvent, AttemptStatus, Enrolment, Room
from exams.services import AnswerChange, attempt_start, responses_save
from grading.models import AttemptScore, ItemScore, Mark
from grading.services import mark_submit
from proctoring import services
from proctoring.models import CheckIn, Message, RoomSession

from ..factories import UserFactory, enrol, make_sitting
from ..grading.test_marking import committee, open_answers, scored  # noqa: F401 (fixtures)
from ..servers import require_service

DEVICE = "d" * 32
WAIT = 15  # seconds: far above PostgreSQL's deadlock_timeout (1 s), so a deadlock shows as one

@pytest.fixture(autouse=True)
def _postgresql():
    # Row and advisory locks: PostgreSQL only. Skipped locally on SQLite; in CI a failure.
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL) for row and advisory locks")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PROCTORING_SIGNAL_GRACE_SECONDS = 0


@pytest.fixture
def proctored(exam):
    sitting = make_sitting(exam, proctored=True, starts_in=timedelta(minutes=-1))
    room = Room.objects.create(sitting=sitting, name="Room A", seats=200)
    proctor = UserFactory(username="proctor_a")
    room.proctors.add(proctor)
    return sitting, room, proctor


def _own_connection(work: Callable[[], object]) -> Callable[[], object]:
    """Run `work` in this thread's own database connection, closed afterwards."""

    def run():
        try:
            return work()
        finally:
            connections.close_all()

    return run


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_until_blocked(pid: int) -> str:
    """Return what the backend `pid` waits for (the wait event) once it waits for a lock."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return row[1]
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited for a lock")


def _started_room(room: Room, proctor) -> RoomSession:
    return services.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.STARTED)


def _running_attempt(enrolment, proctor) -> Attempt:
    services.checkin_arrive(enrolment_id=enrolment.pk, candidate=enrolment.candidate)
    services.checkin_admit(enrolment_id=enrolment.pk, by=proctor)
    session = services.room_session_for(enrolment.room_id)
    if session.stage == RoomSession.Stage.ADMITTING:
        session = _started_room(enrolment.room, proctor)
    return attempt_start(
        candidate=enrolment.candidate,
        enrolment_id=enrolment.pk,
        device_id=DEVICE,
        start_code=session.start_code,
    )


def test_an_admit_and_an_audited_write_about_the_same_candidate_do_not_deadlock(
    transactional_db, proctored
):
    """Issue 10, point 21: the deadlock PostgreSQL reported in the proctoring end-to-end test.

    A proctor's message to a candidate (any audited write that references the enrolment) holds
    the chain's lock; the admit has locked the enrolment and waits for the chain's lock; then the
    message commits, and its foreign-key check on the enrolment (deferred to the commit) waits
    for the admit's row lock: a cycle. Now the key checks run before the chain's lock is taken
    and the enrolment is locked FOR NO KEY UPDATE, which a key check does not wait for.
    """
    sitting, room, proctor = proctored
    enrolment = enrol(sitting, room, UserFactory(username="cand"))
    services.checkin_arrive(enrolment_id=enrolment.pk, candidate=enrolment.candidate)
    holding, admit_waits = threading.Event(), threading.Event()
    admit_pid: list[int] = []

    def message():
        with transaction.atomic():
            services.message_send(
                enrolment_id=enrolment.pk, author=proctor, text="Please face the camera."
            )
            holding.set()
            assert admit_waits.wait(WAIT)
        return "sent"

    def admit():
        assert holding.wait(WAIT)
        admit_pid.append(_backend_pid())
        return services.checkin_admit(enrolment_id=enrolment.pk, by=proctor).status

    with ThreadPoolExecutor(2) as pool:
        sent, admitted = pool.submit(_own_connection(message)), pool.submit(_own_connection(admit))
        while not admit_pid:
            time.sleep(0.01)
        # The interleaving of the report: the admit waits for the chain's (advisory) lock.
        assert _wait_until_blocked(admit_pid[0]) == "advisory"
        admit_waits.set()
        assert sent.result(WAIT) == "sent"
        assert admitted.result(WAIT) == CheckIn.Status.ADMITTED
    assert verify_chain()[1] is None


def test_an_append_checks_the_transactions_foreign_keys_before_the_chains_lock(
    transactional_db, proctored
):
    """Issue 10, point 21, the chain's own part: Django checks foreign keys at the commit, so a
    transaction holding the chain's lock waited there for any row locked FOR UPDATE by a
    transaction waiting for the chain. The append now runs those checks before it takes the
    lock. (FOR UPDATE here on purpose: the services lock FOR NO KEY UPDATE now, which a key
    check does not wait for; this shows the chain holds even for code that does not.)"""
    sitting, room, proctor = proctored
    enrolment = enrol(sitting, room, UserFactory(username="cand"))
    holding, locker_waits = threading.Event(), threading.Event()
    locker_pid: list[int] = []

    def write():
        with transaction.atomic():
            Message.objects.create(
                enrolment=enrolment,
                from_proctor=True,
                author=proctor,
                text="hello",
                at=timezone.now(),
            )
            audit_append("test.wrote", subject=f"enrolment:{enrolment.pk}")
            holding.set()
            assert locker_waits.wait(WAIT)
        return "written"

    def lock_then_append():
        assert holding.wait(WAIT)
        locker_pid.append(_backend_pid())
        with transaction.atomic():
            Enrolment.objects.select_for_update(of=("self",)).get(pk=enrolment.pk)
            audit_append("test.locked", subject=f"enrolment:{enrolment.pk}")
        return "appended"

    with ThreadPoolExecutor(2) as pool:
        written, appended = (
            pool.submit(_own_connection(write)),
            pool.submit(_own_connection(lock_then_append)),
        )
        while not locker_pid:
            time.sleep(0.01)
        # Before: it got the row and waited for the chain (advisory), and the writer's commit
        # then waited for the row. Now the writer's key check holds the row (FOR KEY SHARE)
        # already, so the locker waits for the writer (transactionid), which commits.
        _wait_until_blocked(locker_pid[0])
        locker_waits.set()
        assert written.result(WAIT) == "written"
        assert appended.result(WAIT) == "appended"
    assert verify_chain() == (2, None)


def test_collecting_a_room_and_an_answer_batch_do_not_deadlock(transactional_db, proctored):
    """Issue 10, point 21: Collect submitted the room's attempts one by one, taking each attempt's
    row lock after the first submission's audit entry (so while holding the chain's lock); an
    answer batch holding the lock of an attempt Collect had not reached yet waited for the chain's lock. Collect now locks
    every running attempt of the room, in id order, before it writes anything."""
    sitting, room, proctor = proctored
    first, second = (
        _running_attempt(enrol(sitting, room, UserFactory(username=f"c{n}")), proctor)
        for n in (1, 2)
    )
    # The batch holds the attempt that Collect reaches last (it took the newest first).
    held = first
    batch_holds, collect_waits = threading.Event(), threading.Event()
    collect_pid: list[int] = []

    def save():
        with transaction.atomic():
            # What responses_save does first: lock its attempts.
            Attempt.objects.select_for_update(no_key=True).get(pk=held.pk)
            batch_holds.set()
            assert collect_waits.wait(WAIT)
            [result] = responses_save(
                changes=[
                    AnswerChange(
                        attempt_id=held.pk,
                        candidate_id=held.candidate_id,
                        device_id=DEVICE,
                        position=1,
                        seq=1,
                        value=None,
                    )
                ]
            )
        return result.ok

    def collect():
        assert batch_holds.wait(WAIT)
        collect_pid.append(_backend_pid())
        return services.room_advance(
            room_id=room.pk, by=proctor, to=RoomSession.Stage.COLLECTED, force=True
        ).stage

    with ThreadPoolExecutor(2) as pool:
        saved, collected = pool.submit(_own_connection(save)), pool.submit(_own_connection(collect))
        while not collect_pid:
            time.sleep(0.01)
        _wait_until_blocked(collect_pid[0])
        collect_waits.set()
        assert saved.result(WAIT) is True
        assert collected.result(WAIT) == RoomSession.Stage.COLLECTED
    assert set(Attempt.objects.values_list("status", flat=True)) == {AttemptStatus.SUBMITTED}
    assert verify_chain()[1] is None


def test_ending_a_room_and_an_arrival_do_not_deadlock(transactional_db, proctored):
    """Issue 10, point 21: End marks the absentees one by one, taking each check-in's lock after
    the first absentee's audit entry; a candidate arriving (check-in locked, then its own entry)
    waited for the chain's lock. End now locks every check-in of the room before it writes."""
    sitting, room, proctor = proctored
    early, late = (enrol(sitting, room, UserFactory(username=f"c{n}")) for n in (1, 2))
    _started_room(room, proctor)
    for enrolment in (early, late):
        CheckIn.objects.get_or_create(enrolment=enrolment)
    arrival_holds, end_waits = threading.Event(), threading.Event()
    end_pid: list[int] = []

    def arrive():
        with transaction.atomic():
            # What checkin_arrive does first: lock the candidate's check-in.
            CheckIn.objects.select_for_update().get(enrolment=late)
            arrival_holds.set()
            assert end_waits.wait(WAIT)
            services.checkin_arrive(enrolment_id=late.pk, candidate=late.candidate)
        return "arrived"

    def end():
        assert arrival_holds.wait(WAIT)
        end_pid.append(_backend_pid())
        services.room_advance(
            room_id=room.pk, by=proctor, to=RoomSession.Stage.COLLECTED, force=True
        )
        return services.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.ENDED).stage

    with ThreadPoolExecutor(2) as pool:
        arrived, ended = pool.submit(_own_connection(arrive)), pool.submit(_own_connection(end))
        while not end_pid:
            time.sleep(0.01)
        _wait_until_blocked(end_pid[0])
        end_waits.set()
        assert arrived.result(WAIT) == "arrived"
        assert ended.result(WAIT) == RoomSession.Stage.ENDED
    assert verify_chain()[1] is None


def test_the_starts_of_one_room_do_not_wait_for_each_other(transactional_db, proctored):
    """Issue 10, point 21: a start locked its enrolment FOR UPDATE with its joins, and Enrolment's
    default ordering joins the room: every start of a room (and every room event's key check)
    queued on the room's row, and the room's control record was locked FOR UPDATE as well. In a
    storm of 500 the last ones waited past the database pool's timeout (HTTP 500). Now a start
    locks only its enrolment and share-locks the control record: a second start of the room goes
    through while the first is still in its transaction (held here just before its audit entry).
    """
    sitting, room, proctor = proctored
    first, second = (enrol(sitting, room, UserFactory(username=f"c{n}")) for n in (1, 2))
    for enrolment in (first, second):
        services.checkin_arrive(enrolment_id=enrolment.pk, candidate=enrolment.candidate)
        services.checkin_admit(enrolment_id=enrolment.pk, by=proctor)
    code = _started_room(room, proctor).start_code
    first_holds, second_done = threading.Event(), threading.Event()

    def hold_first(sender, instance, **kwargs):
        if (
            instance.attempt.candidate_id == first.candidate_id
            and threading.current_thread().name.startswith("first")
        ):
            first_holds.set()
            assert second_done.wait(WAIT)

    def start_first():
        threading.current_thread().name = "first-start"
        return attempt_start(
            candidate=first.candidate, enrolment_id=first.pk, device_id=DEVICE, start_code=code
        ).pk

    def start_second():
        assert first_holds.wait(WAIT)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                return attempt_start(
                    candidate=second.candidate,
                    enrolment_id=second.pk,
                    device_id=DEVICE,
                    start_code=code,
                ).pk
        finally:
            second_done.set()

    pre_save.connect(hold_first, sender=AttemptEvent, dispatch_uid="hold-first-start")
    try:
        with ThreadPoolExecutor(2) as pool:
            started_first, started_second = (
                pool.submit(_own_connection(start_first)),
                pool.submit(_own_connection(start_second)),
            )
            assert started_second.result(WAIT)
            assert started_first.result(WAIT)
    finally:
        pre_save.disconnect(dispatch_uid="hold-first-start", sender=AttemptEvent)
    assert Attempt.objects.filter(enrolment__in=[first, second]).count() == 2


def test_a_mark_and_a_rescore_of_the_same_attempt_do_not_deadlock(transactional_db, request):
    """Issue 10, point 21: a second mark that resolves an answer wrote the mark (its audit entry
    takes the chain's lock) and only then locked the attempt's total to refresh it; a re-score of
    the attempt holds that total and then appends its own entry ("score.changed"). Marking now
    locks the total together with the answer, before anything it writes is audited."""
    # The grading tests' fixtures, by name (they are imported above).
    attempt = request.getfixturevalue("scored")
    (first, second, _third), _judge = request.getfixturevalue("committee")
    answer = open_answers(attempt)[0]
    mark_submit(item_score_id=answer.pk, marker=first, points=answer.max_points)
    rescore_holds, mark_waits = threading.Event(), threading.Event()
    mark_pid: list[int] = []

    def rescore():
        with transaction.atomic():
            # What attempt_rescore does before its entry: attempt_score locks the attempt's total.
            AttemptScore.objects.select_for_update().get(attempt=attempt)
            rescore_holds.set()
            assert mark_waits.wait(WAIT)
            audit_append("score.changed", subject=f"attempt:{attempt.pk}")
        return "rescored"

    def mark():
        assert rescore_holds.wait(WAIT)
        mark_pid.append(_backend_pid())
        return mark_submit(item_score_id=answer.pk, marker=second, points=answer.max_points).round

    with ThreadPoolExecutor(2) as pool:
        rescored, marked = pool.submit(_own_connection(rescore)), pool.submit(_own_connection(mark))
        while not mark_pid:
            time.sleep(0.01)
        _wait_until_blocked(mark_pid[0])
        mark_waits.set()
        assert rescored.result(WAIT) == "rescored"
        assert marked.result(WAIT) == Mark.Round.SECOND
    answer.refresh_from_db()
    assert answer.marking == ItemScore.Marking.RESOLVED
    assert verify_chain()[1] is None


DRILL_CANDIDATES = int(os.environ.get("LOCK_DRILL_CANDIDATES", "80"))
DRILL_THREADS = int(os.environ.get("LOCK_DRILL_THREADS", "40"))


def test_a_drill_of_concurrent_arrivals_admissions_starts_and_saves_has_no_error(
    transactional_db, proctored
):
    """Issue 10, point 21: candidates arrive, are admitted and start, and save an answer, while the
    proctors write to them: 80 candidates on 40 threads at once, on real PostgreSQL connections
    (the process's pool, 20 as in production, so 20 transactions at a time and the rest queued,
    as in a server). The full 500 over HTTP is `make bench`'s drill_start_admit_500. Before the
    fix many of these operations failed with "deadlock detected"; not one may fail."""
    sitting, room, proctor = proctored
    second_proctor = UserFactory(username="proctor_a2")
    room.proctors.add(second_proctor)
    enrolments = [
        enrol(sitting, room, UserFactory(username=f"d{n}")) for n in range(DRILL_CANDIDATES)
    ]
    code = _started_room(room, proctor).start_code
    errors: list[str] = []
    go = threading.Barrier(DRILL_THREADS, timeout=60)

    def candidate(index: int) -> None:
        enrolment = enrolments[index]
        if index < DRILL_THREADS:
            go.wait()  # the first wave starts together
        try:
            services.checkin_arrive(enrolment_id=enrolment.pk, candidate=enrolment.candidate)
            services.message_send(
                enrolment_id=enrolment.pk, author=second_proctor, text="Show your ID card, please."
            )
            services.checkin_admit(
                enrolment_id=enrolment.pk, by=random.choice([proctor, second_proctor])
            )
            attempt = attempt_start(
                candidate=enrolment.candidate,
                enrolment_id=enrolment.pk,
                device_id=DEVICE,
                start_code=code,
            )
            # A second press of Start (another tab) while the first is in, and a save.
            attempt_start(
                candidate=enrolment.candidate,
                enrolment_id=enrolment.pk,
                device_id=DEVICE,
                start_code=code,
            )
            [result] = responses_save(
                changes=[
                    AnswerChange(
                        attempt_id=attempt.pk,
                        candidate_id=enrolment.candidate_id,
                        device_id=DEVICE,
                        position=1,
                        seq=1,
                        value=None,
                    )
                ]
            )
            assert result.ok, result.reason
        except Exception as exc:  # every failure is collected: the drill counts them
            errors.append(f"{enrolment.pk}: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(DRILL_THREADS) as pool:
        list(pool.map(candidate, range(DRILL_CANDIDATES)))
    assert errors == []
    assert (
        Attempt.objects.filter(enrolment__sitting=sitting, status=AttemptStatus.IN_PROGRESS).count()
        == DRILL_CANDIDATES
    )
    # The chain and the answer log agree after the storm.
    assert verify_chain()[1] is None and verify_answer_batches()[1] is None
