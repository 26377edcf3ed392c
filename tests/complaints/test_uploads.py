"""Supporting files (R-COMP-1): what is refused, with which message, and what is stored instead of what came."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from complaints.uploads import UploadRefused, checked_file, checked_files

from .files import pdf, picture, png_claiming


def test_a_picture_is_reencoded_upright_and_without_its_metadata():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90°": stored upright after
    exif[0x010F] = "CameraMaker"
    checked = checked_file(picture("IMG 0042.JPG", size=(320, 240), exif=exif.tobytes()))
    assert checked.content_type == "image/jpeg" and checked.name == "IMG_0042.jpg" and checked.original_name == "IMG 0042.JPG"
    stored = Image.open(io.BytesIO(checked.content))
    assert stored.format == "JPEG" and stored.size == (240, 320) == (checked.width, checked.height)
    assert not stored.getexif()
    assert b"CameraMaker" not in checked.content


def test_png_stays_png_and_webp_becomes_jpeg():
    assert checked_file(picture("scan.png", kind="PNG")).content_type == "image/png"
    webp = checked_file(picture("scan.webp", kind="WEBP"))
    assert webp.content_type == "image/jpeg" and webp.name == "scan.jpg"


def test_a_plain_pdf_is_stored_as_a_clean_copy_with_its_pages_and_text():
    upload = pdf(text="A letter from the hospital")
    checked = checked_file(upload)
    upload.seek(0)
    original = upload.read()
    assert checked.content_type == "application/pdf" and checked.removed == ()
    assert checked.original_sha256 == hashlib.sha256(original).hexdigest()
    with pikepdf.open(io.BytesIO(checked.content)) as stored:
        assert len(stored.pages) == 1
        assert b"A letter from the hospital" in stored.pages[0].Contents.read_bytes()


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("virus.exe", b"MZ\x90\x00" * 100), "is not accepted: attach pictures (JPEG, PNG, WebP) or PDF"),
    (SimpleUploadedFile("notes.docx", b"PK\x03\x04" * 100), "is not accepted"),
    (SimpleUploadedFile("photo.gif", b"GIF89a" + b"\x00" * 100), "is not accepted"),
    (SimpleUploadedFile("empty.png", b""), "is empty"),
])
def test_other_types_are_refused_by_name(upload, message):
    with pytest.raises(UploadRefused) as refused:
        checked_file(upload)
    assert message in refused.value.message and upload.name in refused.value.message


def test_an_extension_that_lies_is_refused():
    with pytest.raises(UploadRefused, match="named .png but is a JPEG picture"):
        checked_file(picture("photo.png", kind="JPEG"))
    with pytest.raises(UploadRefused, match="named as a PDF but is not one"):
        checked_file(picture("statement.pdf", kind="PNG"))
    upload = pdf("scan.jpg")
    with pytest.raises(UploadRefused, match="could not be read as a picture"):
        checked_file(upload)


def test_an_image_bomb_is_refused_from_its_header_before_decoding():
    with pytest.raises(UploadRefused, match="8000×8000 pixels; pictures may have at most 40 megapixels"):
        checked_file(png_claiming(8000, 8000))
    # Past Pillow's own bomb limit (met while opening) the same refusal, not a crash.
    for side in (30000, 60000):
        with pytest.raises(UploadRefused, match="far too large a picture; pictures may have at most 40 megapixels"):
            checked_file(png_claiming(side, side))


def test_a_damaged_or_truncated_picture_is_refused():
    whole = picture("photo.jpg", size=(640, 480))
    content = whole.read()
    with pytest.raises(UploadRefused, match="could not be read as a picture"):
        checked_file(SimpleUploadedFile("photo.jpg", content[: len(content) // 3]))
    with pytest.raises(UploadRefused, match="could not be read as a picture"):
        checked_file(SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"garbage" * 50))


def test_pdfs_that_are_cut_off_damaged_or_locked_are_refused():
    content = pdf().read()
    with pytest.raises(UploadRefused, match="incomplete PDF"):
        checked_file(SimpleUploadedFile("letter.pdf", content[: len(content) - 200]))
    with pytest.raises(UploadRefused, match="could not be read as a PDF"):
        checked_file(SimpleUploadedFile("letter.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n"))
    locked = io.BytesIO()
    with pikepdf.open(io.BytesIO(content)) as document:
        document.save(locked, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    with pytest.raises(UploadRefused, match="locked by a password"):
        checked_file(SimpleUploadedFile("letter.pdf", locked.getvalue()))


def test_size_bounds_per_file_in_total_and_in_number(settings):
    settings.COMPLAINT_MAX_FILE_BYTES = 10_000_000
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 10_000_000 + b"\n%%EOF")
    with pytest.raises(UploadRefused, match=r"“big.pdf” is 10.0 MB; each file may be at most 10.0 MB"):
        checked_file(big)
    settings.COMPLAINT_MAX_TOTAL_BYTES = 1_000
    with pytest.raises(UploadRefused, match="together; at most 0.0 MB"):
        checked_files([picture("a.jpg"), picture("b.jpg")])
    settings.COMPLAINT_MAX_TOTAL_BYTES = 25_000_000
    with pytest.raises(UploadRefused, match="At most 5 files may be attached; 6 were"):
        checked_files([picture(f"{n}.jpg") for n in range(6)])
    assert len(checked_files([picture(f"{n}.jpg") for n in range(5)])) == 5


def test_a_declared_size_smaller_than_what_was_sent_changes_nothing(settings):
    settings.COMPLAINT_MAX_FILE_BYTES = 2_000
    upload = SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n" + b"0" * 5_000 + b"\n%%EOF")
    upload.size = 100  # the browser's word
    with pytest.raises(UploadRefused, match="is larger than"):
        checked_file(upload)
