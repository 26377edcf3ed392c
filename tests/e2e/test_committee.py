"""The chair's page in Chromium: publishing waits for the sitting to close (issue 10, point 11), and
markers are assigned to many items in one submit (issue 10, point 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exams.models import BlueprintEntry, Exam, ItemKind, Sitting
from exams.services import attempt_start, attempt_submit
from grading.models import ItemScore, MarkingAssignment, ResultPublication
from grading.services import assignment_set, attempt_score, mark_submit
from tests.e2e.axe import axe_violations
from tests.factories import (
    TopicFactory,
    UserFactory,
    answer_every_item,
    enrol,
    grant,
    make_bank,
    make_exam,
    make_item,
    make_sitting,
)

pytestmark = pytest.mark.e2e
DEVICE = "e" * 32


def sit(sitting, room, username):
    """A candidate sits the exam: every answer given, handed in, machine-scored."""
    candidate = UserFactory(username=username)
    attempt = attempt_start(
        candidate=candidate, enrolment_id=enrol(sitting, room, candidate).pk, device_id=DEVICE
    )
    answer_every_item(
        attempt,
        lambda slot: (
            "An answer for the committee."
            if slot.item_version.item.kind in (ItemKind.FREE_TEXT, ItemKind.FILL_IN)
            else [0]
        ),
    )
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    attempt_score(attempt_id=attempt.pk)
    return attempt


def test_the_chair_cannot_publish_while_a_candidate_can_still_start(
    live_server_proc, new_context, login, screenshot, transactional_db
):
    """Issue 10, point 11: the chair publishes too early → refused with the reason; after the sitting
    closes → published, and the confirmation says in words what it counts (point 13)."""
    exam = make_exam(make_bank(topics=1, per_kind=1), per_topic=5)
    sitting = make_sitting(exam)  # started a minute ago; entry open for an hour
    room = sitting.rooms.create(name="Room A")
    attempt = sit(sitting, room, "alice")
    late = UserFactory(username="bob")
    enrol(sitting, room, late)  # enrolled, not started yet: may still enter
    markers = [grant(UserFactory(username=f"marker{n}"), "grading", "mark_answers") for n in (1, 2)]
    chair = grant(UserFactory(username="chair"), "grading", "chair_marking")
    for score in ItemScore.objects.filter(attempt=attempt, method="committee").select_related(
        "attempt_item__item_version"
    ):
        for marker in markers:
            assignment_set(
                sitting_id=sitting.pk,
                item_id=score.attempt_item.item_version.item_id,
                user=marker,
                role="marker",
                assigned=True,
                by=chair,
            )
            mark_submit(item_score_id=score.pk, marker=marker, points=score.max_points)

    page = new_context().new_page()
    login(page, "chair")
    page.goto(f"{live_server_proc.url}/grading/sittings/{sitting.pk}/")
    expect(page.get_by_test_id("awaiting-marks")).to_have_text("0")
    expect(page.get_by_test_id("still-open")).to_contain_text("1 candidate can still start.")
    expect(page.get_by_test_id("still-open")).to_contain_text("You can publish from")
    page.get_by_test_id("publish").click()
    expect(page.locator(".messages")).to_contain_text(
        "Not yet: people can still start or write in this sitting."
    )
    expect(page.locator(".messages")).to_contain_text("1 candidate can still start.")
    screenshot(page, "chair-publish-refused", full_page=True)
    assert not ResultPublication.objects.exists()

    # The sitting closes: its entry window ended two hours ago, bob never came.
    Sitting.objects.filter(pk=sitting.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    page.reload()
    expect(page.get_by_test_id("still-open")).to_have_count(0)
    page.get_by_test_id("publish").click()
    expect(page.locator(".messages")).to_contain_text(
        "Results published for 1 attempt, every one scored: 0 passed."
    )
    expect(page.locator(".messages")).to_contain_text("2 of 2 committee answers marked.")
    expect(page.get_by_test_id("publication")).to_contain_text("Published")
    screenshot(page, "chair-published", full_page=True)
    assert ResultPublication.objects.filter(sitting=sitting).exists()


def test_the_chair_assigns_fifteen_items_in_one_submit(
    live_server_proc, new_context, login, screenshot, transactional_db
):
    """Issue 10, point 12: 15 committee items, three markers and an adjudicator, one submit (was 45)."""
    topic = TopicFactory()
    for n in range(8):
        make_item(topic, ItemKind.FREE_TEXT, n)
    for n in range(7):
        make_item(topic, ItemKind.FILL_IN, n)
    exam = Exam.objects.create(code="committee-15", title="Specialist grade exam", item_count=15)
    BlueprintEntry.objects.create(exam=exam, topic=topic, count=15)
    sitting = make_sitting(exam)
    room = sitting.rooms.create(name="Room A")
    for name in ("alice", "carol"):
        sit(sitting, room, name)
    markers = [
        grant(
            UserFactory(username=f"marker{n}", first_name=f"Marker{n}"), "grading", "mark_answers"
        )
        for n in (1, 2, 3)
    ]
    grant(UserFactory(username="judge", first_name="Judge"), "grading", "adjudicate")
    grant(UserFactory(username="chair"), "grading", "chair_marking")
    # One item already has a marker who marked an answer: kept, and counted in the split.
    first_item = (
        ItemScore.objects.filter(attempt__enrolment__sitting=sitting, method="committee")
        .select_related("attempt_item__item_version")
        .first()
    )
    assignment_set(
        sitting_id=sitting.pk,
        item_id=first_item.attempt_item.item_version.item_id,
        user=markers[0],
        role="marker",
        assigned=True,
        by=markers[0],
    )
    mark_submit(item_score_id=first_item.pk, marker=markers[0], points=0)

    page = new_context().new_page()
    login(page, "chair")
    page.goto(f"{live_server_proc.url}/grading/sittings/{sitting.pk}/")
    form = page.get_by_test_id("bulk-assign")
    expect(form.get_by_role("checkbox", checked=True)).to_have_count(
        15
    )  # every item chosen by default
    for name in ("marker1", "marker2", "marker3"):
        form.get_by_test_id("markers").get_by_label(name, exact=False).check()
    form.get_by_test_id("adjudicators").get_by_label("judge", exact=False).check()
    expect(form.get_by_label("Balanced", exact=False)).to_be_checked()
    screenshot(page, "chair-bulk-assign", full_page=True)
    form.get_by_test_id("bulk-assign-submit").click()
    expect(page.locator(".messages")).to_contain_text("44 assignments added.")
    rows = MarkingAssignment.objects.filter(sitting=sitting)
    assert rows.count() == 45
    items = set(rows.values_list("item_id", flat=True))
    assert len(items) == 15
    for item in items:
        on_item = rows.filter(item_id=item)
        item_markers = set(on_item.filter(role="marker").values_list("user_id", flat=True))
        assert len(item_markers) == 2
        assert on_item.filter(role="adjudicator").exclude(user_id__in=item_markers).count() == 1
    loads = [rows.filter(role="marker", user=m).count() for m in markers]
    assert sorted(loads) == [10, 10, 10]
    expect(page.get_by_test_id("progress")).to_contain_text("marker3 (Marker)")
    # The flash messages sit outside a landmark in base.html (not this page's); the rest is clean.
    assert axe_violations(page, exclude=(".messages",)) == []


def test_a_refused_key_correction_keeps_what_was_typed_in_the_page(
    live_server_proc, new_context, login, screenshot, transactional_db
):
    """Issue 10, point 13: the refusal is shown beside the form, which keeps the code, action, keys and reason."""
    topic = TopicFactory()
    item = make_item(topic, ItemKind.SINGLE, 1)
    grant(UserFactory(username="keys"), "grading", "correct_keys")
    page = new_context().new_page()
    login(page, "keys")
    page.goto(f"{live_server_proc.url}/grading/corrections/")
    page.get_by_test_id("item-code").fill(item.code)
    page.get_by_label("Accept several answers").check()
    page.get_by_test_id("keys").fill("Z | Q")
    reason = "Two options are defensible after the 2025 guideline"
    page.get_by_test_id("reason").fill(reason)
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_test_id("correction-error")).to_contain_text(
        "A key must name options of the item."
    )
    expect(page.get_by_test_id("item-code")).to_have_value(item.code)
    expect(page.get_by_test_id("keys")).to_have_value("Z | Q")
    expect(page.get_by_test_id("reason")).to_have_value(reason)
    expect(page.get_by_label("Accept several answers")).to_be_checked()
    screenshot(page, "correction-refused-kept")
    assert axe_violations(page) == []
