"""Oversight's cast: a proctored sitting over two regions, its two councils, and a way to run it to its end.

Rooms A and B are in Ulaanbaatar (one test centre), C and D in Darkhan-Uul (two test centres):
totals then differ at every level of room → test centre → region → national.
"""

from __future__ import annotations

import pytest

from exams.models import Council, Enrolment, Room
from exams.oversight import services
from exams.services import attempt_start
from proctoring import services as proctoring
from proctoring.models import RoomSession

from ..factories import UserFactory, enrol, make_sitting
from ..proctoring.conftest import client_for  # noqa: F401  (one way to sign a test client in)

DEVICE = "o" * 32
UB, UB_CENTRE = "Ulaanbaatar", "Ulaanbaatar Medical Centre"
DARKHAN = "Darkhan-Uul"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PROCTORING_SIGNAL_GRACE_SECONDS = 0


@pytest.fixture
def sitting(exam):
    return make_sitting(exam, proctored=True)


@pytest.fixture
def room_a(sitting):
    return Room.objects.create(sitting=sitting, name="Room A", test_centre=UB_CENTRE, region=UB)


@pytest.fixture
def room_b(sitting):
    return Room.objects.create(sitting=sitting, name="Room B", test_centre=UB_CENTRE, region=UB)


@pytest.fixture
def room_c(sitting):
    return Room.objects.create(
        sitting=sitting, name="Room C", test_centre="Darkhan Regional Hospital", region=DARKHAN
    )


@pytest.fixture
def room_d(sitting):
    return Room.objects.create(
        sitting=sitting, name="Room D", test_centre="Darkhan School No. 1", region=DARKHAN
    )


@pytest.fixture
def software_member(sitting, administrator):
    user = UserFactory(username="software", first_name="Ганболд", last_name="Мехим")
    services.council_member_add(
        sitting_id=sitting.pk, council=Council.SOFTWARE, user=user, by=administrator
    )
    return user


@pytest.fixture
def external_member(sitting, administrator):
    user = UserFactory(username="external", first_name="Оюун", last_name="Нарийн")
    services.council_member_add(
        sitting_id=sitting.pk, council=Council.EXTERNAL, user=user, by=administrator
    )
    return user


def enrol_named(sitting, room, given: str, family: str, seat: str) -> Enrolment:
    candidate = UserFactory(first_name=given, last_name=family)
    enrolment = enrol(sitting, room, candidate)
    enrolment.seat = seat
    enrolment.save(update_fields=["seat"])
    return enrolment


def sit(enrolment: Enrolment, proctor) -> object:
    """Arrive, be admitted, have the room started if it is not, start the attempt."""
    proctoring.checkin_arrive(enrolment_id=enrolment.pk, candidate=enrolment.candidate)
    proctoring.checkin_admit(enrolment_id=enrolment.pk, by=proctor)
    session = proctoring.room_session_for(enrolment.room_id)
    if session.stage == RoomSession.Stage.ADMITTING:
        proctoring.room_advance(room_id=enrolment.room_id, by=proctor, to=RoomSession.Stage.STARTED)
    return attempt_start(candidate=enrolment.candidate, enrolment_id=enrolment.pk, device_id=DEVICE)


def end_room(room, proctor) -> None:
    """Collect (forcing: candidates may still have time) and end the room, starting it first if needed."""
    session = proctoring.room_session_for(room.pk)
    if session.stage == RoomSession.Stage.ADMITTING:
        proctoring.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.STARTED)
    proctoring.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.COLLECTED, force=True)
    proctoring.room_advance(room_id=room.pk, by=proctor, to=RoomSession.Stage.ENDED)


@pytest.fixture
def proctor_c(room_c):
    user = UserFactory(username="proctor_c")
    room_c.proctors.add(user)
    return user


@pytest.fixture
def proctor_d(room_d):
    user = UserFactory(username="proctor_d")
    room_d.proctors.add(user)
    return user
