"""Read the text back out of the PDFs fpdf2 writes, with nothing but zlib and the PDF's own maps.

fpdf2 writes text shown with an embedded TrueType font as glyph numbers (Identity-H), each font
with a ToUnicode map from glyph number to character; text in a built-in font is plain Latin-1.
This follows exactly that: per page content stream, the font chosen by each `Tf`, and each
string shown by `Tj`, decoded through that font's map. Enough for fpdf2's output, not a general
PDF reader.
"""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
SHOW = re.compile(rb"/(F\d+) [\d.]+ Tf|\((?P<text>(?:\\.|[^\\)])*)\) Tj", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(number): body for number, body in OBJECT.findall(pdf)}


def _stream(body: bytes) -> bytes:
    # Exactly /Length bytes: compressed data may itself end in a byte that looks like the line
    # break before "endstream" (one stream in 256 ends in \r), which the pattern alone would eat.
    start = STREAM.search(body).start(1)
    length = re.search(rb"/Length (\d+)", body[:start])
    raw = body[start : start + int(length.group(1))] if length else STREAM.search(body).group(1)
    return zlib.decompress(raw) if b"/FlateDecode" in body else raw


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match) -> bytes:
        escaped = match.group(1)
        return bytes([int(escaped, 8)]) if escaped[:1].isdigit() else ESCAPES.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def _cmap(stream: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for glyph, char in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(glyph, 16)] = bytes.fromhex(char.decode()).decode("utf-16-be")
    return mapping


def pdf_text(pdf: bytes) -> str:
    """Return the text the PDF shows, one line per `Tj`."""
    objects = _objects(pdf)
    fonts: dict[bytes, dict[int, str] | None] = {}  # resource name → glyph map (None: a Latin-1 font)
    for body in objects.values():
        for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            font = objects[int(number)]
            unicode_map = re.search(rb"/ToUnicode (\d+) 0 R", font)
            fonts[name] = _cmap(_stream(objects[int(unicode_map.group(1))])) if unicode_map else None
    lines = []
    for body in objects.values():
        if b"stream" not in body or b"/Type /Page" in body or b"/Length1" in body or b"CMap" in body:
            continue
        try:
            content = _stream(body)
        except (zlib.error, AttributeError):
            continue
        font = None
        for match in SHOW.finditer(content):
            if match.group(1):
                font = fonts.get(match.group(1))
                continue
            raw = _unescape(match.group("text"))
            if font is None:
                lines.append(raw.decode("latin-1"))
            else:
                lines.append("".join(font.get(int.from_bytes(raw[i:i + 2], "big"), "\ufffd") for i in range(0, len(raw), 2)))
    return "\n".join(lines)
