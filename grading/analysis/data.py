"""Load a sitting's response matrix: two queries, whatever the number of attempts.

Which attempts count: the sitting's real attempts (not practice) that were submitted or scored —
not those in progress, not the disqualified. Which slots count: those with points, i.e. machine
scored or already marked by the committee; slots awaiting the committee are left out (see
`stats`). Choices come from the stored answer (option ids), not from what the candidate saw
(display letters differ per candidate).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import FloatField, TextField
from django.db.models.functions import Cast

from exams.models import AttemptItem, AttemptStatus, ItemKind, ItemVersion
from grading.models import ItemScore

from .stats import ItemInfo, MatrixBuilder, ResponseMatrix

COUNTED_STATUSES = (AttemptStatus.SUBMITTED, AttemptStatus.SCORED)
CHUNK = 20_000


def scored_cells(sitting_id: int):
    """Return the queryset of the sitting's scored slots as (attempt, version, earned, possible, answer)."""
    return (
        ItemScore.objects.filter(
            attempt__enrolment__sitting_id=sitting_id, attempt__is_practice=False,
            attempt__status__in=COUNTED_STATUSES, points__isnull=False,
        )
        # Floats and the answer's JSON as text straight from the database: building a Decimal and
        # parsing JSON per row was most of the load time; answers repeat, so each text is parsed once.
        .annotate(earned=Cast("points", FloatField()), possible=Cast("max_points", FloatField()),
                  answer=Cast("attempt_item__response__value", TextField()))
        .values_list("attempt_id", "attempt_item__item_version_id", "earned", "possible", "answer")
        .order_by()
    )


def item_infos(sitting_id: int) -> list[ItemInfo]:
    """Return what the page shows about each item version on the sitting's forms, by item code."""
    on_forms = AttemptItem.objects.filter(
        attempt__enrolment__sitting_id=sitting_id, attempt__is_practice=False, attempt__status__in=COUNTED_STATUSES,
    ).values("item_version_id")
    versions = (
        ItemVersion.objects.filter(pk__in=on_forms).select_related("item__topic")
        .only("pk", "number", "options", "key", "item__code", "item__kind", "item__topic__code")
        .order_by("item__code", "number")
    )
    infos = []
    for version in versions:
        is_choice = version.item.kind in ItemKind.choice_kinds()
        infos.append(ItemInfo(
            version_id=version.pk, code=version.item.code, version=version.number, topic=version.item.topic.code,
            kind=version.item.kind, options=tuple(version.option_ids()) if is_choice else (),
            key=tuple(str(k) for k in version.key) if is_choice else (),
        ))
    return infos


def load_matrix(sitting_id: int) -> ResponseMatrix:
    """Return the sitting's response matrix (see the module docstring for what counts)."""
    infos = item_infos(sitting_id)
    choice_versions = {info.version_id for info in infos if info.kind in ItemKind.choice_kinds()}
    builder = MatrixBuilder(infos)
    builder.add_rows(_parsed(_fetch(sitting_id), choice_versions))
    return builder.build()


def _fetch(sitting_id: int) -> Iterator[tuple]:
    """Yield the rows of `scored_cells`, CHUNK at a time.

    The ORM's own iterator() uses a server-side cursor on PostgreSQL, which took twice as long as
    this (bench/grading.py: 4.7 s against 2.3 s for a million rows); a plain cursor's fetchmany
    keeps Python objects to one chunk while the driver holds the compact result.
    """
    sql, params = scored_cells(sitting_id).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _parsed(rows: Iterable[tuple], choice_versions: set[int]) -> Iterator[tuple]:
    """Yield the rows with the answer parsed into chosen option ids (None for text items)."""
    parsed: dict[str | None, tuple[str, ...]] = {}
    for attempt_id, version_id, earned, possible, answer in rows:
        chosen = None
        if version_id in choice_versions:
            chosen = parsed.get(answer)
            if chosen is None:
                chosen = parsed[answer] = _choice(answer)
        yield attempt_id, version_id, earned, possible, chosen


def _choice(answer: str | None) -> tuple[str, ...]:
    """Return the chosen option ids of a stored choice answer; () when there is none."""
    if answer is None:
        return ()
    value = json.loads(answer)
    if not isinstance(value, list):
        return ()
    return tuple(str(option) for option in value)
