"""The drafts say what the log says (R-AUD-2): a sitting run through the real services, then both reports read back."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone

from exams.audit import audit_append
from exams.models import AttemptEvent, AttemptItem, Council, OversightReport
from exams.oversight import services
from exams.services import attempt_open_on_device
from proctoring import services as proctoring
from proctoring.models import EvidenceAccess, IncidentKind, Still

from ..factories import PASSWORD, UserFactory, enrol, make_sitting
from .conftest import end_room, enrol_named, sit


def section(report: OversightReport, key: str) -> dict:
    return next(s for s in report.facts["sections"] if s["key"] == key)


@pytest.fixture
def eventful(sitting, room_a, room_b, proctor_a, proctor_b, alice, bob, exam, software_member, external_member,
             django_capture_on_commit_callbacks):
    """Room A: Alice sits with an incident, a pause, an extension and a second device; Dave is refused.
    Room B: Bob is disqualified; Carol never comes. Then both rooms end and the reports are drafted."""
    alice_enrolment, bob_enrolment = enrol(sitting, room_a, alice), enrol(sitting, room_b, bob)
    dave = enrol_named(sitting, room_a, "Dave", "Refused", "7")
    carol = enrol_named(sitting, room_b, "Carol", "Absent", "9")
    Client().login(username="alice", password=PASSWORD)
    authenticate(username="bob", password="not his password")
    UserFactory(username="stranger")
    Client().login(username="stranger", password=PASSWORD)  # not of this sitting: not in its report
    with django_capture_on_commit_callbacks(execute=True):
        proctoring.checkin_arrive(enrolment_id=dave.pk, candidate=dave.candidate)
        proctoring.checkin_refuse(enrolment_id=dave.pk, by=proctor_a, reason="ID card does not match")
        attempt = sit(alice_enrolment, proctor_a)
        bobs = sit(bob_enrolment, proctor_b)
        proctoring.incident_record(enrolment_id=alice_enrolment.pk, by=proctor_a, kind=IncidentKind.TALKING,
                                   note="Talking to someone off camera")
        proctoring.system_incident_open(enrolment=alice_enrolment, kind=IncidentKind.CAMERA, now=timezone.now())
        proctoring.attempt_pause(attempt_id=attempt.pk, by=proctor_a, reason="Power cut at the candidate's home")
        proctoring.attempt_resume(attempt_id=attempt.pk, by=proctor_a)
        proctoring.attempt_extend(attempt_id=attempt.pk, by=proctor_a, minutes=10, reason="Ten minutes lost to the power cut")
        attempt_open_on_device(attempt_id=attempt.pk, device_id="second-device-" + "9" * 18)
        proctoring.attempt_hand_over_by_proctor(attempt_id=attempt.pk, by=proctor_a, to_new_device=True,
                                                reason="The laptop's battery died")
        # As exams.services.answers writes them: in bulk, so not through the audit log.
        AttemptEvent.objects.bulk_create([AttemptEvent(attempt_id=attempt.pk, kind=AttemptEvent.Kind.SAVE_REFUSED,
                                                       at=timezone.now(), detail={"count": 3})])
        proctoring.attempt_disqualify(attempt_id=bobs.pk, by=proctor_b, reason="A phone on the desk")
        still = Still.objects.create(enrolment=alice_enrolment, track=Still.Track.CAMERA, taken_at=timezone.now(),
                                     path="evidence/test/alice-camera.jpg")
        EvidenceAccess.objects.create(user=proctor_a, still=still, path=still.path, at=timezone.now())
        item_version = AttemptItem.objects.filter(attempt=attempt).select_related("item_version__item").first().item_version
        audit_append("key.dry_run", subject=f"item_version:{item_version.pk}", actor=software_member, data={"action": "accept"})
        end_room(room_a, proctor_a)
        end_room(room_b, proctor_b)
    services.reports_draft(sitting_id=sitting.pk)
    reports = {r.council: r for r in OversightReport.objects.filter(sitting=sitting)}
    assert set(reports) == {Council.SOFTWARE, Council.EXTERNAL}
    return reports, {"alice": alice_enrolment, "bob": bob_enrolment, "carol": carol, "dave": dave,
                     "item_code": item_version.item.code}


def test_the_external_report_has_each_rooms_counts_and_steps(eventful):
    report = eventful[0][Council.EXTERNAL]
    rooms = {row[0]: row for row in section(report, "rooms")["rows"]}
    # Room, place, enrolled, admitted, refused, absent, sat, started, collected, ended
    assert rooms["Room A"][2:7] == ["2", "1", "1", "0", "1"]
    assert rooms["Room B"][2:7] == ["2", "1", "0", "1", "1"]
    assert all(row[7] != "—" and row[9] != "—" for row in rooms.values())


def test_the_external_report_lists_incidents_by_kind_with_their_rooms(eventful):
    report = eventful[0][Council.EXTERNAL]
    kinds = {row[0]: row for row in section(report, "incidents_by_kind")["rows"]}
    assert kinds["Talking to someone"][1:] == ["1", "Room A ×1"]
    assert kinds["Camera lost"][1:] == ["1", "Room A ×1"]
    assert kinds["Second device"][1:] == ["1", "Room A ×1"]
    recorded = section(report, "proctor_incidents")["rows"]
    assert len(recorded) == 1 and recorded[0][1:] == ["Room A", eventful[1]["alice"].ticket_number, "Talking to someone",
                                                       "Talking to someone off camera", "proctor_a"]


def test_the_external_report_lists_pauses_extensions_disqualifications_refusals_and_absences(eventful):
    report, people = eventful[0][Council.EXTERNAL], eventful[1]
    assert [r[1:] for r in section(report, "pauses")["rows"]] == [
        ["Room A", people["alice"].ticket_number, "Power cut at the candidate's home", "proctor_a"]]
    assert [r[1:] for r in section(report, "extensions")["rows"]] == [
        ["Room A", people["alice"].ticket_number, "Ten minutes lost to the power cut", "proctor_a", "10"]]
    assert [r[1:] for r in section(report, "disqualifications")["rows"]] == [
        ["Room B", people["bob"].ticket_number, "A phone on the desk", "proctor_b"]]
    assert [r[1:] for r in section(report, "refusals")["rows"]] == [
        ["Room A", people["dave"].ticket_number, "ID card does not match", "proctor_a"]]
    absences = section(report, "absences")
    assert absences["count"] == 1 and {r[0]: r[2] for r in absences["rows"]} == {"Room A": "0", "Room B": "1"}


def test_the_external_draft_text_carries_the_same_facts(eventful):
    text = eventful[0][Council.EXTERNAL].text
    for fact in ["Power cut at the candidate's home", "A phone on the desk", "ID card does not match",
                 "Talking to someone off camera", "Absences per room: 1", "Findings and recommendations"]:
        assert fact in text


def test_the_software_report_has_sign_ins_of_the_sittings_people_only(eventful):
    report = eventful[0][Council.SOFTWARE]
    sign_ins = section(report, "sign_ins")
    assert sign_ins["count"] == 1  # Alice; the stranger's sign-in is not this sitting's
    assert ["candidates", "4", "1", "1"] in sign_ins["rows"]
    assert [r[1] for r in section(report, "failed_sign_ins")["rows"]] == ["bob"]


def test_the_software_report_has_device_changes_system_events_keys_evidence_and_the_chain(eventful):
    report, people = eventful[0][Council.SOFTWARE], eventful[1]
    devices = section(report, "device_changes")["rows"]
    assert [r[3] for r in devices] == ["Second device refused; attempt locked", "Handed over to a device"]
    assert devices[1][4] == "The laptop's battery died" and devices[0][2] == people["alice"].ticket_number
    system = {row[0]: row for row in section(report, "system_events")["rows"]}
    assert system["Camera lost"][1:] == ["1", "Room A ×1"] and system["Second device"][1] == "1"
    assert system["Connection lost"][1] == "0"
    assert [r[2:] for r in section(report, "confidentiality")["rows"]] == [["key.dry_run", people["item_code"]]]
    evidence = section(report, "evidence_accesses")["rows"]
    assert evidence == [[evidence[0][0], "proctor_a", "Room A", people["alice"].ticket_number, "evidence/test/alice-camera.jpg"]]
    assert section(report, "audit_chain")["rows"][0][1] == "intact"
    assert system["Answers refused by the server"][1:] == ["3", "Room A ×3"]


def test_another_sittings_events_stay_out_of_the_report(eventful, exam, sitting):
    other = make_sitting(exam, proctored=True)
    room = other.rooms.create(name="Room A")
    proctor = UserFactory(username="proctor_other")
    room.proctors.add(proctor)
    outsider = enrol_named(other, room, "Other", "Candidate", "1")
    proctoring.checkin_arrive(enrolment_id=outsider.pk, candidate=outsider.candidate)
    proctoring.checkin_refuse(enrolment_id=outsider.pk, by=proctor, reason="Not this sitting's business")
    OversightReport.objects.filter(sitting=sitting).delete()
    services.reports_draft(sitting_id=sitting.pk)
    assert "Not this sitting's business" not in OversightReport.objects.get(sitting=sitting, council=Council.EXTERNAL).text
