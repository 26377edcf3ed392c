"""Writing a drawn form: one row per slot, 100 rows per start.

On PostgreSQL the rows go in one INSERT over arrays; building 100 model instances and letting
the driver escape a jsonb array cost a quarter of a start (bench/README.md). Elsewhere: bulk_create.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.db import connection

from ..drawing import DrawnItem
from ..models import AttemptItem

POSTGRES_FORM = """
INSERT INTO exams_attemptitem (attempt_id, position, item_version_id, option_order, points)
SELECT %(attempt)s, position, version_id, option_order::jsonb, %(points)s
FROM unnest(%(position)s::int[], %(version)s::bigint[], %(order)s::text[]) AS t(position, version_id, option_order)
"""


def write_form(*, attempt_id: int, drawn: list[DrawnItem], points: Decimal) -> None:
    """Store the drawn items as the attempt's slots 1..n, inside the caller's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(POSTGRES_FORM, {
                "attempt": attempt_id, "points": points, "position": list(range(1, len(drawn) + 1)),
                "version": [d.version_id for d in drawn], "order": [json.dumps(list(d.option_order)) for d in drawn],
            })
        return
    AttemptItem.objects.bulk_create(
        AttemptItem(attempt_id=attempt_id, position=index, item_version_id=d.version_id, option_order=list(d.option_order), points=points)
        for index, d in enumerate(drawn, start=1)
    )
