"""Issue 14, point 6: a published sitting's results for the board's registry, as CSV and XLSX."""
# ruff: noqa: F811 - the fixtures imported from test_marking are these tests' parameters

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from exams.models import AuditEntry, Sitting
from exams.spreadsheets import xlsx_rows
from grading.models import AttemptScore, ItemScore
from grading.services import results, sitting_results_publish

from ..factories import UserFactory, grant
from ..proctoring.conftest import client_for
from .test_marking import committee, mark_everything, scored  # noqa: F401 - fixtures


@pytest.fixture
def chair(db):
    return grant(UserFactory(username="chair"), "grading", "chair_marking")


@pytest.fixture
def published(scored, committee, chair, bob_enrolment):
    """Alice's attempt marked and the sitting published; Bob, ticket 007, never came."""
    mark_everything(scored, committee[0])
    bob_enrolment.ticket_number = "007"
    bob_enrolment.save(update_fields=["ticket_number"])
    sitting = Sitting.objects.select_related("exam").get(pk=bob_enrolment.sitting_id)
    sitting_results_publish(
        sitting_id=sitting.pk,
        by=chair,
        now=sitting.entry_closes_at + results.START_IN_FLIGHT + timedelta(seconds=1),
    )
    return sitting, scored


def download(user, sitting, file_format: str):
    return client_for(user).get(reverse("grading:registry_file", args=[sitting.pk, file_format]))


def as_records(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *body = rows
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


def test_the_registry_gets_every_candidate_with_points_per_topic(published, chair):
    sitting, attempt = published
    score = AttemptScore.objects.get(attempt=attempt)
    csv_response = download(chair, sitting, "csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    xlsx_response = download(chair, sitting, "xlsx")
    assert xlsx_response["Content-Disposition"].endswith('-results.xlsx"')
    # The same table in both files; in the workbook "007" stays text, not the number 7.
    assert as_records(xlsx_rows(xlsx_response.content)) == as_records(rows)

    records = as_records(rows)
    alice = records[attempt.enrolment.ticket_number]
    assert (alice["family_name"], alice["given_name"]) == ("Batbayar", "Alice")
    assert alice["result"] == ("passed" if score.passed else "failed") and alice["percent"] == str(
        score.percent
    )
    topics = sorted(
        {
            s.attempt_item.item_version.item.topic.code
            for s in ItemScore.objects.filter(attempt=attempt)
        }
    )
    assert [name for name in rows[0] if name.startswith("points_")] == [
        f"points_{t}" for t in topics
    ]
    per_topic = sum(float(alice[f"points_{t}"] or 0) for t in topics)
    assert per_topic == pytest.approx(float(alice["written_points"]))
    zone = ZoneInfo(sitting.exam.time_zone)
    assert alice["published_at"] == score.published_at.astimezone(zone).isoformat(
        timespec="minutes"
    )
    assert alice["published_at"].endswith("+08:00")  # the exam's clock (Asia/Ulaanbaatar)
    bob = records["007"]
    assert (bob["result"], bob["percent"], bob["written_points"]) == ("absent", "", "")
    assert AuditEntry.objects.filter(kind="results.exported", actor_id=chair.pk).count() == 2


def test_only_the_chair_and_only_once_published(scored, committee, chair, bob_enrolment):
    sitting = Sitting.objects.get(pk=bob_enrolment.sitting_id)
    marker = committee[0][0]
    assert download(marker, sitting, "csv").status_code == 404
    before = download(chair, sitting, "xlsx")
    assert before.status_code == 302 and before["Location"] == reverse(
        "grading:chair_sitting", args=[sitting.pk]
    )
    assert download(chair, sitting, "pdf").status_code == 404
    assert not AuditEntry.objects.filter(kind="results.exported").exists()
