"""The bank as a QTI 2.1 content package (.zip), which TAO and other QTI tools import.

Each item is one assessmentItem in `items/`, its picture in `items/images/`, and `tests/bank.xml`
is an assessmentTest with a section per topic (the topic's code as the section's identifier, its
name as the title), so that the topics come back when the package is imported here again. What
the bank keeps and QTI has no place for stays in the bank's own conventions, which the reader
(qti_read) reads back to the same fields:

- a code that is not an XML name is escaped in the identifier (`007` → `_x0030_07`) and kept as
  it is in the title, which other tools show;
- the marking guide is a `rubricBlock view="scorer"`, which QTI shows to markers only;
- an assertion–reason item is a single-answer choice with the reason in `<div class="reason">`
  and the five fixed options written out;
- a fill-in item's answer box stands in the stem's first gap (a run of underscores), or after
  the stem in `<p class="answer">` when the stem has none; every accepted answer is mapped.

The output depends only on the items: files in a fixed order, fixed zip timestamps, so two
exports of the same bank are the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from .qti_read import ANSWER_CLASS, BLANK, REASON_CLASS, qti_identifier
from .records import Outgoing

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/qtiv2p1_imscpv1p2_v1p0.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RP_TEMPLATES = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
GAP = "\x00"  # where the answer box goes while a stem is laid out (never in XML text)
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}

# The same texts (and so the same translations) as exams.models.bank.CAUSE_EFFECT_OPTIONS; this
# package is below the models and cannot import them.
CAUSE_EFFECT_TEXTS = [
    gettext_lazy("Both statements are true and the reason explains the assertion"),
    gettext_lazy("Both statements are true but the reason does not explain the assertion"),
    gettext_lazy("The assertion is true, the reason is false"),
    gettext_lazy("The assertion is false, the reason is true"),
    gettext_lazy("Both statements are false"),
]


def qti_package(items: list[Outgoing]) -> bytes:
    """Return the items as a QTI 2.1 content package: manifest, items, pictures and a test."""
    ordered = sorted(items, key=lambda item: (_topic(item), str(item.fields["code"])))
    names = _FileNames()
    files: list[tuple[str, bytes]] = []
    resources: list[tuple[str, list[str]]] = []
    refs: list[tuple[Outgoing, str, str]] = []
    for item in ordered:
        identifier = qti_identifier(str(item.fields["code"]))
        base = names.unique(identifier)
        picture_src = None
        item_files = [f"items/{base}.xml"]
        if item.picture is not None:
            picture_src = f"images/{base}{_suffix(*item.picture)}"
            item_files.append(f"items/{picture_src}")
        files.append((item_files[0], _item_xml(item.fields, identifier, picture_src)))
        if item.picture is not None:
            files.append((item_files[1], item.picture[1]))
        resources.append((f"item-{identifier}", item_files))
        refs.append((item, identifier, f"../{item_files[0]}"))
    manifest = _manifest_xml(resources)
    return _zip([("imsmanifest.xml", manifest), *files, ("tests/bank.xml", _test_xml(refs))])


def _topic(item: Outgoing) -> str:
    return str(item.fields.get("topic") or "")


# One item -------------------------------------------------------------------------------------


def _item_xml(fields: dict, identifier: str, picture_src: str | None) -> bytes:
    kind = fields["kind"]
    root = etree.Element(_q("assessmentItem"), nsmap={None: QTI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI} {QTI_XSD}")
    root.set("identifier", identifier)
    root.set("title", _clean(str(fields["code"])))
    root.set("adaptive", "false")
    root.set("timeDependent", "false")
    declaration = _sub(root, "responseDeclaration", identifier="RESPONSE")
    outcome = _sub(root, "outcomeDeclaration", identifier="SCORE", cardinality="single")
    outcome.set("baseType", "float")
    _sub(_sub(outcome, "defaultValue"), "value").text = "0"
    body = _sub(root, "itemBody")
    if kind == "fill_in":
        _fill_in(body, declaration, fields, picture_src)
        _sub(root, "responseProcessing", template=RP_TEMPLATES + "map_response")
    elif kind == "free_text":
        declaration.set("cardinality", "single")
        declaration.set("baseType", "string")
        _stem(body, fields, picture_src)
        _sub(body, "extendedTextInteraction", responseIdentifier="RESPONSE")
    else:
        _choice(body, declaration, fields, picture_src)
        _sub(root, "responseProcessing", template=RP_TEMPLATES + "match_correct")
    if fields.get("guide"):
        _paragraphs(_sub(body, "rubricBlock", view="scorer"), str(fields["guide"]))
    return _xml(root)


def _choice(body, declaration, fields: dict, picture_src: str | None) -> None:
    cause_effect = fields["kind"] == "cause_effect"
    if cause_effect:
        texts = [str(text) for text in CAUSE_EFFECT_TEXTS]
        letters = {letter: letter for letter in "ABCDE"}
    else:
        options = fields.get("options") or []
        texts = [str(option.get("text") or "") for option in options]
        letters = {str(option["id"]): _letter(n) for n, option in enumerate(options)}
    single = fields["kind"] != "multiple"
    declaration.set("cardinality", "single" if single else "multiple")
    declaration.set("baseType", "identifier")
    correct = _sub(declaration, "correctResponse")
    for key in fields.get("key") or []:
        _sub(correct, "value").text = letters.get(str(key), _clean(str(key)))
    _stem(body, fields, picture_src)
    if cause_effect:
        _paragraphs(_sub(body, "div", **{"class": REASON_CLASS}), str(fields.get("reason") or ""))
    interaction = _sub(body, "choiceInteraction", responseIdentifier="RESPONSE")
    # The exam shuffles options by its own rules; the file keeps the bank's order.
    interaction.set("shuffle", "false")
    interaction.set("maxChoices", "1" if single else "0")
    for n, text in enumerate(texts):
        choice = _sub(interaction, "simpleChoice", identifier=_letter(n), fixed="false")
        _inline(choice, text)


def _fill_in(body, declaration, fields: dict, picture_src: str | None) -> None:
    answers = [str(answer) for answer in fields.get("key") or []]
    declaration.set("cardinality", "single")
    declaration.set("baseType", "string")
    if answers:
        _sub(_sub(declaration, "correctResponse"), "value").text = _clean(answers[0])
    # Every accepted answer scores, compared ignoring case as the bank compares them.
    mapping = _sub(declaration, "mapping", defaultValue="0")
    for answer in answers:
        entry = _sub(mapping, "mapEntry", mapKey=_clean(answer), mappedValue="1")
        entry.set("caseSensitive", "false")
    box = etree.Element(_q("textEntryInteraction"), responseIdentifier="RESPONSE")
    stem = str(fields.get("stem") or "")
    gap = re.search(r"_{3,}", stem)
    if gap:
        if gap.group() != BLANK:
            box.set("placeholderText", gap.group())
        _paragraphs(body, stem[: gap.start()] + GAP + stem[gap.end() :], box)
    else:
        _paragraphs(body, stem)
    _picture(body, picture_src)
    if not gap:
        _sub(body, "p", **{"class": ANSWER_CLASS}).append(box)


def _stem(body, fields: dict, picture_src: str | None) -> None:
    _paragraphs(body, str(fields.get("stem") or ""))
    _picture(body, picture_src)


def _picture(body, picture_src: str | None) -> None:
    if picture_src:
        _sub(_sub(body, "p"), "img", src=picture_src, alt="")


def _paragraphs(parent, text: str, gap: etree._Element | None = None) -> None:
    """Add the text as a <p> per paragraph (blank line) with a <br/> per line break."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    for paragraph in re.split(r"\n[ \t]*\n+", text):
        if paragraph.strip() or GAP in paragraph:
            _inline(_sub(parent, "p"), paragraph, gap)


