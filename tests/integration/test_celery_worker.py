"""A real Celery worker process scores an attempt submitted through a real Daphne server (R-GRADE-1).

The candidate works over HTTP (httpx): log in, start, save answers, finish. The server enqueues
`score_attempt` after the submission commits; the worker, a separate process on the Redis broker,
stores the score. The task is then delivered a second time, as a redelivery after a worker crash
would, and must change nothing.
"""

from __future__ import annotations

import re

import httpx
import pytest
from django.conf import settings

from exams.models import Attempt, AttemptEvent, AttemptItem, AttemptStatus, ItemKind, SubmittedBy
from grading.models import AttemptScore, ItemScore
from tests.factories import PASSWORD, UserFactory, enrol, make_bank, make_exam, make_sitting
from tests.servers import celery_client, require_service, running_stack, running_worker, wait_until

pytestmark = [pytest.mark.integration]

SCORE_TIMEOUT = 30.0


@pytest.fixture
def stack(request, transactional_db):
    require_service(bool(settings.REDIS_URL), "REDIS_URL (a Redis broker) for a real Celery worker; embedded mode scores in-process")
    with running_worker(f"{request.node.name}-worker") as worker, running_stack(request, worker=worker) as running:
        yield running


def _csrf(client: httpx.Client) -> str:
    return client.cookies["csrftoken"]


def _sign_in(client: httpx.Client, username: str) -> None:
    client.get("/login/").raise_for_status()
    response = client.post("/login/", data={"username": username, "password": PASSWORD,
                                           "csrfmiddlewaretoken": _csrf(client)})
    assert response.status_code == 302 and response.headers["location"] == "/", response.text[:500]


def _tasks_taken(worker, name: str) -> int:
    """Return how many `name` tasks the worker has taken (0 while it is busy and cannot answer)."""
    return ((worker.inspect("stats") or {}).get("total") or {}).get(name, 0)


def _scoring_state(attempt: Attempt) -> dict:
    """Return what scoring wrote for the attempt, minus the times it was written."""
    return {
        "status": Attempt.objects.get(pk=attempt.pk).status,
        "score": AttemptScore.objects.filter(attempt=attempt).values(
            "auto_points", "auto_max_points", "awaiting_items", "awaiting_points").get(),
        "items": sorted(ItemScore.objects.filter(attempt=attempt).values_list("attempt_item_id", "method", "points")),
        "events": sorted(AttemptEvent.objects.filter(attempt=attempt).values_list("kind", flat=True)),
    }


def test_a_worker_process_scores_a_submitted_attempt_once_however_often_the_task_runs(stack):
    candidate = UserFactory(username="alice")
    topics = make_bank(topics=1, per_kind=2)
    exam = make_exam(topics, per_topic=10)
    sitting = make_sitting(exam)
    enrolment = enrol(sitting, sitting.rooms.create(name="Room A"), candidate)

    with httpx.Client(base_url=stack.url, trust_env=False, timeout=10.0) as client:
        _sign_in(client, "alice")
        started = client.post(f"/enrolments/{enrolment.pk}/start/", headers={"X-CSRFToken": _csrf(client)})
        attempt_id = int(re.fullmatch(r"/attempts/(\d+)/", started.headers["location"]).group(1))
        slots = list(AttemptItem.objects.filter(attempt_id=attempt_id).select_related("item_version__item"))
        choice_slots = [s for s in slots if s.item_version.item.kind in ItemKind.choice_kinds()]
        # The first two choice items right, the rest of the choice items wrong; text items answered.
        changes, right = [], 0
        for seq, slot in enumerate(slots, start=1):
            version = slot.item_version
            if slot in choice_slots:
                wanted = version.key if choice_slots.index(slot) < 2 else [
                    next(o for o in slot.option_order if o not in version.key)]
                right += wanted == version.key
                value = [slot.option_order.index(option_id) for option_id in wanted]
            else:
                value = "an answer"
            changes.append({"pos": slot.position, "seq": seq, "value": value})
        saved = client.post(f"/attempts/{attempt_id}/responses/", json={"changes": changes},
                            headers={"X-CSRFToken": _csrf(client)})
        assert all(result["ok"] for result in saved.json()["results"]), saved.text
        finished = client.post(f"/attempts/{attempt_id}/finish/", headers={"X-CSRFToken": _csrf(client)})
        assert finished.status_code == 302 and finished.headers["location"] == f"/attempts/{attempt_id}/result/"

        score = wait_until(lambda: AttemptScore.objects.filter(attempt_id=attempt_id).first(), timeout=SCORE_TIMEOUT,
                           message="the worker to store the AttemptScore")
        result_page = client.get(f"/attempts/{attempt_id}/result/score/")
        weight = exam.points_per_item()
        assert score.auto_points == right * weight and score.auto_max_points == len(choice_slots) * weight
        assert f"{score.auto_percent()} %" in result_page.text

    attempt = Attempt.objects.get(pk=attempt_id)
    assert (attempt.status, attempt.submitted_by) == (AttemptStatus.SCORED, SubmittedBy.CANDIDATE)
    task = "grading.tasks.score_attempt"
    assert _tasks_taken(stack.worker, task) == 1
    before = _scoring_state(attempt)
    assert before["events"].count(AttemptEvent.Kind.SCORED) == 1
    assert len(before["items"]) == len(slots)

    # The same task once more, through the broker to the worker process (a redelivery).
    celery_client().send_task(task, args=[attempt_id])
    # --pool solo runs a task and control messages in one loop, one after the other: a reply that
    # counts two tasks taken and none active comes after the second has finished.
    wait_until(lambda: _tasks_taken(stack.worker, task) == 2, timeout=SCORE_TIMEOUT, interval=0.3,
               message="the worker to take the second score_attempt")
    wait_until(lambda: stack.worker.inspect("active") == [], timeout=SCORE_TIMEOUT, interval=0.3, message="the task to finish")
    after = _scoring_state(attempt)
    assert after == before

