"""Absentee lists as CSV and PDF (R-SCHED-3): seat, name, ticket number and note per room, with
totals per room, test centre, region and the nation.

The PDF needs a TrueType font with Cyrillic letters (Mongolian names): DejaVu Sans or Liberation
Sans where Debian puts them, or the file named by settings.PDF_FONT. Without one the PDF is still
made, with the built-in Helvetica: names are transliterated to Latin and the first line of every
page says so, so that nobody mistakes the spelling for the register's.

Chinese names and a Chinese reader's headings come from Noto Sans CJK SC (fonts-noto-cjk, which
`make install` puts in place), a fallback font fpdf2 takes each character the first font lacks
from. Without it those characters print as "?" and the first line of every page says so: a blank
where a name should be is what nobody may mistake for an empty cell.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import fpdf
from django.conf import settings
from django.utils.translation import gettext as _
from fontTools.ttLib import TTCollection

from exams.models import Sitting
from exams.spreadsheets import csv_bytes

from .absentees import Tally, tally_rows

FONT_PLACES = [
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
]
# Noto Sans CJK: regular and bold collections; the face for Simplified Chinese is found by its name.
CJK_FONT_PLACES = [
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    ),
]
CJK_FACE = "Noto Sans CJK SC"
# Han ideographs and CJK punctuation, which only the CJK font has.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Mongolian Cyrillic to Latin (after MNS 5217:2012), for the fallback only. ö and ü are in Latin-1.
LATIN = dict(
    zip(
        "абвгдеёжзийклмноөпрстуүфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "ye",
            "yo",
            "j",
            "z",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "ö",
            "p",
            "r",
            "s",
            "t",
            "u",
            "ü",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "i",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)
# Punctuation Latin-1 lacks, for the fallback: spelled with what it has rather than shown as "?".
PLAIN_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "…": "...", "“": '"', "”": '"', "‘": "'", "’": "'", "→": "->"}
)


def absentees_csv(nation: Tally) -> bytes:
    """Return the absentees, one a row, with their room's place: region, test centre, room, seat, name, ticket, note."""
    # Every text cell is neutralised by csv_bytes (formula injection), the names typed by people included.
    rows = [
        [region.name, centre.name, room.name, a.seat, a.name, a.ticket_number, a.note]
        for region in nation.parts
        for centre in region.parts
        for room in centre.parts
        for a in room.absentees
    ]
    return csv_bytes(
        [
            _("Region"),
            _("Test centre"),
            _("Room"),
            _("Seat"),
            _("Name"),
            _("Ticket number"),
            _("Note"),
        ],
        rows,
    )


def totals_csv(nation: Tally) -> bytes:
    """Return the totals: one row per room, test centre and region, and the national total last."""
    levels = {
        "room": _("room"),
        "test_centre": _("test centre"),
        "region": _("region"),
        "national": _("national"),
    }
    return csv_bytes(
        [_("Level"), _("Region"), _("Test centre"), _("Room"), _("Enrolled"), _("Absent")],
        [[levels[level], *rest] for level, *rest in tally_rows(nation)],
    )


def find_font() -> tuple[str, str | None] | None:
    """Return the regular and (if present) bold TrueType files to use, or None: no Cyrillic font here."""
    configured = getattr(settings, "PDF_FONT", "")
    places = ([(configured, None)] if configured else []) + FONT_PLACES
    for regular, bold in places:
        if Path(regular).is_file():
            return regular, bold if bold and Path(bold).is_file() else None
    return None


@functools.cache
def _face_number(collection: str) -> int | None:
    """The number of the Simplified Chinese face in a font collection, or None."""
    for number, face in enumerate(TTCollection(collection, lazy=True).fonts):
        if face["name"].getDebugName(1) == CJK_FACE:
            return number
    return None


def find_cjk_font() -> tuple[tuple[str, int], tuple[str, int] | None] | None:
    """Return the regular and (if present) bold (file, face number) of Noto Sans CJK SC, or None."""
    for regular, bold in CJK_FONT_PLACES:
        if Path(regular).is_file() and (number := _face_number(regular)) is not None:
            bold_number = _face_number(bold) if Path(bold).is_file() else None
            return (regular, number), ((bold, bold_number) if bold_number is not None else None)
    return None


def transliterate(text: str) -> str:
    """Return `text` in Latin-1: Cyrillic spelled out in Latin letters, anything else left over as "?"."""
    spelled = "".join(
        (LATIN[ch.lower()].capitalize() if ch.isupper() else LATIN[ch])
        if ch.lower() in LATIN
        else ch
        for ch in text
    )
    return spelled.translate(PLAIN_PUNCTUATION).encode("latin-1", "replace").decode("latin-1")


