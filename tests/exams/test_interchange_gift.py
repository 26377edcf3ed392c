"""The GIFT reader: Moodle's text format read into the bank's item format, field by field.

The fixtures (tests/exams/interchange_files/gift, see SOURCES.md there) follow what Moodle exports
and what people write by hand; each question's record or refusal is checked here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exams.interchange.gift_read import read_gift
from exams.interchange.records import LOST, Pictures, Record, UnreadableFile, not_a_kind

FILES = Path(__file__).parent / "interchange_files" / "gift"
FEEDBACK, WEIGHTS, PENALTY = str(LOST["feedback"]), str(LOST["weights"]), str(LOST["penalty"])
WILDCARDS, TAGS = str(LOST["wildcards"]), str(LOST["tags"])
FORMATTING = "bold, italics and other formatting (the text is kept)"
NO_PICTURE = "its picture %s is not in the file (GIFT carries no pictures; use Moodle XML)"


def read(name: str, data: bytes | None = None, tmp: Path | None = None):
    data = (FILES / name).read_bytes() if data is None else data
    return read_gift(data, name, Pictures(tmp or Path("/nonexistent-gift-pictures")))


def records(name: str) -> dict[str, Record]:
    return {record.fields["code"]: record for record in read(name).records}


def refusals(name: str) -> list[tuple[int | None, str, str]]:
    return [(r.line, r.code, r.reason) for r in read(name).refusals]


def options(*texts: str) -> list[dict[str, str]]:
    return [{"id": chr(ord("A") + i), "text": text} for i, text in enumerate(texts)]


def text(source: str) -> tuple[list[Record], list[tuple[int | None, str, str]]]:
    reading = read("inline.gift", source.encode())
    return reading.records, [(r.line, r.code, r.reason) for r in reading.refusals]


# --- What Moodle exports (cardiology.gift.txt) ---------------------------------------------------


def test_an_exported_single_answer_question_in_html():
    record = records("cardiology.gift.txt")["CARD-0001"]
    assert record.line == 11
    assert record.fields == {
        "code": "CARD-0001",
        "topic": "",
        "topic_name": "Arrhythmia",
        "kind": "single",
        "stem": "A 68-year-old man has palpitations. His ECG shows an irregularly irregular rhythm "
        "with no P waves.\n\nWhat is the most likely diagnosis?",
        "options": options(
            "Atrial flutter",
            "Atrial fibrillation",
            "Sinus arrhythmia",
            "Multifocal atrial tachycardia",
            "Ventricular tachycardia",
        ),
        "key": ["B"],
        "guide": "Irregularly irregular with no P waves: atrial fibrillation until proven otherwise.",
    }
    assert record.lost == [FORMATTING, FEEDBACK, TAGS]


def test_an_exported_multiple_answer_question_keys_every_positive_weight():
    record = records("cardiology.gift.txt")["CARD-0002"]
    assert record.line == 21
    assert record.fields["kind"] == "multiple"
    assert record.fields["stem"] == (
        "Which of these drugs prolong the QT interval? Choose all that apply."
    )
    assert record.fields["options"] == options(
        "Amiodarone", "Sotalol", "Amlodipine", "Haloperidol", "Lisinopril"
    )
    assert record.fields["key"] == ["A", "B", "D"]
    assert record.fields["guide"] == (
        "Class III antiarrhythmics and antipsychotics prolong the QT interval."
    )
    assert record.lost == [WEIGHTS, PENALTY]


def test_an_exported_short_answer_keeps_the_full_credit_answers():
    record = records("cardiology.gift.txt")["CARD-0003"]
    assert record.line == 31
    assert record.fields["kind"] == "fill_in"
    assert record.fields["stem"] == "Name the electrolyte given first for torsades de pointes."
    assert record.fields["options"] == []
    assert record.fields["key"] == ["magnesium", "Mg"]
    assert record.fields["guide"] == ""
    assert record.lost == [WEIGHTS, FEEDBACK]


def test_an_exported_essay_keeps_its_general_feedback_as_the_guide_and_loses_nothing():
    record = records("cardiology.gift.txt")["CARD-0004"]
    assert (record.line, record.fields["kind"]) == (38, "free_text")
    assert record.fields["stem"] == "Describe the first hour of managing acute pulmonary oedema."
    assert (record.fields["options"], record.fields["key"]) == ([], [])
    assert record.fields["guide"] == (
        "Sit the patient up, oxygen, nitrates, a loop diuretic; consider CPAP."
    )
    assert record.lost == []


def test_exported_kinds_the_bank_lacks_are_refused_each_on_its_line():
    assert refusals("cardiology.gift.txt") == [
        (41, "CARD-0005", not_a_kind("truefalse")),
        (44, "CARD-0006", not_a_kind("numerical")),
        (50, "CARD-0007", not_a_kind("matching")),
        (57, "CARD-0008", not_a_kind("description")),
    ]
    assert list(records("cardiology.gift.txt")) == [
        "CARD-0001",
        "CARD-0002",
        "CARD-0003",
        "CARD-0004",
    ]


# --- Written by hand (respiratory.gift) -----------------------------------------------------------


def test_an_untitled_question_is_named_after_the_file_and_its_place():
    record = records("respiratory.gift")["respiratory-1"]
    assert record.line == 5
    assert record.fields == {
        "code": "respiratory-1",
        "topic": "",
        "topic_name": "",
        "kind": "single",
        "stem": "Which organism most often causes community-acquired pneumonia in adults?",
        "options": options(
            "Haemophilus influenzae",
            "Mycoplasma pneumoniae",
            "Streptococcus pneumoniae",
            "Staphylococcus aureus",
            "Legionella pneumophila",
        ),
        "key": ["C"],
        "guide": "",
    }
    assert record.lost == []


def test_a_missing_word_leaves_a_blank_where_the_answers_stood():
    record = records("respiratory.gift")["RESP-MW"]
    assert record.line == 8
    assert record.fields["kind"] == "single"
    assert record.fields["stem"] == (
        "The first drug for an acute asthma attack is inhaled _____ given by spacer or nebuliser."
    )
    assert record.fields["options"] == options(
        "ipratropium", "salbutamol", "budesonide", "montelukast", "theophylline"
    )
    assert record.fields["key"] == ["B"]
    assert record.lost == [FEEDBACK]


def test_weights_make_a_multiple_answer_question_without_feedback_lost():
    record = records("respiratory.gift")["RESP-MULTI"]
    assert record.line == 17
    assert record.fields["kind"] == "multiple"
    assert record.fields["options"] == options(
        "Silent chest",
        "SpO₂ below 92%",
        "Respiratory rate of 22 per minute",
        "Able to finish sentences",
        "Wheeze",
    )
    assert record.fields["key"] == ["A", "B"]
    # "<" in Moodle's own format without any tag is text, not HTML.
    assert record.fields["guide"] == "Silent chest, cyanosis, SpO₂ < 92 %, exhaustion, confusion."
    assert record.lost == [WEIGHTS, PENALTY]


def test_short_answers_are_all_accepted():
    record = records("respiratory.gift")["respiratory-4"]
    assert record.line == 27
    assert record.fields["kind"] == "fill_in"
    assert record.fields["key"] == ["smoking", "tobacco smoking", "cigarette smoking"]
    assert (record.fields["options"], record.fields["guide"], record.lost) == ([], "", [])


def test_a_short_answer_drops_partial_credit_and_names_wildcards():
    record = records("respiratory.gift")["RESP-SA2"]
    assert record.fields["stem"] == "Name the test that confirms airflow obstruction."
    assert record.fields["key"] == ["spirometry", "spiro*"]
    assert record.lost == [WEIGHTS, FEEDBACK, WILDCARDS]


def test_essays_with_and_without_a_guide():
    read_records = records("respiratory.gift")
    plain, guided = read_records["RESP-ESSAY"], read_records["RESP-ESSAY2"]
    assert (plain.line, plain.fields["kind"], plain.fields["guide"]) == (37, "free_text", "")
    assert plain.fields["stem"] == "Outline the emergency management of a tension pneumothorax."
    assert (guided.line, guided.fields["kind"]) == (39, "free_text")
    assert guided.fields["guide"] == (
        "Check technique, demonstrate, ask the patient to show it back, offer a spacer."
    )
    assert (guided.fields["key"], guided.lost) == ([], [])


def test_refused_questions_keep_their_place_in_the_numbering():
    assert refusals("respiratory.gift") == [
        (42, "respiratory-8", not_a_kind("truefalse")),
        (44, "respiratory-9", not_a_kind("truefalse")),
        (47, "respiratory-10", not_a_kind("numerical")),
        (50, "respiratory-11", not_a_kind("matching")),
        (56, "respiratory-12", not_a_kind("description")),
    ]


# --- Categories (surgery.txt) --------------------------------------------------------------------


def test_the_latest_category_names_the_topic_by_its_last_name():
    read_records = records("surgery.txt")
    assert {code: r.fields["topic_name"] for code, r in read_records.items()} == {
        "SURG-T1": "Trauma",
        "SURG-T2": "Trauma",
        "SURG-V1": "Vascular",
        "SURG-E1": "Ear/Nose/Throat",
        "surgery-5": "",
    }
    assert all(r.fields["topic"] == "" for r in read_records.values())
    assert refusals("surgery.txt") == []


def test_a_question_right_under_its_category_line_starts_on_its_own_line():
    read_records = records("surgery.txt")
    assert [r.line for r in read_records.values()] == [6, 14, 23, 33, 37]
    assert read_records["SURG-V1"].fields["key"] == ["A"]
    assert read_records["SURG-E1"].fields["options"] == options(
        "Recurrent laryngeal", "Vagus trunk", "Hypoglossal", "Accessory", "Phrenic"
    )


# --- Escapes (escapes.gift) ----------------------------------------------------------------------


def test_escaped_control_characters_are_kept_as_text():
    record = records("escapes.gift")["ESC-1: signs"]
    assert record.line == 3
    assert record.fields["stem"] == (
        "In ARDS the ratio PaO₂:FiO₂ is below 300. Which sign is written = in GIFT?"
    )
    assert record.fields["options"] == options(
        "~ (tilde)", "= (equals)", "# (hash)", "{ and } (braces)", "\\ (backslash)"
    )
    assert record.fields["key"] == ["B"]
    assert record.lost == [FEEDBACK]


def test_an_escaped_newline_is_a_line_break():
    record = records("escapes.gift")["ESC-2"]
    assert record.fields["stem"] == (
        "A patient's notes read:\nBP 90/60, HR 120.\nWhat is the shock index?"
    )
    assert (record.fields["kind"], record.fields["key"]) == ("fill_in", ["1.33", "1.3"])


def test_a_question_over_several_lines_keeps_its_lines():
    record = records("escapes.gift")["ESC-3"]
    assert record.line == 13
    assert (
        record.fields["stem"]
        == "A 30-year-old woman\nwith a swollen left calf\nasks what to do next."
    )
    assert record.fields["options"][0] == {
        "id": "A",
        "text": "Compression ultrasound of the leg veins",
    }
    assert record.fields["key"] == ["A"]


def test_a_backslash_before_an_ordinary_character_stays():
    record = records("escapes.gift")["ESC-4"]
    assert record.fields["stem"] == "Glucose 10\\% is not an escape, C:\\notes is a path."


# --- Text formats and pictures (formats.gift) ----------------------------------------------------


def test_html_text_and_answers_in_their_own_formats():
    record = records("formats.gift")["FMT-HTML"]
    assert record.line == 4
    assert record.fields["stem"] == "Which ion is written Na⁺ and which gas CO₂?"
    assert record.fields["options"] == options(
        "Sodium and carbon dioxide",
        "Potassium and <i>carbon monoxide</i>",  # [plain]: the tags are the text
        "Calcium and oxygen",
        "Sodium and oxygen",
        "Nitrogen and **carbon dioxide**",  # [markdown] is kept as written
    )
    assert record.lost == []


def test_moodle_format_is_html_that_keeps_its_line_breaks():
    record = records("formats.gift")["FMT-MOODLE"]
    assert (
        record.fields["stem"]
        == "A child of 4 has a barking cough.\nWhat is the most likely diagnosis?"
    )
    assert record.lost == [FORMATTING]


def test_plain_and_markdown_texts_are_kept_as_written():
    read_records = records("formats.gift")
    assert read_records["FMT-PLAIN"].fields["stem"] == (
        "Is <b> shown as written when the format is plain?"
    )
    markdown = read_records["FMT-MD"]
    assert markdown.fields["stem"] == "Which **drug** reverses an opioid overdose?"
    assert (markdown.fields["kind"], markdown.fields["key"]) == ("fill_in", ["naloxone", "Narcan"])


def test_a_question_showing_a_picture_is_refused(tmp_path):
    reading = read("formats.gift", tmp=tmp_path)
    assert [(r.line, r.code, r.reason) for r in reading.refusals] == [
        (20, "FMT-PIC", NO_PICTURE % "chest x-ray.png"),
        (28, "FMT-MDPIC", NO_PICTURE % "images/rash.jpg"),
        (30, "FMT-OPTPIC", NO_PICTURE % "https://example.org/vf.png"),
    ]
    assert list(tmp_path.iterdir()) == []


# --- Mongolian and Chinese, a byte-order mark, CRLF (unicode.gift) -------------------------------

UNICODE_RECORDS = {
    "МН-001": (
        4,
        "Дотрын өвчин",
        "single",
        "Цусны даралт ихсэх үед эхлээд хэрэглэх эм аль нь вэ?",
        options("Амлодипин", "Аспирин", "Парацетамол", "Омепразол", "Амоксициллин"),
        ["A"],
        "Кальцийн сувгийн хориглогч.",
    ),
    "ZH-001": (
        15,
        "心血管",
        "single",
        "心房颤动最常见的心电图表现是什么？",
        options(
            "P波高尖", "P波消失，代之以f波，RR间期绝对不规则", "QRS波增宽", "ST段抬高", "T波倒置"
        ),
        ["B"],
        "心房颤动：P波消失，RR间期绝对不规则。",
    ),
    "unicode-3": (
        24,
        "心血管",
        "fill_in",
        "急性心肌梗死最常见的致死原因是_____。",
        [],
        ["心律失常", "室颤"],
        "",
    ),
}


def _unicode_view(reading):
    return {
        r.fields["code"]: (
            r.line,
            r.fields["topic_name"],
            r.fields["kind"],
            r.fields["stem"],
            r.fields["options"],
            r.fields["key"],
            r.fields["guide"],
        )
        for r in reading.records
    }


def test_mongolian_and_chinese_questions():
    reading = read("unicode.gift")
    assert _unicode_view(reading) == UNICODE_RECORDS
    assert reading.refusals == []
    assert all(r.lost == [] for r in reading.records)


def test_a_byte_order_mark_is_not_part_of_the_text():
    data = b"\xef\xbb\xbf" + (FILES / "unicode.gift").read_bytes()
    assert _unicode_view(read("unicode.gift", data)) == UNICODE_RECORDS


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"])
def test_windows_and_old_mac_line_ends_read_the_same(line_end):
    data = b"\xef\xbb\xbf" + (FILES / "unicode.gift").read_bytes().replace(b"\n", line_end)
    assert _unicode_view(read("unicode.gift", data)) == UNICODE_RECORDS


# --- Broken files (broken.gift) ------------------------------------------------------------------


def test_each_broken_question_is_refused_and_the_rest_is_read():
    assert [(r.line, r.fields["code"]) for r in read("broken.gift").records] == [
        (3, "BRK-1"),
        (22, "BRK-10"),
    ]
    assert refusals("broken.gift") == [
        (
            5,
            "BRK-2",
            "its answers have no closing }: a } is missing, or a blank line is inside the braces",
        ),
        (7, "BRK-3", "a } closes no answers; write \\} for a brace in the text"),
        (
            9,
            "BRK-4",
            "it has more than one set of answers in braces; put a blank line between questions",
        ),
        (12, "BRK-6", "a { is inside its answers; write \\{ for a brace in the text"),
        (14, "broken-6", "its title has no closing ::; write it as ::title:: before the question"),
        (
            16,
            "BRK-8",
            "its answers have no closing }: a } is missing, or a blank line is inside the braces",
        ),
        (19, "broken-8", "a } closes no answers; write \\} for a brace in the text"),
    ]


def test_a_file_that_is_not_utf8_is_unreadable_at_its_line():
    data = "// Хэвлэл\n\n::Q1:: Асуулт?{=Тийм ~Нет}\n".encode("cp1251")
    with pytest.raises(UnreadableFile) as caught:
        read("old.gift", data)
    assert (caught.value.line, caught.value.message) == (
        1,
        "the file is not UTF-8 text; save it as UTF-8",
    )
    data = "// fine\n\n::Q1:: Асуулт?{=Тийм ~Нет}\n".encode("cp1251")
    with pytest.raises(UnreadableFile) as caught:
        read("old.gift", data)
    assert caught.value.line == 3


def test_prose_without_any_gift_is_unreadable():
    with pytest.raises(UnreadableFile) as caught:
        read("notes.txt", b"// minutes\n\nThe committee met on Monday.\n\nNothing was decided.\n")
    assert caught.value.line == 3
    assert "{=right ~wrong}" in caught.value.message


def test_a_file_of_comments_and_blank_lines_holds_nothing():
    reading = read("empty.gift", b"\xef\xbb\xbf// nothing yet\n\n\n// still nothing\n")
    assert (reading.records, reading.refusals) == ([], [])


def test_html_that_cannot_be_read_is_refused():
    found, refused = text("::H1::[html]<p>Is x<y? true</p>{=Yes ~No}\n")
    assert found == []
    assert refused == [(1, "H1", "its HTML cannot be read; write < in a text as &lt;")]


# --- Smaller rules, inline ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("cardiology.gift.txt", "cardiology-1"),
        ("cardiology.txt", "cardiology-1"),
        ("uploads/cardiology.GIFT", "cardiology-1"),
        ("C:\\bank\\my.bank.gift.txt", "my.bank-1"),
        (".txt", "gift-1"),
    ],
)
def test_the_code_of_an_untitled_question_comes_from_the_file_name(name, code):
    reading = read_gift(b"Which?{=a ~b}\n", name, Pictures(Path("/nonexistent")))
    assert reading.records[0].fields["code"] == code


def test_a_long_title_becomes_a_code_with_a_digest():
    found, _ = text("::" + "Cardiology board 2025 paper 2 question " * 3 + "::Which?{=a ~b}\n")
    code = found[0].fields["code"]
    assert len(code) == 40 and code.startswith("Cardiology board 2025 paper 2 q-")


def test_true_false_in_any_case_and_with_feedback_is_refused():
    _, refused = text("A{true}\n\nB{f#no#yes}\n\nC{TRUE####general}\n")
    assert refused == [
        (1, "inline-1", not_a_kind("truefalse")),
        (3, "inline-2", not_a_kind("truefalse")),
        (5, "inline-3", not_a_kind("truefalse")),
    ]


def test_an_answer_without_a_mark_is_accepted_as_moodle_takes_it():
    found, _ = text("The nerve of the little finger is the {ulnar} nerve.\n")
    assert found[0].fields["kind"] == "fill_in"
    assert found[0].fields["stem"] == "The nerve of the little finger is the _____ nerve."
    assert found[0].fields["key"] == ["ulnar"]


def test_a_choice_without_a_right_answer_is_left_for_the_importer_to_refuse():
    found, _ = text("Which?{~a ~b ~c ~d ~e}\n")
    assert (found[0].fields["kind"], found[0].fields["key"]) == ("multiple", [])


def test_partial_credit_in_a_single_answer_question_is_named_lost():
    found, _ = text("Which?{=a ~%50%b ~c ~%-25%d ~e}\n")
    assert (found[0].fields["kind"], found[0].fields["key"]) == ("single", ["A"])
    assert found[0].lost == [WEIGHTS, PENALTY]


def test_empty_feedback_is_not_named_lost():
    found, _ = text("Which?{=a# ~b#[html] ~c}\n\nName it.{=%100%x# =y}\n")
    assert [r.lost for r in found] == [[], []]


def test_comments_inside_a_question_are_left_out():
    found, _ = text("Which?{\n// the right one\n=a\n~b\n}\n")
    assert found[0].fields["options"] == options("a", "b")
    assert found[0].line == 1


def test_a_category_holds_until_the_next_one():
    found, _ = text(
        "$CATEGORY: $course$/top/A\n\nQ1{=a ~b}\n\n$CATEGORY: $module$/top/B/C\n\nQ2{=a ~b}\n"
    )
    assert [(r.line, r.fields["topic_name"]) for r in found] == [(3, "A"), (7, "C")]
