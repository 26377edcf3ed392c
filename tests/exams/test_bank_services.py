"""Bank services for an item's bookkeeping and for topics (R-BANK-2): what the importer writes through."""

from __future__ import annotations

import pytest

from exams.errors import ExamError
from exams.models import Difficulty, Item, ItemKind, ItemStatus, Topic
from exams.services import item_update_metadata, topic_get_or_create

from ..factories import TopicFactory, make_item


@pytest.fixture
def item(db):
    return make_item(TopicFactory(code="surgery"), ItemKind.SINGLE, 1, status=ItemStatus.DRAFT)


def test_item_update_metadata_sets_only_what_it_is_given_and_keeps_the_wording(item):
    ethics = TopicFactory(code="ethics")
    version, updated_at = item.current_version, item.updated_at

    returned = item_update_metadata(item=item, status=ItemStatus.LIVE, topic=ethics)

    stored = Item.objects.get(pk=item.pk)
    assert returned == stored
    assert (stored.status, stored.topic, stored.difficulty, stored.is_sample) == (
        ItemStatus.LIVE,
        ethics,
        Difficulty.MEDIUM,
        False,
    )
    assert stored.current_version == version and stored.versions.count() == 1
    assert stored.updated_at > updated_at


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "published"}, "Unknown status 'published'"),
        ({"difficulty": "brutal"}, "Unknown difficulty 'brutal'"),
        ({"is_sample": "yes"}, "sample flag must be true or false"),
    ],
)
def test_item_update_metadata_refuses_a_value_the_bank_does_not_know(item, changes, message):
    with pytest.raises(ExamError, match=message):
        item_update_metadata(item=item, **changes)
    stored = Item.objects.get(pk=item.pk)
    assert (stored.status, stored.difficulty, stored.is_sample) == (
        ItemStatus.DRAFT,
        Difficulty.MEDIUM,
        False,
    )


def test_topic_get_or_create_keeps_an_existing_topic_and_refuses_a_bad_new_code(db):
    surgery = TopicFactory(code="surgery", name="Surgery")

    assert topic_get_or_create(code="surgery", name="Another name") == surgery
    assert Topic.objects.get(code="surgery").name == "Surgery"  # an import never renames a topic
    ethics = topic_get_or_create(code="ethics", name="Ethics")
    assert (ethics.code, ethics.name) == ("ethics", "Ethics") and ethics.pk is not None
    with pytest.raises(ExamError, match="letters, digits"):
        topic_get_or_create(code="law and ethics", name="Law")
    assert not Topic.objects.filter(name="Law").exists()
