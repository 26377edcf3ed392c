"""QTI 2.1/2.2 items, IMS content packages and the bank's QTI export (exams.interchange).

The fixtures under interchange_files/qti/ follow the structure of files that TAO and qti-sdk write
(see SOURCES.md there); the packages are kept as folders and zipped here. These are pure
functions: no database.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from exams.interchange.ims_package import read_package
from exams.interchange.qti_read import decoded_identifier, qti_identifier, read_qti_item
from exams.interchange.qti_write import qti_package
from exams.interchange.records import LOST, Outgoing, Pictures, UnreadableFile, not_a_kind
from exams.interchange.safe_xml import local_name, parsed_xml

FILES = Path(__file__).parent / "interchange_files" / "qti"
LONE = FILES / "lone"
QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CAUSE_EFFECT = [
    "Both statements are true and the reason explains the assertion",
    "Both statements are true but the reason does not explain the assertion",
    "The assertion is true, the reason is false",
    "The assertion is false, the reason is true",
    "Both statements are false",
]


@pytest.fixture
def pictures(tmp_path) -> Pictures:
    return Pictures(tmp_path / "pictures")


def zipped(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def folder_members(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def read_lone(name: str, pictures: Pictures):
    def beside(path: str) -> bytes | None:
        wanted = LONE / path
        return wanted.read_bytes() if wanted.is_file() else None

    return read_qti_item((LONE / name).read_bytes(), "", beside, pictures)


def item_xml(body: str, declarations: str = "", identifier: str = "X-1") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<assessmentItem xmlns="{QTI21}" identifier="{identifier}" title="T" adaptive="false"'
        ' timeDependent="false">\n'
        f"{declarations}<itemBody>{body}</itemBody>\n</assessmentItem>\n"
    ).encode()


def five_choices(first: str = "Adrenaline") -> str:
    texts = [first, "Atropine", "Amiodarone", "Adenosine", "Aminophylline"]
    choices = "".join(
        f'<simpleChoice identifier="c{n}">{text}</simpleChoice>' for n, text in enumerate(texts)
    )
    return (
        '<choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">'
        f"<prompt>Which drug first in anaphylaxis?</prompt>{choices}</choiceInteraction>"
    )


CORRECT_C0 = (
    '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
    "<correctResponse><value>c0</value></correctResponse></responseDeclaration>\n"
)


def png(color=(10, 20, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), color).save(buffer, format="PNG")
    return buffer.getvalue()


def manifest(*resources: tuple[str, str, str]) -> bytes:
    listed = "".join(
        f'<resource identifier="{identifier}" type="{kind}" href="{href}">'
        f'<file href="{href}"/></resource>'
        for identifier, kind, href in resources
    )
    return (
        '<?xml version="1.0"?><manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"'
        f' identifier="M"><organizations/><resources>{listed}</resources></manifest>'
    ).encode()


# A TAO test export (QTI 2.2) ------------------------------------------------------------------


@pytest.fixture
def tao_test(pictures):
    return read_package(
        zipped(folder_members(FILES / "tao_test_v2p2")), "tao_test_v2p2.zip", pictures
    )


def test_tao_single_choice_with_picture_and_section(tao_test, pictures):
    record = tao_test.records[0]
    assert record.line == 2
    assert record.source == "items/i1710000000000001/qti.xml"
    assert record.fields == {
        "code": "i1710000000000001",
        "topic": "assessmentSection-1",
        "topic_name": "Cardiology",
        "kind": "single",
        # TAO's source line break inside a paragraph is a space, as a browser shows it.
        "stem": "A 72-year-old man has palpitations for two days. His pulse is irregularly"
        " irregular at 130/min.\n\nWhat does the rhythm strip show?",
        "options": [
            {"id": "A", "text": "Sinus tachycardia"},
            {"id": "B", "text": "Atrial flutter with 2:1 block"},
            {"id": "C", "text": "Atrial fibrillation"},
            {"id": "D", "text": "Ventricular tachycardia"},
            {"id": "E", "text": "Multifocal atrial tachycardia"},
        ],
        "key": ["C"],
        "image": "ecg-lead-ii.png",
    }
    # shuffle="true" is not named: the exam shuffles by its own rules.
    assert record.lost == [str(LOST["feedback"])]
    stored = pictures.folder / "ecg-lead-ii.png"
    source = FILES / "tao_test_v2p2/items/i1710000000000001/assets/ecg-lead-ii.png"
    assert stored.read_bytes() == source.read_bytes()


def test_tao_multiple_choice_with_partial_credit_and_penalty(tao_test):
    record = tao_test.records[1]
    assert record.fields["kind"] == "multiple"
    assert record.fields["topic"] == "assessmentSection-1"
    assert record.fields["stem"] == (
        "Which drugs reduce mortality in heart failure with reduced ejection fraction?"
    )
    assert [option["id"] for option in record.fields["options"]] == list("ABCDE")
    assert record.fields["options"][3] == {"id": "D", "text": "Spironolactone"}
    assert record.fields["key"] == ["A", "D"]
    assert "guide" not in record.fields and "image" not in record.fields
    assert set(record.lost) == {str(LOST["penalty"]), str(LOST["weights"])}


def test_tao_text_entry_takes_every_mapped_answer(tao_test):
    record = tao_test.records[2]
    assert record.fields == {
        "code": "i1710000000000003",
        "topic": "assessmentSection-2",
        "topic_name": "Clinical pharmacology",
        "kind": "fill_in",
        "stem": "After a staggered paracetamol overdose, the antidote given by infusion is _____.",
        # methionine is mapped to 0: not an accepted answer.
        "key": ["acetylcysteine", "N-acetylcysteine", "NAC"],
    }
    assert record.lost == []


def test_tao_extended_text_takes_the_scorer_rubric_as_guide(tao_test):
    record = tao_test.records[3]
    assert record.fields["kind"] == "free_text"
    assert record.fields["stem"] == (
        "A woman starts warfarin for a deep vein thrombosis.\n\n"
        "List four points you would cover when counselling her."
    )
    assert record.fields["guide"].startswith("One mark each:\n\n• INR monitoring")
    assert "Interactions (antibiotics, alcohol)" in record.fields["guide"]
    assert "key" not in record.fields and "options" not in record.fields


def test_tao_item_outside_every_section_keeps_no_topic(tao_test):
    record = tao_test.records[4]
    assert record.fields["code"] == "i1710000000000007"
    assert (record.fields["topic"], record.fields["topic_name"]) == ("", "")
    assert (
        record.fields["stem"]
        == "Serum K⁺ is 7.1 mmol/L with peaked T waves.\n\nWhat is given first?"
    )
    assert record.fields["key"] == ["B"]
    assert len(tao_test.records) == 5


def test_tao_refusals_name_the_item_its_file_and_line(tao_test):
    refusals = [(r.code, r.reason, r.source, r.line) for r in tao_test.refusals]
    assert refusals == [
        (
            "i1710000000000005",
            not_a_kind("matching"),
            "items/i1710000000000005/qti.xml",
            2,
        ),
        (
            "i1710000000000006",
            "a picture in an option; options here are text",
            "items/i1710000000000006/qti.xml",
            2,
        ),
        (
            "i1710000000000008",
            "the item file items/i1710000000000008/qti.xml is not in the package",
            "items/i1710000000000008/qti.xml",
            None,
        ),
        (
            "legacy-quiz-12",
            "this is a QTI 1.2 file, which is not read here; export the items as QTI 2.1",
            "legacy/quiz12.xml",
            None,
        ),
    ]


# A TAO item export (QTI 2.1) ------------------------------------------------------------------


def test_tao_item_package_v2p1_rubrics(pictures):
    reading = read_package(
        zipped(folder_members(FILES / "tao_items_v2p1")), "tao_items_v2p1.zip", pictures
    )
    assert reading.refusals == []
    [record] = reading.records
    assert record.source == "i1462000000000001/qti.xml"
    assert record.fields["code"] == "CHEST-0042"
    # The candidate's rubric is read with the question; the tutor's is the committee's guide.
    assert record.fields["stem"] == (
        "Look at the film before you read the options.\n\n"
        "A tall 19-year-old has sudden pleuritic chest pain.\n\nWhat is the diagnosis?"
    )
    assert record.fields["guide"] == "The visceral pleural line with no lung markings beyond it."
    assert record.fields["key"] == ["D"]
    assert record.fields["image"] == "chest-xray.png"
    assert (pictures.folder / "chest-xray.png").read_bytes() == (
        FILES / "tao_items_v2p1/i1462000000000001/images/chest-xray.png"
    ).read_bytes()


def test_package_zipped_from_its_folder(pictures):
    members = {
        f"export/{name}": data for name, data in folder_members(FILES / "tao_items_v2p1").items()
    }
    reading = read_package(zipped(members), "export.zip", pictures)
    assert [record.fields["code"] for record in reading.records] == ["CHEST-0042"]
    assert reading.records[0].source == "export/i1462000000000001/qti.xml"


# Lone item files ------------------------------------------------------------------------------


def test_lone_choice_v2p2(pictures):
    reading = read_lone("choice_v2p2.xml", pictures)
    assert reading.refusals == []
    [record] = reading.records
    assert record.line == 5
    assert record.source == ""
    assert record.fields == {
        "code": "NEPH 17",
        "topic": "",
        "topic_name": "",
        "kind": "single",
        "stem": "A 4-year-old boy has periorbital oedema and 4+ proteinuria.\n"
        "His blood pressure and complement levels are normal.\n\n"
        "Which is the most likely cause?",
        "options": [
            {"id": "A", "text": "Minimal change disease"},
            {"id": "B", "text": "Focal segmental glomerulosclerosis"},
            {"id": "C", "text": "Membranous nephropathy"},
            {"id": "D", "text": "Post-streptococcal glomerulonephritis"},
            {"id": "E", "text": "IgA nephropathy"},
        ],
        "key": ["A"],
    }
    # The inline feedback inside option A is neither in the option nor in the stem.
    assert record.lost == [str(LOST["feedback"])]


def test_lone_text_entry_v2p1(pictures):
    [record] = read_lone("text_entry_v2p1.xml", pictures).records
    assert record.fields["kind"] == "fill_in"
    assert record.fields["code"] == "ANAT-0108"
    assert record.fields["stem"] == (
        "Complete the sentence from the hand clinic letter.\n\n"
        "Tingling of the thumb, index and middle fingers at night\n"
        "points to compression of the _____ nerve in the carpal tunnel."
    )
    assert record.fields["key"] == ["Median"]  # "median nerve" is worth half: named lost
    assert set(record.lost) == {str(LOST["case"]), str(LOST["weights"])}


def test_lone_extended_text_with_picture_and_video(pictures):
    [record] = read_lone("extended_text_v2p1.xml", pictures).records
    assert record.fields == {
        "code": "SURG-ESSAY-3",
        "topic": "",
        "topic_name": "",
        "kind": "free_text",
        "stem": "Day 5 after a laparotomy the wound looks like this.\n\n"
        "Describe your assessment and management.",
        "guide": "Signs of infection: erythema, discharge, fever.\n\n"
        "Open the wound, send a swab, antibiotics if cellulitis.",
        "image": "wound.png",
    }
    assert record.lost == ["sound, video or other embedded media"]
    assert (pictures.folder / "wound.png").read_bytes() == (LONE / "wound.png").read_bytes()


def test_lone_cause_effect_convention(pictures):
    [record] = read_lone("cause_effect_v2p1.xml", pictures).records
    assert record.fields == {
        "code": "PHARM-0007",
        "topic": "",
        "topic_name": "",
        "kind": "cause_effect",
        "stem": "Aspirin prevents platelet aggregation.",
        "reason": "Aspirin irreversibly inhibits cyclo-oxygenase.",
        "key": ["A"],
    }
    assert record.lost == []


@pytest.mark.parametrize(
    ("name", "version", "line"),
    # libxml2 gives an element the line where its start tag ends (the QTI 3.0 one spans four).
    [("qti3_item.xml", "QTI 3.0", 5), ("qti12_item.xml", "QTI 1.2", 2)],
)
def test_other_qti_versions_are_refused_by_name(name, version, line, pictures):
    with pytest.raises(UnreadableFile) as caught:
        read_lone(name, pictures)
    assert version in caught.value.message
    assert "export the items as QTI 2.1" in caught.value.message
    assert caught.value.line == line


def test_entity_declarations_are_refused(pictures):
    with pytest.raises(UnreadableFile) as caught:
        read_lone("entities_item.xml", pictures)
    assert "entities" in caught.value.message


def test_a_test_file_alone_is_refused(pictures):
    data = (FILES / "tao_test_v2p2/tests/i1710000000000099/test.xml").read_bytes()
    with pytest.raises(UnreadableFile) as caught:
        read_qti_item(data, "", lambda _path: None, pictures)
    assert "content package" in caught.value.message


# Interactions the bank has no kind for --------------------------------------------------------


@pytest.mark.parametrize(
    ("interaction", "kind"),
    [
        ("orderInteraction", "ordering"),
        ("matchInteraction", "matching"),
        ("associateInteraction", "matching"),
        ("gapMatchInteraction", "drag_and_drop"),
        ("graphicGapMatchInteraction", "drag_and_drop"),
        ("hotspotInteraction", "hotspot"),
        ("selectPointInteraction", "hotspot"),
        ("graphicOrderInteraction", "hotspot"),
        ("graphicAssociateInteraction", "hotspot"),
        ("inlineChoiceInteraction", "inline_choice"),
        ("hottextInteraction", "hottext"),
        ("uploadInteraction", "upload"),
        ("drawingInteraction", "drawing"),
        ("sliderInteraction", "slider"),
        ("mediaInteraction", "media"),
    ],
)
def test_foreign_interactions_are_refused_by_name(interaction, kind, pictures):
    body = f'<p>Question <{interaction} responseIdentifier="RESPONSE"/></p>'
    reading = read_qti_item(item_xml(body), "items/x.xml", lambda _path: None, pictures)
    assert reading.records == []
    [refusal] = reading.refusals
    assert (refusal.code, refusal.reason, refusal.source, refusal.line) == (
        "X-1",
        not_a_kind(kind),
        "items/x.xml",
        2,
    )


def test_a_portable_custom_interaction_is_named(pictures):
    body = (
        '<customInteraction responseIdentifier="RESPONSE"><portableCustomInteraction'
        ' customInteractionTypeIdentifier="likertScaleInteraction" hook="likert.js"/>'
        "</customInteraction>"
    )
    [refusal] = read_qti_item(item_xml(body), "", lambda _path: None, pictures).refusals
    assert refusal.reason == "custom interaction “likertScaleInteraction” is not an item kind here"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("<p>Read the case notes before the next items.</p>", "description"),
        (
            five_choices() + '<extendedTextInteraction responseIdentifier="R2"/>',
            "composite",
        ),
        (
            '<p><textEntryInteraction responseIdentifier="A"/> and'
            ' <textEntryInteraction responseIdentifier="B"/></p>',
            "cloze",
        ),
    ],
)
def test_no_interaction_or_several(body, kind, pictures):
    [refusal] = read_qti_item(item_xml(body), "", lambda _path: None, pictures).refusals
    assert refusal.reason == not_a_kind(kind)


def test_the_number_of_options_and_keys_is_left_to_the_bank(pictures):
    # The importer refuses it with the bank's own words, for every format alike
    # (test_interchange_import.py); the reader keeps what the file says.
    body = (
        "<p>Is it?</p>"
        '<choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">'
        '<simpleChoice identifier="a">Yes</simpleChoice>'
        '<simpleChoice identifier="b">No</simpleChoice></choiceInteraction>'
    )
    [two] = read_qti_item(item_xml(body), "", lambda _path: None, pictures).records
    assert two.fields["options"] == [{"id": "A", "text": "Yes"}, {"id": "B", "text": "No"}]
    assert two.fields["key"] == []


# Pictures -------------------------------------------------------------------------------------


def test_two_pictures_are_refused(pictures):
    body = '<p><img src="a.png" alt=""/><img src="b.png" alt=""/></p>' + five_choices()
    reading = read_qti_item(item_xml(body, CORRECT_C0), "", lambda _path: png(), pictures)
    assert reading.refusals[0].reason == "2 pictures; an item here shows one"
    assert not pictures.folder.exists()


def test_a_missing_picture_is_named(pictures):
    body = '<p><img src="images/lost.png" alt=""/></p>' + five_choices()
    reading = read_qti_item(
        item_xml(body, CORRECT_C0), "items/q1/qti.xml", lambda _path: None, pictures
    )
    assert reading.refusals[0].reason == "the picture images/lost.png is not in the package"
    assert reading.refusals[0].source == "items/q1/qti.xml"


def test_a_picture_path_is_resolved_beside_the_item_and_kept_inside(pictures):
    asked = []

    def open_file(path):
        asked.append(path)
        return png()

    body = '<p><img src="../shared/ecg%20strip.png" alt=""/></p>' + five_choices()
    [record] = read_qti_item(
        item_xml(body, CORRECT_C0), "items/q1/qti.xml", open_file, pictures
    ).records
    assert asked == ["items/shared/ecg strip.png"]
    assert record.fields["image"] == "ecg_strip.png"

    outside = '<p><img src="../../../etc/passwd.png" alt=""/></p>' + five_choices()
    reading = read_qti_item(item_xml(outside, CORRECT_C0), "items/q1/qti.xml", open_file, pictures)
    assert reading.refusals[0].reason == (
        "the picture ../../../etc/passwd.png lies outside the package"
    )
    assert asked == ["items/shared/ecg strip.png"]


# Safety of the zip ----------------------------------------------------------------------------


def item_package(extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    members = {
        "imsmanifest.xml": manifest(("q1", "imsqti_item_xmlv2p1", "items/q1.xml")),
        "items/q1.xml": item_xml(five_choices(), CORRECT_C0, "q1"),
    }
    members.update(extra or {})
    return members


def test_a_safe_package_is_read(pictures):
    reading = read_package(zipped(item_package()), "bank.zip", pictures)
    assert [record.fields["code"] for record in reading.records] == ["q1"]


@pytest.mark.parametrize(
    "name", ["../evil.xml", "items/../../evil.xml", "/etc/evil.xml", "C:/evil.xml", "..\\evil.xml"]
)
def test_members_escaping_the_package_are_refused(name, pictures):
    data = zipped(item_package({name: b"<x/>"}))
    with pytest.raises(UnreadableFile) as caught:
        read_package(data, "bank.zip", pictures)
    assert name in caught.value.message
    assert not pictures.folder.exists()


def test_a_symbolic_link_is_refused(pictures):
    buffer = io.BytesIO(zipped(item_package()))
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("items/passwd.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UnreadableFile) as caught:
        read_package(buffer.getvalue(), "bank.zip", pictures)
    assert "link" in caught.value.message


def test_a_zip_bomb_by_ratio_is_refused(pictures):
    data = zipped(item_package({"items/padding.xml": b"\0" * 2_000_000}))
    with pytest.raises(UnreadableFile) as caught:
        read_package(data, "bank.zip", pictures)
    assert "zip bomb" in caught.value.message


def test_a_zip_over_the_limit_in_total_is_refused(settings, pictures):
    settings.ITEM_IMPORT_MAX_BYTES = 5_000
    noise = bytes(range(256)) * 16  # 4 KB that does not compress
    data = zipped(item_package({"a.bin": noise, "b.bin": noise}), zipfile.ZIP_STORED)
    with pytest.raises(UnreadableFile) as caught:
        read_package(data, "bank.zip", pictures)
    assert "more than" in caught.value.message


def test_a_zip_that_lies_about_its_sizes_is_refused(pictures):
    data = bytearray(zipped(item_package({"imsmanifest.xml": b" " * 3000 + manifest()})))
    # Declare 10 bytes for the manifest in the central directory and in its local header.
    name = b"imsmanifest.xml"
    for signature, size_at, name_at in ((b"PK\x01\x02", 24, 46), (b"PK\x03\x04", 22, 30)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                data[start + size_at : start + size_at + 4] = (10).to_bytes(4, "little")
            start += 4
    with pytest.raises(UnreadableFile) as caught:
        read_package(bytes(data), "bank.zip", pictures)
    # zipfile stops at the declared size and the checksum fails; the reader counts bytes too.
    assert caught.value.message.startswith("imsmanifest.xml in the zip cannot be read")


def test_too_many_members_are_refused(pictures):
    members = item_package({f"filler/{n}.txt": b"" for n in range(10_001)})
    with pytest.raises(UnreadableFile) as caught:
        read_package(zipped(members, zipfile.ZIP_STORED), "bank.zip", pictures)
    assert "at most 10000" in caught.value.message


def test_not_a_zip_and_no_manifest(pictures):
    with pytest.raises(UnreadableFile) as caught:
        read_package(b"PK but not really", "bank.zip", pictures)
    assert "bank.zip is not a zip file" in caught.value.message
    with pytest.raises(UnreadableFile) as caught:
        read_package(zipped({"items/q1.xml": b"<x/>"}), "bank.zip", pictures)
    assert "imsmanifest.xml" in caught.value.message


def test_item_problems_in_a_package_are_refusals_of_that_item(pictures):
    entities = (LONE / "entities_item.xml").read_bytes()
    members = {
        "imsmanifest.xml": manifest(
            ("q1", "imsqti_item_xmlv2p1", "items/q1.xml"),
            ("evil", "imsqti_item_xmlv2p1", "items/evil.xml"),
            ("q3", "imsqti_item_xmlv3p0", "items/q3.xml"),
            ("q4", "imsqti_item_xmlv2p2", "items/q4.xml"),
        ),
        "items/q1.xml": item_xml(five_choices(), CORRECT_C0, "q1"),
        "items/evil.xml": entities,
        "items/q4.xml": (LONE / "qti3_item.xml").read_bytes(),
    }
    reading = read_package(zipped(members), "bank.zip", pictures)
    assert [record.fields["code"] for record in reading.records] == ["q1"]
    refusals = {r.code: (r.reason, r.source, r.line) for r in reading.refusals}
    assert refusals["evil"] == (
        "the file declares XML entities of its own, which are never read here",
        "items/evil.xml",
        1,
    )
    assert "QTI 3.0" in refusals["q3"][0]
    assert refusals["q4"][0].startswith("this is a QTI 3.0 item") and refusals["q4"][2] == 5


# The bank's export and the round trip ---------------------------------------------------------

OPTIONS = [
    {"id": "A", "text": "1/2"},
    {"id": "B", "text": "007"},
    {"id": "C", "text": "=2+3"},
    {"id": "D", "text": "x < 5 & y > 2"},
    {"id": "E", "text": "Цусны даралт ихсэх"},
]


def bank_items() -> list[Outgoing]:
    common = {"status": "live", "difficulty": "medium", "is_sample": False}
    return [
        Outgoing(
            {
                **common,
                "code": "007",
                "topic": "cardio",
                "topic_name": "Зүрх судас 心血管",
                "kind": "single",
                "stem": "Өвчтөн 65 настай.\nДаралт 180/110 < & >\n\n心电图显示什么？",
                "options": OPTIONS,
                "key": ["E"],
                "guide": "Гипертензийн хямрал.\nSee NICE 2023.",
            },
            picture=("ecg.png", png((200, 0, 0))),
        ),
        Outgoing(
            {
                **common,
                "code": "1/2",
                "topic": "cardio",
                "topic_name": "Зүрх судас 心血管",
                "kind": "multiple",
                "stem": "=2+3 and 1/2: which are written as text?",
                "options": OPTIONS,
                "key": ["A", "C"],
            }
        ),
        Outgoing(
            {
                **common,
                "code": "ХИР-001",
                "topic": "pharm",
                "topic_name": "Pharmacology",
                "kind": "cause_effect",
                "stem": "Аспирин тромбоцитын наалдалтыг сааруулна.",
                "reason": "Because it inhibits COX-1 < irreversibly & for life.",
                "key": ["A"],
            }
        ),
        Outgoing(
            {
                **common,
                "code": "FILL-1",
                "topic": "pharm",
                "topic_name": "Pharmacology",
                "kind": "fill_in",
                "stem": "The ____ nerve supplies the little finger.\nName it.",
                "key": ["ulnar", "Ulnar nerve", "尺神经"],
            },
            picture=("hand.png", png((0, 200, 0))),
        ),
        Outgoing(
            {
                **common,
                "code": "FILL-2",
                "topic": "pharm",
                "topic_name": "Pharmacology",
                "kind": "fill_in",
                "stem": "Give the antidote for paracetamol.",
                "key": ["acetylcysteine"],
                "guide": "Any spelling of N-acetylcysteine.",
            }
        ),
        Outgoing(
            {
                **common,
                "code": "ESSAY 7",
                "topic": "surgery",
                "topic_name": "Surgery",
                "kind": "free_text",
                "stem": "Describe the first hour of managing a major burn.\n\nBe brief.",
                "guide": "Airway, breathing, circulation;\nParkland formula & analgesia.",
            }
        ),
    ]


ROUND_TRIP_FIELDS = ("code", "topic", "topic_name", "kind", "stem", "reason", "options", "key")


def test_round_trip_gives_the_same_fields(pictures):
    items = bank_items()
    reading = read_package(qti_package(items), "bank.zip", pictures)
    assert reading.refusals == []
    read = {record.fields["code"]: record for record in reading.records}
    assert sorted(read) == sorted(item.fields["code"] for item in items)
    for item in items:
        record = read[item.fields["code"]]
        for name in (*ROUND_TRIP_FIELDS, "guide"):
            assert record.fields.get(name) == item.fields.get(name), (item.fields["code"], name)
        assert record.lost == []
        if item.picture is None:
            assert "image" not in record.fields
        else:
            assert (pictures.folder / record.fields["image"]).read_bytes() == item.picture[1]


def test_export_is_deterministic():
    items = bank_items()
    assert qti_package(items) == qti_package(list(reversed(items)))


def test_export_is_a_qti_21_content_package():
    archive = zipfile.ZipFile(io.BytesIO(qti_package(bank_items())))
    names = archive.namelist()
    assert names[0] == "imsmanifest.xml" and "tests/bank.xml" in names
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    root = parsed_xml(archive.read("imsmanifest.xml"))
    resources = [node for node in root.iter() if local_name(node) == "resource"]
    kinds = [resource.get("type") for resource in resources]
    assert kinds == ["imsqti_item_xmlv2p1"] * 6 + ["imsqti_test_xmlv2p1"]
    for resource in resources:
        for file in (node for node in resource if local_name(node) == "file"):
            assert file.get("href") in names
    ncname = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
    for name in names:
        if name.startswith("items/") and name.endswith(".xml"):
            item = parsed_xml(archive.read(name))
            assert item.tag == f"{{{QTI21}}}assessmentItem"
            assert ncname.fullmatch(item.get("identifier"))
            assert [local_name(node) for node in item] in (
                [
                    "responseDeclaration",
                    "outcomeDeclaration",
                    "itemBody",
                    "responseProcessing",
                ],
                ["responseDeclaration", "outcomeDeclaration", "itemBody"],
            )
    test = parsed_xml(archive.read("tests/bank.xml"))
    sections = [node for node in test.iter() if local_name(node) == "assessmentSection"]
    assert [(s.get("identifier"), s.get("title")) for s in sections] == [
        ("cardio", "Зүрх судас 心血管"),
        ("pharm", "Pharmacology"),
        ("surgery", "Surgery"),
    ]


def test_export_writes_the_conventions_other_tools_read():
    archive = zipfile.ZipFile(io.BytesIO(qti_package(bank_items())))
    single = archive.read("items/_x0030_07.xml").decode()
    assert 'identifier="_x0030_07" title="007"' in single
    assert "<p>Өвчтөн 65 настай.<br/>Даралт 180/110 &lt; &amp; &gt;</p>" in single
    assert '<img src="images/_x0030_07.png" alt=""/>' in single
    assert '<rubricBlock view="scorer">' in single
    cause = archive.read("items/_x0425__x0418__x0420_-001.xml").decode()
    assert '<div class="reason">' in cause
    for text in CAUSE_EFFECT:
        assert f">{text}</simpleChoice>" in cause
    fill = archive.read("items/FILL-1.xml").decode()
    assert (
        'The <textEntryInteraction responseIdentifier="RESPONSE" placeholderText="____"/>' in fill
    )
    assert fill.count('mappedValue="1" caseSensitive="false"') == 3
    assert "rptemplates/map_response" in fill


@pytest.mark.parametrize(
    "code",
    ["SURG-0042", "007", "1/2", "=2+3", "ХИР-001", "心-1", "A_x0041_B", "a b", "-x", "😀", "_"],
)
def test_identifiers_are_ascii_names_that_decode_to_the_code(code):
    identifier = qti_identifier(code)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", identifier)
    assert decoded_identifier(identifier) == code
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", code) and "_x" not in code:
        assert identifier == code
