"""Reads of the committee's pages: queues, the blind answer, progress, a candidate's result."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet

from exams.models import Attempt, Response, Sitting

from .anonymity import anonymous_code, answer_token, queue_key, token_matches
from .models import AttemptScore, ItemScore, MarkingAssignment, ResultPublication


def answers_to_mark(user: AbstractBaseUser, sitting_id: int, item_id: int) -> QuerySet[ItemScore]:
    """Return the answers of an item this marker may mark now: open, fewer than two marks, not theirs."""
    return (
        ItemScore.objects.filter(
            attempt__enrolment__sitting_id=sitting_id,
            attempt_item__item_version__item_id=item_id,
            method=ItemScore.Method.COMMITTEE,
            marking=ItemScore.Marking.OPEN,
        )
        .annotate(n_marks=Count("marks"))
        .filter(n_marks__lt=2)
        .exclude(marks__marker=user)
    )


def answers_to_adjudicate(
    user: AbstractBaseUser, sitting_id: int, item_id: int
) -> QuerySet[ItemScore]:
    """Return the answers of an item waiting for adjudication that this person did not mark."""
    return ItemScore.objects.filter(
        attempt__enrolment__sitting_id=sitting_id,
        attempt_item__item_version__item_id=item_id,
        method=ItemScore.Method.COMMITTEE,
        marking=ItemScore.Marking.ADJUDICATION,
    ).exclude(marks__marker=user)


def next_in_queue(user: AbstractBaseUser, answers: QuerySet[ItemScore]) -> ItemScore | None:
    """Return the answer this person gets next: in a keyed-hash order of their own, which says
    nothing of the attempt it belongs to (issue 10, point 16)."""
    ids = list(answers.values_list("pk", flat=True))
    if not ids:
        return None
    first = min(ids, key=lambda pk: queue_key(pk, user_id=user.pk))
    return ItemScore.objects.select_related("attempt_item__item_version__item").get(pk=first)


def answer_for_token(
    user: AbstractBaseUser, token: str, sitting_id: int, item_id: int, *, purpose: str
) -> int | None:
    """Return the id of the committee answer of this item that `token` names for this person, or None."""
    ids = ItemScore.objects.filter(
        attempt__enrolment__sitting_id=sitting_id,
        attempt_item__item_version__item_id=item_id,
        method=ItemScore.Method.COMMITTEE,
    ).values_list("pk", flat=True)
    return next(
        (pk for pk in ids if token_matches(token, pk, user_id=user.pk, purpose=purpose)), None
    )


def marking_queue(
    user: AbstractBaseUser, role: str = MarkingAssignment.Role.MARKER
) -> list[dict[str, Any]]:
    """Return, per assigned item of an unpublished sitting, how many answers wait for this person."""
    rows = []
    assignments = (
        MarkingAssignment.objects.filter(user=user, role=role, sitting__publication__isnull=True)
        .select_related("sitting", "item")
        .order_by("sitting__starts_at", "item__code")
    )
    for assignment in assignments:
        if role == MarkingAssignment.Role.MARKER:
            waiting = answers_to_mark(user, assignment.sitting_id, assignment.item_id).count()
        else:
            waiting = answers_to_adjudicate(user, assignment.sitting_id, assignment.item_id).count()
        rows.append({"assignment": assignment, "waiting": waiting})
    return rows


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class BlindAnswer:
    """What a marker sees of an answer: never the candidate, only the anonymous code."""

    item_score: ItemScore
    token: str  # what the form posts: opaque, bound to this person (never the row's sequential id)
    code: str
    stem: str
    guide: str
    accepted: list[str]
    answer: str
    matches_accepted: str | None  # the accepted answer it matches, as a hint; a person decides


def blind_answer(score: ItemScore, user: AbstractBaseUser, *, purpose: str = "mark") -> BlindAnswer:
    version = score.attempt_item.item_version
    value = (
        Response.objects.filter(attempt_item_id=score.attempt_item_id)
        .values_list("value", flat=True)
        .first()
    )
    answer = value if isinstance(value, str) else ""
    accepted = [str(a) for a in (version.key or [])] if version.item.kind == "fill_in" else []
    match = next((a for a in accepted if answer and normalised(a) == normalised(answer)), None)
    return BlindAnswer(
        item_score=score,
        token=answer_token(score.pk, user_id=user.pk, purpose=purpose),
        code=anonymous_code(score.attempt_id),
        stem=version.stem,
        guide=version.guide,
        accepted=accepted,
        answer=answer,
        matches_accepted=match,
    )


def sitting_progress(sitting: Sitting) -> dict[str, Any]:
    """Return the chair's view: per item its answers by marking state, and per person the marks given."""
    scores = ItemScore.objects.filter(
        attempt__enrolment__sitting=sitting,
        attempt__is_practice=False,
        method=ItemScore.Method.COMMITTEE,
    )
    per_item = (
        scores.values(
            "attempt_item__item_version__item_id",
            "attempt_item__item_version__item__code",
            "attempt_item__item_version__item__kind",
        )
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(marking=ItemScore.Marking.OPEN)),
            adjudication=Count("pk", filter=Q(marking=ItemScore.Marking.ADJUDICATION)),
            resolved=Count("pk", filter=Q(marking=ItemScore.Marking.RESOLVED)),
        )
        .order_by("attempt_item__item_version__item__code")
    )
    assigned = defaultdict(list)
    for a in (
        MarkingAssignment.objects.filter(sitting=sitting)
        .select_related("user")
        .order_by("user__username")
    ):
        assigned[a.item_id].append(a)
    items = [
        {
            "id": row["attempt_item__item_version__item_id"],
            "code": row["attempt_item__item_version__item__code"],
            "kind": row["attempt_item__item_version__item__kind"],
            "total": row["total"],
            "open": row["open"],
            "adjudication": row["adjudication"],
            "resolved": row["resolved"],
            "assigned": assigned.get(row["attempt_item__item_version__item_id"], []),
        }
        for row in per_item
    ]
    per_marker = (
        scores.values("marks__marker__username")
        .exclude(marks__marker__isnull=True)
        .annotate(marks=Count("marks"))
        .order_by("marks__marker__username")
    )
    return {"items": items, "markers": list(per_marker)}


def published_result(attempt: Attempt) -> dict[str, Any] | None:
    """Return the candidate's published result with a per-topic breakdown, or None before publication."""
    score = AttemptScore.objects.filter(attempt=attempt, published_at__isnull=False).first()
    if (
        score is None
        or not ResultPublication.objects.filter(sitting_id=attempt.enrolment.sitting_id).exists()
    ):
        return None
    topics: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"points": Decimal(0), "max": Decimal(0)}
    )
    for title, points, max_points in ItemScore.objects.filter(attempt=attempt).values_list(
        "attempt_item__item_version__item__topic__name", "points", "max_points"
    ):
        topics[title]["points"] += points or 0
        topics[title]["max"] += max_points
    breakdown = [
        {
            "topic": t,
            "points": v["points"],
            "max": v["max"],
            "percent": int(v["points"] * 100 // v["max"]) if v["max"] else 0,
        }
        for t, v in sorted(topics.items())
    ]
    clinical = getattr(attempt, "clinical_score", None)
    return {"score": score, "breakdown": breakdown, "clinical": clinical}
