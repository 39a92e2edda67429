"""The page furniture both PDFs share (the report, :mod:`.pdf`, and the comparison, :mod:`.compare_pdf`).

The bundled DejaVu Sans font (``fonts/``, Bitstream Vera licence) prints °, ± and accented names.
User text prints literally: no markdown or HTML is interpreted, characters the font lacks (emoji)
become "?", and long unbroken strings wrap at the page edge (:func:`safe_text`).
"""

from __future__ import annotations

import functools
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from posture.text import strip_invisible

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"

# page geometry (mm, A4 portrait)
MARGIN = 15.0
# the automatic page break leaves this much (mm) at the bottom for the footer
BOTTOM_MARGIN = 18.0

RED = (178, 34, 34)
GREY = (90, 90, 90)


@functools.cache
def _charset() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_REGULAR), lazy=True) as f:
        cmap = f.getBestCmap()
    return frozenset(cmap)


def safe_text(text: str) -> str:
    """Text the bundled font can print: NFC-normalised, tabs -> spaces, control and bidi characters
    removed (:func:`posture.text.strip_invisible`), other
    unsupported characters (emoji, ...) -> '?'. (fpdf2's multi_cell breaks an unbroken run of
    characters longer than the line by itself, so long strings wrap without changes.)"""
    cs = _charset()
    out = []
    # control, bidi-override/isolate and direction-mark characters dropped first (posture.text)
    for ch in strip_invisible(text, multiline=True).replace("\t", "    "):
        if ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            # controls, joiners/variation selectors, lone surrogates, private use, unassigned
            if ch in "\u200d\ufe0f\ufe0e":
                continue
            out.append("?")
        elif ord(ch) in cs:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


@dataclass(frozen=True)
class Practice:
    """Who hands the report out: the clinic, the therapist, the clinic's logo (a PNG file), from
    the clinic settings (:func:`clinic_practice`). Empty fields print nothing."""

    clinic: str = ""
    therapist: str = ""
    logo: Path | None = None

    @property
    def empty(self) -> bool:
        return not (self.clinic or self.therapist or self.logo)


def clinic_practice() -> Practice:
    """The practice saved on the Settings page (``posture.settings``, in the data directory); no
    settings saved: an empty practice. A PDF made without an explicit practice uses this one."""
    from posture.settings import load_settings, logo_path

    s = load_settings()
    return Practice(clinic=s.clinic, therapist=s.therapist, logo=logo_path(s))


# the letterhead's logo box (mm): at most this tall and wide, top right of the first page
LOGO_H = 14.0
LOGO_MAX_W = 45.0


class Doc(FPDF):  # type: ignore[misc]
    """An A4 page in mm with the posture footer on every page: who and when (clinic, therapist,
    client, session date: ``who_text``), ``footer_text`` and page x/N."""

    footer_text = ""
    who_text = ""

    def footer(self) -> None:
        self.set_y(-13 if self.who_text else -12)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*GREY)
        if self.who_text:
            self.multi_cell(0, 3.5, self.who_text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.multi_cell(0, 3.5, self.footer_text + f"   Page {self.page_no()}/{{nb}}",
                        align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)


def who_line(practice: Practice, client: str | None, session: str | None) -> str:
    """The footer's "who and when": clinic · Therapist: … · Client: … · session date."""
    parts = [practice.clinic,
             f"Therapist: {practice.therapist}" if practice.therapist else "",
             f"Client: {client.strip()}" if client and client.strip() else "",
             session or ""]
    return "   ·   ".join(p for p in parts if p)


def new_document(title: str, footer: str, *, practice: Practice | None = None,
                 client: str | None = None, session: str | None = None) -> Doc:
    """A4 portrait, the bundled font, the margins, the footer (with the practice, the client and
    the session date on every page); the first page added with the practice's letterhead (logo,
    clinic, therapist) at its top. ``practice`` None: the clinic settings (:func:`clinic_practice`),
    so that every PDF carries them; ``Practice()`` prints none."""
    pdf = Doc(orientation="P", unit="mm", format="A4")
    pdf.footer_text = safe_text(footer)
    practice = practice if practice is not None else clinic_practice()
    pdf.who_text = safe_text(who_line(practice, client, session))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=BOTTOM_MARGIN)
    pdf.add_font(FAMILY, "", str(FONT_REGULAR))
    pdf.add_font(FAMILY, "B", str(FONT_BOLD))
    pdf.set_title(safe_text(title))
    pdf.set_creator("posture")
    pdf.alias_nb_pages()
    pdf.add_page()
    letterhead(pdf, practice)
    return pdf


