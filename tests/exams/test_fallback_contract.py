"""The exam page's HTTP fallback answers JSON for every outcome, never HTML or a redirect (issue 11,
point 1): after a server kill the page read Django's HTML 500 and the login redirect as "signed
out" and stopped. Each status of the contract (exams/fallback.py), on the real views.

Mocks: a database or Redis outage is simulated by replacing one call with a named function that
raises what Django raises then (OperationalError wrapping psycopg's, redis-py's ConnectionError);
the real outages are the drills' and tests/test_health.py's.
"""

from __future__ import annotations

import json
from unittest import mock

import psycopg_pool
import pytest
import redis.exceptions
from django.db import DataError, OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from exams import batching, fallback, views
from exams.failures import RETRY_AFTER_SECONDS
from exams.health import server_error
from exams.models import AnswerLog, AttemptItem, ItemKind
from exams.services import attempt_start, responses_save
from signin.sessions import SessionStore

from .test_views import DEVICE, client_for

# The fallback reaches the ORM through database_sync_to_async, which closes the connection around
# each call; a test transaction cannot span that.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def attempt(alice, alice_enrolment):
    return attempt_start(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)


def save_url(of) -> str:
    return reverse("exams:attempt_save", args=[of.pk])


def state_url(of) -> str:
    return reverse("exams:attempt_state", args=[of.pk])


def single_choice_position(of) -> int:
    return (
        AttemptItem.objects.filter(attempt=of, item_version__item__kind=ItemKind.SINGLE)
        .first()
        .position
    )


def post_save(client: Client, of, changes, **kw):
    return client.post(
        save_url(of), data=json.dumps({"changes": changes}), content_type="application/json", **kw
    )


def assert_json(response, status: int, **fields) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    assert "Location" not in response
    body = json.loads(response.content)
    assert isinstance(body.get("error"), str) and body["error"]
    for name, value in fields.items():
        assert body.get(name) == value, (name, body)
    return body


def test_a_save_and_the_state_answer_json_that_is_never_cached(attempt, alice):
    client = client_for(alice)
    position = single_choice_position(attempt)
    saved = post_save(client, attempt, [{"pos": position, "seq": 1, "value": [0]}])
    assert saved.status_code == 200
    assert saved.json() == {"results": [{"seq": 1, "ok": True, "code": "saved", "reason": ""}]}
    assert "no-store" in saved["Cache-Control"]
    state = client.get(state_url(attempt))
    assert (
        state.status_code == 200
        and state.json()["status"] == "in_progress"
        and state.json()["thisDevice"] is True
    )
    assert "no-store" in state["Cache-Control"]
    assert AnswerLog.objects.filter(attempt=attempt).count() == 1


def test_signed_out_is_401_json_not_the_login_redirect(attempt):
    anonymous = Client()
    position = single_choice_position(attempt)
    for response in (
        post_save(anonymous, attempt, [{"pos": position, "seq": 1, "value": [0]}]),
        anonymous.get(state_url(attempt)),
    ):
        assert_json(response, 401, signedOut=True)
    assert not AnswerLog.objects.exists()
    # Other pages still send a signed-out visitor to the sign-in page.
    assert Client().get(reverse("exams:attempt", args=[attempt.pk])).status_code == 302


def test_a_csrf_failure_is_403_json_on_the_fallback_and_django_s_page_elsewhere(attempt, alice):
    client = client_for(alice, enforce_csrf_checks=True)
    position = single_choice_position(attempt)
    refused = post_save(client, attempt, [{"pos": position, "seq": 1, "value": [0]}])
    body = assert_json(refused, 403, code="csrf")
    assert "signedOut" not in body  # the page reloads itself; it is not signed out
    assert not AnswerLog.objects.exists()
    elsewhere = client.post(reverse("exams:attempt_finish", args=[attempt.pk]))
    assert elsewhere.status_code == 403 and elsewhere["Content-Type"].startswith("text/html")
    # With the token the same save goes through.
    client.get(reverse("exams:attempt", args=[attempt.pk]))
    token = client.cookies["csrftoken"].value
    saved = post_save(
        client, attempt, [{"pos": position, "seq": 1, "value": [0]}], headers={"X-CSRFToken": token}
    )
    assert saved.status_code == 200 and saved.json()["results"][0]["ok"] is True


