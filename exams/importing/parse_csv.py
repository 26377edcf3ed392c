"""Reading a CSV item file into (line, fields) records in the JSON shape."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _

from ..spreadsheets import delimiter_of, known_column, restored, xlsx_rows
from .format import CSV_COLUMNS, CSV_KEY_SEPARATOR, CSV_OPTION_COLUMNS, REQUIRED_FIELDS
from .problems import ImportRefused, Problem, refused


def csv_records(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Return the rows of a CSV file as item fields, with the physical line where each row starts.

    csv.reader rather than DictReader: DictReader skips blank lines silently, which would make the
    start line of the next row unknowable; here a blank line is its own (empty) row.
    """
    # strict: a stray quote is an error, not a cell silently swallowing the rest of the file.
    # The separator as the spreadsheet saved it: a comma, a semicolon (Excel where the decimal mark
    # is a comma, as in Mongolia) or a tab (Excel's "Unicode text").
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter_of(text))
    rows: list[tuple[int, list[str]]] = []
    while True:
        # reader.line_num is the line where the last row ENDED; a row spanning several lines
        # (a quoted cell with line breaks) starts on the line after the previous row's end.
        start = reader.line_num + 1
        try:
            rows.append((start, next(reader)))
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot find the next row reliably after this: the rows before it are
            # still checked, so that every problem up to here is named.
            malformed = Problem(
                start, _("the CSV is malformed here (%(error)s); check the quotes") % {"error": exc}
            )
            return table_records(rows, neutralised=True, malformed=malformed)
    # The exporter neutralised cells against formula injection (exams.spreadsheets): undone here,
    # so that an exported file imports unchanged. A cell's leading quote is the spreadsheet's
    # "this is text" mark, never part of the text.
    return table_records(rows, neutralised=True)


def workbook_records(data: bytes, name: str) -> list[tuple[int, dict[str, Any]]]:
    """Return the first sheet of an Excel workbook as item fields, with each row's number.

    The workbook's cells are what they say (text is text): nothing to undo, unlike a CSV's.
    """
    try:
        rows = xlsx_rows(data)
    except ValueError as exc:
        raise refused(
            None,
            _("%(name)s is not an Excel workbook that can be read (%(error)s)")
            % {"name": name, "error": exc},
        ) from exc
    return table_records(list(enumerate(rows, start=1)), neutralised=False)


def table_records(
    rows: list[tuple[int, list[str]]], *, neutralised: bool, malformed: Problem | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """Return a table's rows (line or row number, cells) as item fields; the first row names the columns."""
    header: list[str] | None = None
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for start, row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank lines, and the empty rows spreadsheets leave at the end
        if header is None:
            # "Option A", "option-a" and "option_a" alike (exams.spreadsheets.known_column).
            header = [known_column(cell, CSV_COLUMNS) for cell in row]
            while header and not header[-1]:
                header.pop()  # a workbook's empty columns after the last title
            header_problems = _csv_header_problems(header)
            if header_problems:
                raise ImportRefused([Problem(start, message) for message in header_problems])
            continue
        if not neutralised and not any(cell.strip() for cell in row[len(header) :]):
            # A workbook's rows are as wide as its widest: empty cells past the titled columns. (In
            # a CSV an extra cell is a comma out of quotes, and refused below.)
            row = row[: len(header)]
        if len(row) != len(header):
            problems.append(
                Problem(
                    start,
                    _(
                        "this row has %(cells)d cells but the header has %(columns)d; "
                        "a cell holding a comma or a line break must be in double quotes"
                    )
                    % {"cells": len(row), "columns": len(header)},
                    row[0].strip() if row else "",
                )
            )
            continue
        cells = [restored(cell) for cell in row] if neutralised else row
        records.append((start, _csv_fields(dict(zip(header, cells, strict=True)))))
    if malformed is not None:
        problems.append(malformed)
    if problems:
        raise ImportRefused(problems)
    if header is None:
        raise refused(1, _("the file holds no items"))
    return records


def _csv_header_problems(header: list[str]) -> list[str]:
    problems = []
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        problems.append(
            _("unknown columns %(names)s; the columns are: %(known)s")
            % {"names": ", ".join(unknown), "known": ", ".join(CSV_COLUMNS)}
        )
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        problems.append(_("columns given twice: %(names)s") % {"names": ", ".join(twice)})
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    return problems


def _csv_fields(row: dict[str, str]) -> dict[str, Any]:
    """Return a CSV row in the JSON shape, an empty cell counting as an absent field."""
    fields: dict[str, Any] = {
        name: value
        for name, value in row.items()
        if name not in CSV_OPTION_COLUMNS and name != "key" and value.strip()
    }
    options = [
        {"id": letter, "text": row[column]}
        for column, letter in CSV_OPTION_COLUMNS.items()
        if row.get(column, "").strip()
    ]
    if options:
        fields["options"] = options
    if row.get("key", "").strip():
        fields["key"] = [
            part.strip() for part in row["key"].split(CSV_KEY_SEPARATOR) if part.strip()
        ]
    return fields
