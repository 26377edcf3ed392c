from __future__ import annotations

from exams.services import attempt_start


def test_start_draws_the_blueprint(alice, alice_enrolment):
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="d" * 32)
    assert attempt.items.count() == 20
