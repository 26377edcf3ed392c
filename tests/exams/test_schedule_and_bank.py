"""Scheduling refuses a blueprint the bank cannot fill (R-FORM-1); bank edits make versions (R-BANK-2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from exams.admin import ItemForm, SittingForm
from exams.errors import ExamError
from exams.models import BlueprintEntry, Item, ItemKind, ItemStatus
from exams.services import sitting_check_blueprint
from exams.services.bank import ItemContent, item_revise

from ..factories import make_bank, make_exam


def sitting_form(exam) -> SittingForm:
    start = timezone.localtime(timezone.now() + timedelta(days=3))
    return SittingForm(data={"exam": exam.pk, "name": "Autumn", "starts_at": start.strftime("%Y-%m-%d %H:%M:%S"),
                             "entry_opens_minutes": 30, "late_entry_minutes": 15})


def test_a_fillable_blueprint_can_be_scheduled(exam):
    sitting_check_blueprint(exam=exam)
    assert sitting_form(exam).is_valid()


def test_a_blueprint_the_bank_cannot_fill_is_refused_at_scheduling(db):
    topics = make_bank(topics=1, per_kind=2)  # 10 live items
    exam = make_exam(topics, per_topic=11)
    with pytest.raises(ExamError, match="cannot fill the blueprint"):
        sitting_check_blueprint(exam=exam)
    form = sitting_form(exam)
    assert not form.is_valid()
    assert "needs 11 items, the bank has 10" in str(form.errors)


def test_a_blueprint_that_does_not_add_up_is_refused(exam):
    BlueprintEntry.objects.filter(exam=exam).first().delete()
    with pytest.raises(ExamError, match="draws 10 items; the exam has 20"):
        sitting_check_blueprint(exam=exam)


def test_retired_and_draft_items_do_not_count(db):
    topics = make_bank(topics=1, per_kind=2)  # 10 live items
    exam = make_exam(topics, per_topic=10)
    sitting_check_blueprint(exam=exam)
    first = Item.objects.filter(topic=topics[0]).order_by("pk").first()
    Item.objects.filter(pk=first.pk).update(status=ItemStatus.RETIRED)
    with pytest.raises(ExamError):
        sitting_check_blueprint(exam=exam)


def test_admin_edit_of_a_live_item_makes_a_new_version(exam, administrator):
    item = Item.objects.filter(kind=ItemKind.SINGLE, status=ItemStatus.LIVE).first()
    data = {"code": item.code, "topic": item.topic_id, "kind": item.kind, "status": item.status, "difficulty": item.difficulty,
            "stem": "A clearer stem?", "option_a": "a", "option_b": "b", "option_c": "c", "option_d": "d", "option_e": "e", "key": "D",
            # The read-only versions inline still sends its management form.
            "versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1", "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(item.current_version_id), "versions-0-item": str(item.pk)}
    client = Client()
    client.force_login(administrator)
    response = client.post(f"/admin/exams/item/{item.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.current_version.number == 2 and item.current_version.key == ["D"]
    assert item.versions.get(number=1).stem != "A clearer stem?"


def test_admin_form_refuses_bad_content_with_the_reason(exam):
    item = Item.objects.filter(kind=ItemKind.SINGLE).first()
    form = ItemForm(instance=item, data={"code": item.code, "topic": item.topic_id, "kind": item.kind, "status": item.status,
                                         "difficulty": item.difficulty, "stem": "Stem", "option_a": "a", "option_b": "b",
                                         "option_c": "c", "option_d": "d", "option_e": "e", "key": "A, B"})
    assert not form.is_valid()
    assert "exactly one right option" in str(form.errors)


def test_a_draft_item_is_edited_in_place(db):
    topics = make_bank(topics=1, per_kind=1)
    item = Item.objects.filter(topic=topics[0], kind=ItemKind.FREE_TEXT).first()
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.DRAFT)
    item.refresh_from_db()
    version = item_revise(item=item, content=ItemContent(stem="Discuss again.", guide="new guide"))
    assert version.number == 1 and item.versions.count() == 1
