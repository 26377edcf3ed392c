"""Issue 10, point 22 (oversight part): malformed values posted to the oversight pages give a clear refusal, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from exams.models import Council, OversightReport
from exams.oversight import services

from ..factories import grant, make_sitting
from .conftest import client_for, end_room, enrol_named


@pytest.fixture
def sitting(exam):
    return make_sitting(exam, proctored=True, starts_in=timedelta(hours=-3))


@pytest.fixture
def report(sitting, room_a, proctor_a, software_member, external_member):
    enrol_named(sitting, room_a, "Батбаяр", "Дорж", "1")
    end_room(room_a, proctor_a)
    services.reports_draft(sitting_id=sitting.pk)
    return OversightReport.objects.get(sitting=sitting, council=Council.SOFTWARE)


HUGE = "9" * 400


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "explode"},
        {"action": "edit", "revision": HUGE, "text": "x"},
        {"action": "edit", "revision": "-1", "text": "x" * 100_001},
        {"action": "sign", "sha256": "not-a-hash"},
        {"action": "sign", "sha256": HUGE},
        {"action": ["edit", "sign"], "text": "\x00"},
    ],
)
def test_report_action_refuses_malformed_values_without_a_server_error(
    report, software_member, data
):
    response = client_for(software_member).post(
        reverse("oversight:report_action", args=[report.pk]), data
    )
    assert response.status_code in (200, 302, 400, 404), response.status_code
    report.refresh_from_db()
    assert not report.signatures.exists() and report.filed_at is None


def test_a_garbage_hash_is_refused_with_a_message_and_no_signature(report, software_member):
    client = client_for(software_member)
    response = client.post(
        reverse("oversight:report_action", args=[report.pk]),
        {"action": "sign", "sha256": "zz"},
        follow=True,
    )
    assert response.status_code == 400  # the page again, with the reason
    assert "not the hash of a text" in response.content.decode()
    assert not report.signatures.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "x" * 1000, "council": Council.SOFTWARE},
        {"username": "software_member", "council": "nonsense"},
        {"username": "software_member", "council": Council.SOFTWARE, "action": "obliterate"},
    ],
)
def test_council_members_refuses_malformed_values_without_a_server_error(
    sitting, administrator, data
):
    grant(administrator, "exams", "manage_oversight")
    response = client_for(administrator).post(
        reverse("oversight:council_members", args=[sitting.pk]), data, follow=True
    )
    assert response.status_code == 200
    assert sitting.council_members.count() == 0
