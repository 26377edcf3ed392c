"""Issue 14, points 2 and 4: a keeper uploads an item or enrolment file in the admin, reads the
preview (nothing written yet), and imports the whole file, only the items that passed, or nothing.

In the embedded default the checking and importing tasks run in the request (Celery eager); the
worker path is the same code, delivered by Redis (tests/integration covers the worker itself).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from exams.importing import import_items
from exams.models import AuditEntry, Enrolment, Item, Upload

from ..factories import TopicFactory, UserFactory, grant
from .test_import_export import media_root  # noqa: F401 - fixture
from .test_interchange_import import BOARD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_here(settings):
    # The tasks run in this process: in Redis mode one sent from here would reach no worker
    # (tests/e2e/test_bank_upload.py has a real worker check and import a file).
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def keeper(client):
    user = grant(
        UserFactory(username="keeper", is_staff=True),
        "exams",
        "add_item",
        "change_item",
        "add_enrolment",
        "change_enrolment",
    )
    client.force_login(user)
    return user


@pytest.fixture
def surgery(db):
    return TopicFactory(code="surgery", name="Surgery")


def upload(client, kind: str, path: Path, **fields):
    data = {"file": SimpleUploadedFile(path.name, path.read_bytes()), **fields}
    return client.post(reverse("exams:upload_new", args=[kind]), data, follow=True)


def test_a_moodle_file_is_previewed_then_only_the_items_that_passed_are_imported(
    client, keeper, surgery
):
    page = upload(client, "items", BOARD)

    text = page.content.decode()
    the_upload = Upload.objects.get()
    assert the_upload.state == Upload.State.CHECKED and the_upload.created_by == keeper
    assert not Item.objects.exists()  # the preview writes nothing
    assert "6 new, 0 revised, 0 unchanged, 4 cannot be imported." in text
    assert "line 309 (item SURG-TF1): true/false is not an item kind here" in text
    assert 'data-code="SURG-M1"' in text and "Which nerve supplies the little finger?" in text
    assert 'value="all"' not in text  # a file with refused items cannot be imported whole
    decide = reverse("exams:upload_decision", args=[the_upload.pk])

    refused = client.post(decide, {"decision": "all"}, follow=True)
    assert "Some items cannot be imported" in refused.content.decode()
    assert not Item.objects.exists()

    done = client.post(decide, {"decision": "passed"}, follow=True)

    the_upload.refresh_from_db()
    assert the_upload.state == Upload.State.IMPORTED and the_upload.only_passed
    assert Item.objects.count() == 6
    assert "6 items created, 0 revised, 0 unchanged." in done.content.decode()
    assert not the_upload.file  # the uploaded file, which may hold a bank's keys, is gone
    entry = AuditEntry.objects.get(kind="items.uploaded")
    assert entry.actor_id == keeper.pk and entry.data["only_passed"] is True

    # A second click (or a replayed POST) imports nothing again.
    client.post(decide, {"decision": "passed"})
    assert AuditEntry.objects.filter(kind="items.uploaded").count() == 1


def test_a_clean_file_is_imported_whole_and_a_cancelled_one_not_at_all(
    client, keeper, surgery, tmp_path
):
    path = tmp_path / "bank.json"
    path.write_text(
        '[{"code": "S-1", "topic": "surgery", "kind": "free_text", "stem": "Discuss."}]'
    )
    upload(client, "items", path)
    first = Upload.objects.get()
    client.post(reverse("exams:upload_decision", args=[first.pk]), {"decision": "cancel"})
    first.refresh_from_db()
    assert first.state == Upload.State.CANCELLED and not Item.objects.exists()

    upload(client, "items", path)
    second = Upload.objects.exclude(pk=first.pk).get()
    client.post(reverse("exams:upload_decision", args=[second.pk]), {"decision": "all"})
    second.refresh_from_db()
    assert second.state == Upload.State.IMPORTED and Item.objects.get().code == "S-1"


def test_a_file_that_cannot_be_read_is_refused_with_its_line(client, keeper, surgery, tmp_path):
    path = tmp_path / "bank.xml"
    path.write_bytes(b"<quiz>\n<question type='essay'>\n</quiz>")
    page = upload(client, "items", path)
    the_upload = Upload.objects.get()
    assert the_upload.state == Upload.State.REFUSED and not the_upload.file
    assert "line 3: the file is not well-formed XML" in page.content.decode()


def test_a_qti_item_takes_the_topic_chosen_for_the_file(client, keeper, surgery, tmp_path):
    path = tmp_path / "item.xml"
    path.write_text(
        '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="Q-1" '
        'title="Consent" adaptive="false" timeDependent="false">'
        '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string"/>'
        '<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
        '<itemBody><extendedTextInteraction responseIdentifier="RESPONSE">'
        "<prompt>Discuss consent.</prompt></extendedTextInteraction></itemBody>"
        "</assessmentItem>"
    )
    without = upload(client, "items", path).content.decode()
    assert "the file names no topic for this item; choose a topic for the file" in without

    upload(client, "items", path, topic=surgery.pk)
    the_upload = Upload.objects.get(topic=surgery)
    assert [row["topic"] for row in the_upload.preview["rows"]] == ["surgery"]


def test_the_preview_is_in_the_keepers_language_whoever_writes_it(client, keeper, surgery):
    # The worker has no request: the upload remembers the keeper's language for it.
    client.cookies["django_language"] = "mn"
    with translation.override("mn"):
        upload(client, "items", BOARD)
    the_upload = Upload.objects.get()
    assert the_upload.language == "mn"
    assert "мөр 309" in the_upload.preview["refused"][2]


def test_a_fault_of_the_server_closes_the_upload_and_says_so(client, keeper, surgery, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("exams.uploading.services.import_items", broken)
    page = upload(client, "items", BOARD)
    the_upload = Upload.objects.get()
    assert the_upload.state == Upload.State.REFUSED and not the_upload.file
    assert "The server failed while handling this file; nothing was imported." in (
        page.content.decode()
    )


def test_a_file_of_another_kind_is_refused_by_the_form(client, keeper, tmp_path):
    path = tmp_path / "bank.docx"
    path.write_bytes(b"PK")
    page = upload(client, "items", path)
    assert "bank.docx is not a file the bank reads" in page.content.decode()
    assert not Upload.objects.exists()


def test_only_a_keeper_may_upload(client, surgery):
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(reverse("exams:upload_new", args=["items"])).status_code == 403
    assert client.get(reverse("exams:upload_new", args=["other"])).status_code == 403


def test_an_enrolment_file_is_previewed_then_enrolled(client, keeper, sitting, room_a, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    path = Path(settings.MEDIA_ROOT).parent / "candidates.csv"
    path.write_text(
        "Ticket number;Given name;Family name;E-mail;Room;Seat;Grade\n"
        f"T-001;Saraa;Bold;saraa@example.org;{room_a.name};1;Nurse\n"
    )
    page = upload(client, "enrolment", path, sitting=sitting.pk)
    the_upload = Upload.objects.get()
    assert the_upload.state == Upload.State.CHECKED and not Enrolment.objects.exists()
    assert "Candidates in the file: 1" in page.content.decode()

    client.post(reverse("exams:upload_decision", args=[the_upload.pk]), {"decision": "all"})

    the_upload.refresh_from_db()
    assert the_upload.state == Upload.State.IMPORTED
    assert Enrolment.objects.get().ticket_number == "T-001"


def test_a_long_import_says_how_far_it_is(surgery, tmp_path):
    path = tmp_path / "bank.json"
    items = ",".join(
        f'{{"code": "S-{n}", "topic": "surgery", "kind": "free_text", "stem": "Q{n}"}}'
        for n in range(45)
    )
    path.write_text(f"[{items}]")
    told = []
    import_items(path, progress=lambda done, total: told.append((done, total)))
    assert told == [(20, 45), (40, 45), (45, 45)]
