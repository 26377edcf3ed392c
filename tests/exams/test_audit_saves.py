"""Answer saves in the audit chain (R-AUD-1): one sealed entry per batch, refusals included, and
`verify_audit` names the batch whose answer-log rows were edited, deleted or added afterwards."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from exams.audit import BATCH_KIND, verify_answer_batches, verify_chain
from exams.audit.answers import ROW_FIELDS, rows_digest
from exams.models import AnswerLog, AttemptEvent, AttemptItem, AuditEntry, ItemKind
from exams.services import AnswerChange, attempt_start, responses_save

from .test_consumer import connect, session_cookie

DEVICE = "a" * 32


@pytest.fixture
def attempts(alice, alice_enrolment, bob, bob_enrolment):
    return [attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE),
            attempt_start(candidate=bob, enrolment_id=bob_enrolment.pk, device_id=DEVICE)]


def text_positions(attempt) -> list[int]:
    """Positions answered with text. Each topic draws 10 of its 15 items and only 9 are choice items,
    so every form has at least one text item per topic: two or more in all, whatever the seed."""
    return list(AttemptItem.objects.filter(attempt=attempt, item_version__item__kind__in=[ItemKind.FREE_TEXT, ItemKind.FILL_IN])
                .order_by("position").values_list("position", flat=True))


def change(attempt, position: int, seq: int, value, *, device: str = DEVICE) -> AnswerChange:
    return AnswerChange(attempt_id=attempt.pk, candidate_id=attempt.candidate_id, device_id=device, position=position,
                        seq=seq, value=value)


def batches() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(kind=BATCH_KIND).order_by("seq"))


@pytest.fixture
def saved(attempts):
    """Two batches: three saves of alice's and bob's, then one of alice's."""
    alice_attempt, bob_attempt = attempts
    first, second = text_positions(alice_attempt)[:2]
    assert all(r.ok for r in responses_save(changes=[
        change(alice_attempt, first, 1, "one"), change(alice_attempt, second, 2, "two ünïcode ✓"),
        change(bob_attempt, text_positions(bob_attempt)[0], 1, "bob's")]))
    assert all(r.ok for r in responses_save(changes=[change(alice_attempt, first, 3, "three")]))
    return attempts


