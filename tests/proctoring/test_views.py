"""The live room over HTTP: the proctor's page and JSON actions, the candidate's waiting room and system check.

Every view: it works for the right person; the other room's proctor, the candidates, the
committee member get 404 (an observer too, for actions); anonymous goes to the login page.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from exams.models import AttemptStatus
from proctoring import services
from proctoring.models import CheckIn, Incident, Message, RoomEvent, RoomSession, Still, SystemCheck

from .conftest import admit, client_for

OUTSIDERS = ["proctor_b", "alice", "bob", "committee_member"]


def post_json(client: Client, url: str, body: dict | None = None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def assert_goes_to_login(response) -> None:
    assert response.status_code == 302 and response.url.startswith(reverse("login")), response


# --- the room page ------------------------------------------------------------------------------
@pytest.mark.parametrize("watcher", ["proctor_a", "observer"])
def test_the_room_page_opens_for_its_proctor_and_observer(room_a, alice_enrolment, watcher, request):
    response = client_for(request.getfixturevalue(watcher)).get(reverse("proctoring:room", args=[room_a.pk]))
    assert response.status_code == 200
    assert "Room A" in response.content.decode()
    payload = response.context["payload"]
    assert payload["room"] == room_a.pk and payload["ws"] == f"/ws/proctoring/room/{room_a.pk}/"


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "observer_of_b"])
def test_the_room_page_is_404_to_outsiders(room_a, room_b, outsider, request):
    if outsider == "observer_of_b":
        from ..factories import UserFactory

        user = UserFactory(username="observer_b")
        room_b.observers.add(user)
    else:
        user = request.getfixturevalue(outsider)
    assert client_for(user).get(reverse("proctoring:room", args=[room_a.pk])).status_code == 404


def test_the_room_page_sends_anonymous_to_login(room_a):
    assert_goes_to_login(client_for(None).get(reverse("proctoring:room", args=[room_a.pk])))


def test_the_rooms_list_shows_only_ones_own_rooms(room_a, room_b, proctor_a, proctor_b, observer, alice):
    for user, sees, not_sees in [(proctor_a, "Room A", "Room B"), (observer, "Room A", "Room B"), (proctor_b, "Room B", "Room A")]:
        page = client_for(user).get(reverse("proctoring:rooms"))
        assert page.status_code == 200
        assert sees in page.content.decode() and not_sees not in page.content.decode()
    page = client_for(alice).get(reverse("proctoring:rooms")).content.decode()
    assert "Room A" not in page and "Room B" not in page
    assert_goes_to_login(client_for(None).get(reverse("proctoring:rooms")))


# --- the JSON actions: who may -------------------------------------------------------------------
def action_urls(enrolment_id: int, attempt_id: int, room_id: int) -> list[tuple[str, dict]]:
    return [
        (reverse("proctoring:admit", args=[enrolment_id]), {}),
        (reverse("proctoring:refuse", args=[enrolment_id]), {"reason": "Not the person on the ID"}),
        (reverse("proctoring:message", args=[enrolment_id]), {"text": "Hello"}),
        (reverse("proctoring:read", args=[enrolment_id]), {}),
        (reverse("proctoring:incident", args=[enrolment_id]), {"kind": "talking", "note": "x"}),
        (reverse("proctoring:attempt_action", args=[attempt_id, "pause"]), {"reason": "x"}),
        (reverse("proctoring:attempt_action", args=[attempt_id, "resume"]), {}),
        (reverse("proctoring:attempt_action", args=[attempt_id, "extend"]), {"minutes": 5, "reason": "x"}),
        (reverse("proctoring:attempt_action", args=[attempt_id, "disqualify"]), {"reason": "x"}),
        (reverse("proctoring:attempt_action", args=[attempt_id, "hand-over"]), {"reason": "x"}),
    ]


def nothing_changed(attempt, alice_enrolment) -> None:
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and not attempt.is_paused and not attempt.is_locked
    assert not Incident.objects.exists() and not Message.objects.exists()
    assert CheckIn.objects.get(enrolment=alice_enrolment).status == CheckIn.Status.ADMITTED
    # Only the set-up's own steps are in the log: arrived, admitted, started.
    assert set(RoomEvent.objects.values_list("kind", flat=True)) <= {"arrived", "admitted", "started"}


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "observer"])
def test_actions_on_a_candidate_are_404_to_outsiders_and_observers(attempt, alice_enrolment, room_a, outsider, request):
    client = client_for(request.getfixturevalue(outsider))
    for url, body in action_urls(alice_enrolment.pk, attempt.pk, room_a.pk):
        assert post_json(client, url, body).status_code == 404, url
    nothing_changed(attempt, alice_enrolment)


def test_actions_send_anonymous_to_login_and_refuse_get(attempt, alice_enrolment, room_a, proctor_a):
    for url, body in action_urls(alice_enrolment.pk, attempt.pk, room_a.pk):
        assert_goes_to_login(post_json(client_for(None), url, body))
        assert client_for(proctor_a).get(url).status_code == 405, url
    assert_goes_to_login(post_json(client_for(None), reverse("proctoring:room_advance", args=[room_a.pk]), {"to": "collected"}))
    nothing_changed(attempt, alice_enrolment)


def test_actions_need_the_csrf_token(attempt, alice_enrolment, room_a, proctor_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(proctor_a)
    for url, body in action_urls(alice_enrolment.pk, attempt.pk, room_a.pk):
        assert post_json(client, url, body).status_code == 403, url
    nothing_changed(attempt, alice_enrolment)


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_room_advance_is_404_to_outsiders(room_a, outsider, request):
    response = post_json(client_for(request.getfixturevalue(outsider)), reverse("proctoring:room_advance", args=[room_a.pk]),
                         {"to": "started"})
    assert response.status_code == 404
    assert services.room_session_for(room_a.pk).stage == RoomSession.Stage.ADMITTING


def test_room_advance_is_404_to_an_observer(room_a, observer):
    response = post_json(client_for(observer), reverse("proctoring:room_advance", args=[room_a.pk]), {"to": "started"})
    assert response.status_code == 404
    assert services.room_session_for(room_a.pk).stage == RoomSession.Stage.ADMITTING


# --- the JSON actions: what they do ----------------------------------------------------------------
def test_admit_and_refuse_by_the_rooms_proctor(alice, alice_enrolment, proctor_a, sitting, room_a):
    from ..factories import UserFactory, enrol

    carol_enrolment = enrol(sitting, room_a, UserFactory(username="carol"))
    client = client_for(proctor_a)
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    admitted = post_json(client, reverse("proctoring:admit", args=[alice_enrolment.pk]))
    assert admitted.status_code == 200 and admitted.json()["ok"] is True
    assert admitted.json()["tile"]["checkin"] == "admitted" and admitted.json()["tile"]["enrolment"] == alice_enrolment.pk

    no_reason = post_json(client, reverse("proctoring:refuse", args=[carol_enrolment.pk]), {"reason": "  "})
    assert no_reason.status_code == 400 and no_reason.json()["ok"] is False and no_reason.json()["error"]
    refused = post_json(client, reverse("proctoring:refuse", args=[carol_enrolment.pk]), {"reason": "No ID card"})
    assert refused.status_code == 200 and refused.json()["tile"]["checkin"] == "refused"
    assert CheckIn.objects.get(enrolment=carol_enrolment).reason == "No ID card"
    assert CheckIn.objects.get(enrolment=alice_enrolment).decided_by == proctor_a


def test_a_form_encoded_body_works_too(alice, alice_enrolment, proctor_a):
    services.checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    response = client_for(proctor_a).post(reverse("proctoring:refuse", args=[alice_enrolment.pk]), {"reason": "Left the camera"})
    assert response.status_code == 200
    assert CheckIn.objects.get(enrolment=alice_enrolment).reason == "Left the camera"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
def test_a_malformed_body_is_a_400(alice_enrolment, proctor_a, body):
    response = client_for(proctor_a).post(reverse("proctoring:refuse", args=[alice_enrolment.pk]), data=body,
                                          content_type="application/json")
    assert response.status_code == 400 and response.json()["ok"] is False


def test_message_read_and_incident_by_the_rooms_proctor(attempt, alice, alice_enrolment, proctor_a):
    client = client_for(proctor_a)
    assert post_json(client, reverse("proctoring:message", args=[alice_enrolment.pk]), {"text": "Sit up, please"}).status_code == 200
    assert post_json(client, reverse("proctoring:message", args=[alice_enrolment.pk]), {"text": ""}).status_code == 400
    sent = Message.objects.get()
    assert (sent.from_proctor, sent.author, sent.text) == (True, proctor_a, "Sit up, please")

    services.message_send(enrolment_id=alice_enrolment.pk, author=alice, text="OK")
    assert post_json(client, reverse("proctoring:read", args=[alice_enrolment.pk])).status_code == 200
    assert Message.objects.get(from_proctor=False).read_at is not None

    still = Still.objects.create(enrolment=alice_enrolment, track="camera", taken_at=attempt.started_at, path="stills/x.jpg")
    response = post_json(client, reverse("proctoring:incident", args=[alice_enrolment.pk]),
                         {"kind": "standing_up", "note": "Left the desk", "stills": [still.pk, "junk", -1]})
    assert response.status_code == 200
    incident = Incident.objects.get(pk=response.json()["incident"])
    assert (incident.kind, incident.raised_by, incident.note, incident.still) == ("standing_up", proctor_a, "Left the desk", still)
    assert post_json(client, reverse("proctoring:incident", args=[alice_enrolment.pk]), {"kind": "camera"}).status_code == 400


def test_an_out_of_range_still_id_is_ignored(attempt, alice_enrolment, proctor_a):
    response = post_json(client_for(proctor_a), reverse("proctoring:incident", args=[alice_enrolment.pk]),
                         {"kind": "talking", "stills": ["9" * 30]})
    assert response.status_code == 200
    assert Incident.objects.get().still is None


def test_attempt_actions_by_the_rooms_proctor(attempt, proctor_a):
    client = client_for(proctor_a)

    def act(action: str, body: dict | None = None):
        return post_json(client, reverse("proctoring:attempt_action", args=[attempt.pk, action]), body)

    assert act("pause").status_code == 400  # no reason
    paused = act("pause", {"reason": "Internet down"})
    assert paused.status_code == 200 and paused.json()["tile"]["attempt"]["pausedAt"] is not None
    attempt.refresh_from_db()
    assert attempt.is_paused and attempt.pause_reason == "Internet down"
    deadline = attempt.deadline

    resumed = act("resume")
    assert resumed.status_code == 200 and resumed.json()["tile"]["attempt"]["pausedAt"] is None
    attempt.refresh_from_db()
    assert not attempt.is_paused and attempt.deadline >= deadline
    deadline = attempt.deadline

    for bad in ({"minutes": "ten", "reason": "x"}, {"minutes": 0, "reason": "x"}, {"minutes": 121, "reason": "x"}, {"minutes": 5}):
        assert act("extend", bad).status_code == 400, bad
    assert act("extend", {"minutes": "15", "reason": "Fire alarm"}).status_code == 200
    attempt.refresh_from_db()
    assert (attempt.deadline - deadline).total_seconds() == 15 * 60

    assert act("self-destruct", {"reason": "x"}).status_code == 404

    ended = act("disqualify", {"reason": "Notes on the desk"})
    assert ended.status_code == 200 and ended.json()["tile"]["attempt"]["status"] == "disqualified"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.DISQUALIFIED and attempt.end_reason == "Notes on the desk"
    assert act("pause", {"reason": "again"}).status_code == 400


def test_hand_over_of_a_locked_attempt(attempt, proctor_a):
    from exams.services import attempt_open_on_device

    from .conftest import OTHER_DEVICE

    attempt_open_on_device(attempt_id=attempt.pk, device_id=OTHER_DEVICE)
    url = reverse("proctoring:attempt_action", args=[attempt.pk, "hand-over"])
    assert post_json(client_for(proctor_a), url, {"to": "first"}).status_code == 400  # no reason
    response = post_json(client_for(proctor_a), url, {"to": "first", "reason": "The second laptop was a mistake"})
    assert response.status_code == 200 and response.json()["tile"]["attempt"]["locked"] is False
    attempt.refresh_from_db()
    assert attempt.device_id == "a" * 32 and not attempt.is_locked


def test_hand_over_of_an_attempt_that_is_not_locked_is_a_400(attempt, proctor_a):
    response = post_json(client_for(proctor_a), reverse("proctoring:attempt_action", args=[attempt.pk, "hand-over"]),
                         {"reason": "Moving it"})
    assert response.status_code == 400 and response.json()["ok"] is False


def test_room_advance_by_the_rooms_proctor(room_a, proctor_a, alice_enrolment):
    client = client_for(proctor_a)
    url = reverse("proctoring:room_advance", args=[room_a.pk])
    skipped = post_json(client, url, {"to": "collected"})
    assert skipped.status_code == 400 and skipped.json()["error"]
    started = post_json(client, url, {"to": "started"})
    assert started.status_code == 200 and started.json()["session"]["stage"] == "started"
    assert post_json(client, url, {"to": "collected"}).json()["session"]["stage"] == "collected"
    assert post_json(client, url, {"to": "ended"}).json()["session"]["stage"] == "ended"
    assert post_json(client, url, {}).status_code == 400


def test_candidate_evidence_json_for_the_room_only(alice_enrolment, proctor_a, observer, proctor_b, bob):
    url = reverse("proctoring:candidate_evidence", args=[alice_enrolment.pk])
    assert client_for(proctor_a).get(url).json() == {"stills": [], "recordings": []}
    assert client_for(observer).get(url).status_code == 200
    for outsider in (proctor_b, bob):
        assert client_for(outsider).get(url).status_code == 404
    assert_goes_to_login(client_for(None).get(url))


# --- the candidate's pages ------------------------------------------------------------------------
def test_the_waiting_room_renders_for_the_candidate_and_checks_them_in(alice, alice_enrolment):
    response = client_for(alice).get(reverse("proctoring:waiting_room", args=[alice_enrolment.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Waiting room" in page and alice_enrolment.ticket_number in page
    payload = response.context["payload"]
    assert payload["ws"] == f"/ws/proctoring/candidate/{alice_enrolment.pk}/" and payload["checkin"] == "waiting"
    assert CheckIn.objects.get(enrolment=alice_enrolment).arrived_at is not None


@pytest.mark.parametrize("outsider", ["bob", "proctor_a", "proctor_b", "committee_member"])
def test_the_waiting_room_is_404_to_everyone_else(alice_enrolment, outsider, request):
    response = client_for(request.getfixturevalue(outsider)).get(reverse("proctoring:waiting_room", args=[alice_enrolment.pk]))
    assert response.status_code == 404
    assert not CheckIn.objects.exists()


def test_the_waiting_room_sends_anonymous_to_login(alice_enrolment):
    assert_goes_to_login(client_for(None).get(reverse("proctoring:waiting_room", args=[alice_enrolment.pk])))


def test_the_waiting_room_sends_on_who_is_not_ready_or_already_started(alice, alice_enrolment, attempt, sitting, room_a):
    client = client_for(alice)
    started = client.get(reverse("proctoring:waiting_room", args=[alice_enrolment.pk]))
    assert started.status_code == 302 and started.url == reverse("exams:attempt", args=[attempt.pk])

    from ..factories import UserFactory, enrol

    carol = UserFactory(username="carol")
    unconfirmed = enrol(sitting, room_a, carol, confirmed=False)
    response = client_for(carol).get(reverse("proctoring:waiting_room", args=[unconfirmed.pk]))
    assert response.status_code == 302 and response.url == reverse("exams:confirm_identity", args=[unconfirmed.pk])
    assert not CheckIn.objects.filter(enrolment=unconfirmed).exists()


def test_the_waiting_room_after_entry_closed_goes_home(alice, alice_enrolment, sitting, proctor_a, room_a):
    from datetime import timedelta

    sitting.starts_at -= timedelta(hours=3)
    sitting.save()
    services.room_advance(room_id=room_a.pk, by=proctor_a, to="started", now=sitting.starts_at)
    response = client_for(alice).get(reverse("proctoring:waiting_room", args=[alice_enrolment.pk]))
    assert response.status_code == 302 and response.url == reverse("exams:home")
    assert not CheckIn.objects.filter(enrolment=alice_enrolment, arrived_at__isnull=False).exists()


def test_start_from_the_waiting_room_needs_admission_then_goes_to_the_exam(alice, alice_enrolment, proctor_a, room_a):
    client = client_for(alice)
    refused = client.post(reverse("exams:attempt_start", args=[alice_enrolment.pk]))
    assert refused.status_code == 302 and refused.url == reverse("proctoring:waiting_room", args=[alice_enrolment.pk])
    admit(alice_enrolment, proctor_a)
    services.room_advance(room_id=room_a.pk, by=proctor_a, to=RoomSession.Stage.STARTED)
    started = client.post(reverse("exams:attempt_start", args=[alice_enrolment.pk]))
    attempt = alice_enrolment.attempts.get(is_practice=False)
    assert started.status_code == 302 and started.url == reverse("exams:attempt", args=[attempt.pk])


# --- the system check ------------------------------------------------------------------------------
def test_the_system_check_page_renders_for_the_candidate(alice, alice_enrolment):
    response = client_for(alice).get(reverse("proctoring:system_check") + f"?enrolment={alice_enrolment.pk}")
    assert response.status_code == 200
    payload = response.context["payload"]
    assert payload["enrolment"] == alice_enrolment.pk and payload["urls"]["upload"] == reverse("proctoring:upload_probe")
    assert_goes_to_login(client_for(None).get(reverse("proctoring:system_check")))


GOOD = {"isChrome": True, "isPhone": False, "camera": True, "microphone": True, "screen": True, "uploadMbps": 12.5}


@pytest.mark.parametrize(("change", "passed", "problems"), [
    ({}, True, []),
    ({"uploadMbps": 4.0}, True, []),
    ({"uploadMbps": 3.8}, True, []),  # issue 10, point 5: within the measurement's 5 % of 4 Mbps
    ({"uploadMbps": 3.79}, False, ["upload"]),
    ({"uploadMbps": None}, False, ["upload"]),
    ({"isChrome": False}, True, ["not_chrome"]),
    ({"isPhone": True, "camera": False, "isChrome": False}, False, ["phone", "camera", "not_chrome"]),
    ({"microphone": False, "screen": False}, False, ["microphone", "screen"]),
])
def test_system_check_result_records_what_passed(alice, alice_enrolment, change, passed, problems):
    response = post_json(client_for(alice), reverse("proctoring:system_check_result"), {**GOOD, **change, "enrolment": alice_enrolment.pk})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "passed": passed, "problems": problems, "uploadMbps": {**GOOD, **change}["uploadMbps"]}
    check = SystemCheck.objects.get()
    assert (check.candidate, check.enrolment, check.passed, check.problems) == (alice, alice_enrolment, passed, problems)


def test_system_check_result_records_what_was_measured_and_refuses_what_is_not_a_number(alice, alice_enrolment):
    """Issue 10, point 5: the line's rate, the data rate and the request's fixed cost are kept; junk is a 400."""
    url = reverse("proctoring:system_check_result")
    response = post_json(client_for(alice), url, {**GOOD, "uploadMbps": 4.11, "uploadGoodputMbps": 4.0, "uploadLatencyMs": 12})
    assert response.json() == {"ok": True, "passed": True, "problems": [], "uploadMbps": 4.11}
    check = SystemCheck.objects.get()
    assert (check.upload_mbps, check.upload_goodput_mbps, check.upload_latency_ms) == (4.11, 4.0, 12)
    for junk in ({"uploadMbps": "fast"}, {"uploadMbps": -1}, {"uploadLatencyMs": "x"}, {"enrolment": "abc"}):
        response = post_json(client_for(alice), url, {**GOOD, **junk})
        assert response.status_code == 400 and response.json()["error"], junk
    assert SystemCheck.objects.count() == 1


def test_system_check_result_ignores_another_candidates_enrolment(bob, alice_enrolment):
    response = post_json(client_for(bob), reverse("proctoring:system_check_result"), {**GOOD, "enrolment": alice_enrolment.pk})
    assert response.status_code == 200
    check = SystemCheck.objects.get()
    assert check.candidate == bob and check.enrolment is None


def test_system_check_result_needs_a_login(db):
    assert_goes_to_login(post_json(client_for(None), reverse("proctoring:system_check_result"), GOOD))
    assert not SystemCheck.objects.exists()


def test_upload_probe_counts_the_bytes(alice):
    client = client_for(alice)
    url = reverse("proctoring:upload_probe")
    response = client.post(url, data=b"x" * 300_000, content_type="application/octet-stream")
    assert response.status_code == 200 and response.json()["received"] == 300_000
    assert response.json()["serverSeconds"] >= 0
    assert client.post(url, data=b"", content_type="application/octet-stream").json()["received"] == 0
    assert client.post(url, data=b"x" * (8 * 1024 * 1024 + 1), content_type="application/octet-stream").status_code == 413
    assert client.get(url).status_code == 405
    assert_goes_to_login(client_for(None).post(url, data=b"x", content_type="application/octet-stream"))
