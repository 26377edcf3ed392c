"""Demo data: a bank of several hundred items, an exam, sittings, rooms and one login per role.

Deterministic (a fixed random seed), so every fresh machine shows the same demo.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from .models import BlueprintEntry, Enrolment, Exam, ItemKind, ItemStatus, Room, Sitting, Topic
from .services.bank import ItemContent, item_create

DEMO_EXAM = "demo-surgery-2026"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    full_name: str


LOGINS = [
    DemoLogin("administrator", "admin", "admin-demo-2026", "Oyunaa Administrator"),
    DemoLogin("candidate (room A)", "candidate1", "candidate1-demo", "Bat-Erdene Ganbold"),
    DemoLogin("candidate (room B)", "candidate2", "candidate2-demo", "Li Wei"),
    DemoLogin("proctor of room A", "proctor_a", "proctor-a-demo", "Sarnai Proctor"),
    DemoLogin("proctor of room B", "proctor_b", "proctor-b-demo", "Zhang Min"),
    DemoLogin(
        "committee chair, marker, complaints chair, software council",
        "committee",
        "committee-demo",
        "Dr. Enkhtuya Committee",
    ),
    DemoLogin("second marker", "marker2", "marker2-demo", "Dr. Batsaikhan Marker"),
    DemoLogin(
        "adjudicator; decides complaints", "adjudicator", "adjudicator-demo", "Dr. Oyun Adjudicator"
    ),
    DemoLogin("observer; external council", "observer", "observer-demo", "Council Observer"),
]

TOPICS = [
    ("anatomy", "Surgical anatomy"),
    ("physiology", "Physiology and fluid balance"),
    ("pathology", "Surgical pathology"),
    ("pharmacology", "Pharmacology and anaesthesia"),
    ("emergency", "Trauma and emergency surgery"),
    ("written", "Clinical reasoning (written)"),
]

FINDINGS = [
    "right iliac fossa pain",
    "epigastric pain radiating to the back",
    "painless jaundice",
    "haematemesis",
    "a pulsatile abdominal mass",
    "absent bowel sounds",
    "a tender groin swelling",
    "fever and rigors",
    "sudden tearing chest pain",
    "left calf swelling",
    "rectal bleeding",
    "weight loss and dysphagia",
]
DIAGNOSES = [
    "acute appendicitis",
    "acute pancreatitis",
    "carcinoma of the pancreatic head",
    "peptic ulcer bleeding",
    "abdominal aortic aneurysm",
    "paralytic ileus",
    "strangulated femoral hernia",
    "ascending cholangitis",
    "aortic dissection",
    "deep vein thrombosis",
    "diverticular bleeding",
    "oesophageal carcinoma",
]
INVESTIGATIONS = [
    "ultrasound",
    "contrast CT",
    "serum lipase",
    "upper endoscopy",
    "duplex scan",
    "plain radiograph",
    "ECG",
    "full blood count",
    "arterial blood gas",
    "MRCP",
]
DRUGS = [
    "cefazolin",
    "metronidazole",
    "heparin",
    "tranexamic acid",
    "ondansetron",
    "morphine",
    "propofol",
    "suxamethonium",
    "noradrenaline",
    "omeprazole",
]


def _picture(seed: int) -> ContentFile:
    """Return a PNG of a labelled diagram, so image items have something real to show."""
    rng = random.Random(seed)
    image = Image.new("RGB", (480, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 10, 470, 290], outline="#1f5f8b", width=3)
    points = [(40 + i * 40, 150 + rng.randint(-90, 90)) for i in range(11)]
    draw.line(points, fill="#b3261e", width=3)
    for index, letter in enumerate("ABCDE"):
        x, y = points[1 + index * 2]
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill="#1f5f8b")
        draw.text((x + 8, y - 18), letter, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name=f"diagram-{seed}.png")


def _choice_content(rng: random.Random, n: int, topic: str, kind: str) -> ItemContent:
    if kind == ItemKind.CAUSE_EFFECT:
        drug = rng.choice(DRUGS)
        return ItemContent(
            stem=f"{drug.capitalize()} is given before induction in emergency {topic} surgery.",
            reason=f"{drug.capitalize()} shortens the time to a safe airway in a patient with a full stomach.",
            key=[rng.choice("ABCDE")],
        )
    age = rng.randint(19, 84)
    finding = rng.choice(FINDINGS)
    if kind == ItemKind.MULTIPLE:
        picks = rng.sample(INVESTIGATIONS, 5)
        key = sorted(rng.sample("ABCDE", rng.randint(2, 3)))
        return ItemContent(
            stem=f"A {age}-year-old presents with {finding}. Which investigations are indicated first? (case {n})",
            options=[
                {"id": letter, "text": text} for letter, text in zip("ABCDE", picks, strict=True)
            ],
            key=key,
        )
    picks = rng.sample(DIAGNOSES, 5)
    return ItemContent(
        stem=f"A {age}-year-old presents with {finding} for {rng.randint(2, 72)} hours. "
        f"What is the most likely diagnosis? (case {n})",
        options=[{"id": letter, "text": text} for letter, text in zip("ABCDE", picks, strict=True)],
        key=[rng.choice("ABCDE")],
    )


def _text_content(rng: random.Random, n: int, kind: str) -> ItemContent:
    if kind == ItemKind.FILL_IN:
        drug = rng.choice(DRUGS)
        return ItemContent(
            stem=f"The usual adult prophylactic dose of {drug} is ____ (case {n}).",
            key=[f"{rng.choice([1, 2, 500, 1000])} mg"],
        )
    finding = rng.choice(FINDINGS)
    return ItemContent(
        stem=f"Describe your assessment and first hour of management of a patient with {finding} (case {n}).",
        guide="Award up to the item's points: history and examination; resuscitation; key investigations; "
        "definitive plan; communication and consent.",
    )


# Per clinical topic: how many live items of each kind the bank holds, and the blueprint's draw.
BANK_PER_TOPIC = {
    ItemKind.SINGLE: 45,
    ItemKind.MULTIPLE: 8,
    ItemKind.CAUSE_EFFECT: 5,
    ItemKind.FILL_IN: 4,
}
DRAW_PER_TOPIC = {ItemKind.SINGLE: 14, ItemKind.MULTIPLE: 2, ItemKind.CAUSE_EFFECT: 1}
WRITTEN_BANK = {ItemKind.FILL_IN: 16, ItemKind.FREE_TEXT: 8}
WRITTEN_DRAW = {ItemKind.FILL_IN: 10, ItemKind.FREE_TEXT: 5}


def _bank(rng: random.Random) -> dict[str, Topic]:
    topics = {code: Topic.objects.create(code=code, name=name) for code, name in TOPICS}
    n = 0
    for code, topic in topics.items():
        plan = WRITTEN_BANK if code == "written" else BANK_PER_TOPIC
        for kind, count in plan.items():
            for i in range(count + 2):  # the last two of each kind are practice samples
                n += 1
                content = (
                    _choice_content(rng, n, topic.name.lower(), kind)
                    if kind in ItemKind.choice_kinds()
                    else _text_content(rng, n, kind)
                )
                if kind == ItemKind.SINGLE and i % 9 == 0:
                    content.image = _picture(n)
                    content.stem = (
                        f"The diagram shows the course of the measurement. {content.stem}"
                    )
                is_sample = i >= count
                item_create(
                    code=f"{code.upper()[:4]}-{n:04d}",
                    topic=topic,
                    kind=kind,
                    content=content,
                    status=ItemStatus.LIVE,
                    difficulty=rng.choice(["easy", "medium", "medium", "hard"]),
                    is_sample=is_sample,
                )
    return topics


def _exams(topics: dict[str, Topic]) -> tuple[Exam, Exam]:
    exam = Exam.objects.create(code=DEMO_EXAM, title="Specialist surgeon — second grade, 2026")
    practice = Exam.objects.create(
        code="demo-practice",
        title="Practice exam (sample items)",
        is_practice=True,
        item_count=12,
        duration_minutes=20,
    )
    for code, topic in topics.items():
        plan = WRITTEN_DRAW if code == "written" else DRAW_PER_TOPIC
        for kind, count in plan.items():
            BlueprintEntry.objects.create(exam=exam, topic=topic, kind=kind, count=count)
        BlueprintEntry.objects.create(exam=practice, topic=topic, count=2)
    return exam, practice


def _users() -> dict[str, object]:
    User = get_user_model()
    users = {}
    for login in LOGINS:
        first, last = login.full_name.rsplit(" ", 1)
        user = User.objects.create_user(
            login.username,
            email=f"{login.username}@demo.example",
            password=login.password,
            first_name=first,
            last_name=last,
        )
        if login.username == "admin":
            user.is_staff = user.is_superuser = True
            user.save()
        users[login.username] = user
    _committee_groups(users)
    return users


def _committee_groups(users: dict[str, object]) -> None:
    """The committee's rights come through groups, as a board would grant them."""
    from django.contrib.auth.models import Group, Permission

    def group(name: str, *codenames: str, app: str = "grading") -> Group:
        made, _created = Group.objects.get_or_create(name=name)
        made.permissions.set(
            Permission.objects.filter(content_type__app_label=app, codename__in=codenames)
        )
        return made

    markers = group("Markers", "mark_answers")
    adjudicators = group("Adjudicators", "adjudicate")
    chairs = group("Chairs", "chair_marking", "correct_keys", "view_item_analysis")
    # Complaints: members take and decide cases; the chair also hands them out.
    complaint_members = group(
        "Complaint committee", "view_complaint", "decide_complaint", app="complaints"
    )
    complaint_chairs = group(
        "Complaint chairs",
        "view_complaint",
        "decide_complaint",
        "assign_complaint",
        app="complaints",
    )
    users["committee"].groups.add(markers, chairs, complaint_chairs)
    users["marker2"].groups.add(markers)
    users["adjudicator"].groups.add(adjudicators, complaint_members)


