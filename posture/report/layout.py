"""The page furniture both PDFs share (the report, :mod:`.pdf`, and the comparison, :mod:`.compare_pdf`).

The bundled DejaVu Sans font (``fonts/``, Bitstream Vera licence) prints °, ± and accented names.
User text prints literally: no markdown or HTML is interpreted, characters the font lacks (emoji)
become "?", and long unbroken strings wrap at the page edge (:func:`safe_text`).
"""

from __future__ import annotations

import functools
import io
import unicodedata
from pathlib import Path

import numpy as np
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

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
    """Text the bundled font can print: NFC-normalised, tabs -> spaces, other control and
    unsupported characters (emoji, ...) -> '?'. (fpdf2's multi_cell breaks an unbroken run of
    characters longer than the line by itself, so long strings wrap without changes.)"""
    cs = _charset()
    out = []
    for ch in unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\t", "    ")):
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


class Doc(FPDF):  # type: ignore[misc]
    """An A4 page in mm with the posture footer (``footer_text`` + page x/N)."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*GREY)
        self.multi_cell(0, 3.5, self.footer_text + f"   Page {self.page_no()}/{{nb}}",
                        align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)


def new_document(title: str, footer: str) -> Doc:
    """A4 portrait, the bundled font, the margins, the footer; the first page added."""
    pdf = Doc(orientation="P", unit="mm", format="A4")
    pdf.footer_text = safe_text(footer)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=BOTTOM_MARGIN)
    pdf.add_font(FAMILY, "", str(FONT_REGULAR))
    pdf.add_font(FAMILY, "B", str(FONT_BOLD))
    pdf.set_title(safe_text(title))
    pdf.set_creator("posture")
    pdf.alias_nb_pages()
    pdf.add_page()
    return pdf


SIGN_NOTE = (
    "Tilts: positive = client's right side lower; shifts: positive = toward the client's right."
)


def small_note(pdf: FPDF, text: str) -> None:
    """A line of small grey print under a photo or a table (keys, conventions)."""
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 3.6, safe_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def heading(pdf: FPDF, text: str) -> None:
    """A section title with a rule under it (on a new page when it would sit at the bottom)."""
    if pdf.will_page_break(14):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, safe_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y()
    pdf.set_draw_color(200, 200, 200)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(1.5)


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
