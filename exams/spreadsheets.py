"""Every CSV the project writes goes through here: cells a spreadsheet would run are neutralised,
and the file starts with a UTF-8 byte-order mark. Every CSV it reads is decoded and split here too,
whatever the spreadsheet that saved it (below, "Reading").

Formula injection (OWASP "CSV Injection"): a cell that begins with = + - @, a tab or a carriage
return is read by Excel, LibreOffice and Google Sheets as a formula, so a candidate's name or an
item's stem typed as `=HYPERLINK(...)` would run on the committee's computer. Such a cell is written
with a single quote in front, which the spreadsheet shows as text and does not display.

The quote is added, too, to a cell that already begins with one: then `restored` can take exactly one
quote off any cell and give back what was written (the item export is read back by the importer).
A hand-written item file whose cell begins with a quote therefore loses that quote on import, just
as a spreadsheet treats a typed leading quote as "this is text", not as part of it.

The byte-order mark: without it Excel reads UTF-8 as the local code page, and Mongolian Cyrillic or
Chinese comes out as mojibake.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"  # the spreadsheet's own "this cell is text" prefix
BOM = "\ufeff"


def neutralised(value: Any) -> Any:
    """Return a text cell that no spreadsheet runs as a formula; numbers and other values as they are."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, TEXT_MARK)):
        return TEXT_MARK + value
    return value


def restored(text: str) -> str:
    """Return the text `neutralised` was given: one leading quote taken off (see the module's note)."""
    return text[1:] if text.startswith(TEXT_MARK) else text


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeWriter:
    """A csv.writer whose every text cell is neutralised; the byte-order mark goes first."""

    def __init__(self, out: _Writable, *, bom: bool = True) -> None:
        if bom:
            out.write(BOM)
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralised(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> str:
    """Return the CSV text, byte-order mark first; write it as UTF-8 with newline=""."""
    buffer = io.StringIO(newline="")  # keeps csv's \r\n and the cells' own line breaks as they are
    writer = SafeWriter(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """Return the CSV as UTF-8 bytes, byte-order mark first, for a download."""
    return csv_text(header, rows).encode("utf-8")


# --- Reading ----------------------------------------------------------------------------------
# What spreadsheets save when asked for "CSV" or "text": Excel's "CSV UTF-8" has a byte-order mark,
# its plain "CSV" in a locale with a decimal comma (Mongolian, Russian, German …) separates cells
# with semicolons, and its "Unicode text" is UTF-16 with tabs between the cells.
UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
DELIMITERS = (",", ";", "\t")


def decoded(data: bytes) -> str:
    """Return a saved spreadsheet's text: UTF-16 with its byte-order mark, else UTF-8 (mark or not).

    Raises UnicodeDecodeError for anything else (an old code page): guessing one would put wrong
    letters into candidates' names without a word.
    """
    if data.startswith(UTF16_MARKS):
        return data.decode("utf-16")  # the mark says which byte order; it is not part of the text
    return data.decode("utf-8-sig")


def delimiter_of(text: str) -> str:
    """Return the cell separator of a CSV: the one of , ; or tab its first line has most of."""
    first_line = text.split("\n", 1)[0]
    counts = {candidate: first_line.count(candidate) for candidate in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def column_key(header_cell: str) -> str:
    """Return a header cell as the file's columns are matched: "E-mail", "e_mail" and "Email" alike."""
    return "".join(ch for ch in header_cell.strip().lower() if ch.isalnum())


def known_column(
    header_cell: str, columns: Iterable[str], aliases: dict[str, str] | None = None
) -> str:
    """Return the column of `columns` the header cell names, however it is spelled; else the cell
    in the plain form (lower case, "_" for spaces and hyphens), for the refusal to name."""
    key = column_key(header_cell)
    for column in columns:
        if column_key(column) == key:
            return column
    if aliases and key in aliases:
        return aliases[key]
    return "_".join(header_cell.strip().lower().replace("-", " ").split())


# --- Excel's own format (.xlsx) ------------------------------------------------------------------
# A CSV opened in a spreadsheet is guessed at: "1/2" becomes a date, "007" the number 7, "=2+3" a
# formula, and saved again it is not what was exported. In an .xlsx each cell says what it is: text
# is written as text (with the text format "@", so that editing it keeps it text), numbers as numbers.
TEXT_FORMAT = "@"


def xlsx_bytes(header: Sequence[Any], rows: Iterable[Iterable[Any]], *, title: str = "Sheet1") -> bytes:
    """Return a workbook of one sheet: the header in bold, every text cell stored as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # Excel's limit on a sheet's name
    for row_number, row in enumerate([header, *rows], start=1):
        for column_number, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            if isinstance(value, str):
                # Assigned as text: openpyxl would take "=2+3" for a formula.
                cell.value = value
                cell.data_type = "s"
                cell.number_format = TEXT_FORMAT
            else:
                cell.value = value
            if row_number == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_rows(data: bytes) -> list[list[str]]:
    """Return the first sheet's rows as text: what a CSV of it would hold, row by row.

    Numbers come back as the spreadsheet shows them (7, not 7.0); a date as its ISO date. Raises
    ValueError for a file that is no workbook.
    """
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValueError(str(exc)) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)