class DemoRefused(Exception):
    """The demo's logins have passwords printed in the README: never on a production site."""


def logins_with_published_password() -> list[str]:
    """Return the demo logins that are active and still open with the README's password."""
    published = {login.username: login.password for login in LOGINS}
    users = get_user_model().objects.filter(username__in=published, is_active=True)
    return sorted(user.username for user in users if user.check_password(published[user.username]))


def load_demo() -> bool:
    """Create the demo; return False if it was already there (then only the clock is refreshed)."""
    if settings.PRODUCTION:
        raise DemoRefused(
            "the demo is never loaded in production (DJANGO_PRODUCTION=1): its passwords are public"
        )
    return _load_demo()


@transaction.atomic
def _load_demo() -> bool:
    if Exam.objects.filter(code=DEMO_EXAM).exists():
        refresh_demo_times()
        return False
    rng = random.Random(2026)
    exam, practice = _exams(_bank(rng))
    users = _users()
    now = timezone.now()
    today = Sitting.objects.create(
        exam=exam,
        practice_exam=practice,
        name="Demo sitting (open now)",
        starts_at=now - timedelta(minutes=1),
        late_entry_minutes=12 * 60,
    )
    next_week = Sitting.objects.create(
        exam=exam,
        practice_exam=practice,
        name="Spring sitting (next week)",
        starts_at=(now + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0),
    )
    for sitting in (today, next_week):
        room_a = Room.objects.create(
            sitting=sitting,
            name="Room A",
            seats=30,
            test_centre="Ulaanbaatar Medical Centre",
            region="Ulaanbaatar",
        )
        room_b = Room.objects.create(
            sitting=sitting,
            name="Room B",
            seats=30,
            test_centre="Darkhan Regional Hospital",
            region="Darkhan-Uul",
        )
        room_a.proctors.add(users["proctor_a"])
        room_b.proctors.add(users["proctor_b"])
        for room in (room_a, room_b):
            room.observers.add(users["observer"])
        for seat, (username, room) in enumerate(
            (("candidate1", room_a), ("candidate2", room_b)), start=1
        ):
            Enrolment.objects.create(
                sitting=sitting,
                room=room,
                candidate=users[username],
                seat=f"{seat:02d}",
                ticket_number=f"{sitting.pk:02d}-{seat:04d}",
                grade="Specialist surgeon, second grade",
            )
    from .oversight.demo import load_oversight_demo

    load_oversight_demo(exam=exam, practice=practice, sittings=[today, next_week], users=users)
    return True


def refresh_demo_times() -> None:
    """Keep the demo's "open now" sitting open: move its start to now while nobody has started it."""
    sitting = Sitting.objects.filter(exam__code=DEMO_EXAM, name="Demo sitting (open now)").first()
    if sitting and not sitting.enrolments.filter(attempts__isnull=False).exists():
        sitting.starts_at = timezone.now() - timedelta(minutes=1)
        sitting.save(update_fields=["starts_at"])
