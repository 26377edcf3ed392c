"""Supporting files of a complaint: checked, and images re-encoded, before anything is stored (R-COMP-1).

What comes in is whatever a browser sent; what is stored is only what we could read:
- images (JPEG, PNG, WebP) are opened by Pillow, their size in pixels checked from the header
  *before* decoding (an "image bomb" of 30000×30000 is refused without allocating it), decoded,
  turned upright and written anew — which also drops EXIF, GPS positions and anything hidden after
  the picture. Memory is bounded (issue 10, point 19): the pictures are decoded one at a time, a
  JPEG at a reduced scale when it is larger than its share of the complaint's pixel budget, a PNG
  or WebP (decoded in full) only up to COMPLAINT_MAX_DECODED_PIXELS, and each is stored at most at
  its share;
- PDFs are parsed by qpdf (pikepdf), which reads what a PDF reader reads: escaped names
  (/J#61vaScript is /JavaScript), objects inside compressed object streams, scripts in compressed
  streams. A clean copy is written and stored: scripts, actions other than moving within the
  document, launch and link actions, embedded files, XFA forms and media annotations are dropped.
  A PDF qpdf cannot open (damaged, or locked by a password) is refused. PDFs are only ever served
  as a download.
The extension must say what the content is: a PNG named .jpg is refused, not guessed.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

import pikepdf
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from exams.errors import ExamError

IMAGE_FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "WEBP": (".webp",)}
PDF_SUFFIXES = (".pdf",)
# Keys that hold something a reader runs, opens or carries, wherever they are in a PDF: dropped.
PDF_ACTIVE_KEYS = {
    "/AA": "event_actions",
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/EmbeddedFiles": "embedded_files",
    "/EF": "embedded_files",
    "/XFA": "xfa",
    "/Collection": "portfolio",
    "/RichMediaContent": "rich_media",
    "/RichMediaSettings": "rich_media",
}
# Actions that stay in the document: moving to a page, a named step, an article, a layer, a transition.
# Everything else (JavaScript, Launch, URI, SubmitForm, ImportData, GoToR, GoToE, Rendition, …) is dropped.
PDF_SAFE_ACTIONS = {"/GoTo", "/Named", "/Thread", "/SetOCGState", "/Trans"}
# Annotations that play or carry something: taken off their pages.
PDF_ACTIVE_ANNOTATIONS = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}


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
    original_sha256: str = ""  # of what came, when what is stored is a rewritten copy
    removed: tuple[str, ...] = ()  # what a PDF's clean copy left out (for the audit entry)

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
        raise UploadRefused(
            _("At most %(n)d files may be attached; %(got)d were.")
            % {"n": max_files, "got": len(uploads)}
        )
    total = sum(upload.size or 0 for upload in uploads)
    if total > max_total:
        raise UploadRefused(
            _("The files come to %(size)s together; at most %(max)s may be attached.")
            % {"size": _megabytes(total), "max": _megabytes(max_total)}
        )
    # One budget of pixels for all the complaint's pictures, shared out evenly (issue 10, point 19):
    # five 40-megapixel photos cost the server 720 MB at the peak when each was kept whole.
    pictures = sum(
        1 for upload in uploads if PurePath(upload.name or "").suffix.lower() not in PDF_SUFFIXES
    )
    share = _limit("COMPLAINT_MAX_TOTAL_PIXELS", 40_000_000) // max(1, pictures)
    # One at a time: each picture's decoded pixels are freed before the next is read.
    return [checked_file(upload, pixel_share=share) for upload in uploads]


def checked_file(upload: UploadedFile, *, pixel_share: int | None = None) -> CheckedFile:
    name = PurePath(upload.name or "file").name
    max_bytes = _limit("COMPLAINT_MAX_FILE_BYTES", 10_000_000)
    if not upload.size:
        raise UploadRefused(_("“%(name)s” is empty.") % {"name": name})
    if upload.size > max_bytes:
        raise UploadRefused(
            _("“%(name)s” is %(size)s; each file may be at most %(max)s.")
            % {"name": name, "size": _megabytes(upload.size), "max": _megabytes(max_bytes)}
        )
    suffix = PurePath(name).suffix.lower()
    if suffix not in PDF_SUFFIXES and not any(
        suffix in suffixes for suffixes in IMAGE_FORMATS.values()
    ):
        raise UploadRefused(
            _("“%(name)s” is not accepted: attach pictures (JPEG, PNG, WebP) or PDF documents.")
            % {"name": name}
        )
    upload.seek(0)
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:  # the size the browser declared was not the size it sent
        raise UploadRefused(
            _("“%(name)s” is larger than %(max)s.") % {"name": name, "max": _megabytes(max_bytes)}
        )
    if suffix in PDF_SUFFIXES:
        return _checked_pdf(name, content)
    return _reencoded_image(
        name, suffix, content, pixel_share or _limit("COMPLAINT_MAX_TOTAL_PIXELS", 40_000_000)
    )


def _checked_pdf(name: str, content: bytes) -> CheckedFile:
    if not content.startswith(b"%PDF-"):
        raise UploadRefused(_("“%(name)s” is named as a PDF but is not one.") % {"name": name})
    if b"%%EOF" not in content[-2048:]:
        # qpdf would repair it, silently and perhaps without its last pages.
        raise UploadRefused(
            _("“%(name)s” is an incomplete PDF (it was cut off); please attach it again.")
            % {"name": name}
        )
    try:
        with pikepdf.open(io.BytesIO(content)) as document:
            removed = _without_active_parts(document)
            out = io.BytesIO()
            # What is written is what is reachable from the cleaned trailer: the dropped scripts and
            # files are not carried over. Any encryption (an owner password) is removed.
            document.save(out, encryption=False, deterministic_id=True)
        clean = out.getvalue()
        with pikepdf.open(io.BytesIO(clean)) as written:
            left = _without_active_parts(written, report_only=True)
    except pikepdf.PasswordError:
        raise UploadRefused(
            _("“%(name)s” is locked by a password; please attach it without one.") % {"name": name}
        ) from None
    except (pikepdf.PdfError, ValueError, RecursionError):
        raise UploadRefused(
            _(
                "“%(name)s” could not be read as a PDF (damaged); please save or print it to PDF again."
            )
            % {"name": name}
        ) from None
    if (
        left
    ):  # the clean copy is checked as a reader would open it; this never happens, or we refuse
        raise UploadRefused(
            _(
                "“%(name)s” contains scripts, actions or embedded files that could not be removed; please "
                "attach a plain PDF (print it to PDF, or attach pictures of its pages)."
            )
            % {"name": name}
        )
    return CheckedFile(
        name=f"{_safe_stem(name)}.pdf",
        original_name=name,
        content_type="application/pdf",
        content=clean,
        original_sha256=hashlib.sha256(content).hexdigest(),
        removed=tuple(sorted(set(removed))),
    )


def _without_active_parts(document: pikepdf.Pdf, *, report_only: bool = False) -> list[str]:
    """Drop (or, report_only, just name) everything in the PDF that runs, opens or carries something.

    Every object is visited — those inside object streams too, since qpdf has parsed them — and the
    direct dictionaries nested in each, so no place of an action is missed by not being expected.
    """
    found: list[str] = []
    for page in document.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, pikepdf.Array):
            keep = [
                a
                for a in annotations
                if not (
                    isinstance(a, pikepdf.Dictionary)
                    and a.get("/Subtype") in PDF_ACTIVE_ANNOTATIONS
                )
            ]
            if len(keep) != len(annotations):
                found.append("media_or_file_annotation")
                if not report_only:
                    page.obj["/Annots"] = pikepdf.Array(keep)
    for thing in [document.trailer, *document.objects]:
        _clean_object(thing, found, report_only, depth=0)
    return found


def _clean_object(thing: pikepdf.Object, found: list[str], report_only: bool, depth: int) -> None:
    if (
        depth > 64
    ):  # a PDF nests direct objects a few levels deep; far more is an attack on the walk
        raise ValueError("PDF nested too deeply")
    if isinstance(thing, pikepdf.Array):
        for element in thing:
            if isinstance(element, pikepdf.Array | pikepdf.Dictionary) and not element.is_indirect:
                _clean_object(element, found, report_only, depth + 1)
        return
    if not isinstance(thing, pikepdf.Dictionary):
        return
    for key, why in PDF_ACTIVE_KEYS.items():
        if key in thing:
            found.append(why)
            if not report_only:
                del thing[key]
    # An /OpenAction that is a destination (go to page 1) stays; one that is an action is judged as one.
    for key in ("/A", "/Next", "/OpenAction"):
        if key in thing and _is_active_action(thing[key]):
            found.append(_action_name(thing[key]))
            if not report_only:
                del thing[key]
    if (
        thing.get("/Type") == pikepdf.Name.Action
        and _is_active_action(thing)
        and len(thing.keys()) > 2
    ):
        # An action reached some other way: keep the shell (something may point at it), drop its payload.
        found.append(_action_name(thing))
        if not report_only:
            for key in list(thing.keys()):
                if key not in ("/Type", "/S"):
                    del thing[key]
    for key in list(thing.keys()):
        value = thing[key]
        if isinstance(value, pikepdf.Array | pikepdf.Dictionary) and not value.is_indirect:
            _clean_object(value, found, report_only, depth + 1)


def _is_active_action(value: pikepdf.Object) -> bool:
    """Return whether an /A or /Next value holds an action other than the safe ones (an array: any of them)."""
    if isinstance(value, pikepdf.Array):
        return any(_is_active_action(element) for element in value)
    return (
        isinstance(value, pikepdf.Dictionary)
        and str(value.get("/S", "/GoTo")) not in PDF_SAFE_ACTIONS
    )


def _action_name(value: pikepdf.Object) -> str:
    if isinstance(value, pikepdf.Array):
        return next((_action_name(e) for e in value if _is_active_action(e)), "action")
    return f"action:{str(value.get('/S', '/?')).lstrip('/')}"[:40]


def _reencoded_image(name: str, suffix: str, content: bytes, pixel_share: int) -> CheckedFile:
    damaged = UploadRefused(
        _("“%(name)s” could not be read as a picture (damaged, or not a picture).") % {"name": name}
    )
    max_pixels = _limit("COMPLAINT_MAX_IMAGE_PIXELS", 40_000_000)
    max_decoded = _limit("COMPLAINT_MAX_DECODED_PIXELS", 16_000_000)
    target = max(
        1, min(pixel_share, max_decoded)
    )  # the most pixels this picture is decoded and stored at
    with warnings.catch_warnings():
        # Pillow warns, then raises, on huge pictures; we refuse on our own, smaller, limit first.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content))
            kind = image.format
            if kind not in IMAGE_FORMATS:
                raise UploadRefused(
                    _("“%(name)s” is a %(kind)s picture; attach JPEG, PNG or WebP.")
                    % {"name": name, "kind": kind or "?"}
                )
            if suffix not in IMAGE_FORMATS[kind]:
                raise UploadRefused(
                    _(
                        "“%(name)s” is named %(suffix)s but is a %(kind)s picture; rename it or save it again."
                    )
                    % {"name": name, "suffix": suffix, "kind": kind}
                )
            width, height = image.size
            if width * height > max_pixels:
                raise UploadRefused(
                    _(
                        "“%(name)s” is %(w)d×%(h)d pixels; pictures may have at most %(mp)d megapixels."
                    )
                    % {"name": name, "w": width, "h": height, "mp": max_pixels // 1_000_000}
                )
            if kind != "JPEG" and width * height > max_decoded:
                # Only JPEG can be decoded at a reduced scale; a PNG or WebP is decoded whole.
                raise UploadRefused(
                    _(
                        "“%(name)s” is %(w)d×%(h)d pixels; PNG and WebP pictures may have at most "
                        "%(mp)d megapixels. Save it as JPEG, or smaller."
                    )
                    % {"name": name, "w": width, "h": height, "mp": max_decoded // 1_000_000}
                )
            if kind == "JPEG" and width * height > max_decoded:
                # Decode at 1/2, 1/4 or 1/8 of the size, in the JPEG decoder itself: the least
                # reduction within the decoding limit, so the whole picture is never allocated.
                reduction = next(
                    (r for r in (2, 4, 8) if (width // r) * (height // r) <= max_decoded), 8
                )
                image.draft(None, (width // reduction, height // reduction))
            image.load()
            if image.width * image.height > target:  # over its share of the complaint's pixels
                scale = math.sqrt(target / (image.width * image.height))
                image.thumbnail(
                    (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
                )
            ImageOps.exif_transpose(image, in_place=True)  # upright, without a second copy kept
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own limit, met when opening: far beyond ours.
            raise UploadRefused(
                _(
                    "“%(name)s” is far too large a picture; pictures may have at most %(mp)d megapixels."
                )
                % {"name": name, "mp": max_pixels // 1_000_000}
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise damaged from None
    out = io.BytesIO()
    if kind == "PNG":
        keep = image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")
        # Fast compression: optimize=True (zlib level 9, every filter tried) took minutes for five photos.
        keep.save(out, format="PNG", compress_level=1)
        stored_suffix, content_type = ".png", "image/png"
    else:  # JPEG and WebP are stored as JPEG: one lossy format to serve
        # convert() of a picture already in RGB is a full copy: not made.
        (image if image.mode == "RGB" else image.convert("RGB")).save(
            out, format="JPEG", quality=90, optimize=True
        )
        stored_suffix, content_type = ".jpg", "image/jpeg"
    stored_width, stored_height = image.size
    image.close()  # the decoded pixels go now, before the next picture is read
    return CheckedFile(
        name=f"{_safe_stem(name)}{stored_suffix}",
        original_name=name,
        content_type=content_type,
        content=out.getvalue(),
        width=stored_width,
        height=stored_height,
    )
