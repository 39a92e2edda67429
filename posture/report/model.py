"""The report model: everything a report shows, as plain data, built once by :func:`build_report`.

Rendered as on-screen sections for the app (:meth:`Report.sections`, markdown-escaped) and as a PDF
(:func:`posture.report.pdf.render_pdf`). User text (client name, notes) is kept literally here;
each renderer makes it safe for its medium.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from posture.constants import UNIT_PCT_SHOULDER, Z95
from posture.findings import (
    DISCLAIMER,
    RED_FLAGS,
    RED_FLAGS_TITLE,
    Finding,
    FindingOptions,
    Prescription,
    band,
    counts,
    derive_findings,
    findings_held,
    select_exercises,
)
from posture.formatting import format_value
from posture.sides import FACE_LANDMARKS
from posture.sideview import NOT_CVA_NOTE, SIGN_CONVENTION
from posture.significance import CLEAR_RULE, UNCERTAINTY_COVERS, WITHIN_NOISE
from posture.text import unlinked

if TYPE_CHECKING:
    from posture.analysis import Analysis
    from posture.capture import Capture
    from posture.imaging import Photo

SCHEMA_REPORT = "posture.report/1"
PHOTO_CHECK_TITLE = "Photo check"
PHOTO_CHECK_PASSED = "All checks passed: a neutral stance, the whole body in the frame, the camera level."
PHOTO_CHECK_NONE = "Not checked: this assessment was saved before the photo check existed."
STANCE_CONFIRMED = ("The therapist confirmed that this is how the client habitually stands, so the "
                    "findings are shown.")
VIEW_WORDS = {
    "anterior": "anterior (front) view",
    "posterior": "posterior (back) view",
    "left": "left side (client's left toward the camera)",
    "right": "right side (client's right toward the camera)",
}


@dataclass(frozen=True)
class MeasurementRow:
    name: str
    label: str
    value: str  # "+2.4° ± 1.1°" or "unavailable"
    side: str  # "right shoulder lower"
    reading: str  # "mild", "within measurement noise", or why it is unavailable
    detail: str = ""  # e.g. "height difference 1.2 cm ± 0.6 cm"

    def to_dict(self) -> dict[str, str]:
        return {"measurement": self.label, "value": self.value, "side": self.side,
                "reading": self.reading, "detail": self.detail}


@dataclass(frozen=True)
class Report:
    title: str
    client: str | None
    date: str
    view: str
    measurements: tuple[MeasurementRow, ...]
    findings: tuple[Finding, ...]
    exercises: tuple[Prescription, ...]
    red_flags_title: str
    red_flags: tuple[str, ...]
    disclaimer: str
    notes: str | None
    warnings: tuple[str, ...]
    level: str
    scale: str
    image_size: tuple[int, int]  # full-size photo (width, height)
    face_boxes: tuple[tuple[int, int, int, int], ...] = field(default=())  # full-size pixels
    # the photo check (None: an assessment saved before it existed, not checked) and, while a
    # stance or view check holds the findings and exercises back, the reason shown in their place
    capture: Capture | None = None
    findings_held: str = ""
    # a side view: its sign convention and what head_forward is not (the CVA); "" for front/back
    side_note: str = ""

    def photo_check_lines(self) -> tuple[str, ...]:
        """The photo check in plain sentences: each failed check with what to do, or that all
        passed; the therapist's confirmation of the stance when given."""
        if self.capture is None:
            return (PHOTO_CHECK_NONE,)
        lines = tuple(c.message for c in self.capture.failed) or (PHOTO_CHECK_PASSED,)
        if self.capture.confirmed and self.capture.stance_failed:
            lines += (STANCE_CONFIRMED,)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_REPORT,
            "title": self.title,
            "client": self.client,
            "date": self.date,
            "view": self.view,
            "measurements": [r.to_dict() for r in self.measurements],
            "findings": [f.to_dict() for f in self.findings],
            "exercises": [p.to_dict() for p in self.exercises],
            "red_flags": list(self.red_flags),
            "disclaimer": self.disclaimer,
            "notes": self.notes,
            "warnings": list(self.warnings),
            "level": self.level,
            "scale": self.scale,
            "capture": self.capture.to_dict() if self.capture is not None else None,
            "findings_held": self.findings_held or None,
            "side_note": self.side_note or None,
        }

    def sections(self) -> list[tuple[str, str | list[dict[str, str]]]]:
        """(title, body) pairs for the app: body is markdown-safe text (every piece escaped with
        :func:`md_escape`, user and exercise-library text included), or table rows (plain strings,
        shown as data, not markdown). "Findings" holds each finding's title, severity, text,
        evidence and hands-on checks; "Exercises" one row per prescription (name, side, dose, how,
        cues, contraindications, the findings it is for)."""
        out: list[tuple[str, str | list[dict[str, str]]]] = []
        head = [f"**Date:** {md_escape(self.date)}", f"**View:** {md_escape(self.view)}"]
        if self.client:
            head.insert(0, f"**Client:** {md_escape(self.client)}")
        out.append((self.title, "  \n".join(head)))
        out.append((PHOTO_CHECK_TITLE, "\n".join(f"- {md_escape(x)}" for x in self.photo_check_lines())))
        out.append(("Measurements", [r.to_dict() for r in self.measurements]))
        out.append(("Findings", md_escape(self.findings_held) if self.findings_held
                    else "\n\n".join(_finding_markdown(f) for f in self.findings)))
        if self.exercises:
            out.append(("Exercises", [
                {"exercise": p.exercise.name, "side": p.side_words, "dose": p.exercise.dose,
                 "how": p.exercise.how, "cues": "; ".join(p.exercise.cues),
                 "avoid if": "; ".join(p.exercise.contraindications), "for": "; ".join(p.reasons)}
                for p in self.exercises
            ]))
        out.append((self.red_flags_title, "\n".join(f"- {md_escape(r)}" for r in self.red_flags)))
        if self.notes:
            out.append(("Therapist notes", md_escape(self.notes)))
        if self.warnings:
            out.append(("Warnings", "\n".join(f"- {md_escape(w)}" for w in self.warnings)))
        out.append(("How it was measured", md_escape(
            f"Level: {self.level}. Scale: {self.scale}. {CLEAR_RULE} {UNCERTAINTY_COVERS}"
            + (f" {self.side_note}" if self.side_note else ""))))
        out.append(("Disclaimer", md_escape(self.disclaimer)))
        return out


