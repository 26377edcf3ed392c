from __future__ import annotations

import pytest

from exams.services import attempt_start, attempt_submit
from grading.services import attempt_score

from ..factories import UserFactory, grant
from ..grading.test_scoring import answer_all


@pytest.fixture(autouse=True)
def _tasks_in_process_and_files_in_tmp(settings, tmp_path):
    # Acknowledgements, decisions and re-scores run here; a real worker is tested in tests/integration/.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def finished(alice, alice_enrolment):
    """Alice's attempt, answered, submitted and scored (not published)."""
    attempt = attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id="a" * 32)
    answer_all(attempt, right=True)
    attempt_submit(attempt_id=attempt.pk, by="candidate")
    attempt_score(attempt_id=attempt.pk)
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def deciders(db):
    first = grant(
        UserFactory(username="judge_one", first_name="Oyun"),
        "complaints",
        "view_complaint",
        "decide_complaint",
    )
    second = grant(
        UserFactory(username="judge_two"), "complaints", "view_complaint", "decide_complaint"
    )
    chair = grant(
        UserFactory(username="chair"),
        "complaints",
        "view_complaint",
        "decide_complaint",
        "assign_complaint",
    )
    return first, second, chair


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and then what it left for after its commit (the e-mails, the re-score)."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run
