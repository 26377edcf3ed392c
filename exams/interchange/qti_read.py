"""One QTI 2.1/2.2 assessmentItem (TAO, qti-sdk, item-banking tools) as a record of the bank.

The bank holds five kinds of item; QTI has some twenty interactions. A choiceInteraction is a
single or multiple answer item (or, in the bank's own export, an assertion–reason item), a
textEntryInteraction a fill-in item, an extendedTextInteraction a free-text item; every other
interaction is refused by the name a board uses for it. What the bank drops (feedback, partial
credit, penalties) is named beside the record.

The item's identifier becomes its code. The bank's export writes a code that is not an XML name
(`007`, `1/2`, Cyrillic letters) with `_xHHHH_` escapes, the XML-name escaping of ISO 9075 and
.NET's XmlConvert, so that every tool takes the identifier and reading it back gives the code.
"""

from __future__ import annotations

import base64
import binascii
import copy
import posixpath
import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _
from lxml import etree

from .html_text import Text, text_of_element
from .records import (
    LOST,
    Pictures,
    Reading,
    Record,
    Refusal,
    UnreadableFile,
    item_code,
    not_a_kind,
)
from .safe_xml import child, children, descendants, local_name, parsed_xml

OpenFile = Callable[[str], "bytes | None"]

QTI2_NAMESPACES = {
    "http://www.imsglobal.org/xsd/imsqti_v2p0": "2.0",
    "http://www.imsglobal.org/xsd/imsqti_v2p1": "2.1",
    "http://www.imsglobal.org/xsd/imsqti_v2p2": "2.2",
}

# The interactions the bank has no kind for, by the FOREIGN_KINDS name a board knows them by.
FOREIGN_INTERACTIONS = {
    "orderInteraction": "ordering",
    "matchInteraction": "matching",
    "associateInteraction": "matching",
    "gapMatchInteraction": "drag_and_drop",
    "graphicGapMatchInteraction": "drag_and_drop",
    "positionObjectInteraction": "drag_and_drop",
    "hotspotInteraction": "hotspot",
    "selectPointInteraction": "hotspot",
    "graphicAssociateInteraction": "hotspot",
    "graphicOrderInteraction": "hotspot",
    "inlineChoiceInteraction": "inline_choice",
    "hottextInteraction": "hottext",
    "uploadInteraction": "upload",
    "drawingInteraction": "drawing",
    "sliderInteraction": "slider",
    "mediaInteraction": "media",
}
CUSTOM_INTERACTIONS = {"customInteraction", "portableCustomInteraction"}
# A button that ends the attempt; TAO and others use it to ask for a hint, not as a question.
HINT_ELEMENTS = {"endAttemptInteraction", "infoControl"}
FEEDBACK_ELEMENTS = {"feedbackInline", "feedbackBlock", "modalFeedback"}
BLANK = "_____"
# The bank's own export marks the reason of an assertion–reason item, and a fill-in answer box
# that stands after the question rather than in a gap of its text, with these classes.
REASON_CLASS = "reason"
ANSWER_CLASS = "answer"


def read_qti_item(data: bytes, source: str, open_file: OpenFile, pictures: Pictures) -> Reading:
    """Return the item file as one record, or one refusal; raise UnreadableFile for a non-item.

    `source` is the file's path inside its package ("" for a lone file); `open_file` returns a
    file of the package by its path from the package's root (None when it is not there).
    """
    root = qti_item_root(data, source)
    outcome = _ItemReader(root, source, open_file, pictures).read()
    if isinstance(outcome, Refusal):
        return Reading(refusals=[outcome])
    return Reading(records=[outcome])


