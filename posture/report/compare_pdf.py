"""A comparison of two assessments as a PDF (fpdf2):
``render_compare_pdf(comparison, before_rgb, after_rgb, ...) -> bytes``.

One A4 page (more when the text runs over): the two aligned photos side by side (from
:func:`posture.compare.align_pair`, so same body scale and feet on one line), the table of
before / after / change with the real-change verdict, the plain-words summaries and warnings.
Same page furniture as :mod:`posture.report.pdf` (:mod:`posture.report.layout`: bundled DejaVu
Sans, user text printed literally, unsupported characters become "?").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from posture.formatting import format_number
from posture.report.layout import (
    FAMILY,
    GREY,
    MARGIN,
    SIGN_NOTE,
    Practice,
    clinic_practice,
    heading,
    new_document,
    paragraph,
    print_jpeg,
    safe_text,
    small_note,
    text_height,
)

# Each aligned photo is printed this wide (mm): two of them (3:4, 91 mm tall) leave room for the
# table and the summaries on the same A4 page.
PHOTO_W = 68.0
PHOTO_GAP = 8.0
# (comparable, real change) -> the table's last column
VERDICTS = {(False, False): "not compared", (False, True): "not compared", (True, False): "no (noise)",
            (True, True): "yes"}
# Highlight of a real change in the table (RGB).
REAL_FILL = (255, 236, 204)

DISCLAIMER = (
    "A change counts as real only when it exceeds both the combined 95% uncertainty of the two "
    "photos and the day-to-day noise band of the measurement. The numbers describe the photos; they "
    "are not a diagnosis."
)


def render_compare_pdf(
    comparison: Any,
    before_rgb: np.ndarray,
    after_rgb: np.ndarray,
    *,
    before_label: str = "Before",
    after_label: str = "After",
    client: str | None = None,
    title: str = "Posture comparison",
    before_notes: str = "",
    after_notes: str = "",
    practice: Practice | None = None,
    manual: tuple[str, ...] = (),
) -> bytes:
    """PDF bytes. ``comparison`` is a :class:`posture.compare.Comparison`; ``before_rgb`` /
    ``after_rgb`` the aligned photos (RGB uint8, e.g. from :func:`posture.compare.align_pair`);
    the labels say when each was taken (they are also the session dates in every page's footer);
    the notes are each session's therapist notes; ``practice`` the clinic and therapist (default the
    clinic settings); ``manual``: the measurements whose change rests on a hand-placed point
    (marked "hand-placed" in the table). Paragraphs are never split across pages and a heading
    never ends a page."""
    pdf = new_document(title, "For the therapist and the client; not a diagnosis.",
                       practice=clinic_practice() if practice is None else practice,
                       client=client, session=f"{before_label} → {after_label}")
    full_w = pdf.w - 2 * MARGIN

    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 9, safe_text(title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 5, safe_text(f"{before_label}   →   {after_label}"), align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    if client:
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(0, 5.5, safe_text(f"Client: {client}"), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.ln(2)

    # the aligned photos, same size, side by side
    top = pdf.get_y()
    h_px, w_px = before_rgb.shape[:2]
    ph = PHOTO_W * h_px / max(w_px, 1)
    x0 = MARGIN + (full_w - 2 * PHOTO_W - PHOTO_GAP) / 2
    for i, (img, label) in enumerate(((before_rgb, before_label), (after_rgb, after_label))):
        x = x0 + i * (PHOTO_W + PHOTO_GAP)
        pdf.image(print_jpeg(np.ascontiguousarray(img), PHOTO_W), x=x, y=top, w=PHOTO_W, h=ph)
        pdf.set_xy(x, top + ph + 1)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.cell(PHOTO_W, 4.5, safe_text(label), align="C")
    pdf.set_xy(MARGIN, top + ph + 7)
    small_note(pdf,
        "Both photos are scaled so that the body has the same height, with the feet on one line. "
        "Sides are the client's own."
    )
    pdf.ln(2)

    heading(pdf, "What changed")
    pdf.set_font(FAMILY, "", 8.5)
    with pdf.table(
        col_widths=(46, 26, 26, 26, 22, 34), text_align="LEFT", line_height=4.2, padding=1.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        first_row_as_headings=True, width=full_w,
    ) as table:
        head = table.row()
        for t in ("Measurement", "Before", "After", "Change", "± (95%)", "Real change?"):
            head.cell(t)
        for ch in comparison.changes.values():
            verdict = VERDICTS[(ch.comparable, ch.real_change)]
            style = FontFace(fill_color=REAL_FILL, emphasis="BOLD") if ch.real_change else None
            row = table.row(style=style)
            row.cell(safe_text(ch.label))
            row.cell(safe_text(format_number(ch.before, ch.unit)))
            row.cell(safe_text(format_number(ch.after, ch.unit)))
            row.cell(safe_text(format_number(ch.delta, ch.unit)))
            row.cell(safe_text(format_number(ch.uncertainty, ch.unit, signed=False)))
            row.cell(safe_text(verdict + (" (hand-placed point)" if ch.name in manual else "")))
    pdf.ln(1)
    small_note(pdf,
        f"{SIGN_NOTE} Change = after - before."
    )

    if manual:
        small_note(pdf, "hand-placed point: the change rests on a landmark the therapist placed by "
                        "hand in one of the photos.")
    pdf.ln(3)

    heading(pdf, "In words")
    for ch in comparison.changes.values():
        pdf.set_font(FAMILY, "B" if ch.real_change else "", 9)
        paragraph(pdf, f"•  {ch.summary}", 4.5)
    if comparison.warnings:
        pdf.ln(2)
        pdf.set_font(FAMILY, "", 8.5)
        heading(pdf, "Warnings", keep_mm=text_height(pdf, f"•  {comparison.warnings[0]}", 4.3) + 10)
        pdf.set_font(FAMILY, "", 8.5)
        for w in comparison.warnings:
            paragraph(pdf, f"•  {w}", 4.3)
    notes = [(before_label, before_notes.strip()), (after_label, after_notes.strip())]
    if any(text for _label, text in notes):
        pdf.ln(2)
        heading(pdf, "Therapist notes")
        for label, text in notes:
            if text:
                pdf.set_font(FAMILY, "B", 9)
                paragraph(pdf, label, 4.6, keep_with_mm=9.0)
                pdf.set_font(FAMILY, "", 9)
                paragraph(pdf, text, 4.6)
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 8.5)
    heading(pdf, "About this comparison", keep_mm=text_height(pdf, DISCLAIMER, 4.3) + 10)
    pdf.set_font(FAMILY, "", 8.5)
    paragraph(pdf, DISCLAIMER, 4.3)
    return bytes(pdf.output())


__all__ = ["render_compare_pdf"]
