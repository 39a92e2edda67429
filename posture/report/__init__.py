"""Report layer: the report model (:mod:`.model`), the annotated photo (:mod:`.annotate`) and the PDF
(:mod:`.pdf`, :mod:`.compare_pdf`, their shared page furniture :mod:`.layout`). The ``posture report``
command is in :mod:`posture.cli.report`."""

from __future__ import annotations

from posture.report.annotate import AnnotateOptions, annotate, save_png
from posture.report.model import Report, build_report

__all__ = ["AnnotateOptions", "Report", "annotate", "build_report", "save_png"]
