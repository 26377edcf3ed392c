"""Filing, deciding and reminding (R-COMP-1..3): windows, nothing half-written, e-mails, audit entries."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone, translation

from complaints.models import Complaint, ComplaintFile, ComplaintRules
from complaints.notify import reminders_send
from complaints.services import (
    ComplaintError,
    complaint_assign,
    complaint_decide,
    complaint_file,
    filing_window,
)
from complaints.uploads import UploadRefused
from exams.audit import verify_chain
from exams.models import AuditEntry
from grading.models import AttemptScore
from languages.models import UserLanguage

from .files import pdf, picture, png_claiming

GROUNDS = "My camera froze at 10:40 and the proctor paused me for nine minutes without a reason."


def file_conduct(attempt, **overrides):
    return complaint_file(**{"enrolment_id": attempt.enrolment_id, "candidate": attempt.candidate, "kind": "conduct",
                             "grounds": GROUNDS, **overrides})


def test_a_filed_complaint_gets_a_reference_an_email_its_files_and_an_audit_entry(finished, alice, settings, committed):
    complaint = committed(file_conduct, finished, positions=[3, 1, 3], uploads=[picture("screen.jpg"), pdf("letter.pdf")])
    year = timezone.localtime(complaint.filed_at).year
    assert complaint.reference == f"C{year}-{complaint.pk:05d}" and complaint.positions == [1, 3]
    assert complaint.candidate == alice and complaint.status == Complaint.Status.FILED
    stored = list(complaint.files.order_by("pk"))
    assert [f.content_type for f in stored] == ["image/jpeg", "application/pdf"]
    assert all((Path(settings.MEDIA_ROOT) / f.stored.name).is_file() for f in stored)
    [ack] = mail.outbox
    assert complaint.reference in ack.subject and complaint.reference in ack.body and ack.to == [alice.email]
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is not None
    entry = AuditEntry.objects.get(kind="complaint.filed")
    assert entry.data["reference"] == complaint.reference and len(entry.data["files"]) == 2
    assert GROUNDS not in str(entry.data)  # the log seals the grounds by their hash, it does not copy them
    assert verify_chain()[1] is None


def test_a_refused_file_refuses_the_whole_complaint_and_stores_nothing(finished, settings):
    with pytest.raises(UploadRefused, match="bomb.png"):
        file_conduct(finished, uploads=[picture("fine.jpg"), png_claiming(9000, 9000)])
    assert not Complaint.objects.exists() and not ComplaintFile.objects.exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.*")) and not mail.outbox


def test_a_failure_after_files_were_written_removes_them(finished, settings, monkeypatch):
    import complaints.services as services

    def broken_audit(*args, **kwargs):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(services, "audit_append", broken_audit)
    with pytest.raises(RuntimeError):
        file_conduct(finished, uploads=[picture("fine.jpg")])
    assert not Complaint.objects.exists() and not any(Path(settings.MEDIA_ROOT).rglob("*.jpg"))


def test_grounds_questions_and_ownership_are_checked(finished, bob):
    with pytest.raises(ComplaintError, match="at least 20 characters"):
        file_conduct(finished, grounds="Unfair.")
    with pytest.raises(ComplaintError, match="Question 21 is not on your exam"):
        file_conduct(finished, positions=[2, 21])
    with pytest.raises(ComplaintError, match="no such exam of yours"):
        file_conduct(finished, candidate=bob)
    with pytest.raises(ComplaintError, match="what the complaint is about"):
        file_conduct(finished, kind="everything")


def test_a_conduct_complaint_after_its_window_is_refused_with_the_time_it_closed(finished):
    ended = finished.submitted_at
    assert file_conduct(finished, now=ended + timedelta(hours=3, minutes=59))
    with pytest.raises(ComplaintError, match="The time to file this complaint ended at") as refused:
        file_conduct(finished, now=ended + timedelta(hours=4, minutes=1))
    assert refused.value.code == "window" and "Asia/Ulaanbaatar" in refused.value.message


def test_the_window_follows_the_exams_rules(finished):
    ComplaintRules.objects.create(exam=finished.exam, conduct_filing_hours=48)
    finished.exam.refresh_from_db()
    window = filing_window(finished.enrolment, "conduct", finished.submitted_at)
    assert window.closes_at == finished.submitted_at + timedelta(hours=48)


def test_a_score_complaint_waits_for_publication_and_closes_with_the_working_day(finished):
    with pytest.raises(ComplaintError, match="once the results are published"):
        complaint_file(enrolment_id=finished.enrolment_id, candidate=finished.candidate, kind="score", grounds=GROUNDS)
    calendar_day = timezone.now().astimezone(timezone.get_default_timezone())
    # Published on Monday 23 November 2026 at 10:00 in Ulaanbaatar: open three working hours, decided by 18:00.
    published = calendar_day.replace(year=2026, month=11, day=23, hour=10, minute=0, second=0, microsecond=0)
    AttemptScore.objects.filter(attempt=finished).update(published_at=published)
    window = filing_window(finished.enrolment, "score", published)
    assert window.closes_at == published + timedelta(hours=3)
    assert window.decision_due_at == published.replace(hour=18)
    complaint = complaint_file(enrolment_id=finished.enrolment_id, candidate=finished.candidate, kind="score", grounds=GROUNDS,
                               positions=[4], now=published + timedelta(hours=1))
    assert complaint.decision_due_at == published.replace(hour=18)
    with pytest.raises(ComplaintError, match="ended at"):
        complaint_file(enrolment_id=finished.enrolment_id, candidate=finished.candidate, kind="score", grounds=GROUNDS,
                       now=published + timedelta(hours=3, minutes=1))


def test_taking_assigning_and_deciding(finished, deciders, alice, committed):
    first, second, chair = deciders
    complaint = file_conduct(finished)
    mail.outbox.clear()
    with pytest.raises(ComplaintError, match="take the case first"):
        complaint_decide(complaint_id=complaint.pk, by=first, decision="upheld", reasons="x" * 30, remedy="resit")
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    with pytest.raises(ComplaintError, match="already being decided by a colleague"):
        complaint_assign(complaint_id=complaint.pk, member=second, by=second)
    with pytest.raises(ComplaintError, match="Only the chair assigns"):
        complaint_assign(complaint_id=complaint.pk, member=second, by=first)
    with pytest.raises(ComplaintError, match="does not decide complaints"):
        complaint_assign(complaint_id=complaint.pk, member=alice, by=chair)
    complaint_assign(complaint_id=complaint.pk, member=second, by=chair)  # the chair moves it
    with pytest.raises(ComplaintError, match="Only the member the case is assigned to"):
        complaint_decide(complaint_id=complaint.pk, by=first, decision="upheld", reasons="x" * 30, remedy="resit")
    with pytest.raises(ComplaintError, match="A rejected complaint has no remedy"):
        complaint_decide(complaint_id=complaint.pk, by=second, decision="rejected", reasons="x" * 30, remedy="resit")
    with pytest.raises(ComplaintError, match="Give the reasons"):
        complaint_decide(complaint_id=complaint.pk, by=second, decision="upheld", reasons="ok", remedy="resit")
    reasons = "The recording shows the camera froze for nine minutes; a re-sit is offered."
    decided = committed(complaint_decide, complaint_id=complaint.pk, by=second, decision="partly", reasons=reasons, remedy="resit")
    assert decided.status == Complaint.Status.DECIDED and decided.decided_by == second
    [told] = mail.outbox
    assert told.to == [alice.email] and reasons in told.body and "Partly upheld" in told.body
    with pytest.raises(ComplaintError, match="already decided"):
        complaint_decide(complaint_id=complaint.pk, by=second, decision="upheld", reasons=reasons, remedy="resit")
    kinds = list(AuditEntry.objects.filter(subject=f"complaint:{complaint.pk}").values_list("kind", flat=True))
    assert kinds == ["complaint.filed", "complaint.assigned", "complaint.assigned", "complaint.decided"]
    assert AuditEntry.objects.get(kind="complaint.decided").data["on_time"] is True


def test_a_rescore_remedy_scores_the_attempt_again(finished, deciders, committed, monkeypatch):
    first, _second, _chair = deciders
    complaint = file_conduct(finished)
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    import grading.tasks

    scored = []
    monkeypatch.setattr(grading.tasks.score_attempt, "delay", lambda attempt_id: scored.append(attempt_id))
    committed(complaint_decide, complaint_id=complaint.pk, by=first, decision="upheld", remedy="rescore",
              reasons="The key of question 4 was wrong; it has been corrected and the attempt re-scored.")
    assert scored == [finished.pk]


def test_reminders_go_once_before_the_deadline_and_once_after_it(finished, deciders):
    first, second, _chair = deciders
    complaint = file_conduct(finished)
    mail.outbox.clear()
    due = complaint.decision_due_at
    assert reminders_send(now=due - timedelta(hours=5)) == {"reminded": 0, "overdue": 0}
    assert reminders_send(now=due - timedelta(hours=1)) == {"reminded": 1, "overdue": 0}
    # One mail per member (each in their own language), all of them reminded.
    assert sorted(address for reminder in mail.outbox for address in reminder.to) == sorted(
        [first.email, second.email, "chair@example.org"]
    )
    assert all(len(reminder.to) == 1 and complaint.reference in reminder.subject for reminder in mail.outbox)
    assert reminders_send(now=due - timedelta(minutes=30)) == {"reminded": 0, "overdue": 0}
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    assert reminders_send(now=due + timedelta(minutes=1)) == {"reminded": 0, "overdue": 1}
    assert mail.outbox[-1].to == [first.email] and "overdue" in mail.outbox[-1].subject
    assert reminders_send(now=due + timedelta(hours=2)) == {"reminded": 0, "overdue": 0}


def test_a_candidate_refused_at_check_in_complains_about_how_the_exam_was_run(alice, alice_enrolment, proctor_a, deciders):
    from complaints.case_file import case_file
    from proctoring.services import checkin_arrive, checkin_refuse

    sitting = alice_enrolment.sitting
    sitting.proctored = True
    sitting.save(update_fields=["proctored"])
    checkin_arrive(enrolment_id=alice_enrolment.pk, candidate=alice)
    checkin_refuse(enrolment_id=alice_enrolment.pk, by=proctor_a, reason="The ID card does not match the face")
    with pytest.raises(ComplaintError, match="There is no score: you did not sit this exam"):
        complaint_file(enrolment_id=alice_enrolment.pk, candidate=alice, kind="score", grounds=GROUNDS)
    complaint = complaint_file(enrolment_id=alice_enrolment.pk, candidate=alice, kind="conduct", grounds=GROUNDS)
    assert complaint.attempt is None and complaint.enrolment == alice_enrolment
    # Open until four hours after entry closed for her (the refusal came earlier).
    window = filing_window(alice_enrolment, "conduct", timezone.now())
    assert window.closes_at == sitting.entry_closes_at + timedelta(hours=4)
    case = case_file(complaint)
    assert case.answers == [] and case.score is None
    assert [entry.label for entry in case.timeline] == ["Entered the waiting room", "Refused"]
    assert case.timeline[1].detail == "The ID card does not match the face"
    first, *_ = deciders
    complaint_assign(complaint_id=complaint.pk, member=first, by=first)
    with pytest.raises(ComplaintError, match="nothing to re-score"):
        complaint_decide(complaint_id=complaint.pk, by=first, decision="upheld", remedy="rescore", reasons=GROUNDS)
    assert complaint_decide(complaint_id=complaint.pk, by=first, decision="upheld", remedy="resit", reasons=GROUNDS).decided_at


def test_the_acknowledgement_is_in_the_candidates_language(finished, alice, committed):
    """Issue 12, point 2: e-mails go out in the recipient's language, whoever triggers them."""
    UserLanguage.objects.create(user=alice, language="zh-hans")
    complaint = committed(file_conduct, finished)
    [ack] = mail.outbox
    with translation.override("zh-hans"):
        expected = translation.gettext("Complaint %(ref)s received") % {"ref": complaint.reference}
    assert ack.subject == expected != f"Complaint {complaint.reference} received"
    assert re.search(r"[\u4e00-\u9fff]{4}", ack.body)
