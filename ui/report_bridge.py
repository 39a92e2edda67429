"""The app's link to the optional report layer (posture.findings, posture.report).

Those modules are optional for the page: when one is missing (or fails), the page still shows the
measurements, draws a minimal overlay itself and hides what it cannot offer (the PDF). Failures are
logged by exception type only, never with photo data.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import numpy as np

from posture.analysis import Analysis
from posture.errors import PostureError
from posture.imaging import Photo
from ui.widgets import draw_landmarks

log = logging.getLogger("posture.app")


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def findings_available() -> bool:
    return _optional("posture.findings") is not None


def attach_findings(analysis: Analysis) -> tuple[Analysis, str | None]:
    """The analysis with its findings filled in, and a note when they could not be made."""
    mod = _optional("posture.findings")
    fn = getattr(mod, "attach_findings", None) if mod else None
    if fn is None:
        return analysis, None
    try:
        result = fn(analysis)
    except PostureError as exc:
        return analysis, str(exc)
    except Exception as exc:  # findings are additive: the measurements stay usable without them
        log.error("findings failed: %s", type(exc).__name__)
        return analysis, "The findings could not be worked out for this photo."
    return (result if isinstance(result, Analysis) else analysis), None


BUILTIN_LEGEND = "Teal dots: found by the model. Amber squares: placed by hand."
REPORT_LEGEND = (
    "Green dots: found by the model; yellow squares: placed by hand. Orange: shoulder line, blue: "
    "hip-joint line, dashed white: true horizontal, magenta: plumb line. R/L: the client's sides."
)


def annotated_image(photo: Photo, analysis: Analysis) -> tuple[np.ndarray, str]:
    """The working copy with the analysis drawn on it (RGB uint8) and its colour legend.

    Uses ``posture.report.annotate.annotate`` when present, else a minimal built-in overlay."""
    mod = _optional("posture.report.annotate")
    fn = getattr(mod, "annotate", None) if mod else None
    if fn is not None:
        try:
            out = fn(photo, analysis)
            if isinstance(out, np.ndarray) and out.ndim == 3 and out.dtype == np.uint8:
                return out, REPORT_LEGEND
        except Exception as exc:
            log.error("annotate failed, using the built-in overlay: %s", type(exc).__name__)
    return draw_landmarks(photo.rgb, analysis.landmarks, photo.scale, analysis.manual), BUILTIN_LEGEND


def _render_pdf() -> Any:
    mod = _optional("posture.report.pdf")
    return getattr(mod, "render_pdf", None) if mod else None


def pdf_available() -> bool:
    mod = _optional("posture.report")
    return bool(mod and hasattr(mod, "build_report") and _render_pdf() is not None)


def pdf_report(
    photo: Photo, analysis: Analysis, client: str | None = None, blur_faces: bool = False
) -> bytes | None:
    """The PDF report, or None when the report package is missing or fails."""
    mod = _optional("posture.report")
    render = _render_pdf()
    if not (mod and hasattr(mod, "build_report") and render is not None):
        return None
    try:
        report = mod.build_report(photo, analysis, client=client)
        image, _legend = annotated_image(photo, analysis)
        data = render(report, image, blur_faces=blur_faces)
    except PostureError:
        raise
    except Exception as exc:
        log.error("PDF report failed: %s", type(exc).__name__)
        return None
    return bytes(data) if isinstance(data, (bytes, bytearray)) else None


def prescriptions(findings: tuple[Any, ...]) -> tuple[list[Any], str | None]:
    """Exercises matched to the findings (``posture.findings.select_exercises``) and a note when the
    exercise library could not be read."""
    mod = _optional("posture.findings")
    fn = getattr(mod, "select_exercises", None) if mod else None
    if fn is None or not findings:
        return [], None
    try:
        return list(fn(findings)), None
    except PostureError as exc:
        return [], str(exc)
    except Exception as exc:
        log.error("exercise selection failed: %s", type(exc).__name__)
        return [], "The exercise suggestions could not be loaded."


def clinical_texts() -> tuple[str | None, str | None, tuple[str, ...]]:
    """(disclaimer, red-flags title, red flags) from posture.findings, when present."""
    mod = _optional("posture.findings")
    if mod is None:
        return None, None, ()
    return (
        getattr(mod, "DISCLAIMER", None),
        getattr(mod, "RED_FLAGS_TITLE", None),
        tuple(getattr(mod, "RED_FLAGS", ())),
    )
