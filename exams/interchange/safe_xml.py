"""Parsing XML from outside without letting it reach anything: no DTD, no entity, no network.

A file from another system is read as data only. libxml2 is told to load no DTD, expand no entity
and fetch nothing; a file that declares entities of its own (the "billion laughs" and the
external-entity tricks) is refused outright rather than read with them left out.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from lxml import etree

from .records import UnreadableFile


def _parser() -> etree.XMLParser:
    # A parser per call: lxml's parsers keep state and are not shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,  # libxml2's own limits on depth and text size stay on
        remove_comments=True,
        remove_pis=True,
    )


def parsed_xml(data: bytes) -> etree._Element:
    """Return the document's root element, or raise UnreadableFile with the line and the reason."""
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno and exc.lineno > 0 else None
        raise UnreadableFile(
            line, _("the file is not well-formed XML: %(error)s") % {"error": exc.msg}
        ) from exc
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _entity in dtd.iterentities()):
        raise UnreadableFile(
            1, _("the file declares XML entities of its own, which are never read here")
        )
    return tree.getroot()


def local_name(element: etree._Element) -> str:
    """Return the element's name without its namespace ("choiceInteraction")."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # a comment or processing instruction
    try:
        return etree.QName(tag).localname
    except ValueError:
        return ""  # HTML's parser makes an element of a stray "<y" that no name can hold


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Return the element's children of this local name, whatever their namespace."""
    return [child for child in element if local_name(child) == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    found = children(element, name)
    return found[0] if found else None


def descendants(element: etree._Element, name: str) -> list[etree._Element]:
    return [node for node in element.iter() if local_name(node) == name]
