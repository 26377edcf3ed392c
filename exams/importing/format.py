"""The item file's format (docs/item-format.md), one definition for the importer and the exporter."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

# The fields of an item, in the order the export writes them.
FIELDS = "code topic topic_name kind status difficulty is_sample stem reason options key guide image".split()
REQUIRED_FIELDS = ["code", "topic", "kind", "stem"]
# CSV has one column per option; their ids are the letters, as on a paper exam.
CSV_OPTION_IDS = ["A", "B", "C", "D", "E"]
CSV_OPTION_COLUMNS = {f"option_{letter.lower()}": letter for letter in CSV_OPTION_IDS}
CSV_COLUMNS = [
    *FIELDS[: FIELDS.index("options")],
    *CSV_OPTION_COLUMNS,
    *FIELDS[FIELDS.index("options") + 1 :],
]
# A cell may hold several ids or accepted answers; a pipe is rare in both.
CSV_KEY_SEPARATOR = "|"
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0", ""}
SUFFIXES = (".json", ".csv", ".xlsx")


def unknown_suffix(path: Path) -> str | None:
    """Return why the file cannot be an item file by its name, or None for one of SUFFIXES."""
    if path.suffix.lower() in SUFFIXES:
        return None
    return _("%(name)s is not a .json, .csv or .xlsx file.") % {"name": path.name}
