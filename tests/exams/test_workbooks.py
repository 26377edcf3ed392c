"""Issue 14, point 5 (workbooks): the bank in and out as Excel workbooks, text kept as text.

A bank exported as CSV and opened in a spreadsheet came back with `1/2` turned into a date and
`007` into 7, and a re-import then revised those items without a word. In a workbook each cell
says what it is: here every cell is text, so what is read back is what was written.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from exams.exporting import export_items
from exams.importing import import_items, summary_lines
from exams.models import Item, ItemKind, ItemStatus
from exams.services.bank import ItemContent, item_create

from .test_import_export import GOOD_CSV, surgery  # noqa: F401 - fixture
from .test_spreadsheet_reading import bank

TRICKY = {"1/2", "007", "=2+3", "-5", "+7", "2026-12-08", "1/2|1e5"}


@pytest.fixture
def tricky_bank(surgery):  # noqa: F811
    options = [
        {"id": letter, "text": text}
        for letter, text in zip("ABCDE", ["1/2", "007", "=2+3", "-5", "+7"], strict=True)
    ]
    item_create(
        code="007",
        topic=surgery,
        kind=ItemKind.SINGLE,
        status=ItemStatus.LIVE,
        content=ItemContent(stem="=2+3", options=options, key=["B"]),
    )
    item_create(
        code="2026-12-08",
        topic=surgery,
        kind=ItemKind.FILL_IN,
        status=ItemStatus.LIVE,
        content=ItemContent(stem="How much is half, as a fraction?", key=["1/2", "1e5"]),
    )
    return bank()


def test_a_workbook_keeps_every_value_as_written_and_imports_back_unchanged(tricky_bank, tmp_path):
    path = tmp_path / "bank.xlsx"
    summary = export_items(path)
    assert summary.items == 2
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    cells = [
        cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value not in (None, "")
    ]
    tricky_cells = [cell for cell in cells if cell.value in TRICKY]
    assert {cell.value for cell in tricky_cells} == TRICKY
    assert all(cell.data_type == "s" and cell.number_format == "@" for cell in tricky_cells)

    again = import_items(path)
    assert (again.created, again.revised, again.unchanged) == (0, 0, 2)
    assert bank() == tricky_bank


def test_a_workbook_gives_the_items_the_csv_gives(surgery, tmp_path):  # noqa: F811
    csv_path = tmp_path / "bank.csv"
    csv_path.write_text(GOOD_CSV, encoding="utf-8")
    import_items(csv_path)
    from_csv = bank()
    workbook = tmp_path / "bank.xlsx"
    export_items(workbook)
    Item.objects.update(status=ItemStatus.RETIRED)  # the import must bring the statuses back
    summary = import_items(workbook)
    assert summary.created == 0 and bank() == from_csv


def test_a_re_import_that_would_revise_items_says_which_and_why_first(surgery, tmp_path):  # noqa: F811
    options = [
        {"id": letter, "text": text}
        for letter, text in zip("ABCDE", ["1/2", "1/3", "1/4", "2/3", "3/4"], strict=True)
    ]
    item_create(
        code="FRAC-1",
        topic=surgery,
        kind=ItemKind.SINGLE,
        status=ItemStatus.LIVE,
        content=ItemContent(stem="Which is half?", options=options, key=["A"]),
    )
    item_create(
        code="DOSE-1",
        topic=surgery,
        kind=ItemKind.FILL_IN,
        status=ItemStatus.DRAFT,
        content=ItemContent(stem="The code of the ward?", key=["007"]),
    )
    path = tmp_path / "bank.csv"
    export_items(path)
    # What a spreadsheet does to it, opened and saved again: a date, a number, and a status edited.
    mangled = (
        path.read_text(encoding="utf-8-sig").replace(",1/2,", ",02-Jan,").replace(",007,", ",7,")
    )
    mangled = mangled.replace(",fill_in,draft,", ",fill_in,live,")
    path.write_text(mangled, encoding="utf-8")

    lines = summary_lines(import_items(path, dry_run=True))
    assert lines[0].startswith("Dry run, nothing was written: 0 items would be created, 2 revised")
    assert "Would revise DOSE-1 (line 2): key; status: draft → live" in lines
    assert "Would revise FRAC-1 (line 3): options" in lines
    assert Item.objects.get(code="DOSE-1").current_version.key == ["007"]  # nothing written
