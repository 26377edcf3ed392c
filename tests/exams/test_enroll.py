"""Enrolling candidates from a CSV file and mailing their credentials (R-SCHED-2)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.utils import timezone

from exams.enrolling import EnrolmentRefused, enrolment_import
from exams.models import Enrolment, Room
from exams.services import attempt_start, enrolment_confirm_identity

from ..factories import PASSWORD, UserFactory

User = get_user_model()

HEADER = "ticket_number,given_name,family_name,email,room,seat,grade\n"
GOOD = HEADER + (
    "T-001,Saraa,Bold,saraa@example.org,Room A,1,Specialist surgeon\n"
    "T-002,Tuya,Gantulga,tuya@example.org,Room A,2,Nurse\n"
    "T-003,Wei,Zhang,wei@example.org,Room B,1,Specialist surgeon\n"
)
CANDIDATES = {
    "saraa@example.org": {"ticket": "T-001", "username": "t-001", "name": "Saraa Bold", "room": "Room A", "seat": "1"},
    "tuya@example.org": {"ticket": "T-002", "username": "t-002", "name": "Tuya Gantulga", "room": "Room A", "seat": "2"},
    "wei@example.org": {"ticket": "T-003", "username": "t-003", "name": "Wei Zhang", "room": "Room B", "seat": "1"},
}


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Each PBKDF2 hash takes a good fraction of a second; what is tested here is who gets one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rooms(room_a, room_b):
    return room_a, room_b


def run_import(sitting, source, capture, **options):
    """Import and run the on-commit e-mails, as a real (committed) transaction would."""
    with capture(execute=True):
        return enrolment_import(sitting=sitting, rows_source=source, **options)


def password_in(body: str) -> str:
    return re.search(r"^Password: (\S+)$", body, re.MULTILINE).group(1)


def nothing_written():
    return Enrolment.objects.count() == 0 and not User.objects.filter(username__startswith="t-").exists()


def test_a_good_file_enrols_everyone_and_mails_each_their_own_details(
    sitting, rooms, mailoutbox, django_capture_on_commit_callbacks
):
    summary = run_import(sitting, GOOD, django_capture_on_commit_callbacks)

    assert (summary.accounts_created, summary.enrolments_created, summary.emails_sent) == (3, 3, 3)
    enrolments = {e.ticket_number: e for e in Enrolment.objects.select_related("candidate", "room")}
    assert set(enrolments) == {"T-001", "T-002", "T-003"}
    assert enrolments["T-003"].room.name == "Room B" and enrolments["T-003"].seat == "1"
    assert enrolments["T-001"].grade == "Specialist surgeon"
    assert enrolments["T-002"].candidate.get_full_name() == "Tuya Gantulga"
    assert all(e.credentials_sent_at is not None and e.identity_confirmed_at is None for e in enrolments.values())

    assert sorted(m.to[0] for m in mailoutbox) == sorted(CANDIDATES)
    passwords = {m.to[0]: password_in(m.body) for m in mailoutbox}
    assert len(set(passwords.values())) == 3
    for message in mailoutbox:
        own = CANDIDATES[message.to[0]]
        body = message.body
        assert "Specialist grade exam" in message.subject
        assert "http://127.0.0.1:8000/login/" in body
        for value in (
            own["ticket"],
            own["username"],
            own["name"],
            own["room"],
            "Specialist grade exam",
            "Chrome",
            "practice exam",
        ):
            assert value in body
        assert f"Seat: {own['seat']}" in body
        for email, other in CANDIDATES.items():
            if email != message.to[0]:
                assert other["ticket"] not in body and other["name"] not in body and passwords[email] not in body
        user = authenticate(username=own["username"], password=passwords[message.to[0]])
        assert user is not None and user.email == message.to[0]


def test_the_mail_gives_the_start_and_entry_window_in_the_exam_time_zone(
    sitting, rooms, mailoutbox, django_capture_on_commit_callbacks
):
    # 10:00 in the site's zone a week on: a window that crosses midnight shows its dates (CI ran at
    # 23:05 there once, and the plain times of this test were not in the mail).
    week_on = timezone.localdate(timezone.now() + timedelta(days=7), ZoneInfo(django_settings.TIME_ZONE))
    sitting.starts_at = datetime.combine(week_on, time(10, 0), tzinfo=ZoneInfo(django_settings.TIME_ZONE))
    sitting.save()
    local = sitting.starts_at.astimezone(ZoneInfo(django_settings.TIME_ZONE))

    with timezone.override("America/New_York"):  # an admin's own zone must not leak into the mail
        run_import(sitting, GOOD, django_capture_on_commit_callbacks)

    body = mailoutbox[0].body
    assert f"The exam starts at: {local:%H:%M} ({django_settings.TIME_ZONE})" in body
    opens, closes = (
        local - timedelta(minutes=sitting.entry_opens_minutes),
        local + timedelta(minutes=sitting.late_entry_minutes),
    )
    assert f"{opens:%H:%M} to {closes:%H:%M}" in body


def test_mails_go_out_only_after_commit(sitting, rooms, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrolment_import(sitting=sitting, rows_source=GOOD)
    assert mailoutbox == []
    assert len(callbacks) == 1


def test_bom_bytes_a_path_and_a_username_column_are_read(
    sitting, rooms, tmp_path, mailoutbox, django_capture_on_commit_callbacks
):
    path = tmp_path / "list.csv"
    text = "Ticket Number,Given name,Family name,Email,Room,Seat,Grade,Username\r\nT-9,Өлзий,Бат,bat@example.org,Room B,,Nurse,Bat.Mn\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())

    summary = run_import(sitting, path, django_capture_on_commit_callbacks)

    assert summary.enrolments_created == 1
    enrolment = Enrolment.objects.get()
    assert (enrolment.candidate.username, enrolment.candidate.first_name, enrolment.seat) == ("Bat.Mn", "Өлзий", "")
    assert "Бат" in mailoutbox[0].body and "Seat:" not in mailoutbox[0].body


BAD_FILES = [
    pytest.param(
        "ticket_number,given_name,family_name,room,seat,grade\nT-1,A,B,Room A,1,G\n",
        1,
        "lacks the column(s) email",
        id="missing-column",
    ),
    pytest.param(
        HEADER + "T-1,A,B,a@example.org,Room A,1,G\nT-2,,B,b@example.org,Room A,2,G\n", 3, "given_name is empty", id="empty-field"
    ),
    pytest.param(HEADER + "T-1,A,B,a@example,Room A,1,G\n", 2, "is not an e-mail address", id="bad-email"),
    pytest.param(
        HEADER + "T-1,A,B,a@example.org,Room A,1,G\nT-2,A,B,b@example.org,Room Z,1,G\n", 3, "no room “Room Z”", id="unknown-room"
    ),
    pytest.param(
        HEADER + "T-1,A,B,a@example.org,Room A,1,G\nT-2,C,D,c@example.org,Room A,2,G\nt-1,E,F,e@example.org,Room B,3,G\n",
        4,
        "also on line 2",
        id="duplicate-ticket",
    ),
    pytest.param(
        HEADER + "T-1,A,B,a@example.org,Room A,1,G\nT-2,C,D,c@example.org,Room B,1,G\nT-3,E,F,e@example.org,Room A,1,G\n",
        4,
        "seat 1 of Room A is also on line 2",
        id="duplicate-seat",
    ),
    pytest.param(
        HEADER + "T-1,A,B,a@example.org,Room A,1,G\nT-2,C,D,A@Example.org,Room A,2,G\n", 3, "also on line 2", id="duplicate-email"
    ),
    pytest.param(HEADER + "T-1,A,B,a@example.org,Room A,1,G,extra\n", 2, "more values than the header", id="extra-values"),
    pytest.param(HEADER + "T 1/2,A,B,a@example.org,Room A,1,G\n", 2, "add a username column", id="ticket-not-a-username"),
    pytest.param(
        HEADER.encode() + b"T-1,A,B,a@example.org,Room A,1,G\nT-2,\xd6lzii,B,b@example.org,Room A,2,G\n",
        3,
        "not UTF-8",
        id="not-utf8",
    ),
    pytest.param("", 1, "the file is empty", id="empty-file"),
    pytest.param(HEADER, None, "names no candidates", id="header-only"),
]


@pytest.mark.parametrize(("source", "line", "problem"), BAD_FILES)
def test_a_bad_file_is_refused_whole_naming_the_line(
    sitting, rooms, mailoutbox, django_capture_on_commit_callbacks, source, line, problem
):
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, source, django_capture_on_commit_callbacks)

    assert problem in refused.value.message
    if line is not None:
        assert f"line {line}: " in refused.value.message
        assert line in [p.line for p in refused.value.problems]
    assert nothing_written()
    assert mailoutbox == []


def test_every_problem_of_the_file_is_listed_at_once(sitting, rooms, django_capture_on_commit_callbacks):
    source = HEADER + "T-1,A,B,bad,Room A,1,G\nT-2,C,D,c@example.org,Room Q,1,G\n"
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, source, django_capture_on_commit_callbacks)
    assert [p.line for p in refused.value.problems] == [2, 3]


def test_a_seat_taken_by_an_enrolment_outside_the_file_is_refused(
    sitting, room_a, room_b, alice, mailoutbox, django_capture_on_commit_callbacks
):
    Enrolment.objects.create(sitting=sitting, room=room_a, candidate=alice, ticket_number="A-1", seat="2", grade="G")
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    assert "line 3: seat 2 of Room A is already taken by ticket A-1" in refused.value.message
    assert Enrolment.objects.count() == 1 and mailoutbox == []


def test_more_candidates_than_seats_is_refused_at_the_first_one_too_many(
    sitting, room_a, room_b, alice, mailoutbox, django_capture_on_commit_callbacks
):
    Room.objects.filter(pk=room_a.pk).update(seats=2)
    Enrolment.objects.create(sitting=sitting, room=room_a, candidate=alice, ticket_number="A-1", seat="9", grade="G")
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    assert "line 3: Room A has 2 seats and 1 are taken by others" in refused.value.message
    assert Enrolment.objects.count() == 1 and mailoutbox == []


def test_a_ticket_enrolled_for_another_person_is_refused(sitting, rooms, alice, mailoutbox, django_capture_on_commit_callbacks):
    Enrolment.objects.create(sitting=sitting, room=rooms[0], candidate=alice, ticket_number="T-003", seat="9", grade="G")
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    assert (
        "line 4: the ticket number T-003 is already enrolled in this sitting for another person (alice)" in refused.value.message
    )
    assert Enrolment.objects.count() == 1 and mailoutbox == []


def test_a_person_enrolled_under_another_ticket_is_refused(sitting, rooms, alice, django_capture_on_commit_callbacks):
    Enrolment.objects.create(sitting=sitting, room=rooms[0], candidate=alice, ticket_number="A-1", seat="9", grade="G")
    source = HEADER.replace("grade", "grade,username") + "T-9,Alice,Batbayar,alice@example.org,Room A,1,G,alice\n"
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, source, django_capture_on_commit_callbacks)
    assert "line 2: alice is already enrolled in this sitting with the ticket number A-1" in refused.value.message


def test_semicolons_as_separators_are_read(sitting, rooms, django_capture_on_commit_callbacks):
    # What Excel saves as "CSV" where the decimal separator is a comma.
    summary = run_import(sitting, GOOD.replace(",", ";"), django_capture_on_commit_callbacks, send_email=False)
    assert summary.enrolments_created == 3


def test_a_staff_account_is_never_taken_over(
    sitting, rooms, administrator, proctor_a, mailoutbox, django_capture_on_commit_callbacks
):
    source = HEADER.replace("grade", "grade,username") + (
        "T-1,A,B,attacker@example.org,Room A,1,G,admin\nT-2,C,D,c@example.org,Room A,2,G,proctor_a\n"
    )
    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, source, django_capture_on_commit_callbacks)
    assert [p.line for p in refused.value.problems] == [2, 3]
    administrator.refresh_from_db()
    assert administrator.email != "attacker@example.org" and mailoutbox == []


def test_running_the_same_file_again_changes_and_sends_nothing(sitting, rooms, mailoutbox, django_capture_on_commit_callbacks):
    run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    first_passwords = {m.to[0]: password_in(m.body) for m in mailoutbox}
    sent_at = dict(Enrolment.objects.values_list("ticket_number", "credentials_sent_at"))

    again = run_import(sitting, GOOD, django_capture_on_commit_callbacks)

    assert (again.accounts_created, again.accounts_reused, again.enrolments_created, again.enrolments_unchanged) == (0, 3, 0, 3)
    assert (again.emails_queued, again.emails_sent, again.passwords_set) == (0, 0, 0)
    assert len(mailoutbox) == 3 and User.objects.filter(username__startswith="t-").count() == 3
    assert dict(Enrolment.objects.values_list("ticket_number", "credentials_sent_at")) == sent_at
    for email, password in first_passwords.items():
        assert authenticate(username=CANDIDATES[email]["username"], password=password) is not None


def test_resend_mails_everyone_again_and_keeps_the_password_of_who_has_logged_in(
    sitting, rooms, mailoutbox, django_capture_on_commit_callbacks
):
    run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    first = {m.to[0]: password_in(m.body) for m in mailoutbox}
    User.objects.filter(username="t-001").update(last_login=timezone.now())
    mailoutbox.clear()

    summary = run_import(sitting, GOOD, django_capture_on_commit_callbacks, resend=True)

    assert (summary.emails_sent, summary.passwords_set, summary.enrolments_created) == (3, 2, 0)
    mails = {m.to[0]: m.body for m in mailoutbox}
    assert set(mails) == set(CANDIDATES)
    # Saraa has used her account: she keeps her password, and the mail says so instead of giving one.
    assert "the one you already use" in mails["saraa@example.org"]
    assert authenticate(username="t-001", password=first["saraa@example.org"]) is not None
    # The others never logged in: the newest mail's password is the one that works.
    new = password_in(mails["tuya@example.org"])
    assert new != first["tuya@example.org"]
    assert authenticate(username="t-002", password=new) is not None
    assert authenticate(username="t-002", password=first["tuya@example.org"]) is None


def test_an_existing_account_is_reused_without_touching_a_password_in_use(
    sitting, rooms, mailoutbox, django_capture_on_commit_callbacks
):
    existing = UserFactory(username="t-002", last_login=timezone.now())

    summary = run_import(sitting, GOOD, django_capture_on_commit_callbacks)

    assert (summary.accounts_created, summary.accounts_reused, summary.emails_sent) == (2, 1, 3)
    existing.refresh_from_db()
    assert existing.enrolments.get().ticket_number == "T-002"
    assert (existing.first_name, existing.email) == ("Tuya", "tuya@example.org")
    assert existing.check_password(PASSWORD)


def test_a_corrected_file_updates_the_enrolment_asks_to_confirm_again_and_mails_nothing(
    sitting, rooms, mailoutbox, django_capture_on_commit_callbacks
):
    run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    Enrolment.objects.update(identity_confirmed_at=timezone.now())
    # Saraa and Tuya swap seats; Wei's grade was wrong.
    corrected = GOOD.replace("Room A,1,", "Room A,X,").replace("Room A,2,", "Room A,1,").replace("Room A,X,", "Room A,2,")
    corrected = corrected.replace("Room B,1,Specialist surgeon", "Room B,1,Specialist physician")

    summary = run_import(sitting, corrected, django_capture_on_commit_callbacks)

    assert (summary.enrolments_updated, summary.enrolments_unchanged, summary.emails_sent) == (3, 0, 0)
    seats = dict(Enrolment.objects.values_list("ticket_number", "seat"))
    assert (seats["T-001"], seats["T-002"]) == ("2", "1")
    wei = Enrolment.objects.get(ticket_number="T-003")
    assert wei.grade == "Specialist physician" and wei.identity_confirmed_at is None
    # A seat change alone leaves the confirmed name and grade standing.
    assert Enrolment.objects.get(ticket_number="T-001").identity_confirmed_at is not None
    assert len(mailoutbox) == 3


def test_an_enrolment_whose_exam_has_started_cannot_change(sitting, rooms, mailoutbox, django_capture_on_commit_callbacks):
    run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    enrolment = Enrolment.objects.get(ticket_number="T-003")
    enrolment_confirm_identity(enrolment_id=enrolment.pk, candidate=enrolment.candidate)
    attempt_start(candidate=enrolment.candidate, enrolment_id=enrolment.pk, device_id="d" * 32)

    with pytest.raises(EnrolmentRefused) as refused:
        run_import(sitting, GOOD.replace("Room B,1,", "Room B,7,"), django_capture_on_commit_callbacks)
    assert "line 4: ticket T-003 has already started the exam" in refused.value.message


def test_a_dry_run_reports_and_changes_nothing(sitting, rooms, mailoutbox, django_capture_on_commit_callbacks):
    summary = run_import(sitting, GOOD, django_capture_on_commit_callbacks, dry_run=True)

    assert summary.dry_run and (summary.accounts_created, summary.enrolments_created, summary.emails_queued) == (3, 3, 3)
    assert summary.emails_sent == 0 and mailoutbox == [] and nothing_written()


def test_without_email_nothing_is_sent_and_a_later_run_sends(sitting, rooms, mailoutbox, django_capture_on_commit_callbacks):
    run_import(sitting, GOOD, django_capture_on_commit_callbacks, send_email=False)
    assert mailoutbox == [] and not Enrolment.objects.filter(credentials_sent_at__isnull=False).exists()
    assert not User.objects.get(username="t-001").has_usable_password()

    summary = run_import(sitting, GOOD, django_capture_on_commit_callbacks)

    assert summary.emails_sent == 3 and summary.enrolments_created == 0
    message = next(m for m in mailoutbox if m.to == ["wei@example.org"])
    assert authenticate(username="t-003", password=password_in(message.body)) is not None


def test_a_mail_that_fails_is_retried_by_the_next_run(settings, sitting, rooms, mailoutbox, django_capture_on_commit_callbacks):
    # A real SMTP backend pointed at a closed port: the connection is refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2

    failed = run_import(sitting, GOOD, django_capture_on_commit_callbacks)

    assert failed.emails_sent == 0 and sorted(failed.emails_failed) == ["T-001", "T-002", "T-003"]
    assert not Enrolment.objects.filter(credentials_sent_at__isnull=False).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = run_import(sitting, GOOD, django_capture_on_commit_callbacks)
    assert retried.emails_sent == 3 and len(mailoutbox) == 3


# --- The command -------------------------------------------------------------------------------


def test_the_command_enrols_and_reports(sitting, rooms, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = StringIO()

    call_command("enroll", str(sitting.pk), str(path), stdout=out)

    # The test's own transaction holds the mails back; the manage.py tests below see them sent.
    assert Enrolment.objects.count() == 3
    assert "Accounts created: 3" in out.getvalue() and "Enrolments created: 3" in out.getvalue()


def test_the_command_dry_run_and_resend(sitting, rooms, tmp_path, mailoutbox, django_capture_on_commit_callbacks):
    path = tmp_path / "list.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = StringIO()
    call_command("enroll", str(sitting.pk), str(path), "--dry-run", stdout=out)
    assert "E-mails that would be sent: 3" in out.getvalue() and nothing_written()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("enroll", str(sitting.pk), str(path), stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("enroll", str(sitting.pk), str(path), "--resend", stdout=StringIO())
    assert len(mailoutbox) == 6


def test_the_command_refuses_a_bad_file_with_status_1(sitting, rooms, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "T-1,A,B,not-an-address,Room A,1,G\n", encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("enroll", str(sitting.pk), str(path), stdout=StringIO())

    assert refused.value.returncode == 1
    assert "line 2" in str(refused.value) and nothing_written()


@pytest.mark.django_db(transaction=True)
def test_manage_py_enroll_exits_1_on_a_bad_file(sitting, rooms, tmp_path, capsys):
    # Through manage.py's own entry point, which turns CommandError into the exit status.
    # transaction=True: run_from_argv closes the database connections when it is done.
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "T-1,A,B,a@example.org,Room Z,1,G\n", encoding="utf-8")

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "enroll", str(sitting.pk), str(path)])

    assert exited.value.code == 1
    assert "line 2: this sitting has no room “Room Z”" in capsys.readouterr().err
    assert Enrolment.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_manage_py_enroll_sends_the_mails_after_commit(sitting, rooms, tmp_path, mailoutbox, capsys):
    path = tmp_path / "list.csv"
    path.write_text(GOOD, encoding="utf-8")

    execute_from_command_line(["manage.py", "enroll", str(sitting.pk), str(path)])

    assert "E-mails sent: 3" in capsys.readouterr().out
    assert len(mailoutbox) == 3 and Enrolment.objects.filter(credentials_sent_at__isnull=False).count() == 3
