"""Every word a template shows is marked for translation (issue 12: "a test that fails when a
template string is not marked").

Each template is read with Django's own lexer. Its text outside {% translate %} and
{% blocktranslate %} (template tags and variables stand in as a mark no word contains) goes
through an HTML parser: text a person sees and the attributes a screen reader reads out must hold
no word of two or more letters. Script and style bodies are code, not text, and are left to the
JavaScript tests.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".txt"})
WORD = re.compile(r"[^\W\d_]{2,}")
READ_OUT = {
    "title",
    "alt",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "label",
}
# Said the same in every language: the names of file formats, of a hash and of a statistic.
SAME_IN_EVERY_LANGUAGE = {"CSV", "PDF", "XLSX", "JSON", "QTI", "ID", "SHA", "KR"}
MARK = "\x00"


def _skeleton(source: str) -> str:
    """The template's own text, each tag and variable replaced by MARK, the translated parts dropped."""
    parts: list[str] = []
    skipping: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if skipping is None and name in {"blocktranslate", "blocktrans", "comment"}:
                skipping = "end" + name
            elif (
                skipping is None
                and name == "block"
                and token.contents.split()[1].endswith("_class")
            ):
                skipping = "endblock"  # class names for an attribute of base.html
            elif name == skipping:
                skipping = None
            parts.append(MARK)
        elif skipping is None:
            parts.append(token.contents if token.token_type == TokenType.TEXT else MARK)
    return "".join(parts)


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._code = 0

    def _check(self, text: str) -> None:
        self.found += [w for w in WORD.findall(text) if w not in SAME_IN_EVERY_LANGUAGE]

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._code += 1
        for name, value in attrs:
            if name in READ_OUT and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._code = max(0, self._code - 1)

    def handle_data(self, data):
        if not self._code:
            self._check(data)


def unmarked_words(source: str, *, html: bool = True) -> list[str]:
    skeleton = _skeleton(source)
    if not html:
        return [w for w in WORD.findall(skeleton) if w not in SAME_IN_EVERY_LANGUAGE]
    parser = _Words()
    parser.feed(skeleton)
    parser.close()
    return parser.found


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates"))
)
def test_every_word_of_the_template_is_marked_for_translation(template):
    words = unmarked_words(template.read_text(encoding="utf-8"), html=template.suffix == ".html")
    assert not words, (
        f"{template.relative_to(ROOT)} shows words not marked for translation: {words[:12]}"
    )


def test_the_check_finds_unmarked_text_and_attributes_and_passes_marked_ones():
    assert unmarked_words("<p>Saved</p>") == ["Saved"]
    assert unmarked_words('<button aria-label="Close">×</button>') == ["Close"]
    assert (
        unmarked_words(
            '<p>{% translate "Saved" %}</p><b title="{% translate "Close" %}">{{ n }}</b>'
        )
        == []
    )
    assert unmarked_words("{% blocktranslate %}Dear {{ name }}{% endblocktranslate %}") == []
    assert unmarked_words("<script>const label = 'Saved';</script>") == []
    assert unmarked_words("Dear {{ name }},", html=False) == ["Dear"]
