"""`make run` loads the demo: it must load on a fresh database, every role included, and twice is harmless."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from complaints.services import may_decide
from exams.demo import DEMO_EXAM, LOGINS, load_demo
from exams.models import Exam, Sitting


def test_the_demo_loads_with_one_login_per_role(db):
    assert load_demo() is True
    users = {u.username: u for u in get_user_model().objects.all()}
    assert {login.username for login in LOGINS} <= set(users)
    assert Exam.objects.filter(code=DEMO_EXAM).exists()
    assert Sitting.objects.filter(name="Demo sitting (open now)").exists()
    assert may_decide(users["adjudicator"]) and may_decide(users["committee"]) and not may_decide(users["candidate1"])
    assert load_demo() is False