def tamper(sql: str, params: list) -> None:
    """Change the answer log behind the application's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def assert_reported(entry: AuditEntry, words: str) -> None:
    checked, fault = verify_answer_batches()
    assert fault is not None and fault.seq == entry.seq and words in fault.reason, fault
    with pytest.raises(CommandError, match=f"entry #{entry.seq}: .*{words}"):
        call_command("verify_audit")


def test_a_batch_is_one_entry_with_its_counts_range_and_digest(saved):
    alice_attempt, bob_attempt = saved
    first, second = batches()
    rows = list(AnswerLog.objects.order_by("pk").values_list(*ROW_FIELDS))
    assert first.data["saved"] == 3 and second.data["saved"] == 1
    assert first.data["attempts"] == {str(alice_attempt.pk): {"saved": 2, "device": DEVICE[:8]},
                                      str(bob_attempt.pk): {"saved": 1, "device": DEVICE[:8]}}
    assert first.data["refused"] == {}
    assert first.data["log_ids"] == [rows[0][0], rows[2][0]] and second.data["log_ids"] == [rows[3][0]] * 2
    assert first.data["digest"] == rows_digest(rows[:3]) and second.data["digest"] == rows_digest(rows[3:])
    assert first.subject == f"answerlog:{rows[0][0]}-{rows[2][0]}"
    assert first.at == AnswerLog.objects.get(pk=rows[0][0]).received_at


def test_refused_saves_are_in_the_chain(attempts):
    alice_attempt, bob_attempt = attempts
    position = text_positions(alice_attempt)[0]
    results = responses_save(changes=[
        change(alice_attempt, position, 1, "kept"),
        change(alice_attempt, position, 2, "from elsewhere", device="b" * 32),
        change(alice_attempt, 999, 3, "no such item"),
        # Bob's attempt, claimed by alice: refused as not found, and not counted against bob.
        AnswerChange(attempt_id=bob_attempt.pk, candidate_id=alice_attempt.candidate_id, device_id=DEVICE,
                     position=position, seq=1, value="x"),
    ])
    assert [r.code for r in results] == ["saved", "device", "invalid", "not_found"]
    [entry] = batches()
    assert entry.data["saved"] == 1
    assert entry.data["refused"] == {"device": 1, "invalid": 1, "not_found": 1}
    assert entry.data["attempts"] == {str(alice_attempt.pk): {"saved": 1, "refused": {"device": 1, "invalid": 1},
                                                              "device": DEVICE[:8]}}
    assert AttemptEvent.objects.get(kind=AttemptEvent.Kind.SAVE_REFUSED).detail == {"count": 2}
    # A batch with nothing accepted is in the chain too.
    [late] = responses_save(changes=[change(alice_attempt, position, 4, "late")],
                            now=alice_attempt.deadline + timedelta(minutes=5))
    assert late.code == "late"
    assert batches()[-1].data == {"saved": 0, "refused": {"late": 1},
                                  "attempts": {str(alice_attempt.pk): {"saved": 0, "refused": {"late": 1}}}}
    assert verify_answer_batches() == (2, None)


def test_untouched_saves_verify_and_the_chain_still_checks(saved):
    assert verify_chain()[1] is None
    assert verify_answer_batches() == (2, None)
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "answer log matches its 2 sealed batches" in out.getvalue()


def test_an_edited_answer_is_reported_with_its_batch(saved):
    first, _second = batches()
    row = AnswerLog.objects.order_by("pk")[1]
    tamper("UPDATE exams_answerlog SET value = %s WHERE id = %s", ['"forged"', row.pk])
    assert_reported(first, "edited")
    # The chain itself is intact: only the answer check finds it.
    assert verify_chain()[1] is None
    call_command("verify_audit", "--chain-only", stdout=StringIO())


@pytest.mark.parametrize("column, value", [("flagged", True), ("position", 99), ("received_at", "2030-01-01T00:00:00Z")])
def test_any_edited_column_is_reported(saved, column, value):
    _first, second = batches()
    tamper(f"UPDATE exams_answerlog SET {column} = %s WHERE id = %s", [value, second.data["log_ids"][0]])
    assert_reported(second, "edited")


def test_a_deleted_answer_is_reported_with_its_batch(saved):
    alice_attempt, bob_attempt = saved
    first, _second = batches()
    tamper("DELETE FROM exams_answerlog WHERE attempt_id = %s", [bob_attempt.pk])
    assert_reported(first, f"attempt {bob_attempt.pk}: 0 of 1")


def test_an_added_answer_is_reported(saved):
    alice_attempt, _bob_attempt = saved
    row = AnswerLog.objects.order_by("pk").last()
    AnswerLog.objects.create(attempt=alice_attempt, position=row.position, seq=99, value="forged", received_at=row.received_at)
    checked, fault = verify_answer_batches()
    assert fault.seq is None and str(alice_attempt.pk) in fault.reason
    with pytest.raises(CommandError, match="no sealed batch holds"):
        call_command("verify_audit")


def test_the_entry_commits_or_vanishes_with_its_batch(attempts):
    alice_attempt, _ = attempts
    with pytest.raises(RuntimeError), transaction.atomic():
        responses_save(changes=[change(alice_attempt, text_positions(alice_attempt)[0], 1, "gone")])
        raise RuntimeError
    assert batches() == [] and not AnswerLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_interleave_ids_and_still_verify(attempts):
    # Batches of different attempts run at once (on PostgreSQL their answer-log ids may interleave);
    # each batch's range then holds rows of the other, which the check must not count.
    from concurrent.futures import ThreadPoolExecutor

    from django.db import close_old_connections

    def save(n: int) -> None:
        attempt = attempts[n % 2]
        try:
            positions = text_positions(attempt)
            assert all(r.ok for r in responses_save(changes=[
                change(attempt, positions[k % len(positions)], 10 * n + k + 1, f"answer {n}.{k}") for k in range(5)]))
        finally:
            close_old_connections()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(save, range(24)))
    assert len(batches()) == 24 and AnswerLog.objects.count() == 120
    assert verify_chain()[1] is None and verify_answer_batches() == (24, None)


@pytest.mark.django_db(transaction=True)
async def test_saves_from_the_exam_page_socket_are_sealed(attempts, alice):
    alice_attempt, _ = attempts
    session = await sync_to_async(session_cookie)(alice)
    first, second = (await sync_to_async(text_positions)(alice_attempt))[:2]
    ws, connected, _ = await connect(alice_attempt.pk, session=session)
    assert connected
    await ws.receive_json_from(timeout=5)  # state
    await ws.send_json_to({"t": "save", "changes": [{"pos": first, "seq": 1, "value": "from the page"},
                                                    {"pos": second, "seq": 2, "value": "and another"}]})
    ack = await ws.receive_json_from(timeout=5)
    assert [r["ok"] for r in ack["results"]] == [True, True]
    await ws.disconnect()

    entries = await sync_to_async(batches)()
    assert sum(e.data["attempts"].get(str(alice_attempt.pk), {}).get("saved", 0) for e in entries) == 2
    out = StringIO()
    await sync_to_async(call_command)("verify_audit", stdout=out)
    assert "answer log matches" in out.getvalue()
