"""Issue 14, point 5 (reading): item and enrolment files as spreadsheets really save them.

Excel in a locale whose decimal mark is a comma (Mongolian among them) saves "CSV" with
semicolons; its "Unicode text" is UTF-16 with tabs; people write the columns as "E-mail" or
"Option A". Each such file must give what the plain comma-separated UTF-8 file gives.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction

from exams.enrolling import EnrolmentRefused, enrolment_import
from exams.importing import import_items
from exams.models import Enrolment, Item
from exams.spreadsheets import decoded, delimiter_of, known_column, xlsx_bytes

from .test_import_export import GOOD_CSV, surgery  # noqa: F401 - fixture


def resaved(text: str, *, delimiter: str, header: dict[str, str] | None = None) -> str:
    """Return a CSV as a spreadsheet saves it with another separator (and retitled columns)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if header:
        rows[0] = [header.get(cell, cell) for cell in rows[0]]
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def bank() -> list[tuple]:
    return sorted(
        (
            item.code,
            item.kind,
            item.status,
            item.current_version.stem,
            item.current_version.options,
            item.current_version.key,
            item.current_version.guide,
        )
        for item in Item.objects.select_related("current_version")
    )


@pytest.fixture
def plain_bank(surgery, tmp_path):  # noqa: F811
    """The bank the plain comma-separated UTF-8 file gives, imported and rolled back."""
    path = tmp_path / "plain.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with transaction.atomic():
        import_items(path)
        expected = bank()
        transaction.set_rollback(True)
    assert not Item.objects.exists()
    return expected


SAVED_AS = {
    "Excel CSV in a decimal-comma locale (semicolons)": lambda text: resaved(
        text, delimiter=";"
    ).encode("utf-8"),
    "Excel CSV UTF-8 (mark, semicolons)": lambda text: resaved(text, delimiter=";").encode(
        "utf-8-sig"
    ),
    "Excel Unicode text (UTF-16, tabs)": lambda text: resaved(text, delimiter="\t").encode(
        "utf-16"
    ),
    "UTF-16 big-endian with its mark": lambda text: (
        resaved(text, delimiter="\t").encode("utf-16-be").join([b"\xfe\xff", b""])
    ),
    "columns as people title them": lambda text: resaved(
        text,
        delimiter=",",
        header={
            "option_a": "Option A",
            "topic_name": "Topic name",
            "is_sample": "Is-sample",
            "code": "CODE",
        },
    ).encode("utf-8"),
}


@pytest.mark.parametrize("save", SAVED_AS.values(), ids=SAVED_AS.keys())
def test_an_item_file_gives_the_same_items_however_the_spreadsheet_saved_it(
    plain_bank, tmp_path, save
):
    path = tmp_path / "saved.csv"
    path.write_bytes(save(GOOD_CSV))
    summary = import_items(path)
    assert summary.created == len(plain_bank)
    assert bank() == plain_bank


ENROLMENT = (
    "Ticket number;Given name;Family name;E-mail;Room;Seat;Grade\r\n"
    "T-001;Saraa;Bold;saraa@example.org;Room A;1;Specialist surgeon, second grade\r\n"
    "T-002;Вэй;Жан;wei@example.org;Room B;1;Nurse\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_an_enrolment_file_with_e_mail_and_semicolons_in_any_encoding(
    sitting, room_a, room_b, settings, encoding
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    text = ENROLMENT if encoding != "utf-16" else ENROLMENT.replace(";", "\t")
    enrolment_import(sitting=sitting, rows_source=text.encode(encoding))
    enrolments = {e.ticket_number: e for e in Enrolment.objects.select_related("candidate", "room")}
    assert enrolments["T-001"].candidate.email == "saraa@example.org"
    assert (
        enrolments["T-001"].grade == "Specialist surgeon, second grade"
    )  # its comma is no separator
    assert (enrolments["T-002"].candidate.first_name, enrolments["T-002"].room.name) == (
        "Вэй",
        "Room B",
    )


def test_the_reading_rules():
    assert decoded("Тест".encode("utf-16")) == decoded("Тест".encode("utf-8-sig")) == "Тест"
    with pytest.raises(UnicodeDecodeError):
        decoded("Café".encode("latin-1"))
    assert [delimiter_of(t) for t in ("a,b;c,d\n", "a;b;c\n1,5;2\n", "a\tb\n", "single\n")] == [
        ",",
        ";",
        "\t",
        ",",
    ]
    assert known_column("E-mail", ["email"]) == known_column(" EMAIL ", ["email"]) == "email"
    assert known_column("Ticket number", ["ticket_number"]) == "ticket_number"
    assert known_column("Shoe size", ["email"]) == "shoe_size"  # named as such in the refusal


def test_an_enrolment_workbook_with_its_rows_as_the_lines_of_its_problems(
    sitting, room_a, room_b, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    header = ["Ticket number", "Given name", "Family name", "E-mail", "Room", "Seat", "Grade"]
    good = [
        [
            "007",
            "Saraa",
            "Bold",
            "saraa@example.org",
            "Room A",
            "1",
            "Specialist surgeon,\nsecond grade",
        ]
    ]
    workbook = xlsx_bytes(header, good)
    enrolment_import(sitting=sitting, rows_source=workbook)
    saraa = Enrolment.objects.get()
    assert saraa.ticket_number == "007" and saraa.grade == "Specialist surgeon, second grade"

    bad = [*good, ["008", "Tuya", "Gantulga", "not-an-address", "Room A", "2", "Nurse"]]
    with pytest.raises(EnrolmentRefused) as refused:
        enrolment_import(sitting=sitting, rows_source=xlsx_bytes(header, bad))
    assert [problem.line for problem in refused.value.problems] == [3]  # the spreadsheet's row 3
    with pytest.raises(EnrolmentRefused, match="not an Excel workbook"):
        enrolment_import(sitting=sitting, rows_source=b"PK\x03\x04 broken")