def _finding_markdown(f: Finding) -> str:
    """One finding as escaped markdown: title (severity), text, the evidence, the hands-on checks."""
    text = f"**{md_escape(f.title)}** ({md_escape(f.severity)})  \n{md_escape(f.text)}"
    text += "".join(f"\n- {md_escape(e.text)}" for e in f.evidence)
    if f.checks:
        text += "\n\nCheck by hand:\n" + "".join(f"\n- {md_escape(c)}" for c in f.checks)
    return text


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=:])")


def md_escape(text: str) -> str:
    """Escape markdown (and HTML/LaTeX-ish) syntax so user text shows literally in Streamlit: control
    and bidi-override characters dropped, and no autolink (remark-gfm links ``https://``, ``www.``
    and e-mail addresses even when escaped; :func:`posture.text.unlinked` breaks them)."""
    return _MD_SPECIAL.sub(r"\\\1", unlinked(text)).replace("\n", "  \n")


def _date_text(when: datetime | date | str | None) -> str:
    if when is None:
        when = datetime.now()
    if isinstance(when, str):
        return when
    if isinstance(when, datetime):
        return when.strftime("%d %b %Y, %H:%M")
    return when.strftime("%d %b %Y")


def measurement_rows(analysis: Analysis, options: FindingOptions | None = None) -> tuple[MeasurementRow, ...]:
    opts = options or FindingOptions()
    rows = []
    for m in analysis.measurements.values():
        if not m.available or m.value is None:
            rows.append(MeasurementRow(m.name, m.label, "unavailable", "—", m.reason or "not measured"))
            continue
        severity = band(m, opts) if counts(m, opts) else WITHIN_NOISE
        detail = ""
        hd = m.details.get("height_difference")
        if hd is not None and hd.value == hd.value:  # not NaN
            unit = "% of shoulder width" if hd.unit == UNIT_PCT_SHOULDER else hd.unit
            unc = hd.uncertainty or 0.0
            detail = f"height difference {abs(hd.value):.1f} ± {unc:.1f} {unit}"
        detail = detail or _side_detail(m)
        rows.append(MeasurementRow(m.name, m.label, format_value(m.value, m.unit, m.uncertainty or 0.0),
                                   m.side, severity, detail))
    return tuple(rows)


