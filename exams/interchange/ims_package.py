"""IMS content packages: a zip of QTI 2.1/2.2 items with imsmanifest.xml, as TAO exports them.

A zip from outside is checked before anything in it is read: a member that would land outside
the package (`../x`, `/etc/x`, `C:x`, a backslash, a symbolic link), too many members, or more
bytes than the import limit once uncompressed (by the sizes the zip declares, and again by the
bytes actually read, since a zip can lie about them) refuse the whole file. Nothing is written
to disk: a member is read into memory when an item asks for it.

The manifest's item resources are read one by one; an item that cannot be read is refused on its
own. A test resource (assessmentTest) gives its items their topic: the section's identifier is
the topic's code and its title the topic's name.
"""

from __future__ import annotations

import io
import posixpath
import re
import stat
import zipfile
from urllib.parse import unquote

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from .qti_read import decoded_identifier, qti1_message, qti3_message, read_qti_item
from .records import Pictures, Reading, Refusal, UnreadableFile, item_code
from .safe_xml import children, descendants, local_name, parsed_xml

MANIFEST = "imsmanifest.xml"
MAX_MEMBERS = 10_000
# Text and XML shrink ten or twenty times, pictures hardly at all; a member shrunk more than a
# hundred times is a zip bomb. Below a few kilobytes the ratio says nothing and harms nothing.
MAX_RATIO = 100
RATIO_FLOOR = 4096
CHUNK = 64 * 1024
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# Resource types as the IMS QTI 2.x content-packaging profile and TAO write them (APIP items
# are QTI items with accessibility added).
ITEM_TYPES = {
    "imsqti_item_xmlv2p0",
    "imsqti_item_xmlv2p1",
    "imsqti_item_xmlv2p2",
    "imsqti_apipitem_xmlv2p1",
    "imsqti_apipitem_xmlv2p2",
}
TEST_TYPES = {
    "imsqti_test_xmlv2p1",
    "imsqti_test_xmlv2p2",
    "imsqti_apiptest_xmlv2p1",
    "imsqti_apiptest_xmlv2p2",
    "imsqti_assessment_xmlv2p1",
}
QTI1_TYPE = re.compile(r"imsqti_xmlv1p\d")
QTI3_TYPE = re.compile(r"imsqti_\w*xmlv3p\d")


class UnsafePackage(UnreadableFile):
    """The zip as a whole is refused; never turned into the refusal of one item."""


def read_package(data: bytes, name: str, pictures: Pictures) -> Reading:
    """Return the records and refusals of the package's items; raise UnreadableFile if unsafe."""
    members = Members(data, name)
    root_folder, manifest = _manifest(members)
    reading = Reading()
    items, tests, others = _resources(manifest, root_folder)
    topics = _topics(members, tests, reading)
    seen: set[str] = set()
    for identifier, path in items:
        if path in seen:
            continue
        seen.add(path)
        _read_item(members, identifier, path, topics.get(path), pictures, reading)
    for identifier, path, message in others:
        code = item_code(decoded_identifier(identifier), path or "item")
        reading.refusals.append(Refusal(None, code, message, path))
    return reading


# The zip --------------------------------------------------------------------------------------


