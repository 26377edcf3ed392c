"""The HTML of a foreign item's text as the bank's plain text, its pictures, and what is lost.

The bank holds a stem and options as plain text with line breaks (the exam page sets them in the
candidate's font and language). Paragraphs and line breaks stay line breaks, sub- and superscript
digits become their Unicode characters (H₂O, Na⁺, 10⁹/L), and pictures are handed back by their
source for the reader to fetch. What cannot be kept is named, once per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from django.utils.translation import gettext as _
from lxml import etree

from .safe_xml import local_name

BLOCKS = {
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote",
    "pre", "dl", "dt", "dd", "section", "article", "center", "hr",
}  # fmt: skip
FORMATTING = {"b", "strong", "i", "em", "u", "s", "strike", "font", "mark", "small", "big", "tt"}
SUBSCRIPTS = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
SUPERSCRIPTS = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")


class UnreadableHtml(ValueError):
    """The HTML holds a "<" that is not a tag ("x<y"): read on, its text would be lost."""


@dataclass
class Text:
    text: str = ""
    pictures: list[str] = field(default_factory=list)  # each <img>'s src, in order
    lost: list[str] = field(default_factory=list)


def text_of_html(html: str) -> Text:
    """Return an HTML fragment (Moodle's question text, a GIFT [html] text) as plain text."""
    if not html or not html.strip():
        return Text()
    if "<" not in html and "&" not in html:
        return Text(text=_tidy(html))
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    root = lxml.html.fragment_fromstring(html, create_parent="div", parser=parser)
    return text_of_element(root)


def text_of_element(element: etree._Element, *, skip: frozenset[str] = frozenset()) -> Text:
    """Return the text under an (X)HTML element, leaving out subtrees whose local name is in skip."""
    walk = _Walk(skip)
    walk.element(element, top=True)
    return Text(
        text=_tidy("".join(walk.pieces)),
        pictures=walk.pictures,
        lost=[_LOSSES[name]() for name in sorted(walk.lost)],
    )


_LOSSES = {
    "formatting": lambda: _("bold, italics and other formatting (the text is kept)"),
    "table": lambda: _("a table's layout (each row is kept as a line of text)"),
    "formula": lambda: _("a formula's layout (kept as the text it is written in)"),
    "subscript": lambda: _("sub- or superscript that is not a digit or sign (kept as plain text)"),
    "media": lambda: _("sound, video or other embedded media"),
    "link": lambda: _("a link's address (its text is kept)"),
}
# Word writes its own tags (<o:p>, <w:sdt>) into pasted HTML: their text is the text.
PREFIXED_TAG = re.compile(r"[A-Za-z][\w.-]*:([A-Za-z][\w.-]*)")


class _Walk:
    """One walk over the HTML, as a browser would lay it out, gathering text and pictures."""

    def __init__(self, skip: frozenset[str]) -> None:
        self.skip = skip
        self.pieces: list[str] = []
        self.pictures: list[str] = []
        self.lost: set[str] = set()
        self.in_cell = False  # a table cell's paragraphs stay on its row's line
        self.in_pre = False  # preformatted text keeps its line breaks

    def element(self, node, *, top: bool = False, number: int = 0) -> None:
        name = _name(node)
        if not (not top and name in self.skip):
            self._content(node, name, number)
        if not top and node.tail:
            self.text(node.tail)

    def text(self, text: str) -> None:
        flowing = text if self.in_pre else text.replace("\r", " ").replace("\n", " ")
        self.pieces.append(flowing)

    def _content(self, node, name: str, number: int) -> None:
        if name == "img":
            if node.get("src"):
                self.pictures.append(node.get("src"))
        elif name == "br":
            self.pieces.append("\n")
        elif name in {"script", "style", "head", "title"}:
            pass
        elif name == "object" and (node.get("type") or "").startswith("image/"):
            # QTI's way of showing a picture: <object type="image/png" data="postcard.png">.
            if node.get("data"):
                self.pictures.append(node.get("data"))
        elif name in {"audio", "video", "object", "embed", "iframe"}:
            # Its fallback text only stands in for the media the candidate would not get either.
            self.lost.add("media")
        elif name in {"sub", "sup"}:
            inner = "".join(node.itertext())
            table = SUBSCRIPTS if name == "sub" else SUPERSCRIPTS
            if any(ord(char) not in table for char in inner.strip()):
                self.lost.add("subscript")
            converted = inner.translate(table)
            self.pieces.append(converted if converted.strip() else inner)
        elif name == "math":
            self.lost.add("formula")
            self.pieces.append(" ".join("".join(node.itertext()).split()))
        else:
            if name in FORMATTING:
                self.lost.add("formatting")
            elif name in {"table", "td", "th"}:
                self.lost.add("table")
            elif name == "a" and node.get("href"):
                self.lost.add("link")
            self._inside(node, name, number)

    def _inside(self, node, name: str, number: int = 0) -> None:
        block = name in BLOCKS
        self._break(block)
        if name == "li":
            # A numbered list keeps its numbers: a stem may say "statements 1 and 3".
            self.pieces.append(f"{number}. " if number else "• ")
        was_cell, was_pre = self.in_cell, self.in_pre
        self.in_cell = self.in_cell or name in {"td", "th"}
        self.in_pre = self.in_pre or name == "pre"
        if node.text:
            self.text(node.text)
        items = 0
        for kid in node:
            if name == "ol" and _name(kid) == "li":
                items += 1
            self.element(kid, number=items if name == "ol" else 0)
        self.in_cell, self.in_pre = was_cell, was_pre
        if name in {"td", "th"}:
            self.pieces.append(" ")
        self._break(block)

    def _break(self, block: bool) -> None:
        if block:
            self.pieces.append(" " if self.in_cell else "\n")


def _name(node) -> str:
    name = local_name(node).lower()
    if isinstance(node.tag, str) and not name:
        prefixed = PREFIXED_TAG.fullmatch(node.tag)
        if prefixed is None:
            raise UnreadableHtml(node.tag)
        name = prefixed.group(1).lower()
    return name


def _tidy(text: str) -> str:
    """Fold runs of spaces, strip each line, and keep at most one empty line between paragraphs."""
    lines = [re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
