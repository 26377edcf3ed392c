"""Reading Moodle XML (Moodle's question bank export) into the bank's item records.

Moodle writes one <quiz> with a <question> per question; a question of type "category" names the
category the questions after it belong to, which becomes the topic. Question texts are HTML with
their pictures embedded as base64 <file> elements and referred to as @@PLUGINFILE@@/name.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from urllib.parse import unquote

from django.utils.translation import gettext as _
from lxml import etree

from .html_text import Text, UnreadableHtml, text_of_html
from .records import LOST, Pictures, Reading, Record, Refusal, UnreadableFile, item_code, not_a_kind
from .safe_xml import child, children, local_name, parsed_xml

PLUGINFILE = "@@PLUGINFILE@@/"
# The bank's own kinds, as Moodle's types; cause–effect travels as a tagged multichoice.
CAUSE_EFFECT_TAG = "cause-effect"
REASON_CLASS = "reason"
FOREIGN_TYPES = {
    "truefalse": "truefalse",
    "matching": "matching",
    "randomsamatch": "matching",
    "numerical": "numerical",
    "calculated": "calculated",
    "calculatedsimple": "calculated",
    "calculatedmulti": "calculated",
    "ddwtos": "drag_and_drop",
    "ddimageortext": "drag_and_drop",
    "ddmarker": "hotspot",
    "gapselect": "inline_choice",
    "multianswer": "cloze",
    "cloze": "cloze",  # what Moodle's export calls a multianswer question
    "description": "description",
    "random": "random",
    "ordering": "ordering",
}
# Moodle fills these in for every question; only a board's own wording is worth naming as lost.
STANDARD_FEEDBACK = {
    "",
    "Your answer is correct.",
    "Your answer is partially correct.",
    "Your answer is incorrect.",
}


def read_moodle_xml(data: bytes, name: str, pictures: Pictures) -> Reading:
    """Return the items of a Moodle XML file, each Moodle question a record or a refusal."""
    root = parsed_xml(data)
    if local_name(root) != "quiz":
        raise UnreadableFile(
            root.sourceline,
            _("this is not a Moodle XML file: it starts with <%(tag)s>, not <quiz>")
            % {"tag": local_name(root)},
        )
    reading = Reading()
    category = ("", "")
    prefix = Path(name).stem
    position = 0
    for question in children(root, "question"):
        kind = question.get("type", "")
        if kind == "category":
            category = _category(question)
            continue
        position += 1
        code = item_code(
            _idnumber(question) or _text(child(question, "name")), f"{prefix}-{position}"
        )
        try:
            record = _record(question, kind, code, pictures)
        except UnreadableHtml:
            reason = _("its HTML cannot be read; write < in a text as &lt;")
            reading.refusals.append(Refusal(question.sourceline, code, reason))
            continue
        except _Refused as refusal:
            reading.refusals.append(Refusal(question.sourceline, code, str(refusal)))
            continue
        record.fields["topic"], record.fields["topic_name"] = category
        reading.records.append(record)
    return reading


class _Refused(Exception):
    """This question cannot be an item of the bank; the message says why."""


def _record(question: etree._Element, kind: str, code: str, pictures: Pictures) -> Record:
    if kind in FOREIGN_TYPES:
        raise _Refused(not_a_kind(FOREIGN_TYPES[kind]))
    if kind not in {"multichoice", "shortanswer", "essay"}:
        raise _Refused(_("the Moodle question type %(type)s is not read here") % {"type": kind})
    lost: list[str] = []
    stem = _html(child(question, "questiontext"), lost)
    fields = {"code": code, "stem": stem.text}
    picture = _picture(child(question, "questiontext"), stem)
    if picture is not None:
        fields["image"] = pictures.add(*picture)
    guide = _html(child(question, "graderinfo"), lost).text
    general = _html(child(question, "generalfeedback"), lost).text
    # General feedback is what Moodle shows after the attempt: the bank keeps it as the marking
    # guide (never shown to candidates); an essay's grader information comes first.
    if guide and general:
        lost.append(str(LOST["feedback"]))
    fields["guide"] = guide or general
    answers = children(question, "answer")
    if kind == "multichoice":
        _choices(question, answers, fields, lost)
    elif kind == "shortanswer":
        _accepted(question, answers, fields, lost)
    else:
        fields["kind"] = "free_text"
        template = _html(child(question, "responsetemplate"), lost).text
        if template:
            lost.append(str(LOST["response_template"]))
    if any(_feedback(answer) for answer in answers) or _combined_feedback(question):
        lost.append(str(LOST["feedback"]))
    if any(_text(hint) for hint in children(question, "hint")):
        lost.append(str(LOST["hints"]))
    return Record(question.sourceline, fields, _unique(lost))


def _choices(question, answers, fields, lost) -> None:
    fractions = [_fraction(answer) for answer in answers]
    options = []
    for letter, answer in zip(_letters(len(answers)), answers, strict=True):
        text = _html(answer, lost)
        if text.pictures:
            raise _Refused(_("a picture in an option; options here are text"))
        options.append({"id": letter, "text": text.text})
    single = _text(child(question, "single")).lower() in {"true", "1"}
    threshold = 100 if single else 0  # a single answer's half-right options are not its key
    key = [o["id"] for o, f in zip(options, fractions, strict=True) if f >= threshold and f > 0]
    # Moodle gives each right option of a multiple answer its share of the marks; the bank's
    # key is right or wrong, and the exam's own rule for multiple answers scores it.
    if any(0 < f < 100 for f in fractions):
        lost.append(str(LOST["weights"]))
    if any(f < 0 for f in fractions):
        lost.append(str(LOST["penalty"]))
    if _is_cause_effect(question, fields):
        fields["kind"] = "cause_effect"
    else:
        fields["kind"] = "single" if single else "multiple"
        fields["options"] = options
    fields["key"] = key


def _is_cause_effect(question, fields) -> bool:
    """The bank's own export: a tagged single-answer multichoice whose reason is a paragraph."""
    tags = {_text(tag).strip().lower() for tag in _tags(question)}
    if CAUSE_EFFECT_TAG not in tags:
        return False
    html = _text(child(question, "questiontext"))
    reason = _reason_paragraph(html)
    if reason is None:
        return False
    fields["stem"], fields["reason"] = reason
    return True