#: plumb-line points listed in a side view's detail (the ear is the row's value)
PLUMB_DETAIL_PARTS = ("shoulder", "hip", "knee")


def _side_detail(m: Any) -> str:
    """The secondary numbers of a side-view measurement, one line (empty for other rows)."""
    ang = m.details.get("angle_from_vertical")
    if m.name == "head_forward" and ang is not None:
        return (f"ear-shoulder line {format_value(ang.value, ang.unit, ang.uncertainty)} from "
                "vertical (not the CVA)")
    if m.name == "plumb_line":
        parts = [f"{part} {format_value(q.value, q.unit, q.uncertainty)}"
                 for part in PLUMB_DETAIL_PARTS if (q := m.details.get(part)) is not None]
        return "ahead of the ankle: " + "; ".join(parts) if parts else ""
    hka = m.details.get("hip_knee_ankle_angle")
    if hka is not None:
        return f"hip-knee-ankle angle {format_value(hka.value, hka.unit, hka.uncertainty, signed=False)}"
    return ""


def _side_note(analysis: Analysis) -> str:
    if not analysis.view.is_side:
        return ""
    return f"Side view: {SIGN_CONVENTION}. Head forward: {NOT_CVA_NOTE}"


def _scale_text(scale: Any) -> str:
    if not scale:
        return "no client height given: lengths in % of shoulder width"
    return (f"centimetres from the client's height ({float(scale['stature_cm']):.0f} cm, "
            f"±{Z95 * 100 * float(scale.get('relative_sd') or 0):.1f} %)")


def _check_messages(capture: Capture | None) -> frozenset[str]:
    return frozenset(c.message for c in capture.failed) if capture is not None else frozenset()


def _face_boxes(analysis: Analysis) -> tuple[tuple[int, int, int, int], ...]:
    from posture.face import head_box
    from posture.pose import Landmark as L

    pts = analysis.landmarks
    sw = float(np.hypot(*(pts[L.LEFT_SHOULDER, :2] - pts[L.RIGHT_SHOULDER, :2])))
    return (head_box(pts[list(FACE_LANDMARKS), :2], sw),)


def build_report(
    photo: Photo,
    analysis: Analysis,
    client: str | None = None,
    notes: str | None = None,
    when: datetime | date | str | None = None,
    findings: Sequence[Finding] | None = None,
    options: FindingOptions | None = None,
) -> Report:
    """Gather everything a report shows. Findings come from ``findings``, else the analysis,
    else are derived here; none (nor exercises) while the photo check holds them back, the reason
    then in ``findings_held`` (the red flags are always shown)."""
    del photo  # the photo itself is drawn by annotate(); kept in the signature for symmetry
    held = findings_held(analysis)
    fs = () if held else tuple(findings) if findings is not None else tuple(
        analysis.findings) or derive_findings(analysis.measurements, analysis.view, options)
    return Report(
        title="Posture screening report",
        client=client.strip() if client and client.strip() else None,
        date=_date_text(when),
        view=VIEW_WORDS.get(analysis.view.value, analysis.view.value),
        measurements=measurement_rows(analysis, options),
        findings=fs,
        exercises=tuple(select_exercises(fs)),
        red_flags_title=RED_FLAGS_TITLE,
        red_flags=RED_FLAGS,
        disclaimer=DISCLAIMER,
        notes=notes if notes and notes.strip() else None,
        # a warning the photo check already lists (the view conflict) is printed once, there
        warnings=tuple(w for w in analysis.warnings if w not in _check_messages(analysis.capture)),
        level=str(analysis.level.get("description", "")),
        scale=_scale_text(analysis.scale),
        image_size=(int(analysis.image["width"]), int(analysis.image["height"])),
        face_boxes=_face_boxes(analysis),
        capture=analysis.capture,
        findings_held=held,
        side_note=_side_note(analysis),
    )
