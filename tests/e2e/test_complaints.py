"""A complaint end to end in Chromium (R-COMP-1..3): the candidate files it with a picture, a committee
member opens the case file, sees the attempt's timeline with its incident and still, decides, and the
candidate reads the decision."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from complaints.models import Complaint
from exams.models import ItemKind
from exams.services import attempt_start, attempt_submit
from proctoring.services import (
    attempt_pause,
    attempt_resume,
    evidence_hook,
    incident_record,
    message_send,
)
from tests.factories import (
    UserFactory,
    answer_every_item,
    enrol,
    make_bank,
    make_exam,
    make_sitting,
)

pytestmark = pytest.mark.e2e
DEVICE = "c" * 32
GROUNDS = (
    "At about 10:40 my camera froze and the proctor paused my exam. I lost concentration and the "
    "question I was answering (number 3) was shown to me again only after the pause."
)
REASONS = "The recording confirms a camera failure of the board's system; you are offered a re-sit free of charge."


def _jpeg(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def story(transactional_db):
    """Alice's finished attempt with saves, a pause, an incident with its still and a message from the proctor."""
    exam = make_exam(make_bank(topics=1, per_kind=1), per_topic=5)
    sitting = make_sitting(exam, starts_in=timedelta(minutes=-30))
    room = sitting.rooms.create(name="Room A", test_centre="Ulaanbaatar", region="Ulaanbaatar")
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    proctor = UserFactory(username="proctor")
    room.proctors.add(proctor)
    enrolment = enrol(sitting, room, alice)
    attempt = attempt_start(candidate=alice, enrolment_id=enrolment.pk, device_id=DEVICE)
    answer_every_item(
        attempt,
        lambda slot: (
            "An answer"
            if slot.item_version.item.kind in (ItemKind.FREE_TEXT, ItemKind.FILL_IN)
            else [0]
        ),
    )
    path = f"stills/{enrolment.pk}/camera-incident.jpg"
    (Path(settings.MEDIA_ROOT) / path).parent.mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / path).write_bytes(_jpeg((40, 40, 40)))
    still = evidence_hook(
        kind="still",
        session=str(enrolment.pk),
        track="camera",
        path=path,
        at=timezone.now(),
        size=1000,
    )
    incident_record(
        enrolment_id=enrolment.pk,
        by=proctor,
        kind="technical",
        note="Camera image frozen",
        still_ids=[still.pk],
    )
    attempt_pause(
        attempt_id=attempt.pk, by=proctor, reason="Camera frozen: waiting for it to come back"
    )
    message_send(
        enrolment_id=enrolment.pk,
        author=proctor,
        text="Your camera froze; please wait, your time is stopped.",
    )
    attempt_resume(attempt_id=attempt.pk, by=proctor)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    judge = UserFactory(username="judge", first_name="Oyun", last_name="Judge")
    judge.user_permissions.add(*Permission.objects.filter(content_type__app_label="complaints"))
    return attempt, judge


def test_a_complaint_with_a_picture_is_decided_and_the_candidate_reads_the_decision(
    live_server_proc, new_context, login, story, screenshot, tmp_path
):
    _attempt, _judge = story
    picture = tmp_path / "frozen-camera.jpg"
    picture.write_bytes(_jpeg((180, 30, 30)))

    candidate = new_context().new_page()
    login(candidate, "alice")
    candidate.get_by_test_id("complain").click()
    expect(candidate.get_by_test_id("kind-score")).to_be_disabled()  # results are not published yet
    candidate.get_by_test_id("kind-conduct").check()
    candidate.get_by_test_id("grounds").fill(GROUNDS)
    candidate.get_by_test_id("positions").fill("3")
    candidate.get_by_test_id("files").set_input_files(str(picture))
    screenshot(candidate, "complaint-filing")
    candidate.get_by_test_id("file-complaint").click()
    expect(candidate.get_by_test_id("reference")).to_be_visible()
    complaint = Complaint.objects.get()
    expect(candidate.get_by_test_id("reference")).to_have_text(complaint.reference)
    assert complaint.files.get().content_type == "image/jpeg"

    committee = new_context().new_page()
    login(committee, "judge")
    committee.get_by_test_id("complaints-link").click()
    row = committee.locator(f"tr[data-reference='{complaint.reference}']")
    expect(row.get_by_test_id("time-left")).to_contain_text("left")
    expect(row).not_to_contain_text("Batbayar")  # not the name until the case is taken
    screenshot(committee, "complaints-committee")
    row.get_by_role("link", name=complaint.reference).click()
    committee.get_by_test_id("take-case").click()
    expect(committee.get_by_test_id("complainant")).to_contain_text("Alice Batbayar")
    timeline = committee.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Incident: Technical failure")
    expect(timeline).to_contain_text("Camera image frozen")
    expect(timeline).to_contain_text("Paused")
    expect(timeline).to_contain_text("Your camera froze")
    expect(timeline).to_contain_text("Submitted")
    still = committee.get_by_test_id("incident-still").first
    expect(still).to_be_visible()
    assert (
        still.evaluate("img => img.complete && img.naturalWidth") == 320
    )  # the still really loads
    attachment = committee.get_by_test_id("attachment-image")
    assert attachment.evaluate("img => img.complete && img.naturalWidth") == 320
    expect(committee.locator("table.answers tr.concerned")).to_have_count(1)
    screenshot(committee, "complaint-case-file", full_page=True)
    committee.get_by_test_id("decision-partly").check()
    committee.get_by_test_id("remedy-resit").check()
    committee.get_by_test_id("reasons").fill(REASONS)
    committee.get_by_test_id("record-decision").click()
    expect(committee.get_by_test_id("decide")).to_contain_text("Partly upheld")

    candidate.reload()
    expect(candidate.get_by_test_id("decision")).to_contain_text("Partly upheld")
    expect(candidate.get_by_test_id("reasons")).to_have_text(REASONS)
    expect(candidate.get_by_test_id("decision")).to_contain_text("A re-sit is offered")
    deadline = (
        time.monotonic() + 20
    )  # the e-mail goes from the worker (or in-process when embedded)
    while Complaint.objects.get().decision_mailed_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Complaint.objects.get().decision_mailed_at is not None