def qti_item_root(data: bytes, source: str) -> etree._Element:
    """Return the assessmentItem element, or raise UnreadableFile naming what the file is."""
    try:
        root = parsed_xml(data)
    except UnreadableFile as exc:
        raise UnreadableFile(exc.line, exc.message, source) from exc
    name = local_name(root)
    line = root.sourceline
    if name.startswith("qti-"):
        raise UnreadableFile(line, qti3_message(), source)
    if name == "questestinterop":
        raise UnreadableFile(line, qti1_message(), source)
    if name == "assessmentTest":
        raise UnreadableFile(
            line,
            _("this is a QTI test, not an item: import the whole content package (.zip)"),
            source,
        )
    if name == "manifest":
        raise UnreadableFile(
            line,
            _("this is the manifest of a content package: import the package's .zip file"),
            source,
        )
    if name != "assessmentItem":
        raise UnreadableFile(
            line,
            _("this is not a QTI item: its first element is <%(name)s>, not <assessmentItem>")
            % {"name": name},
            source,
        )
    namespace = etree.QName(root).namespace
    if namespace and namespace not in QTI2_NAMESPACES:
        raise UnreadableFile(
            line,
            _("this QTI item is in an unknown version (%(namespace)s); export it as QTI 2.1")
            % {"namespace": namespace},
            source,
        )
    return root


def qti3_message() -> str:
    return _("this is a QTI 3.0 item, which is not read here; export the items as QTI 2.1")


def qti1_message() -> str:
    return _("this is a QTI 1.2 file, which is not read here; export the items as QTI 2.1")


# Identifiers ----------------------------------------------------------------------------------

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{8}|[0-9A-Fa-f]{4})_")
# ASCII only, though XML allows more: TAO and qti-sdk check identifiers against ASCII patterns.
_NAME_START = re.compile(r"[A-Za-z_]")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.\-]")


def qti_identifier(code: str) -> str:
    """Return the code as a QTI identifier (an ASCII XML name), escaping what a name cannot hold.

    A code that is already such a name is kept as it is; `decoded_identifier` undoes the rest.
    """
    out = []
    for index, char in enumerate(code):
        allowed = (_NAME_START if index == 0 else _NAME_CHAR).fullmatch(char)
        # An underscore that would read as the start of an escape is escaped itself.
        if allowed and not (char == "_" and _ESCAPE.match(code, index)):
            out.append(char)
        elif ord(char) > 0xFFFF:
            out.append(f"_x{ord(char):08X}_")
        else:
            out.append(f"_x{ord(char):04X}_")
    return "".join(out) or "_"


def decoded_identifier(identifier: str) -> str:
    """Return the text a QTI identifier stands for (undoing `_xHHHH_` escapes)."""
    return _ESCAPE.sub(lambda match: _char(match.group(1)) or match.group(0), identifier)


def _char(hex_digits: str) -> str:
    value = int(hex_digits, 16)
    return chr(value) if 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else ""


