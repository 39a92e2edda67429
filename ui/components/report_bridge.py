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
    return annotate(photo, analysis), REPORT_LEGEND


def pdf_report(
    photo: Photo, analysis: Analysis, client: str | None = None, blur_faces: bool = False
) -> bytes | None:
    """The PDF report, or None when it could not be made (logged)."""
    try:
        report = build_report(photo, analysis, client=client)
        return render_pdf(report, annotate(photo, analysis), blur_faces=blur_faces)
    except PostureError:
        raise
    except Exception as exc:
        log_failure(log, "PDF report", exc)
        return None


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
