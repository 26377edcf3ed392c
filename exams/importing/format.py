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
# The bank's own formats, which the exporter writes too.
SUFFIXES = (".json", ".csv", ".xlsx")
# Other systems' formats: Moodle XML or a QTI item (.xml), a QTI content package (.zip), GIFT.
IMPORT_SUFFIXES = (*SUFFIXES, ".xml", ".zip", ".gift", ".txt")
# Written for other systems: Moodle XML (.xml) and a QTI 2.1 content package (.zip).
EXPORT_SUFFIXES = (*SUFFIXES, ".xml", ".zip")


def unknown_suffix(path: Path, suffixes: tuple[str, ...] = IMPORT_SUFFIXES) -> str | None:
    """Return why the file cannot be an item file by its name, or None for one of the suffixes."""
    if path.suffix.lower() in suffixes:
        return None
    if suffixes == EXPORT_SUFFIXES:
        return _(
            "%(name)s is not a file the bank writes: .json, .csv or .xlsx (the bank's own), .xml "
            "(Moodle XML) or .zip (a QTI 2.1 content package)."
        ) % {"name": path.name}
    return _(
        "%(name)s is not a file the bank reads: .json, .csv or .xlsx (the bank's own), .xml "
        "(Moodle XML or a QTI item), .zip (a QTI content package), .gift or .txt (GIFT)."
    ) % {"name": path.name}
