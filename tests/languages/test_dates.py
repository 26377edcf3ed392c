"""Dates and times in the exam's time zone and the reader's format (issue 12, point 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from exams.models import Exam

MOMENT = datetime(
    2026, 12, 8, 1, 30, tzinfo=UTC
)  # 09:30 in Ulaanbaatar and Beijing, 02:30 in Berlin


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [
        ("en", "8 Dec 2026, 09:30", "8 December 2026, 09:30"),
        ("mn", "2026.12.08 09:30", "2026 оны 12-р сарын 8, 09:30"),
        ("zh-hans", "2026年12月8日 09:30", "2026年12月8日 09:30"),
    ],
)
def test_each_language_writes_a_date_its_own_way_with_a_24_hour_clock(language, short, long):
    template = Template('{{ at|date:"SHORT_DATETIME_FORMAT" }}|{{ at|date:"DATETIME_FORMAT" }}')
    with translation.override(language), timezone.override("Asia/Ulaanbaatar"):
        assert template.render(Context({"at": MOMENT})) == f"{short}|{long}"


def test_the_exams_clock_is_its_own_time_zone_whatever_zone_is_active():
    exam = Exam(time_zone="Asia/Shanghai")
    with timezone.override("Europe/Berlin"):
        assert exam.clock(MOMENT) == "09:30"
        assert exam.clock(MOMENT, seconds=True) == "09:30:00"
    assert Exam(time_zone="Europe/Berlin").clock(MOMENT) == "02:30"


@pytest.mark.django_db
def test_the_candidates_home_shows_the_start_on_the_exams_clock(alice, alice_enrolment, client):
    exam = alice_enrolment.sitting.exam
    exam.time_zone = "Europe/Berlin"  # a sitting abroad; the site's clock is Ulaanbaatar's
    exam.save(update_fields=["time_zone"])
    alice_enrolment.sitting.starts_at = MOMENT
    alice_enrolment.sitting.save(update_fields=["starts_at"])
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "8 December 2026, 02:30" in page and "Europe/Berlin" in page
