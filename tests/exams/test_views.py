"""The candidate's pages: they work, outsiders get 404, writes need CSRF, logins are throttled (R-SEC-1)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from exams.middleware import DEVICE_COOKIE
from exams.models import Attempt, AttemptItem, ItemKind
from exams.services import attempt_start

from ..factories import PASSWORD

DEVICE = "a" * 32


def client_for(user, device=DEVICE, **kw) -> Client:
    client = Client(**kw)
    client.force_login(user)
    client.cookies[DEVICE_COOKIE] = device
    return client


@pytest.fixture
def attempt(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


def test_candidate_path_confirm_start_page_finish_result(alice, sitting, room_a):
    from ..factories import enrol

    enrolment = enrol(sitting, room_a, alice, confirmed=False)
    client = client_for(alice)
    home = client.get(reverse("exams:home"))
    assert home.status_code == 200 and "Confirm your name and grade" in home.content.decode()
    page = client.get(reverse("exams:confirm_identity", args=[enrolment.pk]))
    assert "Alice Batbayar" in page.content.decode() and enrolment.grade in page.content.decode()
    client.post(reverse("exams:confirm_identity", args=[enrolment.pk]), {"answer": "yes"})
    started = client.post(reverse("exams:attempt_start", args=[enrolment.pk]))
    attempt = Attempt.objects.get(candidate=alice)
    assert started.url == reverse("exams:attempt", args=[attempt.pk])
    exam_page = client.get(started.url)
    assert exam_page.status_code == 200
    data = json.loads(exam_page.content.decode().split('id="attempt-data" type="application/json">')[1].split("</script>")[0])
    assert len(data["items"]) == attempt.items.count()
    finished = client.post(reverse("exams:attempt_finish", args=[attempt.pk]))
    assert finished.url == reverse("exams:attempt_result", args=[attempt.pk])
    result = client.get(finished.url)
    assert result.status_code == 200 and "Exam finished" in result.content.decode()


def test_not_me_signs_out(alice, sitting, room_a):
    from ..factories import enrol

    enrolment = enrol(sitting, room_a, alice, confirmed=False)
    client = client_for(alice)
    response = client.post(reverse("exams:confirm_identity", args=[enrolment.pk]), {"answer": "not_me"})
    assert response.url == reverse("login")
    enrolment.refresh_from_db()
    assert enrolment.identity_confirmed_at is None


def candidate_urls(attempt: Attempt) -> list[tuple[str, str]]:
    image_slot = AttemptItem.objects.filter(attempt=attempt).first()
    return [
        ("get", reverse("exams:attempt", args=[attempt.pk])),
        ("get", reverse("exams:attempt_state", args=[attempt.pk])),
        ("get", reverse("exams:attempt_result", args=[attempt.pk])),
        ("get", reverse("exams:attempt_result_part", args=[attempt.pk])),
        ("get", reverse("exams:item_image", args=[attempt.pk, image_slot.position])),
        ("post", reverse("exams:attempt_save", args=[attempt.pk])),
        ("post", reverse("exams:attempt_finish", args=[attempt.pk])),
    ]


# transaction=True: the HTTP fallback reaches the ORM through database_sync_to_async, which closes
# the connection around each call; a test transaction cannot span that.
@pytest.mark.django_db(transaction=True)
def test_another_candidate_gets_404_everywhere(attempt, bob, bob_enrolment):
    client = client_for(bob)
    for method, url in candidate_urls(attempt):
        response = getattr(client, method)(url, data=json.dumps({"changes": []}), content_type="application/json") if method == "post" else client.get(url)
        assert response.status_code == 404, url
    assert client.post(reverse("exams:attempt_start", args=[attempt.enrolment_id])).status_code == 404
    assert client.get(reverse("exams:confirm_identity", args=[attempt.enrolment_id])).status_code == 404
    attempt.refresh_from_db()
    assert attempt.is_in_progress


def test_anonymous_is_sent_to_login(attempt):
    response = Client().get(reverse("exams:attempt", args=[attempt.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_writes_need_csrf(attempt, alice):
    client = client_for(alice, enforce_csrf_checks=True)
    assert client.post(reverse("exams:attempt_finish", args=[attempt.pk])).status_code == 403
    save = client.post(reverse("exams:attempt_save", args=[attempt.pk]), data=json.dumps({"changes": []}), content_type="application/json")
    assert save.status_code == 403
    attempt.refresh_from_db()
    assert attempt.is_in_progress


# transaction=True: the HTTP fallback reaches the ORM through database_sync_to_async, which closes
# the connection around each call; a test transaction cannot span that.
@pytest.mark.django_db(transaction=True)
def test_http_save_fallback_applies_the_same_rules(attempt, alice):
    position = AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=ItemKind.SINGLE).first().position
    client = client_for(alice)
    url = reverse("exams:attempt_save", args=[attempt.pk])
    ok = client.post(url, data=json.dumps({"changes": [{"pos": position, "seq": 3, "value": [1]}]}), content_type="application/json")
    assert ok.json()["results"][0]["ok"] is True
    other_device = client_for(alice, device="b" * 32)
    refused = other_device.post(url, data=json.dumps({"changes": [{"pos": position, "seq": 4, "value": [2]}]}), content_type="application/json")
    assert refused.json()["results"][0]["code"] == "device"
    assert client.post(url, data="not json", content_type="application/json").status_code == 400


def test_opening_the_page_on_a_second_device_locks(attempt, alice):
    client_for(alice, device="b" * 32).get(reverse("exams:attempt", args=[attempt.pk]))
    attempt.refresh_from_db()
    assert attempt.is_locked


def test_second_login_from_another_device_locks(attempt, alice):
    client = Client()
    client.cookies[DEVICE_COOKIE] = "b" * 32
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    attempt.refresh_from_db()
    assert attempt.is_locked and attempt.pending_device_id == "b" * 32


# Sign-in throttling: tests/exams/test_signin_throttle.py.


def test_healthz_reports_each_part(db):
    response = Client().get("/healthz")
    body = response.json()
    assert body["database"] == "ok"
    # The media servers too (issue 13; tests/test_health.py has what their state does to the answer).
    assert set(body) == {"status", "database", "redis", "workers", "media"}
