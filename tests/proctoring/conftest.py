"""The live room's cast: the sitting is proctored here, room A has an observer, attempts start the proctored way."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client

from exams.models import Attempt, AttemptItem, Enrolment, ItemKind
from exams.services import attempt_start
from proctoring import services
from proctoring.models import RoomSession

from ..factories import UserFactory, make_sitting

DEVICE, OTHER_DEVICE = "a" * 32, "b" * 32


@pytest.fixture(autouse=True)
def _signals_count_from_the_start(settings):
    # The grace after the start has its own test (test_incidents.py); elsewhere it is off.
    settings.PROCTORING_SIGNAL_GRACE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every persona gets a password; the production hasher would spend most of the run on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sitting(exam):
    """Every sitting of these tests is proctored (tests/factories.py makes unproctored ones by default)."""
    return make_sitting(exam, proctored=True)


@pytest.fixture
def observer(db, room_a):
    user = UserFactory(username="observer_a")
    room_a.observers.add(user)
    return user


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def admit(enrolment: Enrolment, proctor, *, now: datetime | None = None) -> None:
    services.checkin_arrive(enrolment_id=enrolment.pk, candidate=enrolment.candidate, now=now)
    services.checkin_admit(enrolment_id=enrolment.pk, by=proctor, now=now)


def start_room(room, proctor, *, now: datetime | None = None) -> RoomSession:
    return services.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.STARTED, now=now)


def start_proctored(enrolment: Enrolment, proctor, *, device: str = DEVICE) -> Attempt:
    """Arrive, be admitted, have the room started, start: the only way into a proctored attempt."""
    admit(enrolment, proctor)
    session = services.room_session_for(enrolment.room_id)
    if session.stage == RoomSession.Stage.ADMITTING:
        session = start_room(enrolment.room, proctor)
    return attempt_start(candidate=enrolment.candidate, enrolment_id=enrolment.pk, device_id=device,
                         start_code=session.start_code)


@pytest.fixture
def attempt(alice_enrolment, proctor_a) -> Attempt:
    """Alice's attempt, running, in room A."""
    return start_proctored(alice_enrolment, proctor_a)


@pytest.fixture
def bob_attempt(bob_enrolment, proctor_b) -> Attempt:
    """Bob's attempt, running, in room B."""
    return start_proctored(bob_enrolment, proctor_b)


def free_text_position(attempt: Attempt) -> int:
    return AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=ItemKind.FREE_TEXT).values_list(
        "position", flat=True
    ).first()
