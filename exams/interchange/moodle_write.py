"""Writing the bank as Moodle XML, which Moodle's question import and read_moodle_xml read back.

One category question per topic (its path the topic's name, its idnumber the topic's code), then
its items: single and multiple answer as multichoice, fill-in as shortanswer, free text as essay
(the marking guide as the grader's information), cause–effect as a single-answer multichoice
tagged "cause-effect" with the reason as its own paragraph. Other kinds' marking guide goes into
the general feedback, which Moodle shows a student after an attempt (docs/item-format.md says so).
"""

from __future__ import annotations

import base64
import html
from urllib.parse import quote

from lxml import etree

from .moodle_read import CAUSE_EFFECT_TAG, PLUGINFILE, REASON_CLASS
from .records import Outgoing


def moodle_xml(items: list[Outgoing]) -> bytes:
    """Return the items as a Moodle XML document, grouped by topic in the order given."""
    quiz = etree.Element("quiz")
    topic = None
    for item in items:
        fields = item.fields
        if fields["topic"] != topic:
            topic = fields["topic"]
            _category(quiz, fields["topic"], fields.get("topic_name") or fields["topic"])
        _question(quiz, item)
    return etree.tostring(quiz, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _category(quiz: etree._Element, code: str, name: str) -> None:
    question = etree.SubElement(quiz, "question", type="category")
    category = etree.SubElement(question, "category")
    # A "/" in a name would start a sub-category: Moodle writes it doubled.
    _text(category, "$course$/top/" + name.replace("/", "//"))
    etree.SubElement(question, "idnumber").text = code


def _question(quiz: etree._Element, item: Outgoing) -> None:
    fields = item.fields
    kind = fields["kind"]
    moodle_type = {"fill_in": "shortanswer", "free_text": "essay"}.get(kind, "multichoice")
    question = etree.SubElement(quiz, "question", type=moodle_type)
    _text(etree.SubElement(question, "name"), fields["code"])
    stem_html = _paragraphs(fields["stem"])
    if kind == "cause_effect":
        stem_html += _paragraphs(fields["reason"], css_class=REASON_CLASS)
    questiontext = etree.SubElement(question, "questiontext", format="html")
    if item.picture is not None:
        name, data = item.picture
        stem_html += f'<p><img src="{PLUGINFILE}{quote(name)}" alt=""></p>'
    _text(questiontext, stem_html)
    if item.picture is not None:
        picture = etree.SubElement(questiontext, "file", name=name, path="/", encoding="base64")
        picture.text = base64.b64encode(data).decode("ascii")
    guide = _paragraphs(fields.get("guide", ""))
    _text(
        etree.SubElement(question, "generalfeedback", format="html"),
        "" if kind == "free_text" else guide,
    )
    etree.SubElement(question, "defaultgrade").text = "1.0000000"
    etree.SubElement(question, "penalty").text = "0.0000000"
    etree.SubElement(question, "hidden").text = "0"
    etree.SubElement(question, "idnumber").text = fields["code"]
    if moodle_type == "multichoice":
        _multichoice(question, fields)
    elif moodle_type == "shortanswer":
        etree.SubElement(question, "usecase").text = "0"
        for answer in fields.get("key", []):
            # "*" is Moodle's wildcard; the bank's answer means the character.
            _answer(question, "100", answer.replace("*", "\\*"), text_format="moodle_auto_format")
    else:
        for name, value in (("responseformat", "editor"), ("responserequired", "1"),
                            ("responsefieldlines", "15"), ("attachments", "0"),
                            ("attachmentsrequired", "0")):  # fmt: skip
            etree.SubElement(question, name).text = value
        _text(etree.SubElement(question, "graderinfo", format="html"), guide)
        _text(etree.SubElement(question, "responsetemplate", format="html"), "")
    if kind == "cause_effect":
        tags = etree.SubElement(question, "tags")
        _text(etree.SubElement(tags, "tag"), CAUSE_EFFECT_TAG)


def _multichoice(question: etree._Element, fields: dict) -> None:
    key = fields.get("key", [])
    single = fields["kind"] != "multiple"
    etree.SubElement(question, "single").text = "true" if single else "false"
    etree.SubElement(question, "shuffleanswers").text = "true"
    etree.SubElement(question, "answernumbering").text = "ABCD"
    # Moodle wants a multiple-answer question's right fractions to add up to 100.
    right = "100" if single else f"{100 / len(key):.5f}"
    for option in fields["options"]:
        fraction = right if option["id"] in key else "0"
        _answer(question, fraction, _paragraphs(option["text"]), text_format="html")


def _answer(question: etree._Element, fraction: str, text: str, *, text_format: str) -> None:
    answer = etree.SubElement(question, "answer", fraction=fraction, format=text_format)
    _text(answer, text)
    _text(etree.SubElement(answer, "feedback", format="html"), "")


def _text(parent: etree._Element, value: str) -> None:
    # CDATA as Moodle writes it, unless the text would end it early; lxml escapes it then.
    cdata = value and "]]>" not in value
    etree.SubElement(parent, "text").text = etree.CDATA(value) if cdata else value


def _paragraphs(text: str, *, css_class: str = "") -> str:
    """Return plain text as HTML paragraphs: an empty line between, <br> for a single break."""
    if not text:
        return ""
    attribute = f' class="{css_class}"' if css_class else ""
    return "".join(
        f"<p{attribute}>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in text.split("\n\n")
        if block.strip()
    )
