"""The report as a PDF (fpdf2): ``render_pdf(report, annotated_rgb) -> bytes``.

Page furniture (font, margins, headings, small print, footer, the printed photo, safe text) is shared
with the comparison PDF: :mod:`posture.report.layout`.
"""

from __future__ import annotations

import numpy as np
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from posture.face import blur_faces as _blur
from posture.report.layout import (
    FAMILY,
    GREY,
    MARGIN,
    RED,
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
from posture.report.model import PHOTO_CHECK_TITLE, Report
from posture.significance import CLEAR_RULE, UNCERTAINTY_COVERS, WITHIN_NOISE

__all__ = ["render_pdf", "safe_text"]

# page geometry (mm, A4 portrait; the margin is layout.MARGIN)
IMAGE_MAX_W = 78.0
IMAGE_MAX_H = 112.0
GAP = 6.0

SUMMARY_HELD = ("Findings and exercises are held back until the therapist confirms that this is how "
                "the client habitually stands: see the photo check below.")

SEVERITY_COLORS = {
    WITHIN_NOISE: (90, 90, 90),
    "mild": (150, 110, 0),
    "moderate": (200, 90, 0),
    "marked": (178, 34, 34),
}


#: the photo key of a side view (annotate draws the plumb line and the offsets, no R/L lines)
SIDE_PHOTO_KEY = (
    "Photo key: dashed pink = plumb line (true vertical through the ankle), pink ticks = each "
    "point's offset ahead of (+) or behind (-) it, orange = ear-shoulder and shoulder-hip lines, "
    "yellow squares = points placed by hand."
)

def render_pdf(report: Report, annotated_rgb: np.ndarray, blur_faces: bool = False,
               practice: Practice | None = None) -> bytes:
    """The report as PDF bytes. ``annotated_rgb`` is the photo to show (e.g. from
    :func:`posture.report.annotate.annotate`); ``blur_faces`` blurs the client's face in it;
    ``practice``: the clinic and therapist printed at the top and in every page's footer (with the
    client and the session date), default the clinic settings (:func:`~.layout.clinic_practice`)."""
    img = np.ascontiguousarray(annotated_rgb)
    if blur_faces and report.face_boxes:
        s = img.shape[1] / max(report.image_size[0], 1)
        boxes = [tuple(round(v * s) for v in b) for b in report.face_boxes]
        img = _blur(img, [(b[0], b[1], b[2], b[3]) for b in boxes])

    pdf = new_document(report.title, report.disclaimer.split(".")[0] + ".",
                       practice=clinic_practice() if practice is None else practice,
                       client=report.client, session=report.date)
    full_w = pdf.w - 2 * MARGIN

    # header
    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 9, safe_text(report.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.set_text_color(*GREY)
    head = [report.date, report.view]
    pdf.multi_cell(0, 5, safe_text("   ·   ".join(head)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if report.client:
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(0, 5.5, safe_text(f"Client: {report.client}"), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)

    # photo (left) with summary and red flags (right)
    top = pdf.get_y()
    h_px, w_px = img.shape[:2]
    iw = IMAGE_MAX_W
    ih = iw * h_px / w_px
    if ih > IMAGE_MAX_H:
        ih = IMAGE_MAX_H
        iw = ih * w_px / h_px
    pdf.image(print_jpeg(img, iw), x=MARGIN, y=top, w=iw, h=ih)
    col_x = MARGIN + iw + GAP
    pdf.set_left_margin(col_x)
    pdf.set_xy(col_x, top)
    heading(pdf, "Summary")
    if report.findings_held:
        pdf.set_font(FAMILY, "", 9)
        pdf.multi_cell(0, 4.6, safe_text(SUMMARY_HELD), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    for f in report.findings:
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(0, 5, safe_text(f.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.set_text_color(*SEVERITY_COLORS.get(f.severity, GREY))
        pdf.multi_cell(0, 4.2, safe_text(f.severity), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)
    pdf.ln(2)
    _red_flags(pdf, report)
    small_note(pdf, SIDE_PHOTO_KEY if report.side_note else
        "Photo key: orange = shoulder line, blue = hip-joint line, dashed white = true "
        "horizontal, dashed pink = plumb line through the ankles, red bracket = short side, "
        "yellow squares = points placed by hand. R/L = the client's right/left."
    )
    pdf.set_left_margin(MARGIN)
    pdf.set_xy(MARGIN, max(pdf.get_y(), top + ih) + 5)

    # the photo check, before any finding
    heading(pdf, PHOTO_CHECK_TITLE)
    pdf.set_font(FAMILY, "", 9)
    for line in report.photo_check_lines():
        pdf.multi_cell(0, 4.5, safe_text(f"•  {line}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    # measurements
    heading(pdf, "Measurements")
    pdf.set_font(FAMILY, "", 8.5)
    with pdf.table(
        col_widths=(44, 54, 46, 36), text_align="LEFT", line_height=4.2, padding=1.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        first_row_as_headings=True, width=full_w,
    ) as table:
        head_row = table.row()
        for t in ("Measurement", "Value (95% ±)", "Side", "Reading"):
            head_row.cell(t)
        for r in report.measurements:
            row = table.row()
            row.cell(safe_text(r.label))
            row.cell(safe_text(r.value + (f"\n{r.detail}" if r.detail else "")))
            row.cell(safe_text(r.side))
            row.cell(safe_text(r.reading))
    small_note(pdf,
        f"Level: {report.level}. Scale: {report.scale}. {SIGN_NOTE} {CLEAR_RULE} {UNCERTAINTY_COVERS}"
        + (f" {report.side_note}" if report.side_note else "")
    )
    pdf.ln(3)

    # findings in full
    heading(pdf, "Findings")
    if report.findings_held:
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 4.8, safe_text(report.findings_held), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.ln(2.5)
    for f in report.findings:
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.multi_cell(0, 5.5, safe_text(f"{f.title} ({f.severity})"), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 4.8, safe_text(f.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 8.5)
        for e in f.evidence:
            pdf.multi_cell(0, 4.3, safe_text(f"•  {e.text}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if f.checks:
            pdf.set_font(FAMILY, "B", 8.5)
            pdf.multi_cell(0, 4.3, "Check by hand:", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FAMILY, "", 8.5)
            for c in f.checks:
                pdf.multi_cell(0, 4.3, safe_text(f"•  {c}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2.5)

    # exercises
    if report.exercises:
        heading(pdf, "Exercises")
        for p in report.exercises:
            ex = p.exercise
            if pdf.will_page_break(22):
                pdf.add_page()
            pdf.set_font(FAMILY, "B", 10)
            pdf.multi_cell(0, 5, safe_text(f"{ex.name}: {p.side_words}, {ex.dose}"),
                           align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FAMILY, "", 9)
            pdf.multi_cell(0, 4.5, safe_text(ex.how), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FAMILY, "", 8.5)
            if ex.cues:
                pdf.multi_cell(0, 4.2, safe_text("Cues: " + "; ".join(ex.cues) + "."),
                               align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if ex.contraindications:
                pdf.set_text_color(*RED)
                pdf.multi_cell(0, 4.2, safe_text("Skip or stop if: "
                                                 + "; ".join(ex.contraindications) + "."),
                               align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.set_text_color(0, 0, 0)
            pdf.set_text_color(*GREY)
            pdf.multi_cell(0, 4.2, safe_text("For: " + "; ".join(p.reasons)), align="L", new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(2)

    if report.notes:
        heading(pdf, "Therapist notes")
        pdf.set_font(FAMILY, "", 9.5)
        paragraph(pdf, report.notes, 4.8)
        pdf.ln(2)

    if report.warnings:
        heading(pdf, "Warnings about this photo")
        pdf.set_font(FAMILY, "", 8.5)
        for w in report.warnings:
            pdf.multi_cell(0, 4.3, safe_text(f"•  {w}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

    pdf.set_font(FAMILY, "", 8.5)
    heading(pdf, "About this report", keep_mm=text_height(pdf, report.disclaimer, 4.3) + 10)
    pdf.set_font(FAMILY, "", 8.5)
    paragraph(pdf, report.disclaimer, 4.3)
    return bytes(pdf.output())


def _red_flags(pdf: FPDF, report: Report) -> None:
    x0, y0 = pdf.get_x(), pdf.get_y()
    w = pdf.w - pdf.r_margin - x0
    pdf.set_x(x0 + 2)
    pdf.set_left_margin(x0 + 2)
    pdf.set_right_margin(pdf.r_margin + 2)
    pdf.set_y(y0 + 2)
    pdf.set_font(FAMILY, "B", 9.5)
    pdf.set_text_color(*RED)
    pdf.multi_cell(0, 4.6, safe_text(report.red_flags_title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FAMILY, "", 8.3)
    for r in report.red_flags:
        pdf.multi_cell(0, 4.0, safe_text(f"•  {r}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y1 = pdf.get_y() + 1.5
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.5)
    pdf.rect(x0, y0, w, y1 - y0)
    pdf.set_line_width(0.2)
    pdf.set_right_margin(pdf.r_margin - 2)
    pdf.set_left_margin(x0)
    pdf.set_xy(x0, y1 + 3)