class AbsenteePdf(fpdf.FPDF):
    def __init__(
        self,
        title: str,
        font: tuple[str, str | None] | None,
        cjk_font=None,
        *,
        needs_cjk: bool = False,
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.heading, self.fallback = title, font is None
        # Chinese characters with no font to print them: shown as "?" and said on every page.
        self.cjk_missing = needs_cjk and (font is None or cjk_font is None)
        if font is None:
            self.face = "helvetica"
        else:
            self.face = "body"
            self.add_font(self.face, "", font[0])
            # Without a bold face the table headings use the regular one (fpdf2 insists on a "B" style).
            self.add_font(self.face, "B", font[1] or font[0])
            if cjk_font is not None and needs_cjk:
                (regular, number), bold = cjk_font
                self.add_font("cjk", "", regular, collection_font_number=number)
                self.add_font(
                    "cjk",
                    "B",
                    (bold or (regular, number))[0],
                    collection_font_number=(bold or (regular, number))[1],
                )
                # Each character the first font lacks comes from the CJK font, in the same style.
                self.set_fallback_fonts(["cjk"], exact_match=False)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(self.shown(title))

    def shown(self, value: str) -> str:
        if self.cjk_missing:
            value = CJK.sub("?", value)
        return transliterate(value) if self.fallback else value

    def header(self) -> None:
        self.set_font(self.face, "B", 9)
        self.cell(0, 5, self.shown(self.heading), new_x="LMARGIN", new_y="NEXT")
        if self.fallback:
            self.set_font(self.face, "", 8)
            self.set_text_color(179, 38, 30)
            self.cell(
                0,
                5,
                _(
                    "No font with Cyrillic letters on the server (install fonts-dejavu-core): names are transliterated."
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.set_text_color(0)
        if self.cjk_missing:
            self.set_font(self.face, "", 8)
            self.set_text_color(179, 38, 30)
            self.cell(
                0,
                5,
                self.shown(
                    _(
                        "No font with Chinese characters on the server (install fonts-noto-cjk): they print as “?”."
                    )
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.face, "", 8)
        self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="C")

    def line_of(self, text: str, *, size: float = 10, bold: bool = False, gap: float = 1) -> None:
        self.set_font(self.face, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.shown(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)

    def table_of(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        self.set_font(self.face, "", 9)
        with self.table(
            col_widths=widths, line_height=5, first_row_as_headings=True, text_align="LEFT"
        ) as table:
            for values in [header, *rows]:
                row = table.row()
                for value in values:
                    row.cell(self.shown(str(value)))
        self.ln(3)


def _count(tally: Tally) -> str:
    return _("%(absent)d absent of %(enrolled)d enrolled") % {
        "absent": tally.absent,
        "enrolled": tally.enrolled,
    }


def _needs_cjk(title: str, nation: Tally) -> bool:
    """Whether anything the PDF prints has Chinese characters: its headings (in a Chinese reader's
    language), the places' names, the absentees' names and notes."""
    texts = [title, _("Absentees"), _("Seat")]
    for region in nation.parts:
        texts.append(region.name)
        for centre in region.parts:
            texts.append(centre.name)
            for room in centre.parts:
                texts.append(room.name)
                texts.extend(f"{a.name} {a.note}" for a in room.absentees)
    return any(CJK.search(text) for text in texts)


def absentees_pdf(sitting: Sitting, nation: Tally, *, now: datetime, complete: bool) -> bytes:
    """Return the PDF: per region, test centre and room, the absentees and the totals.

    `complete` is False when the list holds only some rooms (one room's list): then the totals
    above a room would not be the test centre's or region's, and are left out.
    """
    zone = ZoneInfo(sitting.exam.time_zone)
    title = _("Absentees — %(exam)s, %(sitting)s") % {
        "exam": sitting.exam.title,
        "sitting": sitting.name,
    }
    pdf = AbsenteePdf(title, find_font(), find_cjk_font(), needs_cjk=_needs_cjk(title, nation))
    pdf.add_page()
    pdf.line_of(_("Absentees"), size=16, bold=True, gap=2)
    pdf.line_of(
        _("%(exam)s — %(sitting)s, starting %(start)s (%(zone)s). Made %(now)s.")
        % {
            "exam": sitting.exam.title,
            "sitting": sitting.name,
            "start": sitting.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "zone": sitting.exam.time_zone,
            "now": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        },
        size=9,
        gap=4,
    )
    header = [_("Seat"), _("Name"), _("Ticket number"), _("Note")]
    for region in nation.parts:
        for centre in region.parts:
            pdf.line_of(f"{region.name} — {centre.name}", size=12, bold=True)
            for room in centre.parts:
                pdf.line_of(f"{room.name}: {_count(room)}", size=10, bold=True)
                if room.absentees:
                    pdf.table_of(
                        header,
                        [[a.seat, a.name, a.ticket_number, a.note] for a in room.absentees],
                        (14, 52, 30, 94),
                    )
                else:
                    pdf.line_of(_("Nobody absent."), size=9, gap=3)
            if complete:
                pdf.line_of(
                    _("Test centre %(name)s: %(count)s")
                    % {"name": centre.name, "count": _count(centre)},
                    size=9,
                    gap=3,
                )
        if complete:
            pdf.line_of(
                _("Region %(name)s: %(count)s") % {"name": region.name, "count": _count(region)},
                size=10,
                bold=True,
                gap=4,
            )
    if complete:
        levels = {
            "room": _("Room"),
            "test_centre": _("Test centre"),
            "region": _("Region"),
            "national": _("National"),
        }
        pdf.add_page()
        pdf.line_of(_("Totals"), size=14, bold=True, gap=2)
        pdf.table_of(
            [_("Level"), _("Region"), _("Test centre"), _("Room"), _("Enrolled"), _("Absent")],
            [[levels[level], *rest] for level, *rest in tally_rows(nation)],
            (26, 40, 50, 34, 20, 20),
        )
    return bytes(pdf.output())
