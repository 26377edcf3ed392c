"""Reading a JSON item file into (line, fields) records."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from .problems import ImportRefused, refused


def json_records(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Return the items of a JSON array with the line where each starts.

    The array is walked item by item (rather than json.loads on the whole) only to learn where
    each item starts: a committee fixes "line 14" faster than "the 7th item".
    """
    decoder = json.JSONDecoder()

    def line_at(index: int) -> int:
        return text.count("\n", 0, index) + 1

    def skip_space(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def refused_at(index: int, message: str) -> ImportRefused:
        return refused(line_at(index), message)

    index = skip_space(0)
    if index == len(text) or text[index] != "[":
        raise refused_at(index, _("the file must be a JSON list of items: [ {…}, {…} ]"))
    records: list[tuple[int, dict[str, Any]]] = []
    index = skip_space(index + 1)
    if index < len(text) and text[index] == "]":
        index += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                message = _("the file is not valid JSON: %(error)s") % {"error": exc.msg}
                raise refused(exc.lineno, message) from exc
            if not isinstance(value, dict):
                raise refused_at(index, _("each item must be a JSON object {…}"))
            records.append((line_at(index), value))
            index = skip_space(end)
            if index < len(text) and text[index] == ",":
                index = skip_space(index + 1)
                if index < len(text) and text[index] == "]":
                    raise refused_at(
                        index, _("the file is not valid JSON: a comma before ] is not allowed")
                    )
                continue
            if index < len(text) and text[index] == "]":
                index += 1
                break
            raise refused_at(index, _("the file is not valid JSON: expected , or ] after an item"))
    index = skip_space(index)
    if index < len(text):
        raise refused_at(index, _("the file is not valid JSON: there is text after the closing ]"))
    return records
