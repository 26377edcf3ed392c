"""Issue 10, point 20: every CSV the project writes is neutralised against formula injection and has a BOM."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from exams.spreadsheets import BOM, FORMULA_STARTS, SafeWriter, csv_bytes, neutralised, restored

# Text as a spreadsheet cell may hold it: anything but lone surrogates (not UTF-8) and NUL.
cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
)
# Texts that start the dangerous ways, so that every case is drawn often, not by luck.
risky_text = st.builds(
    lambda start, rest: start + rest, st.sampled_from([*FORMULA_STARTS, "'", "''", "'="]), cell_text
)
cells = st.one_of(
    cell_text, risky_text, st.integers(), st.floats(allow_nan=False, allow_infinity=False)
)


def parsed(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM.encode())  # Excel reads Cyrillic and Chinese right only with it
    return list(csv.reader(io.StringIO(data.decode("utf-8")[1:], newline="")))


@given(
    st.lists(cell_text, min_size=1, max_size=6),
    st.lists(st.lists(cells, min_size=1, max_size=6), max_size=6),
)
def test_no_cell_of_a_written_csv_starts_with_a_formula_character(header, rows):
    """Issue 10, point 20: whatever the cells, none of the file's text cells can start a formula."""
    data = csv_bytes(header, rows)
    for row in parsed(data):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or is_number(cell), cell


def is_number(cell: str) -> bool:
    """A negative number is written as it is: a spreadsheet reads it as the number, not a formula."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


@given(
    st.lists(
        st.lists(st.one_of(cell_text, risky_text), min_size=1, max_size=6), min_size=1, max_size=6
    )
)
def test_what_was_neutralised_is_restored_exactly(rows):
    """Issue 10, point 20: restored() gives back every text cell, so the item export still round-trips."""
    header = [f"c{n}" for n in range(max(len(row) for row in rows))]
    back = parsed(csv_bytes(header, rows))
    assert back[0] == header
    for written, read in zip(rows, back[1:], strict=True):
        assert [restored(cell) for cell in read] == written


@given(cells)
def test_numbers_pass_as_they_are_and_text_gets_at_most_one_mark(value):
    out = neutralised(value)
    if isinstance(value, str):
        assert out in (value, "'" + value) and restored(out) == value
    else:
        assert out is value  # a negative number is a number, not a formula


def test_the_writer_for_a_response_writes_the_bom_once_and_neutralises():
    out = io.StringIO(newline="")
    writer = SafeWriter(out)
    writer.writerow(["=1+1", -3, "@SUM(A1)"])
    writer.writerows([["+x", "\tTab"], ["ok"]])
    assert out.getvalue() == "\ufeff'=1+1,-3,'@SUM(A1)\r\n'+x,'\tTab\r\nok\r\n"
