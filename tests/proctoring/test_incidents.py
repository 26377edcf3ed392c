"""Incidents noticed by the system (R-PROC-3) and recorded by proctors (R-PROC-4); the chat; connections; R-TAKE-2."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from exams.models import AttemptEvent, SubmittedBy
from exams.services import attempt_open_on_device, attempt_submit
from proctoring import services
from proctoring.errors import ProctoringError
from proctoring.models import CheckIn, Incident, IncidentKind, Message, RoomEvent, Still

from .conftest import DEVICE, OTHER_DEVICE, admit

ALL_FINE = {"camera": True, "microphone": True, "screen": True, "wholeScreen": True, "visible": True, "focused": True}


def grace() -> timedelta:
    return timedelta(seconds=settings.PROCTORING_MEDIA_GRACE_SECONDS)


def open_kinds(enrolment) -> set[str]:
    return set(Incident.objects.filter(enrolment=enrolment, by_system=True, ended_at__isnull=True).values_list("kind", flat=True))


# --- signals from the candidate's page -------------------------------------------------------------
def test_signals_before_the_start_are_stored_but_raise_no_incident(alice_enrolment, proctor_a):
    admit(alice_enrolment, proctor_a)
    opened = services.signals_report(enrolment_id=alice_enrolment.pk, state={**ALL_FINE, "camera": False, "screen": False})
    assert opened == [] and not Incident.objects.exists()
    stored = CheckIn.objects.get(enrolment=alice_enrolment).signals
    assert {k: v for k, v in stored.items() if k != "badSince"} == {**ALL_FINE, "camera": False, "screen": False}


def test_a_bad_signal_during_the_attempt_opens_one_incident_until_fixed(attempt, alice_enrolment):
    assert services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE) == []
    t0 = timezone.now()
    [opened] = services.signals_report(enrolment_id=alice_enrolment.pk, state={"wholeScreen": False}, now=t0)
    assert (opened.kind, opened.by_system, opened.attempt_id, opened.at, opened.ended_at) == (
        IncidentKind.SCREEN_SHARE, True, attempt.pk, t0, None)
    # The page reports the same state again (a flapping signal): no second incident.
    assert services.signals_report(enrolment_id=alice_enrolment.pk, state={"wholeScreen": False, "focused": True}) == []
    assert Incident.objects.filter(kind=IncidentKind.SCREEN_SHARE).count() == 1

    t1 = t0 + timedelta(seconds=40)
    services.signals_report(enrolment_id=alice_enrolment.pk, state={"wholeScreen": True}, now=t1)
    opened.refresh_from_db()
    assert opened.ended_at == t1 and opened.duration(t1 + timedelta(hours=1)) == timedelta(seconds=40)
    assert open_kinds(alice_enrolment) == set()

    # Bad again later: a new incident, the old one stays closed (the camera's once its grace is over).
    t2 = t1 + timedelta(minutes=1)
    again = services.signals_report(enrolment_id=alice_enrolment.pk, state={"wholeScreen": False, "camera": False}, now=t2)
    again += services.signals_recheck(enrolment_id=alice_enrolment.pk, now=t2 + grace())
    assert sorted(i.kind for i in again) == sorted([IncidentKind.SCREEN_SHARE, IncidentKind.CAMERA])
    assert opened.pk not in {i.pk for i in again}
    assert open_kinds(alice_enrolment) == {IncidentKind.SCREEN_SHARE, IncidentKind.CAMERA}
    assert Incident.objects.filter(kind=IncidentKind.SCREEN_SHARE).count() == 2


@pytest.mark.parametrize(("key", "kind"), [
    ("camera", IncidentKind.CAMERA), ("microphone", IncidentKind.MICROPHONE), ("screen", IncidentKind.SCREEN_SHARE),
    ("wholeScreen", IncidentKind.SCREEN_SHARE), ("visible", IncidentKind.PAGE_HIDDEN), ("focused", IncidentKind.FOCUS_LOST),
])
def test_each_signal_opens_its_kind(attempt, alice_enrolment, key, kind):
    services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE)
    now = timezone.now()
    opened = services.signals_report(enrolment_id=alice_enrolment.pk, state={key: False}, now=now)
    if kind in (IncidentKind.CAMERA, IncidentKind.MICROPHONE):  # after the grace, dated from the report
        assert opened == []
        opened = services.signals_recheck(enrolment_id=alice_enrolment.pk, now=now + grace())
    assert [(i.kind, i.at) for i in opened] == [(kind, now)]
    assert open_kinds(alice_enrolment) == {kind}


def test_signals_after_the_attempt_ended_open_nothing_but_still_close(attempt, alice_enrolment):
    services.signals_report(enrolment_id=alice_enrolment.pk, state={**ALL_FINE, "camera": False})
    services.signals_recheck(enrolment_id=alice_enrolment.pk, now=timezone.now() + grace())
    attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CANDIDATE)
    assert services.signals_report(enrolment_id=alice_enrolment.pk, state={"microphone": False}) == []
    assert open_kinds(alice_enrolment) == {IncidentKind.CAMERA}
    services.signals_report(enrolment_id=alice_enrolment.pk, state={"camera": True})
    assert open_kinds(alice_enrolment) == set()


def test_clean_signals_keeps_known_keys_as_booleans():
    assert services.clean_signals({"camera": 1, "focused": "", "evil": True, "screen": None}) == {
        "camera": True, "focused": False, "screen": False}
    assert services.clean_signals(["camera"]) == {}
    assert services.clean_signals(None) == {}


def test_the_database_allows_one_open_system_incident_per_kind(attempt, alice_enrolment):
    now = timezone.now()
    first = services.system_incident_open(enrolment=alice_enrolment, kind=IncidentKind.CAMERA, now=now)
    assert first is not None
    assert services.system_incident_open(enrolment=alice_enrolment, kind=IncidentKind.CAMERA, now=now) is None
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(enrolment=alice_enrolment, kind=IncidentKind.CAMERA, by_system=True, at=now)
    # A closed one, another kind, or a proctor's own record are all fine.
    Incident.objects.create(enrolment=alice_enrolment, kind=IncidentKind.CAMERA, by_system=True, at=now, ended_at=now)
    Incident.objects.create(enrolment=alice_enrolment, kind=IncidentKind.MICROPHONE, by_system=True, at=now)
    assert Incident.objects.filter(enrolment=alice_enrolment).count() == 3


# --- incidents a proctor records ----------------------------------------------------------------
def make_still(enrolment, track: str, taken_at, name: str) -> Still:
    return Still.objects.create(enrolment=enrolment, track=track, taken_at=taken_at, path=f"stills/{enrolment.pk}/{name}.jpg", size=10)


def test_a_proctors_incident_carries_the_newest_stills(attempt, alice_enrolment, bob_enrolment, proctor_a):
    now = timezone.now()
    make_still(alice_enrolment, Still.Track.CAMERA, now - timedelta(seconds=6), "camera-old")
    newest_camera = make_still(alice_enrolment, Still.Track.CAMERA, now - timedelta(seconds=1), "camera-new")
    screen = make_still(alice_enrolment, Still.Track.SCREEN, now - timedelta(seconds=4), "screen")
    make_still(bob_enrolment, Still.Track.CAMERA, now, "bobs-camera")
    incident = services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.PHONE,
                                        note=" Phone in the left hand ", now=now)
    assert (incident.still, incident.screen_still) == (newest_camera, screen)
    assert (incident.kind, incident.by_system, incident.raised_by, incident.attempt_id, incident.note) == (
        IncidentKind.PHONE, False, proctor_a, attempt.pk, "Phone in the left hand")
    event = RoomEvent.objects.get(kind=RoomEvent.Kind.INCIDENT)
    assert (event.actor, event.enrolment, event.reason, event.detail["incident"]) == (
        proctor_a, alice_enrolment, "Phone in the left hand", incident.pk)


def test_stale_stills_are_not_evidence_and_chosen_ones_win(attempt, alice_enrolment, bob_enrolment, proctor_a):
    now = timezone.now()
    stale = make_still(alice_enrolment, Still.Track.CAMERA, now - timedelta(minutes=5), "stale")
    bobs = make_still(bob_enrolment, Still.Track.SCREEN, now, "bobs-screen")
    incident = services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.TALKING, now=now)
    assert incident.still is None and incident.screen_still is None
    # A still the proctor picked counts even if older; another candidate's still never does.
    chosen = services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.LOOKING_AWAY,
                                      still_ids=[stale.pk, bobs.pk], now=now)
    assert chosen.still == stale and chosen.screen_still is None


@pytest.mark.parametrize("kind", [IncidentKind.CAMERA, IncidentKind.SECOND_DEVICE, IncidentKind.CONNECTION, "", "bogus"])
def test_a_proctor_records_only_proctor_kinds(attempt, alice_enrolment, proctor_a, kind):
    with pytest.raises(ProctoringError):
        services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=kind, note="x")
    assert not Incident.objects.exists()


def test_a_very_long_note_is_cut_not_a_crash(attempt, alice_enrolment, proctor_a):
    incident = services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.OTHER, note="n" * 1500)
    assert len(incident.note) == 1000
    assert RoomEvent.objects.filter(kind=RoomEvent.Kind.INCIDENT, enrolment=alice_enrolment).exists()


def test_other_needs_a_description(attempt, alice_enrolment, proctor_a):
    with pytest.raises(ProctoringError):
        services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.OTHER, note="  ")
    assert services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.OTHER, note="Dog barked").pk


@pytest.mark.parametrize("outsider", ["proctor_b", "observer", "committee_member", "alice", "bob"])
def test_only_the_rooms_proctor_records_an_incident(attempt, alice_enrolment, outsider, request):
    with pytest.raises(ProctoringError) as refused:
        services.incident_record(enrolment_id=alice_enrolment.pk, by=request.getfixturevalue(outsider), kind=IncidentKind.TALKING)
    assert refused.value.code == "not_found"
    assert not Incident.objects.exists() and not RoomEvent.objects.filter(kind=RoomEvent.Kind.INCIDENT).exists()


# --- the candidate's connection -----------------------------------------------------------------
def test_a_newer_socket_wins_and_only_the_current_one_going_counts(attempt, alice_enrolment):
    services.candidate_online(enrolment_id=alice_enrolment.pk, channel="old-tab")
    services.candidate_online(enrolment_id=alice_enrolment.pk, channel="new-tab")
    assert services.candidate_offline(enrolment_id=alice_enrolment.pk, channel="old-tab") is None
    checkin = CheckIn.objects.get(enrolment=alice_enrolment)
    assert checkin.socket_channel == "new-tab" and checkin.is_online and checkin.offline_since is None

    went = timezone.now()
    assert services.candidate_offline(enrolment_id=alice_enrolment.pk, channel="new-tab", now=went) == went
    checkin.refresh_from_db()
    assert not checkin.is_online and checkin.offline_since == went

    incident = services.connection_lost_check(enrolment_id=alice_enrolment.pk, offline_since=went)
    assert incident is not None and (incident.kind, incident.at, incident.attempt_id) == (IncidentKind.CONNECTION, went, attempt.pk)
    # Checked twice (two workers): still one incident.
    assert services.connection_lost_check(enrolment_id=alice_enrolment.pk, offline_since=went) is None
    back = went + timedelta(seconds=30)
    services.candidate_online(enrolment_id=alice_enrolment.pk, channel="reloaded", now=back)
    incident.refresh_from_db()
    assert incident.ended_at == back


def test_a_reconnect_within_the_grace_is_no_incident(attempt, alice_enrolment):
    services.candidate_online(enrolment_id=alice_enrolment.pk, channel="first")
    went = services.candidate_offline(enrolment_id=alice_enrolment.pk, channel="first")
    services.candidate_online(enrolment_id=alice_enrolment.pk, channel="second")
    assert services.connection_lost_check(enrolment_id=alice_enrolment.pk, offline_since=went) is None
    # Gone again later: the first check, for the earlier going, still finds nothing.
    services.candidate_offline(enrolment_id=alice_enrolment.pk, channel="second", now=went + timedelta(minutes=1))
    assert services.connection_lost_check(enrolment_id=alice_enrolment.pk, offline_since=went) is None
    assert not Incident.objects.exists()


def test_going_offline_in_the_waiting_room_is_no_incident(alice_enrolment, proctor_a):
    admit(alice_enrolment, proctor_a)
    services.candidate_online(enrolment_id=alice_enrolment.pk, channel="waiting")
    went = services.candidate_offline(enrolment_id=alice_enrolment.pk, channel="waiting")
    assert went is not None
    assert services.connection_lost_check(enrolment_id=alice_enrolment.pk, offline_since=went) is None
    assert not Incident.objects.exists()


# --- a second device (R-TAKE-2), through proctoring/receivers.py ----------------------------------
def test_a_second_device_opens_an_incident_and_the_proctors_hand_over_closes_it(
    attempt, alice_enrolment, proctor_a, proctor_b, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        locked = attempt_open_on_device(attempt_id=attempt.pk, device_id=OTHER_DEVICE)
    assert locked.is_locked
    [incident] = Incident.objects.filter(enrolment=alice_enrolment, kind=IncidentKind.SECOND_DEVICE)
    assert incident.by_system and incident.ended_at is None and incident.attempt_id == attempt.pk
    assert "second device" in incident.note

    # The same second device reloading does not open another.
    with django_capture_on_commit_callbacks(execute=True):
        attempt_open_on_device(attempt_id=attempt.pk, device_id=OTHER_DEVICE)
    assert Incident.objects.filter(kind=IncidentKind.SECOND_DEVICE).count() == 1

    with pytest.raises(ProctoringError) as refused:
        services.attempt_hand_over_by_proctor(attempt_id=attempt.pk, by=proctor_b, to_new_device=True, reason="x")
    assert refused.value.code == "not_found"
    with pytest.raises(ProctoringError):
        services.attempt_hand_over_by_proctor(attempt_id=attempt.pk, by=proctor_a, to_new_device=True, reason=" ")

    with django_capture_on_commit_callbacks(execute=True):
        moved = services.attempt_hand_over_by_proctor(attempt_id=attempt.pk, by=proctor_a, to_new_device=True,
                                                      reason="Laptop battery died")
    assert not moved.is_locked and moved.device_id == OTHER_DEVICE
    incident.refresh_from_db()
    assert incident.ended_at is not None
    event = RoomEvent.objects.get(kind=RoomEvent.Kind.HANDED_OVER)
    assert (event.actor, event.enrolment, event.reason, event.detail["to_new_device"]) == (
        proctor_a, alice_enrolment, "Laptop battery died", True)
    assert AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.HANDED_OVER).actor == proctor_a


def test_a_hand_over_back_to_the_first_device(attempt, alice_enrolment, proctor_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt_open_on_device(attempt_id=attempt.pk, device_id=OTHER_DEVICE)
        services.attempt_hand_over_by_proctor(attempt_id=attempt.pk, by=proctor_a, to_new_device=False, reason="Wrong laptop")
    attempt.refresh_from_db()
    assert attempt.device_id == DEVICE and not attempt.is_locked
    assert open_kinds(alice_enrolment) == set()


# --- the chat -----------------------------------------------------------------------------------
def test_messages_both_ways(alice, alice_enrolment, proctor_a, attempt):
    asked = services.message_send(enrolment_id=alice_enrolment.pk, author=alice, text="  My camera froze ")
    assert (asked.from_proctor, asked.author, asked.text) == (False, alice, "My camera froze")
    answered = services.message_send(enrolment_id=alice_enrolment.pk, author=proctor_a, text="Reload the page, please")
    assert answered.from_proctor is True
    # The proctor's lines are part of the room's log; the candidate's are in the chat only.
    [event] = RoomEvent.objects.filter(kind=RoomEvent.Kind.MESSAGE)
    assert (event.actor, event.enrolment, event.reason) == (proctor_a, alice_enrolment, "Reload the page, please")

    assert services.messages_mark_read(enrolment_id=alice_enrolment.pk, by_proctor=True) == 1
    asked.refresh_from_db()
    answered.refresh_from_db()
    assert asked.read_at is not None and answered.read_at is None
    assert services.messages_mark_read(enrolment_id=alice_enrolment.pk, by_proctor=False) == 1
    assert services.messages_mark_read(enrolment_id=alice_enrolment.pk, by_proctor=False) == 0


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001, "nul\x00byte"])
def test_a_message_must_be_some_text(alice, alice_enrolment, text):
    with pytest.raises(ProctoringError):
        services.message_send(enrolment_id=alice_enrolment.pk, author=alice, text=text)
    assert not Message.objects.exists()


@pytest.mark.parametrize("outsider", ["bob", "proctor_b", "observer", "committee_member", "administrator"])
def test_outsiders_cannot_message_a_candidate(alice_enrolment, outsider, request):
    with pytest.raises(ProctoringError) as refused:
        services.message_send(enrolment_id=alice_enrolment.pk, author=request.getfixturevalue(outsider), text="Hello")
    assert refused.value.code == "not_found"
    assert not Message.objects.exists()


def test_the_candidate_is_told_of_an_incident_the_proctor_recorded(attempt, alice_enrolment, proctor_a,
                                                                    django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from proctoring.groups import candidate_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(candidate_group(alice_enrolment.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.PHONE, note="A phone on the desk")
    told = async_to_sync(layer.receive)(channel)
    assert (told["type"], told["label"], told["note"]) == ("candidate.warning", "Using a phone", "A phone on the desk")
    async_to_sync(layer.group_discard)(candidate_group(alice_enrolment.pk), channel)


def test_signals_in_the_first_seconds_of_the_attempt_are_no_incident(attempt, alice_enrolment, settings):
    settings.PROCTORING_SIGNAL_GRACE_SECONDS = 20
    bad = {"camera": True, "microphone": True, "screen": False, "wholeScreen": False, "visible": True, "focused": True}
    assert services.signals_report(enrolment_id=alice_enrolment.pk, state=bad, now=attempt.started_at + timedelta(seconds=5)) == []
    opened = services.signals_report(enrolment_id=alice_enrolment.pk, state=bad, now=attempt.started_at + timedelta(seconds=21))
    assert [i.kind for i in opened] == [IncidentKind.SCREEN_SHARE]


def test_the_end_of_the_attempt_ends_its_open_system_incidents(attempt, alice_enrolment, django_capture_on_commit_callbacks):
    bad = {"camera": False, "microphone": True, "screen": True, "wholeScreen": True, "visible": False, "focused": False}
    services.signals_report(enrolment_id=alice_enrolment.pk, state=bad, now=timezone.now() - grace())
    services.signals_recheck(enrolment_id=alice_enrolment.pk)
    assert Incident.objects.filter(ended_at__isnull=True).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CANDIDATE)
    assert not Incident.objects.filter(ended_at__isnull=True).exists()


# --- the media server as the second witness --------------------------------------------------------
GOOD_PAGE = {"camera": True, "microphone": True, "screen": True, "wholeScreen": True, "visible": True, "focused": True}


def test_a_page_that_says_all_is_well_cannot_hide_a_dark_camera(attempt, alice_enrolment):
    services.signals_report(enrolment_id=alice_enrolment.pk, state=GOOD_PAGE)
    now = timezone.now()
    services.media_state_report(enrolment_id=alice_enrolment.pk, tracks={"camera": "ended", "screen": "live", "audio": "live"}, now=now)
    opened = services.signals_recheck(enrolment_id=alice_enrolment.pk, now=now + grace())
    assert [i.kind for i in opened] == [IncidentKind.CAMERA]
    services.media_state_report(enrolment_id=alice_enrolment.pk, tracks={"camera": "live"})
    assert not Incident.objects.filter(ended_at__isnull=True).exists()


def test_a_failed_media_connection_is_every_track_missing(attempt, alice_enrolment):
    services.signals_report(enrolment_id=alice_enrolment.pk, state=GOOD_PAGE)
    tracks = services.clean_media_state("failed", {"camera": "live", "screen": "live", "audio": "live"})
    now = timezone.now()
    assert services.media_state_report(enrolment_id=alice_enrolment.pk, tracks=tracks, now=now) == []
    opened = services.signals_recheck(enrolment_id=alice_enrolment.pk, now=now + grace())
    assert {i.kind for i in opened} == {IncidentKind.CAMERA, IncidentKind.SCREEN_SHARE, IncidentKind.MICROPHONE}
    assert services.clean_media_state("connected", {"camera": "live", "evil": "x", "screen": "weird"}) == {"camera": "live"}


def test_the_live_room_socket_opens_only_in_the_entry_window_or_during_the_attempt(alice_enrolment, attempt, bob_enrolment, sitting):
    from exams.models import Enrolment

    from .conftest import OTHER_DEVICE

    now = timezone.now()
    assert services.may_join_live_room(alice_enrolment, now)  # the attempt runs
    assert not services.may_join_live_room(bob_enrolment, sitting.entry_opens_at - timedelta(days=3))  # days before
    assert services.publish_refusal(alice_enrolment, DEVICE) is None
    assert services.publish_refusal(alice_enrolment, OTHER_DEVICE)  # a second device sends nothing
    attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CANDIDATE)
    assert not services.may_join_live_room(Enrolment.objects.get(pk=alice_enrolment.pk), now)


# --- issue 10, point 9: a republish is not a loss ---------------------------------------------------
def test_a_republish_within_the_grace_raises_no_camera_or_microphone_incident(attempt, alice_enrolment):
    """Issue 10, point 9: a re-share, reload or blip darkens both witnesses for a second or two: no incident."""
    services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE)
    t0 = timezone.now()
    # The old connection is replaced / hung up: nothing arrives; a reloaded page has no camera yet.
    dark = services.clean_media_state("closed", {})
    assert services.media_state_report(enrolment_id=alice_enrolment.pk, tracks=dark, now=t0) == []
    assert services.signals_report(enrolment_id=alice_enrolment.pk, state={"camera": False, "microphone": False},
                                   now=t0 + timedelta(seconds=1)) == []
    assert services.signals_waiting(enrolment_id=alice_enrolment.pk, now=t0 + timedelta(seconds=1)) == pytest.approx(
        (grace() - timedelta(seconds=1)).total_seconds())
    # Published again two seconds later: every witness says live before the grace is over.
    services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE, now=t0 + timedelta(seconds=2))
    services.media_state_report(enrolment_id=alice_enrolment.pk, tracks={"camera": "live", "screen": "live", "audio": "live"},
                                now=t0 + timedelta(seconds=3))
    assert services.signals_recheck(enrolment_id=alice_enrolment.pk, now=t0 + grace() + timedelta(seconds=1)) == []
    assert not Incident.objects.exists()
    assert services.signals_waiting(enrolment_id=alice_enrolment.pk) is None
    assert "badSince" not in CheckIn.objects.get(enrolment=alice_enrolment).signals


def test_a_camera_dark_past_the_grace_is_an_incident_dated_from_the_loss_with_its_length(attempt, alice_enrolment):
    """Issue 10, point 9: a real loss still raises the incident, from when it began, and says how long it lasted."""
    services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE)
    lost = timezone.now()
    services.signals_report(enrolment_id=alice_enrolment.pk, state={"camera": False}, now=lost)
    [incident] = services.signals_recheck(enrolment_id=alice_enrolment.pk, now=lost + grace())
    assert (incident.kind, incident.at, incident.duration_label()) == (IncidentKind.CAMERA, lost, "")
    services.signals_report(enrolment_id=alice_enrolment.pk, state={"camera": True}, now=lost + timedelta(seconds=75))
    incident.refresh_from_db()
    assert incident.duration_label() == "1 min 15 s"
    from proctoring.selectors import incident_payload

    assert incident_payload(incident)["lasted"] == "1 min 15 s"


def test_the_candidate_stopping_the_share_is_an_incident_at_once_but_the_servers_word_waits(attempt, alice_enrolment):
    """Issue 10, point 9: the page's own "I stopped sharing" is immediate; the media server's "missing" waits its grace."""
    services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE)
    now = timezone.now()
    assert services.media_state_report(enrolment_id=alice_enrolment.pk, tracks={"screen": "missing"}, now=now) == []
    services.media_state_report(enrolment_id=alice_enrolment.pk, tracks={"screen": "live"}, now=now)
    [opened] = services.signals_report(enrolment_id=alice_enrolment.pk, state={"screen": False}, now=now)
    assert opened.kind == IncidentKind.SCREEN_SHARE and opened.at == now


def test_duration_words():
    from proctoring.models import duration_words

    assert [duration_words(timedelta(seconds=s)) for s in (0, 4.6, 65, 3600 * 2 + 600)] == ["0 s", "5 s", "1 min 05 s", "2 h 10 min"]


def test_the_complaint_case_file_says_how_long_a_system_incident_lasted(attempt, alice_enrolment):
    """Issue 10, point 9: the committee's timeline gives a system incident's length, as the proctor's list does."""
    from complaints.case_file import exam_timeline

    services.signals_report(enrolment_id=alice_enrolment.pk, state=ALL_FINE)
    lost = attempt.started_at + timedelta(minutes=1)
    services.signals_report(enrolment_id=alice_enrolment.pk, state={"microphone": False}, now=lost)
    services.signals_recheck(enrolment_id=alice_enrolment.pk, now=lost + grace())
    services.signals_report(enrolment_id=alice_enrolment.pk, state={"microphone": True}, now=lost + timedelta(seconds=42))
    [entry] = [e for e in exam_timeline(alice_enrolment, attempt) if e.source == "incident"]
    assert "Microphone lost" in entry.label and "lasted 42 s" in entry.detail