def test_another_candidate_s_attempt_or_none_is_404_json(attempt, bob, bob_enrolment):
    client = client_for(bob)
    position = single_choice_position(attempt)
    assert_json(
        post_save(client, attempt, [{"pos": position, "seq": 1, "value": [0]}]),
        404,
        code="not_found",
    )
    assert_json(client.get(state_url(attempt)), 404, code="not_found")
    missing = reverse("exams:attempt_save", args=[attempt.pk + 1000])
    assert_json(
        client.post(missing, data='{"changes": []}', content_type="application/json"),
        404,
        code="not_found",
    )
    assert not AnswerLog.objects.exists()


def test_a_wrong_method_is_405_json(attempt, alice):
    client = client_for(alice)
    got = client.get(save_url(attempt))
    assert_json(got, 405, code="method")
    assert got["Allow"] == "POST"
    posted = client.post(state_url(attempt), data="{}", content_type="application/json")
    assert_json(posted, 405, code="method")
    assert posted["Allow"] == "GET"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # nested past Python's recursion limit
        (b"[]", '"changes"'),
        (b'{"answers": []}', '"changes"'),
        (b'{"changes": "x"}', "list of changes"),
        (b'{"changes": [{"pos": 1, "seq": "5", "value": [0]}]}', "seq"),
        (b'{"changes": [{"pos": 1, "seq": 270.7, "value": [0]}]}', "seq"),
        (b'{"changes": [{"pos": true, "seq": 1, "value": [0]}]}', "pos"),
    ],
)
def test_a_malformed_save_is_400_json_with_the_reason(attempt, alice, body, words):
    response = client_for(alice).post(save_url(attempt), data=body, content_type="application/json")
    assert words in assert_json(response, 400, code="malformed")["error"]
    assert not AnswerLog.objects.exists()


def test_ten_thousand_changes_are_413_and_nothing_is_stored(attempt, alice):
    position = single_choice_position(attempt)
    flood = [{"pos": position, "seq": seq, "value": [0]} for seq in range(1, 10_001)]
    body = assert_json(post_save(client_for(alice), attempt, flood), 413, code="too_many")
    assert "at most 200" in body["error"]
    assert not AnswerLog.objects.exists()


def test_a_body_over_the_size_cap_is_413_before_it_is_parsed(attempt, alice, monkeypatch):
    """One change whose answer alone is over the cap: refused by its size, not by a count it never reaches."""
    position = single_choice_position(attempt)
    body = json.dumps(
        {"changes": [{"pos": position, "seq": 1, "value": "x" * fallback.MAX_BODY_BYTES}]}
    )
    json_parser = mock.Mock(name="json_parser", wraps=json)  # the fallback's json module, watched
    monkeypatch.setattr(fallback, "json", json_parser)
    response = client_for(alice).post(save_url(attempt), data=body, content_type="application/json")
    assert_json(response, 413, code="too_many")
    json_parser.loads.assert_not_called()
    # Just under the cap it is read and judged by the rules (a text for a choice item: refused, 200).
    fitting = json.dumps({"changes": [{"pos": position, "seq": 1, "value": "x" * 1000}]})
    answered = client_for(alice).post(
        save_url(attempt), data=fitting, content_type="application/json"
    )
    assert answered.status_code == 200 and answered.json()["results"][0]["code"] == "invalid"
    json_parser.loads.assert_called_once()


def assert_unavailable(response) -> None:
    body = assert_json(response, 503, code="unavailable")
    low, high = RETRY_AFTER_SECONDS
    assert low <= body["retryAfter"] <= high and response["Retry-After"] == str(body["retryAfter"])
    assert "signedOut" not in body


