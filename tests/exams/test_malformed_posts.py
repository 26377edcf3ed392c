"""Issue 10, point 22 (the candidate's and exam staff's pages): malformed POST values are refused, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exams.models import Attempt
from exams.services import attempt_open_on_device, attempt_start

from ..factories import enrol
from .test_views import DEVICE, client_for

HUGE = "9" * 400


@pytest.mark.parametrize("answer", ["", "maybe", HUGE, "\x00"])
def test_identity_answer_must_be_one_of_the_two_buttons(alice, sitting, room_a, answer):
    enrolment = enrol(sitting, room_a, alice, confirmed=False)
    response = client_for(alice).post(
        reverse("exams:confirm_identity", args=[enrolment.pk]), {"answer": answer}, follow=True
    )
    assert response.status_code == 200
    assert "Answer with one of the two buttons" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.identity_confirmed_at is None


def test_a_start_code_past_any_real_length_is_refused_with_a_message(alice, alice_enrolment):
    response = client_for(alice).post(
        reverse("exams:attempt_start", args=[alice_enrolment.pk]),
        {"start_code": "1" * 500},
        follow=True,
    )
    assert response.status_code == 200
    assert "Start code" in response.content.decode()
    assert not Attempt.objects.filter(enrolment=alice_enrolment).exists()


@pytest.mark.parametrize(
    "data", [{}, {"to": "moon", "reason": "x"}, {"to": "new"}, {"to": "new", "reason": "x" * 5000}]
)
def test_hand_over_refuses_malformed_values_and_keeps_the_lock(
    alice, alice_enrolment, administrator, data
):
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    attempt_open_on_device(attempt_id=attempt.pk, device_id="b" * 32)
    response = client_for(administrator).post(
        reverse("exams:hand_over", args=[attempt.pk]), data, follow=True
    )
    assert response.status_code == 200
    attempt.refresh_from_db()
    assert attempt.locked_at is not None and attempt.device_id == DEVICE
