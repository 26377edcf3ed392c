"""Answer saves (R-TAKE-4): retries and reordering never lose the newest answer; refusals say why."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exams.models import AnswerLog, AttemptItem, ItemKind, Response
from exams.services import (
    AnswerChange,
    attempt_open_on_device,
    attempt_start,
    attempt_submit,
    responses_save,
)

DEVICE = "a" * 32


@pytest.fixture
def attempt(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


def position_of(attempt, kind: str) -> int:
    return AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=kind).values_list("position", flat=True).first()


def change(attempt, position, seq, value, **kw) -> AnswerChange:
    return AnswerChange(attempt_id=attempt.pk, candidate_id=attempt.candidate_id, device_id=kw.pop("device", DEVICE),
                        position=position, seq=seq, value=value, **kw)


def stored(attempt, position):
    return Response.objects.get(attempt=attempt, attempt_item__position=position)


def test_choice_answer_is_stored_as_option_ids_not_display_indexes(attempt):
    position = position_of(attempt, ItemKind.SINGLE)
    slot = AttemptItem.objects.get(attempt=attempt, position=position)
    [result] = responses_save(changes=[change(attempt, position, 1, [2])])
    assert result.ok
    assert stored(attempt, position).value == [slot.option_order[2]]
    attempt.refresh_from_db()
    assert attempt.last_seq == 1
    assert AnswerLog.objects.filter(attempt=attempt).count() == 1


def test_an_older_change_never_overwrites_a_newer_one(attempt):
    position = position_of(attempt, ItemKind.FREE_TEXT)
    responses_save(changes=[change(attempt, position, 7, "newest")])
    [late_old] = responses_save(changes=[change(attempt, position, 5, "older")])
    [retry] = responses_save(changes=[change(attempt, position, 7, "newest")])
    assert late_old.ok and retry.ok  # the page may forget them: the server holds something newer
    assert stored(attempt, position).value == "newest"
    assert stored(attempt, position).seq == 7


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_of_delivery_with_duplicates_keeps_the_newest(attempt, data):
    positions = [position_of(attempt, ItemKind.FILL_IN), position_of(attempt, ItemKind.FREE_TEXT)]
    base = (attempt.last_seq or 0) + 1
    sent = [change(attempt, data.draw(st.sampled_from(positions)), base + i, f"v{base + i}") for i in range(data.draw(st.integers(1, 12)))]
    deliveries = sent + data.draw(st.lists(st.sampled_from(sent), max_size=8))  # retries
    deliveries = data.draw(st.permutations(deliveries))  # reordering
    batches, rest = [], list(deliveries)
    while rest:
        size = data.draw(st.integers(1, len(rest)))
        batches.append(rest[:size])
        rest = rest[size:]
    for batch in batches:
        assert all(r.ok for r in responses_save(changes=batch))
    for position in positions:
        newest = max((c for c in sent if c.position == position), key=lambda c: c.seq, default=None)
        if newest is not None:
            assert stored(attempt, position).value == newest.value
            assert stored(attempt, position).seq == newest.seq
    attempt.refresh_from_db()
    assert attempt.last_seq == max(c.seq for c in sent)


def test_late_answer_is_refused_with_the_reason(attempt, settings):
    position = position_of(attempt, ItemKind.SINGLE)
    after_grace = attempt.deadline + timedelta(seconds=settings.ANSWER_GRACE_SECONDS + 1)
    [result] = responses_save(changes=[change(attempt, position, 1, [0])], now=after_grace)
    assert not result.ok and result.code == "late"
    assert "Time ran out at" in result.reason and "was not saved" in result.reason
    assert not Response.objects.filter(attempt=attempt).exists()


def test_answer_in_flight_at_the_deadline_is_accepted_within_grace(attempt):
    position = position_of(attempt, ItemKind.SINGLE)
    [result] = responses_save(changes=[change(attempt, position, 1, [0])], now=attempt.deadline + timedelta(seconds=1))
    assert result.ok


def test_answers_after_submission_are_refused(attempt):
    position = position_of(attempt, ItemKind.SINGLE)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    [result] = responses_save(changes=[change(attempt, position, 1, [0])])
    assert (result.ok, result.code) == (False, "submitted")
    assert "submitted at" in result.reason


def test_another_device_and_a_locked_attempt_are_refused(attempt):
    position = position_of(attempt, ItemKind.SINGLE)
    [other] = responses_save(changes=[change(attempt, position, 1, [0], device="b" * 32)])
    assert (other.ok, other.code) == (False, "device")
    attempt_open_on_device(attempt_id=attempt.pk, device_id="b" * 32)
    [first] = responses_save(changes=[change(attempt, position, 2, [0])])
    assert (first.ok, first.code) == (False, "locked")
    assert "second device" in first.reason


def test_someone_elses_attempt_is_not_found(attempt, bob):
    position = position_of(attempt, ItemKind.SINGLE)
    bad = AnswerChange(attempt_id=attempt.pk, candidate_id=bob.pk, device_id=DEVICE, position=position, seq=1, value=[0])
    [result] = responses_save(changes=[bad])
    assert (result.ok, result.code) == (False, "not_found")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ItemKind.SINGLE, [0, 1]),        # two options on a single-answer item
        (ItemKind.CAUSE_EFFECT, [0, 2]),
        (ItemKind.SINGLE, [5]),           # no sixth option
        (ItemKind.MULTIPLE, [1, 1]),
        (ItemKind.MULTIPLE, "A"),
        (ItemKind.SINGLE, [True]),
        (ItemKind.FILL_IN, ["x"]),
        (ItemKind.FILL_IN, "x" * 501),
        (ItemKind.FREE_TEXT, 42),
    ],
)
def test_malformed_values_are_refused(attempt, kind, value):
    [result] = responses_save(changes=[change(attempt, position_of(attempt, kind), 1, value)])
    assert (result.ok, result.code) == (False, "invalid")


def test_unknown_position_and_bad_sequence_are_refused(attempt):
    [no_item, no_seq] = responses_save(changes=[change(attempt, 999, 1, [0]), change(attempt, 1, 0, None)])
    assert (no_item.ok, no_item.code) == (False, "invalid")
    assert (no_seq.ok, no_seq.code) == (False, "invalid")


def test_clearing_an_answer_and_flagging_are_changes_too(attempt):
    position = position_of(attempt, ItemKind.MULTIPLE)
    responses_save(changes=[change(attempt, position, 1, [0, 3])])
    responses_save(changes=[change(attempt, position, 2, [], flagged=True)])
    response = stored(attempt, position)
    assert response.value is None and response.flagged


def test_one_batch_serves_many_candidates(alice, bob, alice_enrolment, bob_enrolment):
    a = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    b = attempt_start(candidate=bob, enrolment_id=bob_enrolment.pk, device_id="c" * 32)
    changes = [change(a, p, p, None) for p in range(1, 5)]
    changes += [AnswerChange(attempt_id=b.pk, candidate_id=bob.pk, device_id="c" * 32, position=p, seq=p, value=None) for p in range(1, 5)]
    random.Random(1).shuffle(changes)
    results = responses_save(changes=changes, now=timezone.now())
    assert [r.seq for r in results] == [c.seq for c in changes]
    assert all(r.ok for r in results)
    assert a.responses.count() == 4 and b.responses.count() == 4


@pytest.mark.parametrize("text", ["nul \x00 inside", "lone \ud800 surrogate"])
def test_text_the_database_cannot_store_is_refused_alone(attempt, text):
    free = position_of(attempt, ItemKind.FREE_TEXT)
    fill = position_of(attempt, ItemKind.FILL_IN)
    bad, good = responses_save(changes=[change(attempt, free, 1, text), change(attempt, fill, 2, "fine")])
    assert (bad.ok, bad.code) == (False, "invalid")
    assert good.ok and stored(attempt, fill).value == "fine"


def test_a_sequence_number_beyond_bigint_is_refused(attempt):
    [result] = responses_save(changes=[change(attempt, 1, 2**63, None)])
    assert (result.ok, result.code) == (False, "invalid")


def test_lateness_is_judged_by_arrival_not_by_when_the_batch_is_written(attempt, settings):
    position = position_of(attempt, ItemKind.SINGLE)
    arrived = attempt.deadline + timedelta(seconds=settings.ANSWER_GRACE_SECONDS - 1)
    written = attempt.deadline + timedelta(seconds=settings.ANSWER_GRACE_SECONDS + 2)
    [result] = responses_save(changes=[change(attempt, position, 1, [0], received_at=arrived)], now=written)
    assert result.ok