# The item -------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _ItemReader:
    """Reads one assessmentItem; `read` returns its Record or its Refusal."""

    def __init__(
        self, root: etree._Element, source: str, open_file: OpenFile, pictures: Pictures
    ) -> None:
        self.root = root
        self.source = source
        self.open_file = open_file
        self.pictures = pictures
        self.line = root.sourceline or 1
        fallback = root.get("title") or posixpath.basename(source) or "item"
        self.code = item_code(decoded_identifier(root.get("identifier") or ""), fallback)
        self.lost: list[str] = []

    def read(self) -> Record | Refusal:
        try:
            fields, picture = self._fields()
        except _Refused as refused:
            return Refusal(self.line, self.code, refused.reason, self.source)
        if picture is not None:
            fields["image"] = self.pictures.add(*picture)
        return Record(self.line, fields, _unique(self.lost), self.source)

    def _fields(self) -> tuple[dict, tuple[str, bytes] | None]:
        body = child(self.root, "itemBody")
        if body is None:
            raise _Refused(not_a_kind("description"))
        interaction = _the_interaction(body)
        self._note_losses()
        guide = self._guide(body)
        declaration = self._declaration(interaction)
        name = local_name(interaction)
        fields = {"code": self.code, "topic": "", "topic_name": ""}
        if name == "choiceInteraction":
            fields.update(self._choice(body, interaction, declaration))
        elif name == "textEntryInteraction":
            fields.update(self._fill_in(body, interaction, declaration))
        else:
            fields.update(self._free_text(body, interaction, declaration, guide))
        if guide and fields["kind"] != "free_text":
            fields["guide"] = guide
        if not fields["stem"]:
            raise _Refused(_("the item has no question text"))
        picture = self._picture(fields.pop("_pictures"))
        return fields, picture

    # What is lost ------------------------------------------------------------------------

    def _note_losses(self) -> None:
        names = {local_name(node) for node in self.root.iter()}
        if names & FEEDBACK_ELEMENTS:
            self.lost.append(str(LOST["feedback"]))
        if names & HINT_ELEMENTS:
            self.lost.append(str(LOST["hints"]))

    def _declaration(self, interaction: etree._Element) -> etree._Element | None:
        wanted = interaction.get("responseIdentifier")
        declarations = children(self.root, "responseDeclaration")
        for declaration in declarations:
            if declaration.get("identifier") == wanted:
                return declaration
        return declarations[0] if len(declarations) == 1 else None

    def _scoring(self, declaration: etree._Element | None) -> list[tuple[str, float]]:
        """Return the mapping's entries, noting partial credit, penalties and case."""
        if declaration is None:
            return []
        if any(
            (node.get("caseSensitive") or "").strip().lower() == "true"
            for node in [*declaration.iter(), *self._processing()]
        ):
            self.lost.append(str(LOST["case"]))
        mapping = child(declaration, "mapping")
        if mapping is None:
            return []
        entries = [
            (entry.get("mapKey") or "", _number(entry.get("mappedValue")))
            for entry in children(mapping, "mapEntry")
        ]
        values = [value for _key, value in entries]
        if any(value < 0 for value in values) or _number(mapping.get("defaultValue")) < 0:
            self.lost.append(str(LOST["penalty"]))
        if len({value for value in values if value > 0}) > 1:
            self.lost.append(str(LOST["weights"]))
        return entries

    def _processing(self) -> list[etree._Element]:
        processing = child(self.root, "responseProcessing")
        return list(processing.iter()) if processing is not None else []

    # The guide -------------------------------------------------------------------------

    def _guide(self, body: etree._Element) -> str:
        """Return the text of the rubrics the candidate never sees, the bank's marking guide.

        A rubric for the candidate ("answer in mmol/L") is part of what the candidate reads with
        the question, so it stays in the stem; one for a scorer or tutor is for the committee,
        which is what the bank's guide is.
        """
        texts = []
        for rubric in descendants(body, "rubricBlock"):
            if _for_markers(rubric):
                text = _text(rubric)
                self.lost.extend(text.lost)
                if text.text:
                    texts.append(text.text)
        return "\n\n".join(texts)

    # The kinds -------------------------------------------------------------------------

    def _choice(self, body, interaction, declaration) -> dict:
        choices = children(interaction, "simpleChoice")
        if any(descendants(choice, "img") for choice in choices):
            raise _Refused(_("a picture in an option; options here are text"))
        letters = {choice.get("identifier"): _letter(n) for n, choice in enumerate(choices)}
        entries = self._scoring(declaration)
        right = _correct_values(declaration) or [key for key, value in entries if value > 0]
        key = _unique([letters[value] for value in right if value in letters])
        # How many options and right answers an item may have is the bank's rule, checked by the
        # importer with the bank's words for every format alike.
        single = (interaction.get("maxChoices") or "1").strip() == "1"
        reason = _reason_block(body) if single else None
        stem = self._stem(body, interaction, drop=[reason] if reason is not None else [])
        fields = {"stem": stem.text, "_pictures": stem.pictures, "key": key}
        if reason is not None:
            reason_text = _text(reason)
            self.lost.extend(reason_text.lost)
            fields.update(kind="cause_effect", reason=reason_text.text)
            return fields
        options = []
        for choice in choices:
            text = _text(choice)
            self.lost.extend(text.lost)
            options.append({"id": letters[choice.get("identifier")], "text": text.text})
        fields.update(kind="single" if single else "multiple", options=options)
        return fields

    def _fill_in(self, body, interaction, declaration) -> dict:
        entries = self._scoring(declaration)
        # The answers worth the most are the accepted ones, as Moodle XML and GIFT are read: a
        # half-right answer shown to the committee as accepted would mislead it.
        top = max([value for _key, value in entries if value > 0], default=None)
        key = _unique(
            [*_correct_values(declaration), *(key for key, value in entries if value == top)]
        )
        key = [answer for answer in key if answer.strip()]
        if not key:
            raise _Refused(_("the item gives no accepted answer"))
        stem = self._stem(body, interaction, blank=_blank_for(interaction))
        return {"kind": "fill_in", "stem": stem.text, "_pictures": stem.pictures, "key": key}

    def _free_text(self, body, interaction, declaration, guide) -> dict:
        self._scoring(declaration)
        stem = self._stem(body, interaction)
        # Without a rubric, an expected answer given as the correct response is the guide.
        guide = guide or "\n".join(_correct_values(declaration))
        fields = {"kind": "free_text", "stem": stem.text, "_pictures": stem.pictures}
        if guide:
            fields["guide"] = guide
        return fields

    # The stem and its picture ----------------------------------------------------------

    def _stem(self, body, interaction, *, drop=(), blank: str | None = None) -> Text:
        """Return the item body's text as the candidate reads it, without options or rubrics.

        The copy of the body loses what is not the question; a text entry becomes its gap.
        """
        nodes = list(body.iter())
        body = copy.deepcopy(body)
        copies = list(body.iter())
        twin = {id(node): copies[n] for n, node in enumerate(nodes)}
        dropped = [twin[id(node)] for node in drop]
        for node in list(body.iter()):
            name = local_name(node)
            if name in {"simpleChoice", *FEEDBACK_ELEMENTS, *HINT_ELEMENTS, "templateBlock"}:
                dropped.append(node)
            elif name == "rubricBlock" and not _for_candidate(node):
                dropped.append(node)
            elif name == "prompt":
                node.tag = "p"  # a prompt reads as a paragraph of its own
        gap = twin[id(interaction)]
        for node in dropped:
            if node is not gap and _attached(node, body):
                _replace(node, "")
        if blank is not None:
            _replace(gap, blank)
        _collapse_spaces(body)
        text = text_of_element(body)
        self.lost.extend(text.lost)
        return text

    def _picture(self, sources: list[str]) -> tuple[str, bytes] | None:
        if len(sources) > 1:
            raise _Refused(
                _("%(count)d pictures; an item here shows one") % {"count": len(sources)}
            )
        if not sources:
            return None
        return self._fetch(sources[0])

    def _fetch(self, src: str) -> tuple[str, bytes]:
        """Return the picture's file name and bytes, from the package, beside the item."""
        if src.startswith("data:"):
            return _data_uri(src)
        parts = urlsplit(src)
        if parts.scheme or parts.netloc:
            raise _Refused(
                _("the picture %(src)s is a web address; only pictures in the file are read")
                % {"src": src}
            )
        path = posixpath.normpath(posixpath.join(posixpath.dirname(self.source), parts.path))
        if path.startswith(("/", "../")) or path == ".." or not parts.path:
            raise _Refused(_("the picture %(src)s lies outside the package") % {"src": src})
        # Beside the item as the standard says; then from the package's root, where some tools
        # (TestVision) write every path from.
        rooted = posixpath.normpath(parts.path)
        candidates = [unquote(path), path]
        if self.source and not rooted.startswith(("/", "../")) and rooted != "..":
            candidates += [unquote(rooted), rooted]
        data = next(
            (found for found in map(self.open_file, dict.fromkeys(candidates)) if found), None
        )
        if data is None:
            missing = (
                _("the picture %(src)s is not in the package")
                if self.source
                else _("the picture %(src)s is not beside the item file")
            )
            raise _Refused(missing % {"src": src})
        return posixpath.basename(unquote(path)), data