def _inline(element, text: str, gap: etree._Element | None = None) -> None:
    for n, line in enumerate(text.split("\n")):
        if n:
            _sub(element, "br")
        pieces = line.split(GAP)
        for m, piece in enumerate(pieces):
            if m:
                element.append(gap)
            _append_text(element, _clean(piece))


def _append_text(element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


# The package ----------------------------------------------------------------------------------


def _test_xml(refs: list[tuple[Outgoing, str, str]]) -> bytes:
    root = etree.Element(_q("assessmentTest"), nsmap={None: QTI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI} {QTI_XSD}")
    root.set("identifier", "bank")
    root.set("title", _("Item bank"))
    part = _sub(root, "testPart", identifier="part-1", navigationMode="nonlinear")
    part.set("submissionMode", "individual")
    sections: dict[str, etree._Element] = {}
    for item, identifier, href in refs:
        topic = _topic(item)
        if not topic:
            continue  # a test holds items only in sections; the item stays in the manifest
        if topic not in sections:
            name = str(item.fields.get("topic_name") or "") or topic
            sections[topic] = _sub(
                part, "assessmentSection", identifier=qti_identifier(topic), title=_clean(name)
            )
            sections[topic].set("visible", "true")
        _sub(sections[topic], "assessmentItemRef", identifier=identifier, href=href)
    return _xml(root)


def _manifest_xml(resources: list[tuple[str, list[str]]]) -> bytes:
    root = etree.Element(f"{{{CP}}}manifest", nsmap={None: CP, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{CP} {CP_XSD}")
    root.set("identifier", "MANIFEST-bank")
    metadata = etree.SubElement(root, f"{{{CP}}}metadata")
    etree.SubElement(metadata, f"{{{CP}}}schema").text = "QTIv2.1 Package"
    etree.SubElement(metadata, f"{{{CP}}}schemaversion").text = "1.0.0"
    etree.SubElement(root, f"{{{CP}}}organizations")
    listing = etree.SubElement(root, f"{{{CP}}}resources")
    for identifier, files in resources:
        resource = etree.SubElement(listing, f"{{{CP}}}resource", identifier=identifier)
        resource.set("type", "imsqti_item_xmlv2p1")
        resource.set("href", files[0])
        for href in files:
            etree.SubElement(resource, f"{{{CP}}}file", href=href)
    test = etree.SubElement(listing, f"{{{CP}}}resource", identifier="test-bank")
    test.set("type", "imsqti_test_xmlv2p1")
    test.set("href", "tests/bank.xml")
    etree.SubElement(test, f"{{{CP}}}file", href="tests/bank.xml")
    for identifier, _files in resources:
        etree.SubElement(test, f"{{{CP}}}dependency", identifierref=identifier)
    return _xml(root)


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            # Pictures are compressed already; deflating them again gains nothing.
            picture = PurePosixPath(name).suffix.lower() in PICTURE_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if picture else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


class _FileNames:
    """File names for the items, unique even where the disk ignores letter case (Windows, macOS)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def unique(self, name: str) -> str:
        chosen, n = name, 1
        while chosen.casefold() in self.used:
            n += 1
            chosen = f"{name}-{n}"
        self.used.add(chosen.casefold())
        return chosen


# Small pieces ---------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{QTI}}}{name}"


def _sub(parent, name: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _q(name), **attributes)


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """Return the text without the control characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"O{index + 1}"


def _suffix(name: str, data: bytes) -> str:
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if suffix in PICTURE_SUFFIXES:
        return suffix
    signatures = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif"}
    for signature, found in signatures.items():
        if data.startswith(signature):
            return found
    return ".webp" if data[8:12] == b"WEBP" else ".png"