def test_a_database_error_during_the_save_is_503_json_with_retry_after(attempt, alice, monkeypatch):
    def database_down(**kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(batching, "responses_save", database_down)
    position = single_choice_position(attempt)
    assert_unavailable(
        post_save(client_for(alice), attempt, [{"pos": position, "seq": 1, "value": [0]}])
    )
    assert not AnswerLog.objects.exists()


def test_an_exhausted_pool_is_503_json(attempt, alice, monkeypatch):
    def pool_exhausted(*args, **kwargs):
        # As Django raises it: its OperationalError from psycopg_pool's timeout.
        try:
            raise psycopg_pool.PoolTimeout("couldn't get a connection after 20.00 sec")
        except psycopg_pool.PoolTimeout as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr(views, "_owns_attempt", pool_exhausted)
    monkeypatch.setattr(views, "_attempt_state", pool_exhausted)
    client = client_for(alice)
    assert_unavailable(
        post_save(
            client, attempt, [{"pos": single_choice_position(attempt), "seq": 1, "value": [0]}]
        )
    )
    assert_unavailable(client.get(state_url(attempt)))


def test_a_session_store_that_cannot_be_read_is_503_not_signed_out(attempt, alice, monkeypatch):
    """Sessions live in Redis and the database (signin.sessions reads the database when Redis
    fails: tests/signin): a store that cannot be read at all is an outage, and the page must keep
    going, not be told it is signed out. Mocked: the store's load failing as a dead Redis does."""
    client = client_for(alice)
    position = single_choice_position(attempt)

    def redis_down(self):
        raise redis.exceptions.ConnectionError(
            "Error 111 connecting to 127.0.0.1:6379. Connection refused."
        )

    monkeypatch.setattr(SessionStore, "load", redis_down)
    assert_unavailable(post_save(client, attempt, [{"pos": position, "seq": 1, "value": [0]}]))
    assert_unavailable(client.get(state_url(attempt)))


def test_a_failed_change_is_an_error_ack_and_the_others_are_saved(attempt, alice, monkeypatch):
    """The batch falls back to one change at a time; the change that fails alone comes back as the
    socket's error ack (the page sends it again), the others are stored."""

    def refuses_seq_2(*, changes, **kwargs):
        if any(change.seq == 2 for change in changes):
            raise DataError("value too long for type character varying")
        return responses_save(changes=changes, **kwargs)

    monkeypatch.setattr(batching, "responses_save", refuses_seq_2)
    texts = list(
        AttemptItem.objects.filter(
            attempt=attempt, item_version__item__kind__in=[ItemKind.FREE_TEXT, ItemKind.FILL_IN]
        ).values_list("position", flat=True)[:1]
    )
    position = single_choice_position(attempt)
    changes = [
        {"pos": position, "seq": 1, "value": [0]},
        {"pos": texts[0], "seq": 2, "value": "two"},
        {"pos": position, "seq": 3, "value": [1]},
    ]
    response = post_save(client_for(alice), attempt, changes)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["seq"], r["ok"], r["code"]) for r in results] == [
        (1, True, "saved"),
        (2, False, "error"),
        (3, True, "saved"),
    ]
    assert results[1]["reason"]
    assert sorted(AnswerLog.objects.filter(attempt=attempt).values_list("seq", flat=True)) == [1, 3]


def test_anything_else_is_500_json(attempt, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.services, "changes_from_message", broken)
    monkeypatch.setattr(views, "clock_payload", broken)
    client = client_for(alice)
    body = assert_json(post_save(client, attempt, []), 500, code="error")
    assert "signedOut" not in body and "Retry-After" not in post_save(client, attempt, [])
    assert_json(client.get(state_url(attempt)), 500, code="error")


def test_an_error_escaping_into_handler500_is_json_on_the_fallback(attempt, alice, monkeypatch):
    """An exception outside the views (here a middleware's, Redis down) reaches Django's handler500:
    on the fallback's URLs it answers JSON, elsewhere the HTML page."""

    def redis_down():
        raise redis.exceptions.ConnectionError("Connection refused")

    # Called for a browser without the device cookie, as this client is.
    monkeypatch.setattr("exams.middleware.new_device_id", redis_down)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    assert_unavailable(post_save(client, attempt, []))
    assert_unavailable(client.get(state_url(attempt)))
    page = client.get(reverse("exams:attempt", args=[attempt.pk]))
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")


def test_handler500_answers_json_to_a_request_that_prefers_it():
    factory = RequestFactory()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        as_json = server_error(factory.get("/nowhere/", headers={"Accept": "application/json"}))
        as_page = server_error(factory.get("/nowhere/", headers={"Accept": "text/html,*/*"}))
    assert_json(as_json, 500, code="error")
    assert as_page.status_code == 500 and as_page["Content-Type"].startswith("text/html")
