"""One answer-log row per change (issue 11, point 4): a change sent again, because a reconnect
lost its ack, is acknowledged again (ok) without a second row, and the audit check still holds."""

from __future__ import annotations

import threading
from collections import Counter
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from exams.audit import BATCH_KIND, audit_answer_batch, verify_answer_batches, verify_chain
from exams.models import AnswerLog, AttemptItem, AuditEntry, ItemKind, SubmittedBy
from exams.services import AnswerChange, attempt_start, attempt_submit, responses_save
from exams.services.answer_writes import AcceptedChange, write_accepted

from ..servers import require_service
from .test_consumer import connect, session_cookie

DEVICE, OTHER_DEVICE = "a" * 32, "b" * 32


@pytest.fixture
def attempt(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


def text_positions(attempt) -> list[int]:
    return list(
        AttemptItem.objects.filter(
            attempt=attempt, item_version__item__kind__in=[ItemKind.FREE_TEXT, ItemKind.FILL_IN]
        )
        .order_by("position")
        .values_list("position", flat=True)
    )


def change(attempt, position: int, seq: int, value, *, device: str = DEVICE) -> AnswerChange:
    return AnswerChange(
        attempt_id=attempt.pk,
        candidate_id=attempt.candidate_id,
        device_id=device,
        position=position,
        seq=seq,
        value=value,
    )


def log_rows_per_seq(attempt) -> Counter:
    return Counter(AnswerLog.objects.filter(attempt=attempt).values_list("seq", flat=True))


def batch_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(kind=BATCH_KIND).order_by("seq"))


def assert_audit_holds() -> None:
    assert verify_chain()[1] is None
    assert verify_answer_batches()[1] is None
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "answer log matches" in out.getvalue()


def test_a_resent_batch_is_acknowledged_again_without_a_second_row(attempt):
    first, second = text_positions(attempt)[:2]
    sent = [change(attempt, first, 1, "one"), change(attempt, second, 2, "two")]
    assert [r.ok for r in responses_save(changes=sent)] == [True, True]
    # The page lost the acks in a reconnect and sends both again, with a new one behind them.
    again = responses_save(changes=[*sent, change(attempt, first, 3, "three")])
    assert [(r.seq, r.ok, r.code) for r in again] == [
        (1, True, "saved"),
        (2, True, "saved"),
        (3, True, "saved"),
    ]
    assert log_rows_per_seq(attempt) == {1: 1, 2: 1, 3: 1}
    # The second batch's entry covers only the row it wrote.
    _, resend = batch_entries()
    assert resend.data["saved"] == 1 and resend.data["attempts"][str(attempt.pk)]["saved"] == 1
    assert_audit_holds()


def test_a_batch_of_resends_only_is_sealed_with_nothing_saved(attempt):
    position = text_positions(attempt)[0]
    responses_save(changes=[change(attempt, position, 1, "one")])
    [again] = responses_save(changes=[change(attempt, position, 1, "one")])
    assert again.ok
    assert batch_entries()[-1].data == {"saved": 0, "refused": {}, "attempts": {}}
    assert AnswerLog.objects.filter(attempt=attempt).count() == 1
    assert_audit_holds()


def test_the_same_change_twice_in_one_batch_is_one_row(attempt):
    position = text_positions(attempt)[0]
    results = responses_save(
        changes=[change(attempt, position, 5, "five"), change(attempt, position, 5, "five")]
    )
    assert [r.ok for r in results] == [True, True]
    assert log_rows_per_seq(attempt) == {5: 1}
    [entry] = batch_entries()
    assert entry.data["saved"] == 1
    assert_audit_holds()


def test_a_stored_change_sent_after_the_submission_is_acknowledged_not_refused(attempt):
    position = text_positions(attempt)[0]
    responses_save(changes=[change(attempt, position, 1, "kept")])
    attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CANDIDATE)
    stored, new = responses_save(
        changes=[change(attempt, position, 1, "kept"), change(attempt, position, 2, "too late")]
    )
    assert (stored.ok, stored.code) == (
        True,
        "saved",
    )  # it was saved: the page must not show it as lost
    assert (new.ok, new.code) == (False, "submitted")
    assert log_rows_per_seq(attempt) == {1: 1}


def test_another_device_or_candidate_is_never_told_a_stored_change_was_saved(
    attempt, bob, bob_enrolment
):
    position = text_positions(attempt)[0]
    responses_save(changes=[change(attempt, position, 1, "mine")])
    [other_device] = responses_save(
        changes=[change(attempt, position, 1, "mine", device=OTHER_DEVICE)]
    )
    assert (other_device.ok, other_device.code) == (False, "device")
    [outsider] = responses_save(
        changes=[
            AnswerChange(
                attempt_id=attempt.pk,
                candidate_id=bob.pk,
                device_id=DEVICE,
                position=position,
                seq=1,
                value="mine",
            )
        ]
    )
    assert (outsider.ok, outsider.code) == (False, "not_found")


def test_the_writer_itself_skips_a_logged_change(attempt):
    """write_accepted keeps the rule for a caller that did not filter (PostgreSQL: ON CONFLICT)."""
    position = text_positions(attempt)[0]
    item = AttemptItem.objects.get(attempt=attempt, position=position)
    accepted = AcceptedChange(
        attempt_item_id=item.pk,
        attempt_id=attempt.pk,
        position=position,
        value_json='"x"',
        flagged=False,
        seq=1,
        device_id=DEVICE,
    )
    with transaction.atomic():
        assert len(write_accepted([accepted], timezone.now())) == 1
        assert write_accepted([accepted], timezone.now()) == []
    assert log_rows_per_seq(attempt) == {1: 1}


