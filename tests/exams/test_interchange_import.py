"""Issue 14, points 1–3: files from other systems through the bank's importer (Moodle XML and
GIFT here; QTI in test_interchange_qti.py), and the round trips through Moodle XML and QTI.

surgery-board.xml is written the way Moodle 4 exports a question bank (interchange_files/
SOURCES.md names the files it follows): categories, a multichoice with an embedded picture,
multiple answer with negative fractions, a short answer with wildcards and case, an essay with
the grader's information, and kinds the bank cannot hold.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.base import File
from django.core.management import call_command
from django.core.management.base import CommandError

from exams.exporting import export_items
from exams.importing import ImportRefused, import_items, summary_lines
from exams.interchange.records import LOST
from exams.models import Item, ItemKind, ItemStatus, ItemVersion, Topic
from exams.services.bank import ItemContent, item_create

from ..factories import TopicFactory
from .test_import_export import OPTIONS, media_root, png  # noqa: F401 - fixture

FILES = Path(__file__).parent / "interchange_files"
BOARD = FILES / "moodle" / "surgery-board.xml"
REFUSED = [
    (201, "SURG-M3", "a choice item needs exactly 5 options, this one has 3"),
    (249, "SURG-M4", "a picture in an option; options here are text"),
    (309, "SURG-TF1", "true/false is not an item kind here"),
    (337, "SURG-MA1", "matching is not an item kind here"),
]


@pytest.fixture
def surgery(db):
    return TopicFactory(code="surgery", name="Surgery")


def content(code: str) -> tuple:
    item = Item.objects.select_related("topic", "current_version").get(code=code)
    version = item.current_version
    return item.topic.code, item.kind, version.stem, version.options, version.key, version.guide


def test_the_whole_file_is_refused_item_by_item_and_nothing_is_written(surgery):
    with pytest.raises(ImportRefused) as caught:
        import_items(BOARD)
    assert [(p.line, p.code, p.message) for p in caught.value.problems] == REFUSED
    assert not Item.objects.exists() and list(Topic.objects.values_list("code")) == [("surgery",)]


def test_the_items_that_pass_are_imported_field_by_field(surgery):
    summary = import_items(BOARD, only_passed=True)

    assert (summary.created, summary.revised) == (6, 0)
    assert [(p.line, p.code, p.message) for p in summary.refused] == REFUSED
    # The category "Surgery" is the bank's topic of that name; the others are new topics.
    single = content("SURG-M1")
    assert single == (
        "surgery",
        ItemKind.SINGLE,
        "Which nerve supplies the little finger?",
        [
            {"id": "A", "text": "Median"},
            {"id": "B", "text": "Ulnar"},
            {"id": "C", "text": "Radial"},
            {"id": "D", "text": "Axillary"},
            {"id": "E", "text": "Musculocutaneous"},
        ],
        ["B"],
        "",
    )
    picture = Item.objects.get(code="SURG-M1").current_version.image
    with picture.open("rb") as handle:
        assert handle.read().startswith(b"\x89PNG")
    multiple = content("Bones of the forearm")  # no idnumber: the question's name is its code
    assert multiple[1:3] == (ItemKind.MULTIPLE, "Which of these are bones of the forearm?")
    assert multiple[4] == ["A", "B"]
    assert content("SURG-S1") == (
        "surgery",
        ItemKind.FILL_IN,
        "The nerve injured in a fracture of the medial epicondyle is the ____ nerve.",
        [],
        ["ulnar", "uln*"],  # "ulnar nerve" was worth half: its weight is named lost
        'Ulnar; accept "ulnar nerve".',  # Moodle's general feedback is the marking guide
    )
    assert content("SURG-E1") == (
        "surgery",
        ItemKind.FREE_TEXT,
        "Describe the first hour of care for a patient with an acute abdomen.",
        [],
        [],
        "Airway, breathing, circulation; analgesia; surgical review.\n\nTwo points for each.",
    )
    mongolian = Item.objects.get(code="CARD-MN1")
    assert mongolian.topic.name == "Кардиологи" and mongolian.status == ItemStatus.DRAFT
    assert mongolian.current_version.key == ["B"]
    chinese = content("CARD-ZH1")
    assert chinese[2] == "心房颤动的心电图特征是什么？\n\n选择一项。"
    assert Item.objects.get(code="CARD-ZH1").topic.name == "心脏病学"

    lost = {row.code: row.lost for row in summary.rows}
    assert str(LOST["feedback"]) in lost["SURG-M1"]
    assert lost["Bones of the forearm"] == [str(LOST["weights"]), str(LOST["penalty"])]
    assert lost["SURG-S1"] == [str(LOST["weights"]), str(LOST["wildcards"]), str(LOST["case"])]
    assert lost["SURG-E1"] == []


def test_a_dry_run_shows_every_item_and_writes_nothing(surgery):
    summary = import_items(BOARD, dry_run=True, only_passed=True)

    assert not Item.objects.exists()
    assert [(row.line, row.code, row.outcome) for row in summary.rows][:2] == [
        (14, "SURG-M1", "create"),
        (75, "Bones of the forearm", "create"),
    ]
    lines = summary_lines(summary)
    assert "4 items would be left out:" in lines
    assert "line 309 (item SURG-TF1): true/false is not an item kind here" in lines


def test_the_command_imports_only_the_items_that_passed_when_asked(surgery, capsys):
    with pytest.raises(CommandError, match="line 337 \\(item SURG-MA1\\): matching"):
        call_command("import_items", str(BOARD))
    call_command("import_items", str(BOARD), "--only-passed")
    assert Item.objects.count() == 6
    assert "4 items were left out, as asked:" in capsys.readouterr().out


def test_a_reimport_keeps_what_the_bank_says_about_an_item(surgery):
    import_items(BOARD, only_passed=True)
    Item.objects.filter(code="SURG-M1").update(status=ItemStatus.LIVE, difficulty="hard")

    summary = import_items(BOARD, only_passed=True)

    assert (summary.created, summary.revised, summary.unchanged) == (0, 0, 6)
    item = Item.objects.get(code="SURG-M1")
    assert (item.status, item.difficulty) == (ItemStatus.LIVE, "hard")


@pytest.mark.parametrize(
    "data, problem",
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<quiz><question type='essay'><questiontext><text>&x;</text></questiontext>"
            b"</question></quiz>",
            "line 1: the file declares XML entities of its own, which are never read here",
        ),
        (b"<quiz>\n<question type='essay'>\n</quiz>", "line 3: the file is not well-formed XML"),
        (b"<html><body/></html>", "a QTI"),
    ],
)
def test_a_file_that_is_not_safe_xml_is_refused(surgery, tmp_path, data, problem):
    path = tmp_path / "bank.xml"
    path.write_bytes(data)
    with pytest.raises(ImportRefused) as caught:
        import_items(path)
    assert problem in caught.value.message
    assert not Item.objects.exists()


def test_a_gift_file_from_moodle_is_imported_with_its_categories(surgery):
    summary = import_items(FILES / "gift" / "cardiology.gift.txt", only_passed=True)

    assert summary.created == 4
    assert {(row.code, row.kind, row.topic) for row in summary.rows} == {
        ("CARD-0001", ItemKind.SINGLE, "arrhythmia"),
        ("CARD-0002", ItemKind.MULTIPLE, "arrhythmia"),
        ("CARD-0003", ItemKind.FILL_IN, "arrhythmia"),
        ("CARD-0004", ItemKind.FREE_TEXT, "arrhythmia"),
    }
    assert content("CARD-0003")[4] == ["magnesium", "Mg"]
    assert content("CARD-0002")[4] == ["A", "B", "D"]
    assert Topic.objects.get(code="arrhythmia").name == "Arrhythmia"
    assert [(problem.line, problem.code, problem.message) for problem in summary.refused] == [
        (41, "CARD-0005", "true/false is not an item kind here"),
        (44, "CARD-0006", "numerical is not an item kind here"),
        (50, "CARD-0007", "matching is not an item kind here"),
        (57, "CARD-0008", "description (text without a question) is not an item kind here"),
    ]


def test_a_lone_qti_item_is_checked_by_the_bank_rules(surgery, tmp_path):
    path = tmp_path / "two-options.xml"
    path.write_text(
        '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p2" identifier="Q-2" '
        'title="Two" adaptive="false" timeDependent="false">'
        '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
        "<correctResponse><value>a</value></correctResponse></responseDeclaration>"
        '<itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">'
        "<prompt>Is it?</prompt>"
        '<simpleChoice identifier="a">Yes</simpleChoice>'
        '<simpleChoice identifier="b">No</simpleChoice></choiceInteraction></itemBody>'
        "</assessmentItem>"
    )
    with pytest.raises(ImportRefused) as caught:
        import_items(path, default_topic="surgery")
    assert [(p.code, p.message) for p in caught.value.problems] == [
        ("Q-2", "a choice item needs exactly 5 options, this one has 2")
    ]


# --- Export, and the round trip -------------------------------------------------------------------


@pytest.fixture
def every_kind_bank(surgery, tmp_path):
    """Every kind, texts that trip up XML and spreadsheets, two languages, and a picture."""
    ethics = TopicFactory(code="ethics", name="Ethics / law and 医学伦理")
    tricky = [{"id": letter, "text": text} for letter, text in zip(
        "ABCDE", ["1/2", "007", "=2+3", "a < b & c", "]]> ends CDATA"], strict=True
    )]  # fmt: skip
    picture = png(tmp_path / "source" / "scan.png")
    with picture.open("rb") as handle:
        item_create(
            code="SURG-IMG",
            topic=surgery,
            kind=ItemKind.SINGLE,
            status=ItemStatus.LIVE,
            content=ItemContent(
                stem='Line one, "quoted"\nline two — 二\n\nА paragraph in Монгол.',
                options=tricky,
                key=["E"],
                guide="Look at\nthe scan.",
                image=File(handle, name="scan.png"),
            ),
        )
    kinds = [
        (ItemKind.MULTIPLE, ItemContent(stem="Which are bones?", options=OPTIONS, key=["A", "D"])),
        (
            ItemKind.MULTIPLE,
            ItemContent(stem="Three right", options=OPTIONS, key=["A", "C", "E"], guide="g"),
        ),
        (
            ItemKind.CAUSE_EFFECT,
            ItemContent(stem="Aspirin prevents clotting.", reason="It blocks COX.", key=["A"]),
        ),
        (
            ItemKind.FILL_IN,
            # "*" is Moodle's wildcard: the export escapes it and the import reads it back.
            ItemContent(stem="The ____ nerve.", key=["ulnar", "Ulnar nerve", "2*3"]),
        ),
        (ItemKind.FREE_TEXT, ItemContent(stem="Discuss consent.", guide="Capacity; 知情同意.")),
    ]
    for n, (kind, item_content) in enumerate(kinds, 1):
        item_create(code=f"ETH-{n}", topic=ethics, kind=kind, content=item_content)
    return surgery, ethics


def snapshot() -> dict[str, tuple]:
    """Every item's wording, topic and picture (a foreign format keeps no bookkeeping)."""
    rows = {}
    for item in Item.objects.select_related("topic", "current_version"):
        version = item.current_version
        picture = None
        if version.image:
            with version.image.open("rb") as handle:
                picture = hashlib.sha256(handle.read()).hexdigest()
        rows[item.code] = (
            item.topic.code,
            item.topic.name,
            item.kind,
            version.stem,
            version.reason,
            [(o["id"], o["text"]) for o in version.options],
            version.key,
            version.guide,
            picture,
        )
    return rows


@pytest.mark.parametrize("suffix", [".xml", ".zip"])
def test_export_then_import_changes_nothing(every_kind_bank, tmp_path, suffix):
    path = tmp_path / f"bank{suffix}"
    exported = export_items(path)
    assert (exported.items, exported.images) == (Item.objects.count(), 1)
    versions = ItemVersion.objects.count()

    summary = import_items(path)

    assert (summary.created, summary.revised, summary.refused) == (0, 0, [])
    assert ItemVersion.objects.count() == versions


@pytest.mark.parametrize("suffix", [".xml", ".zip"])
def test_export_into_an_empty_bank_and_back_gives_the_same_items(every_kind_bank, tmp_path, suffix):
    first = tmp_path / f"first{suffix}"
    export_items(first)
    wanted = snapshot()
    Item.objects.update(current_version=None)
    ItemVersion.objects.all().delete()
    Item.objects.all().delete()
    Topic.objects.all().delete()

    summary = import_items(first)
    second = tmp_path / f"second{suffix}"
    export_items(second)

    assert summary.created == len(wanted) and summary.refused == []
    assert snapshot() == wanted
    assert second.read_bytes() == first.read_bytes()
