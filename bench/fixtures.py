"""Fill a fresh bench database: the demo bank and exam, N candidates, and one open sitting per storm.

Run by bench/run.py after `migrate` (DATABASE_URL must point at the bench database); prints a
JSON manifest on stdout. Every sitting is open now (started a minute ago, late entry for 12 h),
every candidate is enrolled in every sitting with the identity already confirmed, so a
candidate can start once per sitting: one sitting per measured storm and per profile. The bounds'
sittings enrol a second set of candidates, who never sign in.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from exams.demo import DEMO_EXAM, load_demo  # noqa: E402
from exams.models import Enrolment, Exam, Room, Sitting  # noqa: E402

PASSWORD = "bench-candidate-2026"


@transaction.atomic
def build(*, candidates: int, sittings: list[str]) -> dict:
    started = time.monotonic()
    load_demo()
    exam = Exam.objects.get(code=DEMO_EXAM)
    User = get_user_model()
    # One real hash (the production hasher and cost), copied: 500 hashes would take minutes.
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        User(username=f"bench{n:04d}", first_name="Bench", last_name=f"Candidate {n}", email=f"bench{n:04d}@bench.example",
             password=password)
        for n in range(1, candidates + 1)
    )
    # The bounds' rows belong to candidates of their own: a candidate who signs in locks any attempt
    # of theirs started on another device (R-TAKE-2), and the bounds' attempts have no device.
    bound_users = User.objects.bulk_create(
        User(username=f"bound{n:04d}", first_name="Bound", last_name=f"Candidate {n}", password=password)
        for n in range(1, candidates + 1)
    )
    now = timezone.now()
    made = {}
    for label in sittings:
        # Not proctored: the bench measures starting and saving, not a proctor's check-in and admission.
        sitting = Sitting.objects.create(exam=exam, name=f"Bench {label}", starts_at=now - timedelta(minutes=1),
                                         late_entry_minutes=12 * 60, proctored=False)
        room = Room.objects.create(sitting=sitting, name="Bench room", seats=candidates)
        enrolments = Enrolment.objects.bulk_create(
            Enrolment(sitting=sitting, room=room, candidate=user, ticket_number=f"B{sitting.pk}-{n:04d}",
                      grade="Specialist surgeon, second grade", identity_confirmed_at=now)
            for n, user in enumerate(bound_users if label.startswith("bound") else users, start=1)
        )
        made[label] = {"sitting": sitting.pk, "enrolments": {e.candidate.username: e.pk for e in enrolments}}
    return {
        "exam": exam.pk, "item_count": exam.item_count, "password": PASSWORD,
        "candidates": [{"username": u.username, "id": u.pk} for u in users],
        "bound_candidates": [{"username": u.username, "id": u.pk} for u in bound_users],
        "sittings": made, "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    count = int(sys.argv[1])
    labels = sys.argv[2].split(",")
    json.dump(build(candidates=count, sittings=labels), sys.stdout)