def _reason_paragraph(html: str) -> tuple[str, str] | None:
    root = etree.fromstring(f"<div>{html}</div>", etree.HTMLParser(no_network=True)).find(".//div")
    if root is None:
        return None
    for paragraph in root.iter("p"):
        if REASON_CLASS in (paragraph.get("class") or "").split():
            reason = text_of_html(etree.tostring(paragraph, encoding="unicode")).text
            paragraph.getparent().remove(paragraph)
            return text_of_html(etree.tostring(root, encoding="unicode")).text, reason
    return None


def _accepted(question, answers, fields, lost) -> None:
    fields["kind"] = "fill_in"
    fractions = [_fraction(answer) for answer in answers]
    # The answers worth the most are the accepted ones, as GIFT and QTI are read: a half-right
    # answer shown to the committee as accepted would mislead it (its weight is named lost).
    top = max([f for f in fractions if f > 0], default=None)
    written = [_html(a, lost).text for a, f in zip(answers, fractions, strict=True) if f == top]
    # In Moodle "*" matches anything and "\*" is an asterisk: the key holds the asterisk.
    fields["key"] = [answer.replace("\\*", "*") for answer in written]
    if any(0 < f < 100 for f in fractions):
        lost.append(str(LOST["weights"]))
    if any(re.search(r"(?<!\\)\*", answer) for answer in written):
        lost.append(str(LOST["wildcards"]))
    if _text(child(question, "usecase")).strip() == "1":
        lost.append(str(LOST["case"]))


def _html(element: etree._Element | None, lost: list[str]) -> Text:
    """Return an element's text: HTML read as HTML, Moodle's plain formats as they are."""
    if element is None:
        return Text()
    text = _text(element)
    if element.get("format", "html") not in {"html", "markdown"}:
        return Text(text=text.strip())
    result = text_of_html(text)
    lost += result.lost
    return result


def _picture(questiontext, stem: Text) -> tuple[str, bytes] | None:
    """Return the question text's one picture as (name, bytes), or None; refuse what cannot be."""
    if not stem.pictures:
        return None
    if len(stem.pictures) > 1:
        raise _Refused(_("%(n)d pictures; an item here shows one") % {"n": len(stem.pictures)})
    src = stem.pictures[0]
    if not src.startswith(PLUGINFILE):
        raise _Refused(
            _("its picture %(src)s is not in the file; pictures must be embedded in it")
            % {"src": src}
        )
    wanted = unquote(src[len(PLUGINFILE) :])
    for embedded in children(questiontext, "file"):
        path = (embedded.get("path") or "/").strip("/")
        name = embedded.get("name") or ""
        if wanted in {name, f"{path}/{name}".lstrip("/")}:
            try:
                return name, base64.b64decode("".join((embedded.text or "").split()), validate=True)
            except binascii.Error as exc:
                raise _Refused(
                    _("its picture %(name)s is not readable base64") % {"name": name}
                ) from exc
    raise _Refused(_("its picture %(name)s is not in the file") % {"name": wanted})


def _category(question: etree._Element) -> tuple[str, str]:
    """Return (topic code, topic name) from a category question: its idnumber and last segment."""
    path = _text(child(question, "category"))
    # Moodle doubles a "/" that is part of a category's name.
    segments = [s.replace("//", "/").strip() for s in re.split(r"(?<!/)/(?!/)", path)]
    segments = [s for s in segments if s]
    segments = [s for s in segments if not (s.startswith("$") and s.endswith("$")) and s != "top"]
    return _idnumber(question), (segments[-1] if segments else "")


def _idnumber(question: etree._Element) -> str:
    element = child(question, "idnumber")
    return (element.text or "").strip() if element is not None else ""


def _text(element: etree._Element | None) -> str:
    """Return the text of an element's <text> child (Moodle's wrapping), or its own text."""
    if element is None:
        return ""
    inner = child(element, "text")
    return (inner.text if inner is not None else element.text) or ""


def _feedback(answer: etree._Element) -> str:
    return text_of_html(_text(child(answer, "feedback"))).text


def _combined_feedback(question: etree._Element) -> bool:
    names = ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback")
    return any(
        text_of_html(_text(child(question, name))).text not in STANDARD_FEEDBACK for name in names
    )


def _tags(question: etree._Element) -> list[etree._Element]:
    tags = child(question, "tags")
    return children(tags, "tag") if tags is not None else []


def _fraction(answer: etree._Element) -> float:
    try:
        return float(answer.get("fraction", "0"))
    except ValueError as exc:
        raise _Refused(
            _("an answer's fraction %(value)r is not a number") % {"value": answer.get("fraction")}
        ) from exc


def _letters(count: int) -> list[str]:
    return [chr(ord("A") + n) if n < 26 else f"A{n}" for n in range(count)]


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))