# Helpers --------------------------------------------------------------------------------------


def _the_interaction(body: etree._Element) -> etree._Element:
    """Return the item's one interaction, or refuse the item by what it is."""
    found = [
        node
        for node in body.iter()
        if _is_interaction(node)
        and local_name(node) not in HINT_ELEMENTS
        and not any(_is_interaction(above) for above in node.iterancestors())
    ]
    if not found:
        raise _Refused(not_a_kind("description"))
    names = [local_name(node) for node in found]
    if len(found) > 1:
        kind = "cloze" if set(names) == {"textEntryInteraction"} else "composite"
        raise _Refused(not_a_kind(kind))
    name = names[0]
    if name in {"choiceInteraction", "textEntryInteraction", "extendedTextInteraction"}:
        return found[0]
    if name in FOREIGN_INTERACTIONS:
        raise _Refused(not_a_kind(FOREIGN_INTERACTIONS[name]))
    if name in CUSTOM_INTERACTIONS:
        raise _Refused(not_a_kind(_custom_name(found[0])))
    raise _Refused(not_a_kind(name))


def _is_interaction(node: etree._Element) -> bool:
    name = local_name(node)
    return name.endswith("Interaction") or name in CUSTOM_INTERACTIONS


def _custom_name(node: etree._Element) -> str:
    named = [
        value
        for element in node.iter()
        for attribute, value in element.attrib.items()
        if etree.QName(attribute).localname in {"customInteractionTypeIdentifier", "typeIdentifier"}
    ]
    if named:
        return _("custom interaction “%(name)s”") % {"name": named[0]}
    return _("custom interaction")


