"""Object graphs for tests: a bank that can fill a blueprint, an exam, a sitting, personas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from exams.models import (
    AttemptItem,
    BlueprintEntry,
    Enrolment,
    Exam,
    ItemKind,
    ItemStatus,
    Room,
    Sitting,
    Topic,
)
from exams.services import AnswerChange, responses_save
from exams.services.bank import ItemContent, item_create

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Given{n}")
    last_name = factory.Sequence(lambda n: f"Family{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    code = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"Topic {n}")


# Texts that mark what must never reach a candidate's browser (see test_no_key_leaks).
KEY_MARK = "KEYMARK"
GUIDE_MARK = "GUIDEMARK"


def make_item(
    topic: Topic, kind: str, n: int, *, status: str = ItemStatus.LIVE, is_sample: bool = False
):
    options = [{"id": letter, "text": f"Option {letter} of item {n}"} for letter in "ABCDE"]
    content = {
        ItemKind.SINGLE: ItemContent(stem=f"Single item {n}?", options=options, key=["B"]),
        ItemKind.MULTIPLE: ItemContent(stem=f"Multiple item {n}?", options=options, key=["A", "D"]),
        ItemKind.CAUSE_EFFECT: ItemContent(
            stem=f"Assertion {n}.", reason=f"Reason {n}.", key=["C"]
        ),
        ItemKind.FILL_IN: ItemContent(stem=f"Fill in {n}: ____", key=[f"{KEY_MARK}-answer-{n}"]),
        ItemKind.FREE_TEXT: ItemContent(
            stem=f"Discuss {n}.", guide=f"{GUIDE_MARK} expects points {n}"
        ),
    }[kind]
    return item_create(
        code=f"{topic.code}-{kind}-{n}",
        topic=topic,
        kind=kind,
        content=content,
        status=status,
        is_sample=is_sample,
    )


def make_bank(*, topics: int = 2, per_kind: int = 3, is_sample: bool = False) -> list[Topic]:
    """Return topics, each with `per_kind` live items of every kind."""
    made = []
    for _t in range(topics):
        topic = TopicFactory()
        for kind in ItemKind.values:
            for n in range(per_kind):
                make_item(topic, kind, n, is_sample=is_sample)
        made.append(topic)
    return made


def make_exam(
    topics: list[Topic],
    *,
    per_topic: int,
    duration_minutes: int = 100,
    is_practice: bool = False,
    code: str | None = None,
) -> Exam:
    exam = Exam.objects.create(
        code=code or f"exam-{Exam.objects.count() + 1}",
        title="Specialist grade exam",
        item_count=per_topic * len(topics),
        duration_minutes=duration_minutes,
        is_practice=is_practice,
    )
    for topic in topics:
        BlueprintEntry.objects.create(exam=exam, topic=topic, count=per_topic)
    return exam


def make_sitting(
    exam: Exam,
    *,
    starts_in: timedelta = timedelta(minutes=-1),
    practice_exam: Exam | None = None,
    late_entry_minutes: int = 60,
    proctored: bool = False,
    start_code_required: bool = False,
) -> Sitting:
    """Return a sitting; unproctored unless asked, so delivery tests need no check-in first."""
    return Sitting.objects.create(
        exam=exam,
        practice_exam=practice_exam,
        name="Spring sitting",
        starts_at=timezone.now() + starts_in,
        late_entry_minutes=late_entry_minutes,
        proctored=proctored,
        start_code_required=start_code_required,
    )


def enrol(
    sitting: Sitting, room: Room, candidate, *, confirmed: bool = True, n: int = 1
) -> Enrolment:
    return Enrolment.objects.create(
        sitting=sitting,
        room=room,
        candidate=candidate,
        ticket_number=f"T-{candidate.pk}-{n}",
        seat=str(candidate.pk),
        grade="Specialist surgeon, second grade",
        identity_confirmed_at=timezone.now() if confirmed else None,
    )


def answer_every_item(attempt, value_for: Callable[[AttemptItem], Any]) -> None:
    """Save an answer to every item of a started attempt, from its own device: `value_for(slot)`
    gives each (option positions for a choice item, text otherwise)."""
    slots = (
        AttemptItem.objects.filter(attempt=attempt)
        .select_related("item_version__item")
        .order_by("position")
    )
    changes = [
        AnswerChange(
            attempt_id=attempt.pk,
            candidate_id=attempt.candidate_id,
            device_id=attempt.device_id,
            position=slot.position,
            seq=seq,
            value=value_for(slot),
        )
        for seq, slot in enumerate(slots, start=1)
    ]
    assert all(result.ok for result in responses_save(changes=changes))


def right_answer(slot: AttemptItem) -> Any:
    """The keyed answer of a slot as the candidate gives it: the key's option positions, or its first text."""
    if slot.item_version.item.kind in (ItemKind.FREE_TEXT, ItemKind.FILL_IN):
        return slot.item_version.key[0] if slot.item_version.key else ""
    return sorted(slot.option_order.index(option) for option in slot.item_version.key)


def grant(user, app_label: str, *codenames: str):
    """Give `user` the permissions `codenames` of `app_label`; return a fresh copy of the user.

    Fresh, because Django caches a user's permissions on the object it first checked them on.
    """
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )
    return type(user).objects.get(pk=user.pk)