def test_the_database_refuses_a_second_row_of_a_change(attempt):
    position = text_positions(attempt)[0]
    AnswerLog.objects.create(
        attempt=attempt, position=position, seq=1, value="x", received_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AnswerLog.objects.create(
            attempt=attempt, position=position, seq=1, value="x", received_at=timezone.now()
        )


@pytest.mark.django_db(transaction=True)
def test_two_batches_with_the_same_changes_at_once_write_them_once(attempt):
    """The second batch waits for the first's attempt lock, then finds its rows (READ COMMITTED)."""
    require_service(
        connection.vendor == "postgresql",
        "PostgreSQL (DATABASE_URL) for row locks between connections",
    )
    positions = text_positions(attempt)
    sent = [change(attempt, positions[k % len(positions)], k + 1, f"answer {k}") for k in range(20)]
    first_wrote, release = threading.Event(), threading.Event()
    outcomes: dict[str, list] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = responses_save(changes=sent)
                first_wrote.set()
                release.wait(10)  # holds the attempt's lock, rows written, not yet committed
        finally:
            connections.close_all()

    def second() -> None:
        try:
            outcomes["second"] = responses_save(changes=list(reversed(sent)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_wrote.wait(10)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive(), "the second batch must wait for the first's lock"
    release.set()
    for thread in threads:
        thread.join(15)
    assert all(r.ok for r in outcomes["first"]) and all(r.ok for r in outcomes["second"])
    assert log_rows_per_seq(attempt) == {k + 1: 1 for k in range(20)}
    assert [e.data["saved"] for e in batch_entries()] == [20, 0]
    assert_audit_holds()


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_resends_leave_one_row_per_change(attempt):
    """Threads racing with overlapping batches, as pages resending after a reconnect storm do."""
    require_service(
        connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL) for concurrent transactions"
    )
    positions = text_positions(attempt)
    sent = [change(attempt, positions[k % len(positions)], k + 1, f"answer {k}") for k in range(30)]
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def resend(n: int) -> None:
        try:
            start.wait(10)
            for round_ in range(3):
                part = sent[(n + round_) * 3 % 30 :][:12]
                assert all(r.ok for r in responses_save(changes=part))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resend, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert set(log_rows_per_seq(attempt).values()) == {1}
    assert (
        sum(e.data["saved"] for e in batch_entries())
        == AnswerLog.objects.filter(attempt=attempt).count()
    )
    assert_audit_holds()


@pytest.mark.django_db(transaction=True)
async def test_a_resend_on_a_new_socket_is_acknowledged_without_a_second_row(attempt, alice):
    session = await sync_to_async(session_cookie)(alice)
    first, second = (await sync_to_async(text_positions)(attempt))[:2]
    changes = [{"pos": first, "seq": 1, "value": "one"}, {"pos": second, "seq": 2, "value": "two"}]
    for _connection in range(2):  # the second socket is the page after a reconnect, resending
        ws, connected, _ = await connect(attempt.pk, session=session)
        assert connected
        await ws.receive_json_from(timeout=5)  # state
        await ws.send_json_to({"t": "save", "changes": changes})
        ack = await ws.receive_json_from(timeout=5)
        assert [(r["seq"], r["ok"]) for r in ack["results"]] == [(1, True), (2, True)]
        await ws.disconnect()
    assert await sync_to_async(log_rows_per_seq)(attempt) == {1: 1, 2: 1}
    await sync_to_async(assert_audit_holds)()


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_earlier_duplicates_and_the_seals_still_match(attempt):
    """A database written before the rule holds resends; the migration keeps them (the sealed
    digests cover them) and marks every copy after the first, so the unique constraint can hold."""
    position = text_positions(attempt)[0]
    executor = MigrationExecutor(connection)
    executor.migrate([("exams", "0007_outages_connection_gaps")])
    try:
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            # Three batches as the old code wrote them: seq 1, seq 1 again with 2, seq 2 again.
            for seqs in ([1], [1, 2], [2]):
                rows = []
                for seq in seqs:
                    cursor.execute(
                        "INSERT INTO exams_answerlog (attempt_id, position, seq, value, flagged, received_at) "
                        "VALUES (%s, %s, %s, %s, false, %s) RETURNING id",
                        [attempt.pk, position, seq, '"v"', now],
                    )
                    rows.append((cursor.fetchone()[0], attempt.pk, position, seq, "v", False, now))
                audit_answer_batch(rows=rows, refused=[], devices={attempt.pk: DEVICE}, at=now)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    marks = list(
        AnswerLog.objects.filter(attempt=attempt).order_by("pk").values_list("seq", "resent")
    )
    assert marks == [(1, False), (1, True), (2, False), (2, True)]
    assert verify_answer_batches() == (3, None)
    # From now on the rule holds: a resend of seq 2 is acknowledged without a row.
    [again] = responses_save(changes=[change(attempt, position, 2, "v")])
    assert again.ok and AnswerLog.objects.filter(attempt=attempt).count() == 4
