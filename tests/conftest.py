"""The fixed cast (STYLE.md): two candidates, a proctor per room, a committee member, an admin."""

from __future__ import annotations

import os

import httpx
import pytest
from django.conf import settings
from django.utils import translation

from exams.models import Room

from .factories import UserFactory, enrol, make_bank, make_exam, make_sitting
from .servers import DaphneServer, artifact_dir, free_port, process_environment, wait_until


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {db}; channel layer: {settings.CHANNEL_LAYERS['default']['BACKEND']}; CI={os.environ.get('CI', '')}"


def pytest_sessionstart(session):
    # In CI a test that needs a service fails when the service is missing; it never skips.
    if os.environ.get("CI") and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise pytest.UsageError("CI must run against PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    # The Redis cache outlives a run: sign-in failure counters (15 minutes) or a bank generation
    # left by an earlier run must not reach this one. Each run's keys get a prefix of their own.
    settings.CACHES["default"]["KEY_PREFIX"] = f"tests-{os.getpid()}-{os.urandom(3).hex()}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the run, end sessions that consumer threads left open, so the test database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Give each test its own channel-layer object.

    channels_redis keeps asyncio locks in the layer object; one left held when an earlier test's
    event loop closed would stall or break a later test's sockets ("bound to a different event loop").
    """
    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    yield
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)


@pytest.fixture(autouse=True)
def _site_language():
    """Start each test in the site's language: a request through the test client leaves the language
    it served activated in the thread (LocaleMiddleware activates, nothing deactivates)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_form_cache():
    from exams import form_cache

    form_cache.clear()
    yield
    form_cache.clear()


@pytest.fixture
def bank(db):
    return make_bank(topics=2, per_kind=3)


@pytest.fixture
def exam(bank):
    return make_exam(bank, per_topic=10)


@pytest.fixture
def sitting(exam):
    return make_sitting(exam)


@pytest.fixture
def room_a(sitting):
    return Room.objects.create(sitting=sitting, name="Room A", seats=20)


@pytest.fixture
def room_b(sitting):
    return Room.objects.create(sitting=sitting, name="Room B", seats=20)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Batbayar")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Dorj")


@pytest.fixture
def proctor_a(db, room_a):
    user = UserFactory(username="proctor_a")
    room_a.proctors.add(user)
    return user


@pytest.fixture
def proctor_b(db, room_b):
    user = UserFactory(username="proctor_b")
    room_b.proctors.add(user)
    return user


@pytest.fixture
def committee_member(db):
    return UserFactory(username="committee")


@pytest.fixture
def administrator(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def alice_enrolment(sitting, room_a, alice):
    return enrol(sitting, room_a, alice)


@pytest.fixture
def bob_enrolment(sitting, room_b, bob):
    return enrol(sitting, room_b, bob)


@pytest.fixture
def server_without_redis(request, transactional_db):
    """A real Daphne whose REDIS_URL names a loopback port nothing listens on (cache, sessions'
    cache, channel layer and Celery broker all down), on the test database."""
    env = process_environment()
    env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    server = DaphneServer(env=env, log_dir=artifact_dir(request.node.name))
    server.spawn()

    def answering() -> bool:
        assert server.running, server.log_tail()
        try:
            return httpx.get(f"{server.url}/healthz", timeout=10, trust_env=False).status_code > 0
        except httpx.HTTPError:
            return False

    try:
        wait_until(answering, timeout=40, interval=0.2, message="Daphne to answer /healthz")
        yield server
    finally:
        server.stop()
        if request.session.testsfailed:
            print(server.log_tail())
