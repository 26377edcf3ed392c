"""The complaint pages: filing through the form, who sees what (404 to others), names kept from the committee."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from complaints.models import Complaint
from complaints.selectors import complainant_code
from complaints.services import complaint_assign, complaint_file
from grading.anonymity import anonymous_code
from proctoring.models import EvidenceAccess, Incident, Message, Still

from ..factories import UserFactory, grant
from ..proctoring.conftest import client_for
from .files import pdf, picture

GROUNDS = "The proctor stopped my exam for ten minutes because my camera froze; I lost that time."


@pytest.fixture
def complaint(finished):
    return complaint_file(
        enrolment_id=finished.enrolment_id,
        candidate=finished.candidate,
        kind="conduct",
        grounds=GROUNDS,
        positions=[2],
        uploads=[picture("frozen.png", kind="PNG"), pdf()],
    )


@pytest.fixture
def incident(finished, alice_enrolment, proctor_a, settings):
    path = "stills/incident-camera.jpg"
    (Path(settings.MEDIA_ROOT) / "stills").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (10, 10, 10)).save(Path(settings.MEDIA_ROOT) / path)
    still = Still.objects.create(
        enrolment=alice_enrolment,
        track="camera",
        purpose="incident",
        taken_at=finished.started_at,
        path=path,
        size=100,
    )
    Message.objects.create(
        enrolment=alice_enrolment,
        from_proctor=True,
        author=proctor_a,
        text="Please look at the screen.",
        at=finished.started_at + timedelta(minutes=3),
    )
    return Incident.objects.create(
        enrolment=alice_enrolment,
        attempt=finished,
        kind="camera",
        by_system=True,
        at=finished.started_at + timedelta(minutes=2),
        still=still,
        note="camera dark for 12 s",
    )


def test_filing_through_the_page(finished, alice):
    client = client_for(alice)
    url = reverse("complaints:new", args=[finished.enrolment_id])
    page = client.get(url)
    assert page.status_code == 200 and "How the exam was run" in page.content.decode()
    assert (
        "once the results are published" in page.content.decode()
    )  # the score kind is shown closed, with why
    answer = client.post(
        url,
        {"kind": "conduct", "grounds": GROUNDS, "positions": "2, 5", "files": [picture("a.jpg")]},
    )
    complaint = Complaint.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "complaints:mine", args=[complaint.reference]
    )
    assert complaint.positions == [2, 5] and complaint.files.count() == 1
    mine = client.get(answer["Location"]).content.decode()
    assert complaint.reference in mine and "has not decided yet" in mine


def test_a_refused_filing_keeps_what_was_typed_and_says_why(finished, alice):
    client = client_for(alice)
    url = reverse("complaints:new", args=[finished.enrolment_id])
    answer = client.post(
        url,
        {
            "kind": "conduct",
            "grounds": GROUNDS,
            "positions": "2",
            "files": [picture("photo.png", kind="JPEG")],
        },
    )
    text = answer.content.decode()
    assert (
        answer.status_code == 400
        and "named .png but is a JPEG picture" in text
        and "attach your files again" in text
    )
    assert GROUNDS in text and not Complaint.objects.exists()
    assert (
        "whole numbers"
        in client.post(
            url, {"kind": "conduct", "grounds": GROUNDS, "positions": "two"}
        ).content.decode()
    )


def test_a_candidate_sees_only_their_own_complaints(complaint, finished, bob, bob_enrolment):
    other = client_for(bob)
    for url in (
        reverse("complaints:mine", args=[complaint.reference]),
        reverse("complaints:attachment", args=[complaint.reference, complaint.files.first().pk]),
        reverse("complaints:new", args=[finished.enrolment_id]),
        reverse("complaints:committee"),
        reverse("complaints:case", args=[complaint.reference]),
    ):
        assert other.get(url).status_code == 404, url
    assert complaint.reference not in other.get(reverse("complaints:mine_list")).content.decode()
    own = client_for(finished.candidate)
    assert own.get(reverse("complaints:mine", args=[complaint.reference])).status_code == 200
    image = own.get(
        reverse("complaints:attachment", args=[complaint.reference, complaint.files.first().pk])
    )
    assert (
        image.status_code == 200
        and image["Content-Type"] == "image/png"
        and "sandbox" in image["Content-Security-Policy"]
    )
    document = own.get(
        reverse("complaints:attachment", args=[complaint.reference, complaint.files.last().pk])
    )
    assert document["Content-Disposition"].startswith("attachment")  # PDFs are never shown inline


def test_the_committee_sees_the_name_only_on_the_case_it_decides(
    complaint, deciders, alice, proctor_a
):
    first, second, _chair = deciders
    assert client_for(proctor_a).get(reverse("complaints:committee")).status_code == 404
    code = complainant_code(complaint)
    assert code != anonymous_code(complaint.attempt_id)  # not the code blind marking uses
    for member in (first, second):
        listing = client_for(member).get(reverse("complaints:committee")).content.decode()
        case = (
            client_for(member)
            .get(reverse("complaints:case", args=[complaint.reference]))
            .content.decode()
        )
        for text in (listing, case):
            assert code in text and alice.get_full_name() not in text and alice.username not in text
            assert complaint.attempt.enrolment.ticket_number not in text
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    case = (
        client_for(first)
        .get(reverse("complaints:case", args=[complaint.reference]))
        .content.decode()
    )
    assert alice.get_full_name() in case and complaint.attempt.enrolment.ticket_number in case
    assert (
        alice.get_full_name()
        in client_for(first).get(reverse("complaints:committee")).content.decode()
    )
    assert (
        alice.get_full_name()
        not in client_for(second)
        .get(reverse("complaints:case", args=[complaint.reference]))
        .content.decode()
    )


def test_overdue_complaints_come_first(finished, deciders):
    first, *_ = deciders
    made = [
        complaint_file(
            enrolment_id=finished.enrolment_id,
            candidate=finished.candidate,
            kind="conduct",
            grounds=GROUNDS,
        )
        for _ in range(3)
    ]
    now = timezone.now()
    Complaint.objects.filter(pk=made[0].pk).update(decision_due_at=now + timedelta(hours=5))
    Complaint.objects.filter(pk=made[1].pk).update(decision_due_at=now - timedelta(hours=1))
    Complaint.objects.filter(pk=made[2].pk).update(decision_due_at=now + timedelta(hours=1))
    page = client_for(first).get(reverse("complaints:committee"))
    assert [row.complaint.pk for row in page.context["rows"]] == [
        made[1].pk,
        made[2].pk,
        made[0].pk,
    ]
    assert [row.overdue for row in page.context["rows"]] == [True, False, False]
    text = page.content.decode()
    assert "overdue by 1 h" in text and ("4 h 59 min left" in text or "5 h 0 min left" in text)


def test_the_case_file_tells_the_attempts_story(complaint, incident, deciders):
    first, *_ = deciders
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    page = client_for(first).get(reverse("complaints:case", args=[complaint.reference]))
    case = page.context["case"]
    sources = [entry.source for entry in case.timeline]
    labels = [entry.label for entry in case.timeline]
    assert labels[0] == "Started" and "Submitted" in labels
    assert "incident" in sources and "message" in sources and "save" in sources
    assert [entry.at for entry in case.timeline] == sorted(entry.at for entry in case.timeline)
    incident_entry = next(entry for entry in case.timeline if entry.source == "incident")
    assert incident_entry.label == "Incident: Camera lost" and incident_entry.stills == [
        incident.still
    ]
    assert [row.position for row in case.answers if row.concerned] == [2]
    assert len(case.answers) == complaint.attempt.items.count() and all(
        row.key for row in case.answers if row.kind != "Free text"
    )
    still_url = reverse("complaints:case_still", args=[complaint.reference, incident.still_id])
    assert still_url in page.content.decode()
    assert client_for(first).get(still_url).status_code == 200
    assert EvidenceAccess.objects.filter(user=first, still=incident.still).exists()


def test_deciding_through_the_page_and_the_candidate_reads_it(complaint, deciders, alice):
    first, *_ = deciders
    client = client_for(first)
    client.post(reverse("complaints:case_assign", args=[complaint.reference]))
    reasons = "The log shows the camera was dark for 12 seconds only; the pause was justified."
    client.post(
        reverse("complaints:case_decide", args=[complaint.reference]),
        {"decision": "rejected", "remedy": "none", "reasons": reasons},
    )
    complaint.refresh_from_db()
    assert complaint.decision == "rejected"
    page = (
        client_for(alice)
        .get(reverse("complaints:mine", args=[complaint.reference]))
        .content.decode()
    )
    assert "Rejected" in page and reasons in page


def test_a_member_who_does_not_decide_cannot_take_or_decide(complaint):
    viewer = UserFactory(username="viewer")
    viewer = grant(viewer, "complaints", "view_complaint")
    client = client_for(viewer)
    assert client.get(reverse("complaints:case", args=[complaint.reference])).status_code == 200
    client.post(reverse("complaints:case_assign", args=[complaint.reference]))
    complaint.refresh_from_db()
    assert complaint.assigned_to is None


def test_the_chair_sees_the_score_complaint_window_before_publishing(finished, administrator):
    page = client_for(administrator).get(
        reverse("grading:chair_sitting", args=[finished.enrolment.sitting_id])
    )
    assert "Published now, complaints about the score may be filed until" in page.content.decode()
    window = page.context["complaint_window"]
    assert window.opens_at <= window.closes_at <= window.decision_due_at


def test_opening_a_complaint_file_is_audited_only_when_access_is_granted(
    complaint, finished, deciders, bob
):
    """Issue 10, point 18: the "opened a complaint file" entry is written after the access check, never for a 404."""
    from exams.models import AuditEntry

    first, *_ = deciders
    other = complaint_file(
        enrolment_id=finished.enrolment_id,
        candidate=finished.candidate,
        kind="conduct",
        grounds=GROUNDS,
        uploads=[pdf("other.pdf")],
    )
    mine = complaint.files.first()

    def opened() -> int:
        return AuditEntry.objects.filter(kind="complaint.file_opened").count()

    # An outsider, and a committee member asking for a file that is not this complaint's: 404, no entry.
    assert (
        client_for(bob)
        .get(reverse("complaints:attachment", args=[complaint.reference, mine.pk]))
        .status_code
        == 404
    )
    for file_id in (other.files.get().pk, 10**9):
        assert (
            client_for(first)
            .get(reverse("complaints:attachment", args=[complaint.reference, file_id]))
            .status_code
            == 404
        )
    assert opened() == 0
    # The complainant's own opening is not an access to log; the committee's is, once.
    assert (
        client_for(finished.candidate)
        .get(reverse("complaints:attachment", args=[complaint.reference, mine.pk]))
        .status_code
        == 200
    )
    assert opened() == 0
    assert (
        client_for(first)
        .get(reverse("complaints:attachment", args=[complaint.reference, mine.pk]))
        .status_code
        == 200
    )
    entry = AuditEntry.objects.get(kind="complaint.file_opened")
    assert (
        entry.actor_id == first.pk
        and entry.subject == f"complaint:{complaint.pk}"
        and entry.data["file"] == mine.pk
    )


def test_malformed_posts_to_the_complaint_pages_get_a_message_not_a_500(
    complaint, finished, deciders
):
    """Issue 10 (point 22, on the complaint pages): every POST goes through a Django form."""
    first, _second, chair = deciders
    own = client_for(finished.candidate)
    new = reverse("complaints:new", args=[finished.enrolment_id])
    for positions in ("9" * 40, "1e5", "-3", "½", "²"):
        answer = own.post(new, {"kind": "conduct", "grounds": GROUNDS, "positions": positions})
        assert answer.status_code == 400 and "whole numbers" in answer.content.decode(), positions
    assert own.post(new, {"kind": "x" * 500, "grounds": "g" * 50_000}).status_code == 400
    case = reverse("complaints:case", args=[complaint.reference])
    for member in ("abc", "9" * 30, "-1", "1.5"):
        answer = client_for(chair).post(
            reverse("complaints:case_assign", args=[complaint.reference]), {"member": member}
        )
        assert answer.status_code == 302 and answer["Location"] == case, member
    assert (
        client_for(chair)
        .post(reverse("complaints:case_assign", args=[complaint.reference]), {"member": 10**9})
        .status_code
        == 404
    )
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    decide = reverse("complaints:case_decide", args=[complaint.reference])
    for data in (
        {"decision": "x" * 500},
        {"reasons": "r" * 50_000},
        {"decision": ["upheld", "rejected"], "remedy": "none"},
    ):
        answer = client_for(first).post(decide, data, follow=True)
        assert answer.status_code == 200, data
    complaint.refresh_from_db()
    assert complaint.is_open
