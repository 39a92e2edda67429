"""Report layer: the report model (:mod:`.model`), the annotated photo (:mod:`.annotate`) and the PDF
(:mod:`.pdf`). ``posture report PHOTO -o report.pdf`` is in :mod:`.cli`."""

from __future__ import annotations

from posture.report.annotate import AnnotateOptions, annotate, save_png
from posture.report.model import Report, build_report

__all__ = ["AnnotateOptions", "Report", "annotate", "build_report", "save_png"]