def letterhead(pdf: FPDF, practice: Practice) -> None:
    """The clinic's logo (top right) and its name and therapist (top left); nothing when empty.
    A logo that cannot be read is left out (the names still print)."""
    if practice.empty:
        return
    top = pdf.get_y()
    logo_w = 0.0
    if practice.logo is not None:
        try:
            with Image.open(practice.logo) as im:
                w_px, h_px = im.size
            logo_w = min(LOGO_MAX_W, LOGO_H * w_px / max(h_px, 1))
            pdf.image(str(practice.logo), x=pdf.w - pdf.r_margin - logo_w, y=top, w=logo_w,
                      h=logo_w * h_px / max(w_px, 1))
        except (OSError, ValueError, RuntimeError):
            logo_w = 0.0
    text_w = pdf.w - pdf.l_margin - pdf.r_margin - (logo_w + 4 if logo_w else 0)
    if practice.clinic:
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(text_w, 5.5, safe_text(practice.clinic), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    if practice.therapist:
        pdf.set_font(FAMILY, "", 9)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(text_w, 4.5, safe_text(f"Therapist: {practice.therapist}"), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(pdf.get_y(), top + (LOGO_H if logo_w else 0)) + 3)


SIGN_NOTE = (
    "Tilts: positive = client's right side lower; shifts: positive = toward the client's right."
)


def small_note(pdf: FPDF, text: str) -> None:
    """A line of small grey print under a photo or a table (keys, conventions)."""
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 3.6, safe_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


# A heading starts a new page unless this much (mm) fits below it: the heading itself (~9 mm) and
# three lines or a table's heading row and first row, so that a heading never ends a page alone.
HEADING_KEEP_MM = 24.0


def heading(pdf: FPDF, text: str, keep_mm: float = HEADING_KEEP_MM) -> None:
    """A section title with a rule under it, on a new page when less than ``keep_mm`` (the title
    and the start of what follows it) fits on this one: no heading alone at the bottom."""
    if pdf.will_page_break(keep_mm):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, safe_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y()
    pdf.set_draw_color(200, 200, 200)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(1.5)


def text_height(pdf: FPDF, text: str, line_h: float) -> float:
    """How tall (mm) ``text`` prints full-width in the current font."""
    lines = pdf.multi_cell(0, line_h, safe_text(text), align="L", dry_run=True, output="LINES")
    return float(len(lines) * line_h)


def paragraph(pdf: FPDF, text: str, line_h: float, keep_with_mm: float = 0.0) -> None:
    """``text`` as one paragraph in the current font, kept on ONE page (a new page first when it
    would not fit in what is left of this one, unless it is longer than a whole page);
    ``keep_with_mm``: room to keep for what must stay with it (e.g. its heading)."""
    clean = safe_text(text)
    need = text_height(pdf, clean, line_h) + keep_with_mm
    usable = pdf.h - pdf.t_margin - pdf.b_margin
    if need <= usable and pdf.will_page_break(need):
        pdf.add_page()
    pdf.multi_cell(0, line_h, clean, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# The photo is printed about 8 cm wide: 200 dpi is plenty, and a JPEG passes through fpdf2 as is
# (a 2048 px PNG costs ~0.25 s to encode and again to compress).
PRINT_DPI = 200
PRINT_JPEG_QUALITY = 90


def print_jpeg(rgb: np.ndarray, width_mm: float) -> io.BytesIO:
    """The photo resized to print resolution, as JPEG bytes without metadata."""
    target_w = int(width_mm / 25.4 * PRINT_DPI)
    im = Image.fromarray(rgb)
    if im.width > target_w:
        im = im.resize((target_w, max(1, round(im.height * target_w / im.width))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=PRINT_JPEG_QUALITY)
    buf.seek(0)
    return buf