class Members:
    """The zip's members, checked at once and read into memory on demand, within the limit."""

    def __init__(self, data: bytes, name: str) -> None:
        self.limit = int(getattr(settings, "ITEM_IMPORT_MAX_BYTES", 20_000_000))
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
            raise UnsafePackage(
                None, _("%(name)s is not a zip file that can be read") % {"name": name}
            ) from exc
        if len(infos) > MAX_MEMBERS:
            raise UnsafePackage(
                None,
                _("the zip holds %(count)d files; a package may hold at most %(limit)d")
                % {"count": len(infos), "limit": MAX_MEMBERS},
            )
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            _check_member(info)
            key = posixpath.normpath(info.filename)
            if not info.is_dir():
                # Two members of one name: which one a tool unpacks last is anyone's guess.
                if key in self.infos:
                    raise UnsafePackage(
                        None, _("the zip holds %(name)s twice") % {"name": info.filename}
                    )
                self.infos[key] = info
        declared = sum(info.file_size for info in self.infos.values())
        if declared > self.limit:
            raise UnsafePackage(None, self._too_large())
        self.read_so_far = 0
        self._cache: dict[str, bytes] = {}

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, path: str) -> bytes | None:
        """Return the member at this path from the package's root, or None when it is absent."""
        path = posixpath.normpath(path) if path else path
        info = self.infos.get(path)
        if info is None:
            return None
        if path not in self._cache:
            self._cache[path] = self._read(info)
        return self._cache[path]

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        chunks, size = [], 0
        try:
            with self.zip.open(info) as member:
                while chunk := member.read(CHUNK):
                    size += len(chunk)
                    self.read_so_far += len(chunk)
                    # The declared sizes were checked; a member that holds more lies about them.
                    if size > info.file_size or self.read_so_far > self.limit:
                        raise UnsafePackage(None, self._too_large(), info.filename)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            # A damaged or encrypted member: the zip says one thing and holds another.
            raise UnsafePackage(
                None,
                _("%(name)s in the zip cannot be read: %(error)s")
                % {"name": info.filename, "error": exc},
                info.filename,
            ) from exc
        return b"".join(chunks)

    def _too_large(self) -> str:
        return _(
            "the zip holds more than %(limit)d MB once unpacked; split it into smaller ones"
        ) % {"limit": self.limit // 1_000_000 or 1}


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse a member that would land outside the package, is a link, or is a zip bomb."""
    name = info.filename
    escapes = (
        "\\" in name
        or "\x00" in name
        or name.startswith("/")
        or re.match(r"^[A-Za-z]:", name)
        or ".." in name.split("/")
    )
    if escapes:
        raise UnsafePackage(
            None,
            _("the zip holds %(name)s, a path outside the package; it is refused") % {"name": name},
            name,
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafePackage(
            None, _("the zip holds %(name)s, a link to another file") % {"name": name}, name
        )
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise UnsafePackage(
            None,
            _("%(name)s in the zip unpacks to more than %(ratio)d times its size (a zip bomb)")
            % {"name": name, "ratio": MAX_RATIO},
            name,
        )


# The manifest ---------------------------------------------------------------------------------


def _manifest(members: Members) -> tuple[str, etree._Element]:
    """Return the package's folder in the zip ("" at its root) and the manifest's root."""
    folder = ""
    data = members.read(MANIFEST)
    if data is None:
        # A package zipped from its folder has the manifest one level down.
        nested = [name for name in members.names() if re.fullmatch(r"[^/]+/imsmanifest\.xml", name)]
        if len(nested) == 1:
            folder = nested[0].rpartition("/")[0]
            data = members.read(nested[0])
    if data is None:
        raise UnreadableFile(
            None,
            _("the zip has no imsmanifest.xml: it is not an IMS content package (QTI export)"),
        )
    source = posixpath.join(folder, MANIFEST)
    try:
        root = parsed_xml(data)
    except UnreadableFile as exc:
        raise UnreadableFile(exc.line, exc.message, source) from exc
    if local_name(root) != "manifest":
        raise UnreadableFile(
            root.sourceline, _("imsmanifest.xml is not an IMS content package manifest"), source
        )
    return folder, root


def _resources(manifest: etree._Element, folder: str):
    """Return the item resources, the test resources and the refused ones, in manifest order."""
    items, tests, others = [], [], []
    for resource in descendants(manifest, "resource"):
        kind = (resource.get("type") or "").strip().lower()
        identifier = resource.get("identifier") or ""
        path = _resource_path(resource, folder)
        if kind in ITEM_TYPES:
            items.append((identifier, path))
        elif kind in TEST_TYPES:
            tests.append((identifier, path))
        elif QTI1_TYPE.search(kind):
            others.append((identifier, path, qti1_message()))
        elif QTI3_TYPE.search(kind):
            others.append((identifier, path, qti3_message()))
    return items, tests, others


def _resource_path(resource: etree._Element, folder: str) -> str:
    href = resource.get("href") or next(
        (file.get("href") for file in children(resource, "file") if file.get("href")), ""
    )
    bases = [
        node.get(XML_BASE) or ""
        for node in reversed([resource, *resource.iterancestors()])
        if node.get(XML_BASE)
    ]
    return _joined(folder, *bases, unquote(href)) if href else ""


def _joined(*parts: str) -> str:
    path = posixpath.normpath(posixpath.join(*[part for part in parts if part] or [""]))
    return "" if path == "." else path


def _inside(path: str) -> bool:
    return bool(path) and not path.startswith(("/", "../")) and path != ".."


# Tests: the items' topics ---------------------------------------------------------------------


def _topics(members: Members, tests, reading: Reading) -> dict[str, tuple[str, str]]:
    """Return (topic code, topic name) for each item file a test's sections hold."""
    topics: dict[str, tuple[str, str]] = {}
    for identifier, path in tests:
        data = members.read(path) if _inside(path) else None
        if data is None:
            continue  # the items are still read, without the test's sections
        try:
            root = parsed_xml(data)
        except UnsafePackage:
            raise
        except UnreadableFile as exc:
            reading.refusals.append(
                Refusal(
                    exc.line,
                    item_code(decoded_identifier(identifier), path),
                    _("the test's sections cannot be read (%(error)s); its items have no topic")
                    % {"error": exc.message},
                    path,
                )
            )
            continue
        folder = posixpath.dirname(path)
        for section in descendants(root, "assessmentSection"):
            topic = (
                decoded_identifier(section.get("identifier") or ""),
                section.get("title") or "",
            )
            for ref in children(section, "assessmentItemRef"):
                href = _joined(folder, unquote(ref.get("href") or ""))
                # An item in two sections keeps the first one's topic.
                topics.setdefault(href, topic)
    return topics


# Items ----------------------------------------------------------------------------------------


def _read_item(members, identifier, path, topic, pictures, reading: Reading) -> None:
    code = item_code(decoded_identifier(identifier), path or "item")
    if not _inside(path):
        reason = _("the item file %(path)s lies outside the package") % {"path": path or "?"}
        reading.refusals.append(Refusal(None, code, reason, path))
        return
    data = members.read(path)
    if data is None:
        reason = _("the item file %(path)s is not in the package") % {"path": path}
        reading.refusals.append(Refusal(None, code, reason, path))
        return
    try:
        item = read_qti_item(data, path, members.read, pictures)
    except UnsafePackage:
        raise
    except UnreadableFile as exc:
        reading.refusals.append(Refusal(exc.line, code, exc.message, path))
        return
    for record in item.records:
        if topic is not None:
            record.fields["topic"], record.fields["topic_name"] = topic
        reading.records.append(record)
    reading.refusals.extend(item.refusals)
