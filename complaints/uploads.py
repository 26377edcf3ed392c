"""Supporting files of a complaint: checked, and images re-encoded, before anything is stored (R-COMP-1).

What comes in is whatever a browser sent; what is stored is only what we could read:
- images (JPEG, PNG, WebP) are opened by Pillow, their size in pixels checked from the header
  *before* decoding (an "image bomb" of 30000×30000 is refused without allocating it), decoded in
  full, turned upright and written anew — which also drops EXIF, GPS positions and anything
  hidden after the picture;
- PDFs are checked to be PDFs, complete, and free of scripts, launch actions and embedded files;
  they are stored as sent and only ever served as a download.
The extension must say what the content is: a PNG named .jpg is refused, not guessed.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from exams.errors import ExamError

IMAGE_FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "WEBP": (".webp",)}
PDF_SUFFIXES = (".pdf",)
# PDF features that run or carry something: refused, whatever the rest of the file says.
PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData)\b")


class UploadRefused(ExamError):
    """A supporting file was refused; the message names it and says why."""


@dataclass(frozen=True)
class CheckedFile:
    name: str  # the name to store under: the original stem, the suffix of what is stored
    original_name: str
    content_type: str
    content: bytes
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^\w.-]+", "_", PurePath(name).stem, flags=re.ASCII).strip("._")[:60]
    return stem or "file"


def checked_files(uploads: Sequence[UploadedFile]) -> list[CheckedFile]:
    """Check every upload; refuse them all, naming the first bad one, or return what may be stored."""
    max_files = _limit("COMPLAINT_MAX_FILES", 5)
    max_total = _limit("COMPLAINT_MAX_TOTAL_BYTES", 25_000_000)
    if len(uploads) > max_files:
        raise UploadRefused(_("At most %(n)d files may be attached; %(got)d were.") % {"n": max_files, "got": len(uploads)})
    total = sum(upload.size or 0 for upload in uploads)
    if total > max_total:
        raise UploadRefused(_("The files come to %(size)s together; at most %(max)s may be attached.")
                            % {"size": _megabytes(total), "max": _megabytes(max_total)})
    return [checked_file(upload) for upload in uploads]


def checked_file(upload: UploadedFile) -> CheckedFile:
    name = PurePath(upload.name or "file").name
    max_bytes = _limit("COMPLAINT_MAX_FILE_BYTES", 10_000_000)
    if not upload.size:
        raise UploadRefused(_("“%(name)s” is empty.") % {"name": name})
    if upload.size > max_bytes:
        raise UploadRefused(_("“%(name)s” is %(size)s; each file may be at most %(max)s.")
                            % {"name": name, "size": _megabytes(upload.size), "max": _megabytes(max_bytes)})
    suffix = PurePath(name).suffix.lower()
    if suffix not in PDF_SUFFIXES and not any(suffix in suffixes for suffixes in IMAGE_FORMATS.values()):
        raise UploadRefused(_("“%(name)s” is not accepted: attach pictures (JPEG, PNG, WebP) or PDF documents.")
                            % {"name": name})
    upload.seek(0)
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:  # the size the browser declared was not the size it sent
        raise UploadRefused(_("“%(name)s” is larger than %(max)s.") % {"name": name, "max": _megabytes(max_bytes)})
    if suffix in PDF_SUFFIXES:
        return _checked_pdf(name, content)
    return _reencoded_image(name, suffix, content)


def _checked_pdf(name: str, content: bytes) -> CheckedFile:
    if not content.startswith(b"%PDF-"):
        raise UploadRefused(_("“%(name)s” is named as a PDF but is not one.") % {"name": name})
    if b"%%EOF" not in content[-2048:]:
        raise UploadRefused(_("“%(name)s” is an incomplete PDF (it was cut off); please attach it again.") % {"name": name})
    if PDF_ACTIVE.search(content):
        raise UploadRefused(_("“%(name)s” contains scripts, actions or embedded files; please attach a plain PDF "
                              "(print it to PDF, or attach pictures of its pages).") % {"name": name})
    return CheckedFile(name=f"{_safe_stem(name)}.pdf", original_name=name, content_type="application/pdf", content=content)


def _reencoded_image(name: str, suffix: str, content: bytes) -> CheckedFile:
    damaged = UploadRefused(_("“%(name)s” could not be read as a picture (damaged, or not a picture).") % {"name": name})
    max_pixels = _limit("COMPLAINT_MAX_IMAGE_PIXELS", 40_000_000)
    with warnings.catch_warnings():
        # Pillow warns, then raises, on huge pictures; we refuse on our own, smaller, limit first.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content))
            kind = image.format
            if kind not in IMAGE_FORMATS:
                raise UploadRefused(_("“%(name)s” is a %(kind)s picture; attach JPEG, PNG or WebP.")
                                    % {"name": name, "kind": kind or "?"})
            if suffix not in IMAGE_FORMATS[kind]:
                raise UploadRefused(_("“%(name)s” is named %(suffix)s but is a %(kind)s picture; rename it or save it again.")
                                    % {"name": name, "suffix": suffix, "kind": kind})
            width, height = image.size
            if width * height > max_pixels:
                raise UploadRefused(_("“%(name)s” is %(w)d×%(h)d pixels; pictures may have at most %(mp)d megapixels.")
                                    % {"name": name, "w": width, "h": height, "mp": max_pixels // 1_000_000})
            image.load()
            upright = ImageOps.exif_transpose(image)
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own limit, met when opening: far beyond ours.
            raise UploadRefused(_("“%(name)s” is far too large a picture; pictures may have at most %(mp)d megapixels.")
                                % {"name": name, "mp": max_pixels // 1_000_000}) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise damaged from None
    out = io.BytesIO()
    if kind == "PNG":
        keep = upright if upright.mode in ("RGB", "RGBA", "L", "LA") else upright.convert("RGBA")
        keep.save(out, format="PNG", optimize=True)
        stored_suffix, content_type = ".png", "image/png"
    else:  # JPEG and WebP are stored as JPEG: one lossy format to serve
        upright.convert("RGB").save(out, format="JPEG", quality=90, optimize=True)
        stored_suffix, content_type = ".jpg", "image/jpeg"
    return CheckedFile(name=f"{_safe_stem(name)}{stored_suffix}", original_name=name, content_type=content_type,
                       content=out.getvalue(), width=upright.width, height=upright.height)
