"""The item-analysis pages: they work for holders of the permission; everyone else gets 404."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from exams.models import Topic
from grading.analysis.tasks import analysis_run
from tests.factories import PASSWORD


def urls(sitting_id: int) -> dict[str, str]:
    return {
        "list": reverse("grading:item_analysis_sittings"),
        "page": reverse("grading:item_analysis", args=[sitting_id]),
        "status": reverse("grading:item_analysis_status", args=[sitting_id]),
        "csv": reverse("grading:item_analysis_csv", args=[sitting_id]),
    }


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_page_before_and_after_the_analysis(client, analyst, scored_sitting, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    signed_in(client, analyst)
    page = client.get(urls(scored_sitting.pk)["page"])
    assert page.status_code == 200 and b"Analyse this sitting" in page.content
    assert client.get(urls(scored_sitting.pk)["status"]).json()["state"] == "none"
    assert client.get(urls(scored_sitting.pk)["csv"]).status_code == 404  # nothing computed yet

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("grading:item_analysis_start", args=[scored_sitting.pk]),
                              HTTP_ACCEPT="application/json")
    assert started.status_code == 200 and started.json()["queued"] is True
    status = client.get(urls(scored_sitting.pk)["status"]).json()
    assert status["state"] == "done" and status["progress"] == 1.0 and status["computed_at"]

    page = client.get(urls(scored_sitting.pk)["page"])
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<svg") == 2 and "Score (% of marked points)" in html and "Difficulty p" in html
    assert "KR-20" in html and 'class="items"' in html
    assert client.get(urls(scored_sitting.pk)["list"]).status_code == 200


def test_plain_form_post_redirects_back(client, analyst, scored_sitting, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    signed_in(client, analyst)
    response = client.post(reverse("grading:item_analysis_start", args=[scored_sitting.pk]))
    assert response.status_code == 302 and response.url == urls(scored_sitting.pk)["page"]


def test_csv_has_a_row_per_item_with_option_counts(client, analyst, scored_sitting):
    result = analysis_run(scored_sitting.pk)
    response = signed_in(client, analyst).get(urls(scored_sitting.pk)["csv"])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8 (issue 10, point 20)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == len(result["items"])
    by_code = {row["code"]: row for row in rows}
    for item in result["items"]:
        row = by_code[item["info"]["code"]]
        assert int(row["n"]) == item["n"]
        assert float(row["difficulty"]) == pytest.approx(item["difficulty"], abs=1e-4)
        for option in item["options"]:
            column = option["option"] or "no_answer"
            assert int(row[f"{column}_all"]) == option["total"]
            assert int(row[f"{column}_top"]) == option["top"]
            assert int(row[f"{column}_bottom"]) == option["bottom"]


def test_csv_cells_that_would_run_as_formulas_are_neutralised(client, analyst, scored_sitting):
    """Issue 10, point 20: the item analysis CSV goes through the one neutralising writer too."""
    first = analysis_run(scored_sitting.pk)["items"][0]["info"]["topic"]
    formula = '=HYPERLINK("http://127.0.0.1/x","open")'
    Topic.objects.filter(code=first).update(code=formula)
    analysis_run(scored_sitting.pk)
    body = signed_in(client, analyst).get(urls(scored_sitting.pk)["csv"]).content.decode("utf-8-sig")
    topics = {row["topic"] for row in csv.DictReader(io.StringIO(body))}
    assert "'" + formula in topics and formula not in topics


def test_administrator_may_see_it(client, administrator, scored_sitting):
    assert signed_in(client, administrator).get(urls(scored_sitting.pk)["page"]).status_code == 200


@pytest.mark.parametrize("persona", ["alice", "proctor_a", "committee_member"])
def test_everyone_else_gets_404(client, request, persona, scored_sitting):
    user = request.getfixturevalue(persona)  # the committee member lacks view_item_analysis
    analysis_run(scored_sitting.pk)
    signed_in(client, user)
    for url in urls(scored_sitting.pk).values():
        assert client.get(url).status_code == 404, url
    start = reverse("grading:item_analysis_start", args=[scored_sitting.pk])
    assert client.post(start).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, scored_sitting):
    response = client.get(urls(scored_sitting.pk)["page"])
    assert response.status_code == 302 and "/login/" in response.url


def test_unknown_sitting_is_404(client, analyst, db):
    assert signed_in(client, analyst).get(urls(999_999)["page"]).status_code == 404
