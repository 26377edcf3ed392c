"""The attempt's life: start, clock, auto-submit, device lock and hand-over (R-TAKE-2, R-TAKE-3, R-FORM-2/3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exams.errors import ExamError
from exams.models import AttemptEvent, AttemptItem, AttemptStatus, ItemKind, ItemStatus, Response
from exams.services import (
    AnswerChange,
    attempt_hand_over,
    attempt_open_on_device,
    attempt_start,
    attempt_submit,
    attempts_submit_overdue,
    practice_attempt_start,
    responses_save,
)
from exams.services.bank import ItemContent, item_revise

from ..factories import enrol, make_bank, make_exam, make_item, make_sitting

DEVICE = "a" * 32


def start(candidate, enrolment, **kw):
    return attempt_start(candidate=candidate, enrolment_id=enrolment.pk, device_id=kw.pop("device", DEVICE), **kw)


def test_start_freezes_a_form_and_is_idempotent(alice, alice_enrolment, exam):
    attempt = start(alice, alice_enrolment)
    assert attempt.items.count() == exam.item_count
    assert attempt.deadline - attempt.started_at == timedelta(minutes=exam.duration_minutes)
    assert start(alice, alice_enrolment, device="b" * 32).pk == attempt.pk
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.STARTED).count() == 1


def test_two_candidates_get_different_forms(alice, bob, alice_enrolment, bob_enrolment):
    a, b = start(alice, alice_enrolment), start(bob, bob_enrolment)
    order = lambda attempt: list(attempt.items.order_by("position").values_list("item_version_id", flat=True))  # noqa: E731
    assert order(a) != order(b)


def test_editing_a_live_item_does_not_change_a_started_form(alice, alice_enrolment):
    attempt = start(alice, alice_enrolment)
    slot = attempt.items.select_related("item_version__item").first()
    item = slot.item_version.item
    assert item.status == ItemStatus.LIVE
    new_version = item_revise(item=item, content=ItemContent(stem="Reworded stem", options=slot.item_version.options,
                                                             key=slot.item_version.key, reason=slot.item_version.reason,
                                                             guide=slot.item_version.guide))
    assert new_version.number == 2
    slot.refresh_from_db()
    assert slot.item_version.number == 1 and slot.item_version.stem != "Reworded stem"


@pytest.mark.parametrize(
    ("starts_in", "late_minutes", "code"),
    [(timedelta(minutes=10), 15, "early"), (timedelta(minutes=-20), 15, "late")],
)
def test_start_outside_the_window_is_refused(alice, exam, room_a, starts_in, late_minutes, code):
    sitting = make_sitting(exam, starts_in=starts_in, late_entry_minutes=late_minutes)
    room = sitting.rooms.create(name="R", seats=5)
    enrolment = enrol(sitting, room, alice)
    with pytest.raises(ExamError) as refused:
        start(alice, enrolment)
    assert refused.value.code == code


def test_start_needs_confirmed_identity(alice, sitting, room_a):
    enrolment = enrol(sitting, room_a, alice, confirmed=False)
    with pytest.raises(ExamError, match="Confirm your name"):
        start(alice, enrolment)


def test_cannot_start_someone_elses_enrolment(bob, alice_enrolment):
    with pytest.raises(ExamError) as refused:
        start(bob, alice_enrolment)
    assert refused.value.code == "not_found"


def test_time_left_counts_down_and_never_goes_negative(alice, alice_enrolment):
    attempt = start(alice, alice_enrolment)
    assert attempt.time_left(attempt.deadline - timedelta(minutes=70)) == timedelta(minutes=70)
    assert attempt.time_left(attempt.deadline + timedelta(hours=1)) == timedelta(0)


def test_clock_submits_only_after_deadline_plus_grace_and_keeps_saved_answers(alice, alice_enrolment, settings):
    attempt = start(alice, alice_enrolment)
    responses_save(changes=[AnswerChange(attempt_id=attempt.pk, candidate_id=alice.pk, device_id=DEVICE, position=1, seq=1, value=None, flagged=True)])
    grace = timedelta(seconds=settings.ANSWER_GRACE_SECONDS)
    assert attempts_submit_overdue(now=attempt.deadline + grace - timedelta(seconds=1)) == []
    assert attempts_submit_overdue(now=attempt.deadline + grace + timedelta(seconds=1)) == [attempt.pk]
    attempt.refresh_from_db()
    # Scoring ran in-process (eager) in the embedded test mode; in Redis mode it is queued.
    assert attempt.status in (AttemptStatus.SUBMITTED, AttemptStatus.SCORED)
    assert attempt.submitted_by == "clock"
    assert attempt.submitted_at == attempt.deadline + grace
    assert Response.objects.filter(attempt=attempt, flagged=True).count() == 1
    assert attempts_submit_overdue(now=attempt.deadline + timedelta(hours=1)) == []


def test_submit_is_final_and_idempotent(alice, alice_enrolment):
    attempt = start(alice, alice_enrolment)
    first = attempt_submit(attempt_id=attempt.pk, by="candidate")
    again = attempt_submit(attempt_id=attempt.pk, by="candidate")
    assert first.submitted_at == again.submitted_at
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.SUBMITTED).count() == 1


def test_second_device_locks_and_staff_hand_over(alice, alice_enrolment, administrator):
    attempt = start(alice, alice_enrolment)
    assert attempt_open_on_device(attempt_id=attempt.pk, device_id=DEVICE).locked_at is None
    locked = attempt_open_on_device(attempt_id=attempt.pk, device_id="b" * 32)
    assert locked.locked_at is not None and locked.pending_device_id == "b" * 32
    assert "second device" in locked.lock_reason
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.DEVICE_REFUSED).count() == 1
    # The same second device reloading is not a new incident.
    attempt_open_on_device(attempt_id=attempt.pk, device_id="b" * 32)
    assert AttemptEvent.objects.filter(attempt=attempt, kind=AttemptEvent.Kind.DEVICE_REFUSED).count() == 1
    with pytest.raises(ExamError):
        attempt_submit(attempt_id=attempt.pk, by="candidate")
    with pytest.raises(ExamError, match="reason"):
        attempt_hand_over(attempt_id=attempt.pk, by=administrator, to_new_device=True, reason=" ")
    moved = attempt_hand_over(attempt_id=attempt.pk, by=administrator, to_new_device=True, reason="laptop broke; ID checked")
    assert (moved.device_id, moved.locked_at) == ("b" * 32, None)
    event = AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.HANDED_OVER)
    assert event.actor == administrator and event.detail["reason"] == "laptop broke; ID checked"


def test_practice_is_open_before_the_day_only(alice, db):
    topics = make_bank(topics=1, per_kind=2, is_sample=True)
    practice = make_exam(topics, per_topic=5, is_practice=True, code="practice")
    real = make_exam(make_bank(topics=1, per_kind=2), per_topic=5, code="real")
    future = make_sitting(real, starts_in=timedelta(days=7), practice_exam=practice)
    enrol(future, future.rooms.create(name="R"), alice)
    attempt = practice_attempt_start(candidate=alice, exam_id=practice.pk, device_id=DEVICE)
    assert attempt.is_practice and attempt.items.count() == 5
    assert all(s.item_version.item.is_sample for s in AttemptItem.objects.filter(attempt=attempt).select_related("item_version__item"))
    future.starts_at = timezone.now() - timedelta(minutes=1)
    future.save()
    with pytest.raises(ExamError):
        practice_attempt_start(candidate=alice, exam_id=practice.pk, device_id=DEVICE)


def test_real_exam_never_draws_sample_items(alice, alice_enrolment, exam):
    for entry in exam.blueprint.select_related("topic"):
        for n in range(100, 110):
            make_item(entry.topic, ItemKind.SINGLE, n, is_sample=True)
    attempt = start(alice, alice_enrolment)
    assert not AttemptItem.objects.filter(attempt=attempt, item_version__item__is_sample=True).exists()


def test_the_cached_drawing_pool_follows_bank_changes(alice, bob, alice_enrolment, bob_enrolment, exam,
                                                     django_capture_on_commit_callbacks):
    from exams.models import Item
    from exams.services import item_update_metadata

    first = start(alice, alice_enrolment)
    drawn = set(first.items.values_list("item_version__item_id", flat=True))
    # The generation changes when the bank change commits (the test's transaction never does).
    with django_capture_on_commit_callbacks(execute=True):
        for item in Item.objects.filter(pk__in=drawn):
            item_update_metadata(item=item, status=ItemStatus.RETIRED)
    # The bank now has fewer live items than the blueprint needs: the cached pool must not hide that.
    with pytest.raises(ExamError, match="cannot be started"):
        start(bob, bob_enrolment)


def test_an_uncommitted_bank_change_does_not_reach_other_starts(alice, alice_enrolment, exam):
    from exams import form_cache

    before = form_cache.bank_generation()
    from exams.models import Item
    from exams.services import item_update_metadata

    item_update_metadata(item=Item.objects.first(), status=ItemStatus.RETIRED)
    assert form_cache.bank_generation() == before, "bumped before commit: another process could cache the old bank"
