"""Every CSV the project writes goes through here: cells a spreadsheet would run are neutralised,
and the file starts with a UTF-8 byte-order mark.

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

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

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
