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
    result = Text()
    pieces: list[str] = []
    lost: set[str] = set()
    _walk(element, pieces, result.pictures, lost, skip, top=True)
    result.text = _tidy("".join(pieces))
    result.lost = [_LOSSES[name]() for name in sorted(lost)]
    return result


_LOSSES = {
    "formatting": lambda: _("bold, italics and other formatting (the text is kept)"),
    "table": lambda: _("a table's layout (each row is kept as a line of text)"),
    "formula": lambda: _("a formula's layout (kept as the text it is written in)"),
    "subscript": lambda: _("sub- or superscript that is not a digit or sign (kept as plain text)"),
    "media": lambda: _("sound, video or other embedded media"),
    "link": lambda: _("a link's address (its text is kept)"),
}


def _walk(node, pieces, pictures, lost, skip, *, top=False) -> None:
    name = local_name(node).lower()
    if isinstance(node.tag, str) and not name:
        raise UnreadableHtml(node.tag)
    if not top and name in skip:
        if node.tail:
            pieces.append(_flowing(node.tail, ""))
        return
    if name == "img":
        src = node.get("src") or ""
        if src:
            pictures.append(src)
    elif name == "br":
        pieces.append("\n")
    elif name in {"script", "style", "head", "title"}:
        pass
    elif name in {"audio", "video", "object", "embed", "iframe"}:
        lost.add("media")
    elif name in {"sub", "sup"}:
        inner = "".join(node.itertext())
        table = SUBSCRIPTS if name == "sub" else SUPERSCRIPTS
        converted = inner.translate(table)
        if any(ord(char) not in table for char in inner.strip()):
            lost.add("subscript")
        pieces.append(converted if converted.strip() else inner)
    elif name == "math":
        lost.add("formula")
        pieces.append(" ".join("".join(node.itertext()).split()))
    else:
        if name in FORMATTING:
            lost.add("formatting")
        elif name in {"table", "td", "th"}:
            lost.add("table")
        elif name == "a" and node.get("href"):
            lost.add("link")
        if name in BLOCKS:
            pieces.append("\n")
        if node.text:
            pieces.append(_flowing(node.text, name))
        for kid in node:
            _walk(kid, pieces, pictures, lost, skip)
        if name in {"td", "th"}:
            pieces.append(" ")
        if name in BLOCKS:
            pieces.append("\n")
    if not top and node.tail:
        pieces.append(_flowing(node.tail, ""))


def _flowing(text: str, name: str) -> str:
    """Return source text as a browser lays it out: a line break in the HTML is a space."""
    return text if name == "pre" else text.replace("\r", " ").replace("\n", " ")


def _tidy(text: str) -> str:
    """Fold runs of spaces, strip each line, and keep at most one empty line between paragraphs."""
    lines = [re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
