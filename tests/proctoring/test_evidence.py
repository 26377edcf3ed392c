"""Stills and recordings: recorded from the media process, opened with a log, deleted after retention (R-PROC-6)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from exams.models import Room
from proctoring import services, tasks
from proctoring.models import EvidenceAccess, Recording, RoomEvent, Still

from ..factories import UserFactory, enrol, make_exam, make_sitting
from .conftest import client_for

JPEG = b"\xff\xd8\xff\xe0" + b"not really a picture" + b"\xff\xd9"


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def write(media_root: Path, relative: str, content: bytes = JPEG) -> str:
    (media_root / relative).parent.mkdir(parents=True, exist_ok=True)
    (media_root / relative).write_bytes(content)
    return relative


# --- the hook the media process calls ---------------------------------------------------------
def test_the_hook_records_a_periodic_still_once(alice_enrolment):
    at = timezone.now()
    still = services.evidence_hook(kind="still", session=str(alice_enrolment.pk), track="camera", path="stills/1/a.jpg", at=at, size=123)
    assert isinstance(still, Still)
    assert (still.enrolment, still.track, still.purpose, still.taken_at, still.size, still.taken_by) == (
        alice_enrolment, Still.Track.CAMERA, Still.Purpose.PERIODIC, at, 123, None)
    again = services.evidence_hook(kind="still", session=str(alice_enrolment.pk), track="camera", path="stills/1/a.jpg", at=at, size=123)
    assert again.pk == still.pk and Still.objects.count() == 1
    # Periodic stills are not the proctor's doing: not in the room's log.
    assert not RoomEvent.objects.exists()


def test_a_still_the_proctor_asked_for_is_theirs_and_logged(alice_enrolment, proctor_a):
    at = timezone.now()
    id_card = services.evidence_hook(kind="still", session=str(alice_enrolment.pk), track="camera", path="stills/1/id.jpg", at=at,
                                     size=9, meta={"purpose": "id_card", "by": proctor_a.pk}, taken_by_request=True)
    assert (id_card.purpose, id_card.taken_by) == (Still.Purpose.ID_CARD, proctor_a)
    asked = services.evidence_hook(kind="still", session=str(alice_enrolment.pk), track="screen", path="stills/1/p.jpg", at=at,
                                   size=9, meta={"purpose": "nonsense", "by": proctor_a.pk}, taken_by_request=True)
    assert asked.purpose == Still.Purpose.PROCTOR
    events = RoomEvent.objects.filter(kind=RoomEvent.Kind.STILL, actor=proctor_a, enrolment=alice_enrolment)
    assert sorted(e.detail["still"] for e in events) == sorted([id_card.pk, asked.pk])


def test_the_hook_records_a_recording_and_updates_it_as_it_grows(alice_enrolment):
    at = timezone.now()
    first = services.evidence_hook(kind="recording", session=str(alice_enrolment.pk), track="camera", path="rec/1/cam.webm", at=at, size=10)
    grown = services.evidence_hook(kind="recording", session=str(alice_enrolment.pk), track="camera", path="rec/1/cam.webm", at=at, size=5000)
    assert isinstance(first, Recording) and first.pk == grown.pk
    assert Recording.objects.get().size == 5000 and Recording.objects.get().enrolment == alice_enrolment


@pytest.mark.parametrize(("session", "track"), [("999999", "camera"), ("not-a-number", "camera"), ("", "camera"), (None, "screen"),
                                                 ("ENROLMENT", "microphone")])
def test_the_hook_ignores_unknown_sessions_and_tracks(alice_enrolment, session, track):
    session = str(alice_enrolment.pk) if session == "ENROLMENT" else session
    assert services.evidence_hook(kind="still", session=session, track=track, path="stills/x.jpg", at=timezone.now(), size=1) is None
    assert not Still.objects.exists()


# --- opening a still -----------------------------------------------------------------------------
@pytest.fixture
def still(media_root, alice_enrolment) -> Still:
    path = write(media_root, f"stills/{alice_enrolment.pk}/camera-1.jpg")
    return Still.objects.create(enrolment=alice_enrolment, track=Still.Track.CAMERA, purpose=Still.Purpose.INCIDENT,
                                taken_at=timezone.now(), path=path, size=len(JPEG))


@pytest.mark.parametrize("viewer", ["proctor_a", "observer", "administrator"])
def test_the_rooms_proctor_and_observer_open_a_still_and_every_opening_is_logged(still, viewer, request):
    user = request.getfixturevalue(viewer)
    client = client_for(user)
    url = reverse("proctoring:still", args=[still.pk])
    for expected_count in (1, 2):
        response = client.get(url, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg" and "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == JPEG
        assert EvidenceAccess.objects.filter(user=user, still=still).count() == expected_count
    access = EvidenceAccess.objects.filter(user=user).first()
    assert (access.path, access.address, access.recording) == (still.path, "10.0.0.7", None)


@pytest.mark.parametrize("outsider", ["proctor_b", "alice", "bob", "committee_member"])
def test_a_still_is_404_to_everyone_else(still, outsider, request):
    response = client_for(request.getfixturevalue(outsider)).get(reverse("proctoring:still", args=[still.pk]))
    assert response.status_code == 404
    assert not EvidenceAccess.objects.exists()


def test_someone_the_board_gave_the_right_opens_a_still_and_is_logged(still, committee_member):
    from django.contrib.auth.models import Permission

    committee_member.user_permissions.add(Permission.objects.get(codename="view_still", content_type__app_label="proctoring"))
    response = client_for(committee_member).get(reverse("proctoring:still", args=[still.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert EvidenceAccess.objects.get().user == committee_member


def test_the_right_to_stills_does_not_open_recordings(media_root, alice_enrolment, committee_member):
    from django.contrib.auth.models import Permission

    path = write(media_root, "rec/a.webm", b"webm")
    recording = Recording.objects.create(enrolment=alice_enrolment, track="camera", started_at=timezone.now(), path=path, size=4)
    url = reverse("proctoring:recording", args=[recording.pk])
    committee_member.user_permissions.add(Permission.objects.get(codename="view_still", content_type__app_label="proctoring"))
    assert client_for(committee_member).get(url).status_code == 404
    committee_member.user_permissions.add(Permission.objects.get(codename="view_recording", content_type__app_label="proctoring"))
    assert client_for(committee_member).get(url).status_code == 200
    assert EvidenceAccess.objects.get().recording == recording


def test_a_still_redirects_anonymous_to_login(still):
    response = client_for(None).get(reverse("proctoring:still", args=[still.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not EvidenceAccess.objects.exists()


def test_a_recording_is_served_and_logged_like_a_still(media_root, alice_enrolment, proctor_a, proctor_b):
    path = write(media_root, f"recordings/{alice_enrolment.pk}/camera.webm", b"webm bytes")
    recording = Recording.objects.create(enrolment=alice_enrolment, track="camera", started_at=timezone.now(), path=path, size=10)
    url = reverse("proctoring:recording", args=[recording.pk])
    response = client_for(proctor_a).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "video/webm"
    assert b"".join(response.streaming_content) == b"webm bytes"
    assert EvidenceAccess.objects.get().recording == recording
    assert client_for(proctor_b).get(url).status_code == 404
    assert EvidenceAccess.objects.count() == 1


def test_candidate_evidence_lists_the_check_in_stills_for_watchers_only(still, alice_enrolment, bob_enrolment, proctor_a, observer,
                                                                       proctor_b, alice):
    Still.objects.create(enrolment=alice_enrolment, track=Still.Track.CAMERA, taken_at=timezone.now(), path="stills/periodic.jpg")
    Still.objects.create(enrolment=bob_enrolment, track=Still.Track.CAMERA, purpose=Still.Purpose.ID_CARD, taken_at=timezone.now(),
                         path="stills/bobs-id.jpg")
    recording = Recording.objects.create(enrolment=alice_enrolment, track="screen", started_at=timezone.now(), path="rec/a.webm")
    Recording.objects.create(enrolment=bob_enrolment, track="screen", started_at=timezone.now(), path="rec/b.webm")
    url = reverse("proctoring:candidate_evidence", args=[alice_enrolment.pk])
    for watcher in (proctor_a, observer):
        listed = client_for(watcher).get(url).json()
        assert [(s["id"], s["purpose"], s["url"]) for s in listed["stills"]] == [
            (still.pk, "incident", reverse("proctoring:still", args=[still.pk]))]
        assert [(r["id"], r["url"]) for r in listed["recordings"]] == [
            (recording.pk, reverse("proctoring:recording", args=[recording.pk]))]
    for outsider in (proctor_b, alice):
        assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302


# --- retention ------------------------------------------------------------------------------------
def test_expired_evidence_is_deleted_with_its_files_and_newer_is_kept(media_root, bank, exam, alice_enrolment, proctor_a):
    exam.evidence_retention_days = 30
    exam.save()
    # A second exam keeps its evidence for a year: the same age is not expired there.
    long_exam = make_exam(bank, per_topic=10, code="long-keeping")
    long_exam.evidence_retention_days = 365
    long_exam.save()
    long_sitting = make_sitting(long_exam, proctored=True)
    long_enrolment = enrol(long_sitting, Room.objects.create(sitting=long_sitting, name="Room L"), UserFactory(username="lena"))

    now = timezone.now()
    old, new = now - timedelta(days=31), now - timedelta(days=29)

    def still_at(enrolment, taken_at, name, on_disk=True):
        path = f"stills/{enrolment.pk}/{name}.jpg"
        if on_disk:
            write(media_root, path)
        return Still.objects.create(enrolment=enrolment, track="camera", taken_at=taken_at, path=path)

    def recording_at(enrolment, started_at, name):
        path = write(media_root, f"recordings/{enrolment.pk}/{name}.webm", b"video")
        return Recording.objects.create(enrolment=enrolment, track="camera", started_at=started_at, path=path)

    expired_still = still_at(alice_enrolment, old, "old")
    already_gone = still_at(alice_enrolment, old, "gone", on_disk=False)
    kept_still = still_at(alice_enrolment, new, "new")
    kept_long = still_at(long_enrolment, old, "old-long")
    expired_recording = recording_at(alice_enrolment, old, "old")
    kept_recording = recording_at(alice_enrolment, new, "new")
    EvidenceAccess.objects.create(user=proctor_a, still=expired_still, path=expired_still.path, at=old)

    assert services.evidence_delete_expired(now=now) == {"stills": 2, "recordings": 1}
    assert set(Still.objects.values_list("pk", flat=True)) == {kept_still.pk, kept_long.pk}
    assert set(Recording.objects.values_list("pk", flat=True)) == {kept_recording.pk}
    assert not (media_root / expired_still.path).exists() and not (media_root / expired_recording.path).exists()
    assert (media_root / kept_still.path).exists() and (media_root / kept_long.path).exists()
    assert (media_root / kept_recording.path).exists()
    # Who opened it stays on record after the file is gone.
    access = EvidenceAccess.objects.get()
    assert access.still is None and access.path == expired_still.path
    assert already_gone.path not in Still.objects.values_list("path", flat=True)

    # Run again (the periodic task): nothing more to do.
    assert tasks.delete_expired_evidence() == {"stills": 0, "recordings": 0}


def test_retention_is_counted_from_when_the_still_was_taken(media_root, exam, alice_enrolment):
    exam.evidence_retention_days = 1
    exam.save()
    taken = timezone.now()
    path = write(media_root, "stills/edge.jpg")
    Still.objects.create(enrolment=alice_enrolment, track="camera", taken_at=taken, path=path)
    assert services.evidence_delete_expired(now=taken + timedelta(days=1)) == {"stills": 0, "recordings": 0}
    assert services.evidence_delete_expired(now=taken + timedelta(days=1, seconds=1)) == {"stills": 1, "recordings": 0}
    assert not (media_root / path).exists()


def test_evidence_is_not_reachable_under_a_public_url(still, proctor_a):
    # Only the logged view above may hand a still out.
    client = client_for(proctor_a)
    for prefix in ("/media/", django_settings.MEDIA_URL, "/static/", "/"):
        assert client.get(prefix + still.path).status_code == 404
    assert not EvidenceAccess.objects.exists()
