"""A council member files their report in Chromium (R-AUD-2) and opens the absentee lists (R-SCHED-3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from exams.models import Council, OversightReport, Room
from exams.oversight import services
from tests.factories import UserFactory, make_sitting

from ..conftest import DARKHAN, UB, UB_CENTRE, end_room, enrol_named

pytestmark = pytest.mark.e2e
FINDINGS = "The server and the exam software ran without faults; no item left the server."


@pytest.fixture
def ended_sitting(transactional_db, exam):
    """Started 2 hours ago in Ulaanbaatar and Darkhan; three candidates never came; both rooms ended just now."""
    sitting = make_sitting(exam, proctored=True, starts_in=timedelta(hours=-2))
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    member = UserFactory(username="council", first_name="Ганболд", last_name="Мехим")
    services.council_member_add(sitting_id=sitting.pk, council=Council.SOFTWARE, user=member, by=admin)
    services.council_member_add(sitting_id=sitting.pk, council=Council.EXTERNAL, user=UserFactory(username="external"), by=admin)
    rooms = [Room.objects.create(sitting=sitting, name="Room A", test_centre=UB_CENTRE, region=UB),
             Room.objects.create(sitting=sitting, name="Room C", test_centre="Darkhan Regional Hospital", region=DARKHAN)]
    people = [("Батбаяр", "Дорж", "3"), ("Өлзийсайхан", "Ганболд", "12"), ("Сарантуяа", "Пүрэв", "4")]
    for room, names in zip(rooms, (people[:2], people[2:]), strict=True):
        proctor = UserFactory()
        room.proctors.add(proctor)
        for given, family, seat in names:
            enrol_named(sitting, room, given, family, seat)
        end_room(room, proctor)
    services.reports_draft(sitting_id=sitting.pk)
    return sitting


def test_a_council_member_edits_signs_and_files_the_drafted_report(live_server_proc, new_context, login, ended_sitting, screenshot):
    page = new_context().new_page()
    login(page, "council")
    page.goto(f"{live_server_proc.url}/oversight/")
    page.get_by_role("link", name=ended_sitting.name).first.click()
    report = page.get_by_test_id(f"report-{Council.SOFTWARE}")
    expect(page.get_by_test_id(f"timeliness-{Council.SOFTWARE}")).to_contain_text("due by")
    text = page.get_by_test_id(f"text-{Council.SOFTWARE}")
    expect(text).to_have_value(re.compile("Sign-ins during the sitting"))
    text.fill(text.input_value() + FINDINGS)
    expect(report.get_by_test_id(f"sign-{Council.SOFTWARE}")).to_be_disabled()  # save first
    page.get_by_test_id(f"save-{Council.SOFTWARE}").click()
    page.get_by_test_id(f"sign-{Council.SOFTWARE}").click()
    expect(page.get_by_test_id(f"signatures-{Council.SOFTWARE}")).to_contain_text("Ганболд Мехим")
    page.get_by_test_id(f"file-{Council.SOFTWARE}").click()
    expect(page.get_by_test_id(f"timeliness-{Council.SOFTWARE}")).to_have_text("filed on time")
    expect(page.get_by_test_id(f"filed-{Council.SOFTWARE}")).to_be_visible()
    expect(page.get_by_test_id(f"text-{Council.SOFTWARE}")).to_contain_text(FINDINGS)  # read-only now
    expect(page.get_by_test_id(f"timeliness-{Council.EXTERNAL}")).to_contain_text("due by")
    page.set_viewport_size({"width": 1280, "height": 1500})  # the picture shows the filed report, not only its heading
    screenshot(page, "oversight-report")

    filed = OversightReport.objects.get(sitting=ended_sitting, council=Council.SOFTWARE)
    assert filed.is_filed and filed.text.endswith(FINDINGS) and filed.filed_sha256 == filed.sha256

    page.get_by_test_id("absentees-link").click()
    expect(page.get_by_test_id("national-total")).to_contain_text("3")
    expect(page.get_by_text("Өлзийсайхан Ганболд")).to_be_visible()
    screenshot(page, "absentees")
    with page.expect_download() as download:
        page.get_by_role("link", name="Whole list (PDF)").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
