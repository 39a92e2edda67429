"""One PDF for a visit: ``visit_pdf(visit, photos) -> bytes``.

For each view, in the visit's order (front, back, left side, right side), under a heading that names
the view: the photo with its lines (front/back: :func:`posture.report.annotate.annotate`; side views:
:func:`annotate_side`, the plumb line through the ankle and the ear, shoulder, hip and knee points),
the view's table (value ± its 95% uncertainty, the side in words, clear or within noise by the one
rule) and its own findings; then the findings across views, each with the views it rests on, and
the exercises for all of them. Page furniture from :mod:`posture.report.layout`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import cv2
import numpy as np
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from posture.findings import DISCLAIMER, counts, select_exercises
from posture.findings.across import HYPOTHESIS
from posture.formatting import format_value
from posture.pose import Landmark as L
from posture.report.annotate import AnnotateOptions, _dashed, _line, _text, annotate
from posture.report.layout import (
    FAMILY,
    GREY,
    MARGIN,
    SIGN_NOTE,
    heading,
    new_document,
    print_jpeg,
    safe_text,
    small_note,
)
from posture.sides import View
from posture.sideview import NOT_CVA_NOTE, SIGN_CONVENTION
from posture.significance import CLEAR_RULE, WITHIN_NOISE

if TYPE_CHECKING:
    from posture.analysis import Analysis
    from posture.exam import Visit
    from posture.imaging import Photo

__all__ = ["annotate_side", "visit_pdf"]

# printed photo size (mm): a view's photo beside its findings
PHOTO_MAX_W: Final = 62.0
PHOTO_MAX_H: Final = 95.0
GAP: Final = 6.0

SIDE_PARTS: Final = ("EAR", "SHOULDER", "HIP", "KNEE")
SIDE_KEY: Final = (
    "Photo key: dashed pink = true vertical through the ankle (plumb line); green dots = ear, shoulder, "
    "hip, knee and ankle of the side measured, joined in white."
)
FRONT_KEY: Final = (
    "Photo key: orange = shoulder line, blue = hip-joint line, dashed white = true horizontal, dashed "
    "pink = plumb line through the ankles. R/L = the client's right/left."
)


def annotate_side(photo: Photo, analysis: Analysis, options: AnnotateOptions | None = None) -> np.ndarray:
    """A side view drawn on a copy of ``photo.rgb`` (working-copy size): the TRUE vertical through
    the ankle (it appears turned by the camera roll, ``analysis.level['roll_deg']``, as the true
    horizontal does in :func:`annotate`) and the ear, shoulder, hip, knee and ankle of the side the
    measurements used (the side toward the camera unless they fell back to the far side)."""
    o = options or AnnotateOptions()
    img = np.ascontiguousarray(photo.rgb.copy())
    h, w = img.shape[:2]
    diag = math.hypot(w, h)
    lw = max(1, round(o.line_fraction * diag))
    r = max(2, round(o.dot_fraction * diag))
    s = float(photo.scale)
    sv = analysis.method.get("side_view") if analysis.method else None
    used = (sv or {}).get("sides_used", {}) if isinstance(sv, Mapping) else {}
    side = str(used.get("plumb_line") or analysis.view.value)
    if side not in ("left", "right"):
        side = analysis.view.value

    def pt(part: str) -> np.ndarray:
        return np.asarray(analysis.landmarks[L[f"{side.upper()}_{part}"], :2], dtype=np.float64) * s

    roll = math.radians(float(analysis.level.get("roll_deg") or 0.0))
    up = np.array([math.sin(roll), -math.cos(roll)])  # true "up" on the image (y down)
    ankle = pt("ANKLE")
    top = ankle + up * (ankle[1] - min(pt("EAR")[1], ankle[1]) + 0.08 * h) / max(math.cos(roll), 0.5)
    _dashed(img, ankle - up * 0.03 * h, top, o.plumb, lw)
    chain = [pt(p) for p in (*SIDE_PARTS, "ANKLE")]
    for a, b in itertools.pairwise(chain):
        _line(img, a, b, o.skeleton, lw)
    for c in chain:
        cv2.circle(img, (round(c[0]), round(c[1])), r + 1, (0, 0, 0), -1, cv2.LINE_AA)
        cv2.circle(img, (round(c[0]), round(c[1])), r, o.point, -1, cv2.LINE_AA)
    _text(img, f"{side[0].upper()} side", np.array([0.03 * w, 0.06 * h]), o.reference, o.text_fraction * h)
    return img


def _photo_for(view: View, analysis: Analysis, photo: Photo | None) -> np.ndarray | None:
    if photo is None:
        return None
    if view in (View.LEFT, View.RIGHT):
        return annotate_side(photo, analysis)
    return annotate(photo, analysis)


def _reading(view: View, analysis: Analysis, name: str) -> str:
    m = analysis.measurements[name]
    if not m.available:
        return "not measured"
    return "clear" if counts(m) else WITHIN_NOISE


def visit_pdf(
    visit: Visit,
    photos: Mapping[View, Photo] | Mapping[str, Photo] | None = None,
    client: str | None = None,
) -> bytes:
    """The visit as PDF bytes; ``photos`` maps a view to its photo (a view without one prints its
    table only, saying so)."""
    from posture.exam import VIEW_TITLES

    given = {View.parse(k): p for k, p in (photos or {}).items()}
    title = "Posture visit"
    pdf = new_document(title, DISCLAIMER.split(".")[0] + ".", client=client, session=visit.date)
    full_w = pdf.w - 2 * MARGIN
    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 9, title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.set_text_color(*GREY)
    head = [visit.date or "", "Views: " + ", ".join(VIEW_TITLES[v] for v in visit.views)]
    if visit.height_cm:
        head.append(f"height {visit.height_cm:g} cm")
    pdf.multi_cell(0, 5, safe_text("   ·   ".join(h for h in head if h)), align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    if client:
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(0, 5.5, safe_text(f"Client: {client}"), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.ln(2)

    for v, a in visit.views.items():
        if v is not next(iter(visit.views)):
            pdf.add_page()
        heading(pdf, VIEW_TITLES[v])
        img = _photo_for(v, a, given.get(v))
        top = pdf.get_y()
        ih = 0.0
        if img is not None:
            h_px, w_px = img.shape[:2]
            iw = PHOTO_MAX_W
            ih = iw * h_px / w_px
            if ih > PHOTO_MAX_H:
                ih = PHOTO_MAX_H
                iw = ih * w_px / h_px
            pdf.image(print_jpeg(img, iw), x=MARGIN, y=top, w=iw, h=ih)
            col = MARGIN + iw + GAP
        else:
            col = MARGIN
        pdf.set_left_margin(col)
        pdf.set_xy(col, top)
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(0, 5, "Findings of this view", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 9)
        lines: list[str] = []
        if img is None:
            lines.append("(photo not available)")
        if v in visit.held and a.capture is not None:
            lines.append(a.capture.hold_reason())
        elif v in (View.LEFT, View.RIGHT):
            lines.append("Side-view patterns are read across views (below).")
        lines += [f"{f.title} ({f.severity})" for f in a.findings]
        for line in lines:
            pdf.multi_cell(0, 4.6, safe_text(f"•  {line}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        small_note(pdf, SIDE_KEY if v in (View.LEFT, View.RIGHT) else FRONT_KEY)
        pdf.set_left_margin(MARGIN)
        pdf.set_xy(MARGIN, max(pdf.get_y(), top + ih) + 4)
        pdf.set_font(FAMILY, "", 8.5)
        with pdf.table(
            col_widths=(50, 52, 46, 32), text_align="LEFT", line_height=4.2, padding=1.2,
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
            first_row_as_headings=True, width=full_w,
        ) as table:
            row = table.row()
            for t in ("Measurement", "Value (95% ±)", "Side", "Reading"):
                row.cell(t)
            for name, m in a.measurements.items():
                row = table.row()
                row.cell(safe_text(m.label))
                row.cell(safe_text(format_value(m.value, m.unit, m.uncertainty) if m.available
                                   else f"unavailable: {m.reason or ''}"))
                row.cell(safe_text(m.side if m.available else ""))
                row.cell(safe_text(_reading(v, a, name)))
        if v in (View.LEFT, View.RIGHT):
            small_note(pdf, f"Signs: {SIGN_CONVENTION}. {NOT_CVA_NOTE} {CLEAR_RULE}")
        else:
            small_note(pdf, f"{SIGN_NOTE} {CLEAR_RULE}")
        for w in a.warnings:
            small_note(pdf, f"Warning: {w}")

    pdf.add_page()
    heading(pdf, "Findings across views")
    if not visit.across:
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 4.8, "No pattern across the views is clear beyond its ± and the noise band.",
                       align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for cf in visit.across:
        f = cf.finding
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.multi_cell(0, 5.5, safe_text(f"{f.title} ({f.severity})"), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 4.3, safe_text("Rests on: " + cf.to_dict()["views_text"]), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 4.8, safe_text(f.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 8.5)
        for e in f.evidence:
            pdf.multi_cell(0, 4.3, safe_text(f"•  {e.text}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for c in f.checks:
            pdf.multi_cell(0, 4.3, safe_text(f"•  Check by hand: {c}"), align="L", new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
        pdf.ln(2.5)
    small_note(pdf, HYPOTHESIS)

    findings = [f for a in visit.views.values() for f in a.findings] + [cf.finding for cf in visit.across]
    rx = select_exercises(findings) if findings else []
    if rx:
        heading(pdf, "Exercises")
        for p in rx:
            ex = p.exercise
            if pdf.will_page_break(18):
                pdf.add_page()
            pdf.set_font(FAMILY, "B", 10)
            pdf.multi_cell(0, 5, safe_text(f"{ex.name}: {p.side_words}, {ex.dose}"), align="L",
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FAMILY, "", 9)
            pdf.multi_cell(0, 4.5, safe_text(ex.how), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FAMILY, "", 8.5)
            pdf.set_text_color(*GREY)
            pdf.multi_cell(0, 4.2, safe_text("For: " + "; ".join(p.reasons)), align="L",
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(2)
    if visit.notes:
        heading(pdf, "Therapist notes")
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 4.8, safe_text(visit.notes), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    heading(pdf, "About this report")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.multi_cell(0, 4.3, safe_text(DISCLAIMER), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
