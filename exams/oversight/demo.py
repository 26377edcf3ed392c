"""Demo data for oversight: councils on the demo's sittings, and a sitting that ended an hour ago,
over two regions, with absentees and both reports drafted (due in about an hour).

Called by exams.demo.load_demo with its users and the sittings it made.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from exams.models import Council, Enrolment, Exam, Room, Sitting
from exams.services import attempt_start, attempt_submit

from .services import council_member_add, reports_draft

# (seat, given name, family name, room, sat the exam?) — Mongolian names, as the lists print them.
CANDIDATES = [
    ("01", "Батбаяр", "Дорж", "Room A", True),
    ("02", "Өлзийсайхан", "Ганболд", "Room A", False),
    ("03", "Үүрцайх", "Батсүх", "Room A", True),
    ("01", "Наранцэцэг", "Жаргал", "Room B", False),
    ("02", "Тэмүүлэн", "Очир", "Room B", True),
    ("01", "Энхжаргал", "Цэрэн", "Room C", False),
    ("02", "Сарантуяа", "Пүрэв", "Room C", True),
]
ROOMS = {"Room A": ("Ulaanbaatar Medical Centre", "Ulaanbaatar"), "Room B": ("Ulaanbaatar Medical Centre", "Ulaanbaatar"),
         "Room C": ("Darkhan Regional Hospital", "Darkhan-Uul")}
DEVICE = "d" * 32


def load_oversight_demo(*, exam: Exam, practice: Exam | None, sittings: list[Sitting], users: dict[str, object]) -> Sitting:
    """Appoint the demo's councils (committee: software, observer: external) and add a sitting that just ended."""
    admin, now = users["admin"], timezone.now()
    started = now - timedelta(hours=2, minutes=30)
    ended = Sitting.objects.create(exam=exam, practice_exam=practice, name="Morning sitting (ended)", starts_at=started,
                                   proctored=False)
    rooms = {name: Room.objects.create(sitting=ended, name=name, seats=30, test_centre=centre, region=region)
             for name, (centre, region) in ROOMS.items()}
    User = get_user_model()
    for number, (seat, given, family, room, sat) in enumerate(CANDIDATES, start=1):
        candidate = User.objects.create_user(f"mn{number:02d}", first_name=given, last_name=family)  # no password: no login
        enrolment = Enrolment.objects.create(sitting=ended, room=rooms[room], candidate=candidate, seat=seat,
                                             ticket_number=f"{ended.pk:02d}-{number:04d}", grade="Specialist surgeon, second grade",
                                             identity_confirmed_at=started)
        if sat:
            attempt = attempt_start(candidate=candidate, enrolment_id=enrolment.pk, device_id=DEVICE,
                                    now=started + timedelta(minutes=number))
            attempt_submit(attempt_id=attempt.pk, by="candidate", actor=candidate, now=started + timedelta(minutes=80 + 2 * number))
    from proctoring.services import absentees_mark

    absentees_mark(now=ended.entry_closes_at + timedelta(minutes=1))
    for sitting in [*sittings, ended]:
        council_member_add(sitting_id=sitting.pk, council=Council.SOFTWARE, user=users["committee"], by=admin)
        council_member_add(sitting_id=sitting.pk, council=Council.EXTERNAL, user=users["observer"], by=admin)
    reports_draft(sitting_id=ended.pk, now=now)
    return ended
