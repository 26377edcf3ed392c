"""The oversight pages and the absentee lists over HTTP: each works for the right people, outsiders get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from exams.models import Council, OversightReport
from exams.oversight import services

from ..factories import UserFactory, grant, make_sitting
from .conftest import client_for, end_room, enrol_named
from .pdf_text import pdf_text


@pytest.fixture
def sitting(exam):
    return make_sitting(exam, proctored=True, starts_in=timedelta(hours=-3))


@pytest.fixture
def absentees(sitting, room_a, room_b, proctor_a, proctor_b):
    """Room A: Батбаяр Дорж absent; room B: Наранцэцэг Жаргал absent. Both rooms ended."""
    enrol_named(sitting, room_a, "Батбаяр", "Дорж", "1")
    enrol_named(sitting, room_b, "Наранцэцэг", "Жаргал", "1")
    end_room(room_a, proctor_a)
    end_room(room_b, proctor_b)
    return sitting


@pytest.fixture
def other_council_member(exam, administrator):
    """A council member of another sitting: nothing of this one is theirs."""
    other = make_sitting(exam)
    user = UserFactory(username="other_council")
    services.council_member_add(
        sitting_id=other.pk, council=Council.EXTERNAL, user=user, by=administrator
    )
    return user


@pytest.fixture
def reports(absentees, software_member, external_member):
    services.reports_draft(sitting_id=absentees.pk)
    return {r.council: r for r in OversightReport.objects.filter(sitting=absentees)}


OUTSIDERS = ["proctor_a", "alice", "committee_member", "other_council_member"]


# --- the oversight page -------------------------------------------------------------------------
@pytest.mark.parametrize("member", ["software_member", "external_member"])
def test_both_councils_see_the_sitting_page_with_both_reports_and_live_rooms(
    reports, sitting, member, request
):
    page = client_for(request.getfixturevalue(member)).get(
        reverse("oversight:sitting", args=[sitting.pk])
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "Software oversight council" in body and "External oversight council" in body
    assert (
        "Room A" in body
        and reverse("proctoring:room", args=[reports[Council.SOFTWARE].sitting.rooms.first().pk])
        in body
    )
    own = Council.SOFTWARE if member == "software_member" else Council.EXTERNAL
    other = Council.EXTERNAL if own == Council.SOFTWARE else Council.SOFTWARE
    assert (
        f'data-testid="edit-{own}"' in body and f'data-testid="edit-{other}"' not in body
    )  # edits its own only


def test_staff_with_the_permission_see_the_page_and_appoint_members(
    sitting, room_a, room_b, administrator
):
    staff = UserFactory(username="staff", is_staff=True)
    grant(staff, "exams", "manage_oversight")
    client = client_for(staff)
    assert client.get(reverse("oversight:sitting", args=[sitting.pk])).status_code == 200
    member = UserFactory(username="new_member")
    client.post(
        reverse("oversight:council_members", args=[sitting.pk]),
        {"username": "new_member", "council": Council.SOFTWARE, "action": "add"},
    )
    assert services.CouncilMember.objects.filter(
        sitting=sitting, user=member, council=Council.SOFTWARE
    ).exists()
    # The new member watches every room of the sitting live, as an observer.
    for room in (room_a, room_b):
        assert client_for(member).get(reverse("proctoring:room", args=[room.pk])).status_code == 200
    client.post(
        reverse("oversight:council_members", args=[sitting.pk]),
        {"username": "new_member", "council": Council.SOFTWARE, "action": "remove"},
    )
    assert client_for(member).get(reverse("proctoring:room", args=[room_a.pk])).status_code == 404
    assert (
        client_for(member).get(reverse("oversight:sitting", args=[sitting.pk])).status_code == 404
    )


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "software_member"])
def test_only_staff_with_the_permission_appoint(sitting, outsider, request):
    response = client_for(request.getfixturevalue(outsider)).post(
        reverse("oversight:council_members", args=[sitting.pk]),
        {"username": "alice", "council": Council.SOFTWARE},
    )
    assert response.status_code == 404
    assert not services.CouncilMember.objects.filter(user__username="alice").exists()


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_the_sitting_page_and_its_live_part_are_404_to_outsiders(
    reports, sitting, outsider, request
):
    client = client_for(request.getfixturevalue(outsider))
    assert client.get(reverse("oversight:sitting", args=[sitting.pk])).status_code == 404
    assert client.get(reverse("oversight:sitting_live", args=[sitting.pk])).status_code == 404


def test_anonymous_goes_to_the_login_page(sitting):
    response = client_for(None).get(reverse("oversight:sitting", args=[sitting.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_edit_sign_and_file_through_the_page(reports, sitting, external_member):
    report = reports[Council.EXTERNAL]
    client = client_for(external_member)
    url = reverse("oversight:report_action", args=[report.pk])
    client.post(
        url, {"action": "edit", "revision": "1", "text": report.text + "\r\nAll in order.\r\n"}
    )
    report.refresh_from_db()
    assert report.text.endswith("\nAll in order.\n") and report.revision == 2
    client.post(url, {"action": "sign", "sha256": report.sha256})
    response = client.post(url, {"action": "file"})
    assert response.status_code == 302 and response.url.endswith(f"#report-{Council.EXTERNAL}")
    report.refresh_from_db()
    assert report.is_filed and report.filed_by == external_member
    page = client.get(reverse("oversight:sitting", args=[sitting.pk])).content.decode()
    assert "filed on time" in page


def test_a_stale_edit_comes_back_with_the_editors_own_text(reports, external_member):
    report = reports[Council.EXTERNAL]
    services.report_edit(
        report_id=report.pk, by=external_member, text="Someone else's version", revision=1
    )
    response = client_for(external_member).post(
        reverse("oversight:report_action", args=[report.pk]),
        {"action": "edit", "revision": "1", "text": "My careful findings"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "My careful findings" in body and "changed the report while you were editing" in body


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "software_member"])
def test_outsiders_and_the_other_council_cannot_act_on_a_report(reports, outsider, request):
    report = reports[Council.EXTERNAL]
    for action in (
        {"action": "edit", "revision": "1", "text": "x"},
        {"action": "sign", "sha256": report.sha256},
        {"action": "file"},
    ):
        response = client_for(request.getfixturevalue(outsider)).post(
            reverse("oversight:report_action", args=[report.pk]), action
        )
        assert response.status_code == 404
    assert (
        OversightReport.objects.get(pk=report.pk).text == report.text
        and not report.signatures.exists()
    )


# --- absentee lists -----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["software_member", "external_member", "lister"])
def test_council_members_and_staff_with_the_permission_see_every_rooms_absentees(
    absentees, who, request, db
):
    if who == "lister":
        user = UserFactory(username="lister")
        grant(user, "exams", "view_absentees")
    else:
        user = request.getfixturevalue(who)
    client = client_for(user)
    page = client.get(reverse("oversight:absentees", args=[absentees.pk])).content.decode()
    assert "Батбаяр Дорж" in page and "Наранцэцэг Жаргал" in page
    assert 'data-testid="national-total"' in page
    csv = client.get(reverse("oversight:sitting_absentees_download", args=[absentees.pk, "csv"]))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "Батбаяр Дорж" in csv.content.decode("utf-8-sig")
    pdf = client.get(reverse("oversight:sitting_absentees_download", args=[absentees.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and "Наранцэцэг Жаргал" in pdf_text(pdf.content)
    totals = client.get(
        reverse("oversight:sitting_absentees_download", args=[absentees.pk, "totals.csv"])
    )
    assert totals.content.decode("utf-8-sig").strip().endswith("national,,,,2,2")


def test_a_proctor_sees_and_downloads_only_their_own_rooms(absentees, room_a, room_b, proctor_a):
    client = client_for(proctor_a)
    page = client.get(reverse("oversight:absentees", args=[absentees.pk])).content.decode()
    assert "Батбаяр Дорж" in page and "Наранцэцэг Жаргал" not in page and "Room B" not in page
    assert 'data-testid="national-total"' not in page
    own = client.get(reverse("oversight:room_absentees_download", args=[room_a.pk, "csv"]))
    assert own.status_code == 200 and "Батбаяр Дорж" in own.content.decode("utf-8-sig")
    assert "Батбаяр Дорж" in pdf_text(
        client.get(reverse("oversight:room_absentees_download", args=[room_a.pk, "pdf"])).content
    )
    for fmt in ("csv", "pdf"):
        assert (
            client.get(
                reverse("oversight:room_absentees_download", args=[room_b.pk, fmt])
            ).status_code
            == 404
        )
    for fmt in ("csv", "pdf", "totals.csv"):  # the whole sitting's list is more than their rooms
        assert (
            client.get(
                reverse("oversight:sitting_absentees_download", args=[absentees.pk, fmt])
            ).status_code
            == 404
        )


@pytest.mark.parametrize("outsider", ["alice", "committee_member", "other_council_member"])
def test_candidates_and_other_outsiders_get_no_absentee_list(absentees, room_a, outsider, request):
    client = client_for(request.getfixturevalue(outsider))
    assert client.get(reverse("oversight:absentees", args=[absentees.pk])).status_code == 404
    assert (
        client.get(
            reverse("oversight:room_absentees_download", args=[room_a.pk, "csv"])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("oversight:sitting_absentees_download", args=[absentees.pk, "pdf"])
        ).status_code
        == 404
    )


def test_an_unknown_format_is_404(absentees, software_member, room_a):
    client = client_for(software_member)
    assert (
        client.get(
            reverse("oversight:sitting_absentees_download", args=[absentees.pk, "xlsx"])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("oversight:room_absentees_download", args=[room_a.pk, "totals.csv"])
        ).status_code
        == 404
    )


def test_the_oversight_home_lists_what_the_user_may_open(
    absentees, software_member, proctor_a, alice
):
    assert (
        str(absentees.name)
        in client_for(software_member).get(reverse("oversight:home")).content.decode()
    )
    proctors = client_for(proctor_a).get(reverse("oversight:home")).content.decode()
    assert reverse("oversight:absentees", args=[absentees.pk]) in proctors
    assert f'href="{reverse("oversight:sitting", args=[absentees.pk])}"' not in proctors
    assert client_for(alice).get(reverse("oversight:home")).status_code == 404
