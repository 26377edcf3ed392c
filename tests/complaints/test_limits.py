"""Limits a candidate controls on complaints: how many, and what their pictures cost the server (issue 10, point 19)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from complaints.models import Complaint
from complaints.services import ComplaintError, complaint_file

from ..proctoring.conftest import client_for

GROUNDS = "The proctor stopped my exam for ten minutes because my camera froze; I lost that time."


def file_conduct(attempt):
    return complaint_file(
        enrolment_id=attempt.enrolment_id,
        candidate=attempt.candidate,
        kind="conduct",
        grounds=GROUNDS,
    )


def test_complaints_per_exam_are_capped_with_a_clear_refusal(finished, settings):
    """Issue 10, point 19b: a candidate could file complaints without end; the cap is a setting, refused by name."""
    settings.COMPLAINT_MAX_PER_ENROLMENT = 3
    for _ in range(3):
        file_conduct(finished)
    with pytest.raises(
        ComplaintError,
        match="You have filed 3 complaints about this exam, the most that can be filed",
    ) as refused:
        file_conduct(finished)
    assert refused.value.code == "too_many" and Complaint.objects.count() == 3
    page = client_for(finished.candidate).post(
        reverse("complaints:new", args=[finished.enrolment_id]),
        {"kind": "conduct", "grounds": GROUNDS, "positions": ""},
    )
    assert page.status_code == 400 and "the most that can be filed" in page.content.decode()
    assert Complaint.objects.count() == 3