def _reason_block(body: etree._Element) -> etree._Element | None:
    for node in descendants(body, "div"):
        if REASON_CLASS in (node.get("class") or "").split():
            return node
    return None


def _blank_for(interaction: etree._Element) -> str:
    """Return what the text entry stands for in the stem: its gap, or nothing after the text.

    The bank's export puts the box of a stem without a gap in a paragraph of class "answer",
    and keeps a gap written other than with five underscores as the box's placeholder.
    """
    parent = interaction.getparent()
    alone = (
        parent is not None
        and ANSWER_CLASS in (parent.get("class") or "").split()
        and len(parent) == 1
        and not (parent.text or "").strip()
        and not (interaction.tail or "").strip()
    )
    if alone:
        return ""
    placeholder = interaction.get("placeholderText") or ""
    return placeholder if re.fullmatch(r"_{3,}", placeholder) else BLANK


def _for_candidate(rubric: etree._Element) -> bool:
    views = (rubric.get("view") or "candidate").split()
    return "candidate" in views


def _for_markers(rubric: etree._Element) -> bool:
    """A rubric for those who mark is the guide; one for authors or test builders is their
    bookkeeping (TestVision writes its metadata there), not the item's."""
    views = (rubric.get("view") or "candidate").split()
    return not _for_candidate(rubric) and bool({"scorer", "tutor"} & set(views))


def _correct_values(declaration: etree._Element | None) -> list[str]:
    if declaration is None:
        return []
    correct = child(declaration, "correctResponse")
    if correct is None:
        return []
    return [(value.text or "").strip() for value in children(correct, "value")]


def _text(element: etree._Element) -> Text:
    """Return an element's text, reading its source's line breaks as HTML does (as spaces)."""
    element = copy.deepcopy(element)
    for node in list(element.iter()):
        if local_name(node) in FEEDBACK_ELEMENTS and node is not element:
            _replace(node, "")
    _collapse_spaces(element)
    return text_of_element(element)


def _collapse_spaces(element: etree._Element) -> None:
    """Fold the XML source's indentation and line breaks into spaces, as a browser does."""

    def walk(node: etree._Element, keep: bool) -> None:
        keep_inside = keep or local_name(node).lower() == "pre"
        if node.text and not keep_inside:
            node.text = re.sub(r"\s+", " ", node.text)
        for kid in node:
            walk(kid, keep_inside)
            if kid.tail and not keep_inside:
                kid.tail = re.sub(r"\s+", " ", kid.tail)

    walk(element, False)


def _replace(node: etree._Element, text: str) -> None:
    """Put text in the element's place, keeping the text that follows it."""
    parent = node.getparent()
    joined = text + (node.tail or "")
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + joined
    else:
        parent.text = (parent.text or "") + joined
    parent.remove(node)


def _attached(node: etree._Element, root: etree._Element) -> bool:
    """Tell whether the node is still in the tree (an ancestor may already have been dropped)."""
    return node is root or any(above is root for above in node.iterancestors())


def _data_uri(src: str) -> tuple[str, bytes]:
    header, _comma, payload = src.partition(",")
    subtype = header[5:].split(";")[0].partition("/")[2] or "png"
    try:
        data = base64.b64decode(payload, validate=False) if ";base64" in header else payload
    except (binascii.Error, ValueError) as exc:
        raise _Refused(_("a picture written into the item cannot be decoded")) from exc
    if isinstance(data, str):
        data = unquote(data).encode("latin-1", "replace")
    return f"picture.{subtype.replace('jpeg', 'jpg').split('+')[0]}", data


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else 0.0
    except ValueError:
        return 0.0


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
