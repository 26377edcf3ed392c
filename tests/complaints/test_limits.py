"""Limits a candidate controls on complaints: how many, and what their pictures cost the server (issue 10, point 19)."""

from __future__ import annotations

import importlib.util
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from PIL import Image

from complaints.models import Complaint
from complaints.services import ComplaintError, complaint_file
from complaints.uploads import UploadRefused, checked_file, checked_files

from ..proctoring.conftest import client_for
from ..servers import require_service
from .files import picture, png_claiming

BENCH = Path(__file__).resolve().parents[2] / "bench" / "complaint_pictures.py"

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


def _bench():
    spec = importlib.util.spec_from_file_location("complaint_pictures", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_five_40_megapixel_photos_cost_a_bounded_amount_of_memory():
    """Issue 10, point 19c: five 40-megapixel pictures cost the server 600-700 MB at the peak; now about 110 MB.

    Measured in a fresh process (bench/complaint_pictures.py): the decoding is Pillow's C code,
    which tracemalloc does not see, so the process's own high-water mark is read.
    """
    result = _bench().measure(5, 40, "JPEG")
    assert result["peak_rise_mb"] < 250, result
    assert sum(result["stored_pixels"]) <= 40_000_000, result  # the complaint's budget, shared out


def test_a_png_too_large_to_decode_is_refused_from_its_header():
    """Issue 10, point 19c: a PNG or WebP is decoded whole, so its pixels are limited before decoding."""
    with pytest.raises(UploadRefused, match="PNG and WebP pictures may have at most 16 megapixels"):
        checked_file(png_claiming(5000, 4000, name="screen.png"))


def test_the_pictures_of_one_complaint_share_one_pixel_budget(settings):
    """Issue 10, point 19c: each picture is stored at most at its share of the complaint's pixel budget."""
    settings.COMPLAINT_MAX_TOTAL_PIXELS = 2_000_000
    checked = checked_files(
        [picture("a.jpg", size=(2000, 1500)), picture("b.png", kind="PNG", size=(2000, 1500))]
    )
    for one in checked:
        stored = Image.open(io.BytesIO(one.content))
        assert stored.width * stored.height <= 1_000_000 and stored.size == (one.width, one.height)
        assert abs(stored.width / stored.height - 4 / 3) < 0.01  # reduced, not cropped or squashed


def test_filings_sent_at_once_cannot_pass_the_cap_together(transactional_db, finished, settings):
    """Issue 10, point 19b: the cap holds when filings race (two tabs, a script): each counts under the enrolment's lock."""
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL) for row locks")
    settings.COMPLAINT_MAX_PER_ENROLMENT = 2
    file_conduct(finished)

    def attempt_filing(_: int) -> str:
        try:
            file_conduct(finished)
            return "filed"
        except ComplaintError as exc:
            return exc.code
        finally:
            close_old_connections()

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt_filing, range(8)))
    assert sorted(outcomes) == ["filed"] + ["too_many"] * 7
    assert Complaint.objects.filter(enrolment_id=finished.enrolment_id).count() == 2
