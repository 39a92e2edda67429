"""The page's calls into the report layer (posture.findings, posture.report), each turning a
failure into a short note instead of a broken page: the measurements stay usable when findings, the
exercise library (a therapist-editable file) or the PDF fail. Failures are logged with their traceback
(:func:`ui.logs.log_failure`), never with photo data, a name or a note."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from posture import findings
from posture.analysis import Analysis
from posture.errors import PostureError
from posture.imaging import Photo
from posture.report import annotate, build_report
from posture.report.pdf import render_pdf
from ui.logs import log_failure

log = logging.getLogger("posture.app")

REPORT_LEGEND = (
    "Green dots: found by the model; yellow squares: placed by hand. Orange: shoulder line, blue: "
    "hip-joint line, dashed white: true horizontal, magenta: plumb line. R/L: the client's sides."
)

SIDE_LEGEND = (
    "Green dots: found by the model; yellow squares: placed by hand. Dashed magenta: plumb line "
    "(true vertical through the ankle), each point's offset ahead (+) or behind (-) it; orange: "
    "ear-shoulder and shoulder-hip lines."
)


def attach_findings(analysis: Analysis) -> tuple[Analysis, str | None]:
    """The analysis with its findings filled in, and a note when they could not be made."""
    try:
        return findings.attach_findings(analysis), None
    except PostureError as exc:
        return analysis, str(exc)
    except Exception as exc:  # findings are additive: the measurements stay usable without them
        log_failure(log, "findings", exc)
        return analysis, "The findings could not be worked out for this photo."


def findings_held(analysis: Analysis) -> str:
    """Why the findings are held back by the photo check ("" when they are not)."""
    return findings.findings_held(analysis)


def annotated_image(photo: Photo, analysis: Analysis) -> tuple[np.ndarray, str]:
    """The working copy with the analysis drawn on it (RGB uint8) and its colour legend."""
    return annotate(photo, analysis), SIDE_LEGEND if analysis.view.is_side else REPORT_LEGEND


def pdf_report(
    photo: Photo, analysis: Analysis, client: str | None = None, blur_faces: bool = False,
    notes: str | None = None, when: Any = None,
) -> bytes | None:
    """The PDF report (with the session's notes and date ``when``, default today; the clinic
    settings' letterhead), or None when it could not be made (logged)."""
    try:
        report = build_report(photo, analysis, client=client, notes=notes, when=when)
        return render_pdf(report, annotate(photo, analysis), blur_faces=blur_faces)
    except PostureError:
        raise
    except Exception as exc:
        log_failure(log, "PDF report", exc)
        return None


PDF_FAILED_NOTICE = (
    "The PDF report could not be made for this photo. The measurements on screen are unaffected. "
    "Try again; if it keeps happening, restart the app (the server log has the details)."
)


def pdf_download(
    photo: Photo, analysis: Analysis, client: str | None = None, blur_faces: bool = False,
    notes: str | None = None, when: Any = None,
) -> bytes:
    """For a download button's deferred callable, which runs on Streamlit's download thread and
    cannot show anything on the page (a raised error only flashes Streamlit's own "Failed to
    generate file"): the PDF report, or else a one-page PDF that says clearly that the report could
    not be made, and why when the reason is one of posture's own messages."""
    try:
        pdf = pdf_report(photo, analysis, client, blur_faces, notes, when)
        reason = None
    except PostureError as exc:
        pdf, reason = None, str(exc)
    if pdf is not None:
        return pdf
    return notice_pdf("Posture report: not made", PDF_FAILED_NOTICE, reason)


def notice_pdf(title: str, text: str, detail: str | None = None) -> bytes:
    """A one-page PDF of plain text in a core font (nothing of the report machinery it stands in
    for); RuntimeError without any text of the failure if even that cannot be written."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    def latin1(t: str) -> str:
        return t.encode("latin-1", "replace").decode("latin-1")

    try:
        pdf = FPDF(format="A4")
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 9, latin1(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if detail:
            pdf.ln(3)
            pdf.multi_cell(0, 6, latin1(detail), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return bytes(pdf.output())
    except Exception as exc:
        log_failure(log, "PDF notice", exc)
        raise RuntimeError("the PDF report could not be made") from None


def prescriptions(found: tuple[Any, ...]) -> tuple[list[Any], str | None]:
    """Exercises matched to the findings, and a note when the exercise library could not be read."""
    if not found:
        return [], None
    try:
        return list(findings.select_exercises(found)), None
    except PostureError as exc:
        return [], str(exc)
    except Exception as exc:
        log_failure(log, "exercise selection", exc)
        return [], "The exercise suggestions could not be loaded."


def clinical_texts() -> tuple[str, str, tuple[str, ...]]:
    """(disclaimer, red-flags title, red flags) printed on every report and page."""
    return findings.DISCLAIMER, findings.RED_FLAGS_TITLE, tuple(findings.RED_FLAGS)
