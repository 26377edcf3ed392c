"""Absentee lists (R-SCHED-3): who counts as absent, totals room → test centre → region → national, CSV, PDF."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from exams.oversight import export
from exams.oversight.absentees import Absentee, Tally, absentee_tally, tally_rows
from proctoring import services as proctoring

from ..factories import make_sitting
from .conftest import DARKHAN, UB, UB_CENTRE, end_room, enrol_named, sit
from .pdf_text import pdf_text


@pytest.fixture
def two_regions(sitting, room_a, room_b, room_c, room_d, proctor_a, proctor_b, proctor_c, proctor_d):
    """Eight candidates in four rooms; five never start and are marked absent when their room ends."""
    people = {
        "A": [("Батбаяр", "Дорж", "1", True), ("Өлзий", "Ганболд", "2", False), ("Үүрцайх", "Батсүх", "10", False)],
        "B": [("Наранцэцэг", "Жаргал", "1", False), ("Тэмүүлэн", "Очир", "2", False)],
        "C": [("Энхжаргал", "Цэрэн", "1", True), ("Сарантуяа", "Пүрэв", "2", False)],
        "D": [("Бат-Эрдэнэ", "Болд", "1", True)],
    }
    rooms = {"A": (room_a, proctor_a), "B": (room_b, proctor_b), "C": (room_c, proctor_c), "D": (room_d, proctor_d)}
    for key, (room, proctor) in rooms.items():
        for given, family, seat, sits in people[key]:
            enrolment = enrol_named(sitting, room, given, family, seat)
            if sits:
                sit(enrolment, proctor)
        end_room(room, proctor)
    return sitting


def test_totals_per_room_test_centre_region_and_nation(two_regions):
    nation = absentee_tally(two_regions, now=timezone.now())
    assert tally_rows(nation) == [
        # Regions, test centres and rooms in alphabetical order.
        ("room", DARKHAN, "Darkhan Regional Hospital", "Room C", 2, 1),
        ("test_centre", DARKHAN, "Darkhan Regional Hospital", "", 2, 1),
        ("room", DARKHAN, "Darkhan School No. 1", "Room D", 1, 0),
        ("test_centre", DARKHAN, "Darkhan School No. 1", "", 1, 0),
        ("region", DARKHAN, "", "", 3, 1),
        ("room", UB, UB_CENTRE, "Room A", 3, 2),
        ("room", UB, UB_CENTRE, "Room B", 2, 2),
        ("test_centre", UB, UB_CENTRE, "", 5, 4),
        ("region", UB, "", "", 5, 4),
        ("national", "", "", "", 8, 5),
    ]


def test_a_rooms_list_is_by_seat_with_the_reason_as_the_note(two_regions, room_a):
    room = absentee_tally(two_regions, [room_a], now=timezone.now()).parts[0].parts[0].parts[0]  # the only room
    assert [(a.seat, a.name) for a in room.absentees] == [("2", "Өлзий Ганболд"), ("10", "Үүрцайх Батсүх")]  # 2 before 10
    assert all("room ended" in a.note for a in room.absentees)
    assert room.absentees[0].ticket_number.startswith("T-")


def test_a_refused_candidate_is_not_absent(sitting, room_a, proctor_a):
    refused = enrol_named(sitting, room_a, "Refused", "Person", "1")
    proctoring.checkin_arrive(enrolment_id=refused.pk, candidate=refused.candidate)
    proctoring.checkin_refuse(enrolment_id=refused.pk, by=proctor_a, reason="The ID card is someone else's")
    end_room(room_a, proctor_a)
    nation = absentee_tally(sitting, now=timezone.now())
    assert (nation.enrolled, nation.absent) == (1, 0)


def test_before_the_periodic_job_runs_a_non_starter_is_listed_as_not_yet_marked(exam, alice, bob):
    unproctored = make_sitting(exam, starts_in=timedelta(minutes=-30), late_entry_minutes=15)
    room = unproctored.rooms.create(name="Hall", region=UB, test_centre=UB_CENTRE)
    from ..factories import enrol

    enrol(unproctored, room, alice)
    enrol(unproctored, room, bob)
    from exams.services import attempt_start

    attempt_start(candidate=alice, enrolment_id=alice.enrolments.get().pk, device_id="x" * 32,
                  now=unproctored.starts_at + timedelta(minutes=5))
    before_close = absentee_tally(unproctored, now=unproctored.entry_closes_at - timedelta(minutes=1))
    assert before_close.absent == 0  # entry still open for bob
    after = absentee_tally(unproctored, now=timezone.now())
    listed = after.parts[0].parts[0].parts[0].absentees
    assert [a.name for a in listed] == [bob.get_full_name()] and "not yet marked" in listed[0].note
    proctoring.absentees_mark()  # the job: the same candidate, now with the job's reason
    marked = absentee_tally(unproctored, now=timezone.now()).parts[0].parts[0].parts[0].absentees
    assert [a.name for a in marked] == [bob.get_full_name()] and "not yet marked" not in marked[0].note


def test_the_csv_lists_every_absentee_with_place_seat_name_ticket_and_note(two_regions):
    data = export.absentees_csv(absentee_tally(two_regions, now=timezone.now()))
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Region", "Test centre", "Room", "Seat", "Name", "Ticket number", "Note"]
    assert [(r[0], r[2], r[3], r[4]) for r in rows[1:]] == [
        (DARKHAN, "Room C", "2", "Сарантуяа Пүрэв"),
        (UB, "Room A", "2", "Өлзий Ганболд"), (UB, "Room A", "10", "Үүрцайх Батсүх"),
        (UB, "Room B", "1", "Наранцэцэг Жаргал"), (UB, "Room B", "2", "Тэмүүлэн Очир"),
    ]
    assert all(r[5].startswith("T-") and r[6] for r in rows[1:])


def test_the_totals_csv_ends_with_the_national_total(two_regions):
    rows = list(csv.reader(io.StringIO(export.totals_csv(absentee_tally(two_regions, now=timezone.now())).decode("utf-8-sig"))))
    assert rows[0] == ["Level", "Region", "Test centre", "Room", "Enrolled", "Absent"]
    assert rows[-1] == ["national", "", "", "", "8", "5"]
    assert ["region", DARKHAN, "", "", "3", "1"] in rows


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_no_cell_of_either_absentee_csv_starts_a_formula():
    """Issue 10, point 20: region, centre, room, seat and ticket passed raw (only name and note were quoted)."""
    nation = Tally("national")
    room = nation.part("=Region").part("+Centre").part("-Room")
    room.absentees.append(Absentee(seat="@1", name="=HYPERLINK(\"http://x\")", ticket_number="-T-1", note="\tnote"))
    for place in (room, nation.parts[0].parts[0], nation.parts[0], nation):
        place.add(1, 1)
    for data in (export.absentees_csv(nation), export.totals_csv(nation)):
        assert data.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        text_cells = [cell for row in rows for cell in row if not cell.isdigit()]
        assert not [cell for cell in text_cells if cell.startswith(FORMULA_STARTS)], rows
    rows = list(csv.reader(io.StringIO(export.absentees_csv(nation).decode("utf-8-sig"), newline="")))
    assert rows[1] == ["'=Region", "'+Centre", "'-Room", "'@1", "'=HYPERLINK(\"http://x\")", "'-T-1", "'\tnote"]


def test_the_pdf_is_a_pdf_showing_the_cyrillic_names_and_every_total(two_regions):
    assert export.find_font() is not None, "DejaVu Sans (fonts-dejavu-core) is expected on the test machine"
    data = export.absentees_pdf(two_regions, absentee_tally(two_regions, now=timezone.now()), now=timezone.now(), complete=True)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    for name in ["Өлзий Ганболд", "Үүрцайх Батсүх", "Наранцэцэг Жаргал", "Тэмүүлэн Очир", "Сарантуяа Пүрэв"]:
        assert name in text
    assert "Батбаяр" not in text  # he sat the exam
    assert "Room A: 2 absent of 3 enrolled" in text
    assert f"Test centre {UB_CENTRE}: 4 absent of 5 enrolled" in text
    assert f"Region {DARKHAN}: 1 absent of 3 enrolled" in text
    assert "National" in text and "Totals" in text


def test_one_rooms_pdf_leaves_out_totals_that_would_not_be_whole(two_regions, room_c):
    text = pdf_text(export.absentees_pdf(two_regions, absentee_tally(two_regions, [room_c], now=timezone.now()),
                                         now=timezone.now(), complete=False))
    assert "Сарантуяа Пүрэв" in text and "Room C: 1 absent of 2 enrolled" in text
    assert f"Region {DARKHAN}" not in text and "National" not in text and "Өлзий" not in text


def test_without_a_cyrillic_font_the_pdf_transliterates_and_says_so(two_regions, monkeypatch):
    monkeypatch.setattr(export, "find_font", lambda: None)
    data = export.absentees_pdf(two_regions, absentee_tally(two_regions, now=timezone.now()), now=timezone.now(), complete=True)
    text = pdf_text(data)
    assert data.startswith(b"%PDF-")
    assert "names are transliterated" in text
    assert "Ölzii Ganbold" in text and "Üürtsaikh Batsükh" in text


def test_transliteration_keeps_capitals_and_latin():
    assert export.transliterate("Батбаяр Dorj Цэрэн Шинэ-Ёс") == "Batbayar Dorj Tseren Shine-Yos"


@pytest.fixture
def chinese_room(sitting, room_a, proctor_a):
    """A test centre in China: two candidates who never start, named in Chinese characters."""
    for given, family, seat in [("小明", "王", "1"), ("静", "陈", "2")]:
        enrol_named(sitting, room_a, given, family, seat)
    end_room(room_a, proctor_a)
    return sitting


def test_a_chinese_readers_pdf_prints_chinese_names_family_first_and_chinese_headings(chinese_room):
    assert export.find_cjk_font() is not None, "Noto Sans CJK (fonts-noto-cjk, `make install`) is expected here"
    with translation.override("zh-hans"):
        nation = absentee_tally(chinese_room, now=timezone.now())
        text = pdf_text(export.absentees_pdf(chinese_room, nation, now=timezone.now(), complete=True))
        heading = translation.gettext("Absentees")
    assert "王小明" in text and "陈静" in text  # not blank, and the family name first
    assert heading in text and heading != "Absentees"
    assert "?" not in text


def test_without_a_chinese_font_the_names_print_as_question_marks_and_the_pdf_says_so(chinese_room, monkeypatch):
    monkeypatch.setattr(export, "find_cjk_font", lambda: None)
    text = pdf_text(export.absentees_pdf(chinese_room, absentee_tally(chinese_room, now=timezone.now()),
                                         now=timezone.now(), complete=True))
    assert "install fonts-noto-cjk" in text
    assert "???" in text  # 王小明: never a blank cell where a name should be
