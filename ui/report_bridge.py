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
from ui.widgets import draw_landmarks, mark_manual

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


def annotated_image(photo: Photo, analysis: Analysis) -> np.ndarray:
    """The working copy with the landmarks drawn (RGB uint8, working-copy resolution)."""
    mod = _optional("posture.report.annotate")
    fn = getattr(mod, "annotate", None) if mod else None
    if fn is not None:
        try:
            out = fn(photo.rgb, analysis, scale=photo.scale)
            if isinstance(out, np.ndarray) and out.ndim == 3:
                img: np.ndarray = out.astype(np.uint8, copy=False)
                if img.shape[:2] != photo.rgb.shape[:2]:
                    return img
                # make hand-placed points stand out even if the overlay does not mark them
                return mark_manual(img, analysis.landmarks, photo.scale, analysis.manual)
        except Exception as exc:
            log.error("annotate failed, using the built-in overlay: %s", type(exc).__name__)
    return draw_landmarks(photo.rgb, analysis.landmarks, photo.scale, analysis.manual)


def pdf_available() -> bool:
    mod = _optional("posture.report")
    return bool(mod and hasattr(mod, "build_report") and hasattr(mod, "render_pdf"))


def pdf_report(photo: Photo, analysis: Analysis) -> bytes | None:
    """The PDF report, or None when the report package is missing or fails."""
    mod = _optional("posture.report")
    if not (mod and hasattr(mod, "build_report") and hasattr(mod, "render_pdf")):
        return None
    try:
        report = mod.build_report(analysis, photo=photo)
        data = mod.render_pdf(report)
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
