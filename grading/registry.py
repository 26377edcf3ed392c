"""A sitting's results for the board's registry (issue 14, point 6; R-GRADE-3), as CSV or XLSX.

One row per candidate enrolled: the ticket number, the name, the result (passed, failed, absent, or
pending while marking or the clinical case is open), the final percent, the written part's points
and, per topic of the bank, the points the candidate got there, the clinical-case part, and when
the result was published (ISO 8601 on the exam's clock). The column names are a file format, the
same in every language, for the registry's own import (docs/item-format.md, "Results").
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum

from exams.models import Attempt, Enrolment, Sitting
from exams.spreadsheets import csv_bytes, xlsx_bytes

from .models import ClinicalScore, ItemScore

LEADING_COLUMNS = [
    "ticket_number",
    "family_name",
    "given_name",
    "result",
    "percent",
    "written_points",
    "written_max",
]
TRAILING_COLUMNS = ["clinical_points", "clinical_max", "published_at"]
TOPIC_PREFIX = "points_"


def _number(value: Decimal | None) -> int | float | None:
    # Decimals as numbers a spreadsheet sums, written as people write them: 12.5 and 100, not
    # "12.5000" or "100.0".
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def registry_table(sitting: Sitting) -> tuple[list[str], list[list]]:
    """Return the header and one row per enrolled candidate, in ticket order."""
    attempts = {
        attempt.enrolment_id: attempt
        for attempt in Attempt.objects.filter(
            enrolment__sitting=sitting, is_practice=False
        ).select_related("score")
    }
    per_topic: dict[int, dict[str, Decimal]] = defaultdict(dict)
    topics: set[str] = set()
    scored = (
        ItemScore.objects.filter(attempt__in=attempts.values(), points__isnull=False)
        .values("attempt_id", "attempt_item__item_version__item__topic__code")
        .annotate(points=Sum("points"))
    )
    for row in scored:
        topic = row["attempt_item__item_version__item__topic__code"]
        topics.add(topic)
        per_topic[row["attempt_id"]][topic] = row["points"]
    clinical = {
        c.attempt_id: c for c in ClinicalScore.objects.filter(attempt__in=attempts.values())
    }
    topic_order = sorted(topics)
    header = [*LEADING_COLUMNS, *(TOPIC_PREFIX + topic for topic in topic_order), *TRAILING_COLUMNS]
    zone = ZoneInfo(sitting.exam.time_zone)
    rows = []
    enrolments = (
        Enrolment.objects.filter(sitting=sitting)
        .select_related("candidate")
        .order_by("ticket_number")
    )
    for enrolment in enrolments:
        candidate = enrolment.candidate
        attempt = attempts.get(enrolment.pk)
        score = getattr(attempt, "score", None) if attempt else None
        case = clinical.get(attempt.pk) if attempt else None
        rows.append(
            [
                enrolment.ticket_number,
                candidate.last_name,
                candidate.first_name,
                _result(attempt, score),
                score.percent if score else None,
                _number(score.auto_points + score.committee_points) if score else None,
                _number(score.auto_max_points + score.committee_max_points) if score else None,
                *(
                    _number(per_topic[attempt.pk].get(topic)) if attempt else None
                    for topic in topic_order
                ),
                _number(case.points) if case else None,
                _number(case.max_points) if case else None,
                score.published_at.astimezone(zone).isoformat(timespec="minutes")
                if score and score.published_at
                else "",
            ]
        )
    return header, rows


def _result(attempt: Attempt | None, score) -> str:
    if attempt is None:
        return "absent"
    if score is None or score.passed is None:
        return "pending"
    return "passed" if score.passed else "failed"


def registry_file(sitting: Sitting, file_format: str) -> bytes:
    header, rows = registry_table(sitting)
    if file_format == "xlsx":
        return xlsx_bytes(header, rows, title=sitting.exam.code)
    return csv_bytes(header, [["" if value is None else value for value in row] for row in rows])
