"""Importing items from a committee's JSON or CSV file (R-BANK-3). The format: docs/item-format.md.

The whole file is read and checked before anything is written, and the writes happen in one
transaction: a bad file is refused with the line of every problem, and nothing is half-imported.

The parts, in the order an import runs them: format (the fields and CSV columns, shared with
exams.exporting), parse_json and parse_csv (the file into records with their lines), parse_item
(one item on its own), checks (the items together and the topics), reading (all of that for one
file), plan (compared with the bank), write (the transaction), summary (what was done).
"""

from __future__ import annotations

# write.py calls the bank services through these names (see there).
from ..services.bank import item_create, item_revise, item_update_metadata, topic_get_or_create
from .parse_item import ParsedItem
from .problems import ImportRefused, Problem
from .reading import parse_file
from .summary import ImportSummary, summary_lines
from .write import import_items

__all__ = [
    "ImportRefused",
    "ImportSummary",
    "ParsedItem",
    "Problem",
    "import_items",
    "item_create",
    "item_revise",
    "item_update_metadata",
    "parse_file",
    "summary_lines",
    "topic_get_or_create",
]
