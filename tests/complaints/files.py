"""Supporting files for complaint tests: real pictures and PDFs, and the bad ones a browser may send."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF
from PIL import Image


def picture(name: str = "photo.jpg", *, kind: str = "JPEG", size=(320, 240), exif: bytes | None = None) -> SimpleUploadedFile:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 40, 40))
    options = {"exif": exif} if exif else {}
    image.save(out, format=kind, **options)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def pdf(name: str = "letter.pdf", text: str = "A letter from the hospital") -> SimpleUploadedFile:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text)
    return SimpleUploadedFile(name, bytes(document.output()), content_type="application/pdf")


def png_claiming(width: int, height: int, name: str = "bomb.png") -> SimpleUploadedFile:
    """A tiny PNG whose header claims a huge picture: what an "image bomb" looks like before decoding."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    content = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    return SimpleUploadedFile(name, content, content_type="image/png")
