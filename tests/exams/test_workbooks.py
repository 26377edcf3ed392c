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
from exams.importing import import_items
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
