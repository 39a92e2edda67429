"""A side view on the report surfaces: the overlay draws the plumb line (true vertical through the
near ankle, turned with the camera roll) and no front-view lines; the report and its PDF name the view
in words and carry the ear-shoulder angle with the CVA note. On the shipped coco_000000234748.jpg (a
man seen from his right, three-quarter), the project's side-view test photo.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from posture.analysis import Analysis, AnalysisOptions, analyze
from posture.imaging import Photo, load_photo
from posture.pose import Landmark as L
from posture.pose import PoseModel
from posture.report import annotate, build_report
from posture.report.annotate import AnnotateOptions
from posture.report.pdf import render_pdf
from posture.sides import View
from tests.conftest import FRONT, SAMPLES

SIDE = SAMPLES / "coco_000000234748.jpg"
PLUMB = (1, 254, 3)  # a colour the photo does not hold, so the plumb line's pixels can be found
SLOPE_TOL = 0.02  # dx/dy of a line fitted to ~1 px wide dashes over a few hundred rows


@pytest.fixture(scope="module")
def side_photo() -> Photo:
    return load_photo(SIDE)


def _side(photo: Photo, model: PoseModel, roll: float) -> Analysis:
    return analyze(photo, View.RIGHT, AnalysisOptions(auto_level=False, camera_roll_deg=roll), model=model)


def _plumb_slope(photo: Photo, analysis: Analysis) -> float:
    """dx/dy of the drawn plumb line: per row the plumb-coloured pixels' mean x, rows crossed by an
    offset tick (many pixels) left out, a straight line through the rest."""
    o = AnnotateOptions(plumb=PLUMB)
    assert not np.all(photo.rgb == PLUMB, axis=2).any()
    img = annotate(photo, analysis, o)
    ys, xs = np.nonzero(np.all(img == PLUMB, axis=2))
    ankle_y = analysis.point(L.RIGHT_ANKLE)[1] * photo.scale
    rows: dict[int, list[int]] = {}
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        if y < ankle_y - 5:
            rows.setdefault(y, []).append(x)
    width = max(1, round(o.line_fraction * math.hypot(*img.shape[:2])))
    keep = [(y, float(np.mean(v))) for y, v in rows.items() if np.ptp(v) <= 2 * width + 2]
    assert len(keep) > 50, len(keep)
    y, x = np.array(keep).T
    return float(np.polyfit(y, x, 1)[0])


def test_the_plumb_line_is_the_true_vertical_after_the_roll(side_photo: Photo, model: PoseModel) -> None:
    # y down: the true vertical drawn upward from the ankle leans by -tan(roll) in x per row
    for roll in (0.0, 6.0):
        slope = _plumb_slope(side_photo, _side(side_photo, model, roll))
        assert slope == pytest.approx(-math.tan(math.radians(roll)), abs=SLOPE_TOL), roll


def test_a_side_view_draws_no_front_view_lines(side_photo: Photo, model: PoseModel) -> None:
    """The front view's shoulder and hip lines (their colours made unique) are not drawn on a side
    view, and are on a front view."""
    o = AnnotateOptions(shoulder=(2, 3, 253), hip=(3, 252, 252), side_line=(250, 250, 1))

    def drawn(photo: Photo, a: Analysis, color: tuple[int, int, int]) -> int:
        return int(np.all(annotate(photo, a, o) == color, axis=2).sum())

    side = _side(side_photo, model, 0.0)
    assert drawn(side_photo, side, o.shoulder) == 0 and drawn(side_photo, side, o.hip) == 0
    assert drawn(side_photo, side, o.side_line) > 0  # the ear-shoulder and shoulder-hip lines
    front_photo = load_photo(FRONT)
    front = analyze(front_photo, View.ANTERIOR, model=model)
    assert drawn(front_photo, front, o.shoulder) > 0 and drawn(front_photo, front, o.hip) > 0


def test_the_report_and_pdf_of_a_side_view(side_photo: Photo, model: PoseModel) -> None:
    from pypdf import PdfReader

    a = _side(side_photo, model, 0.0)
    r = build_report(side_photo, a)
    assert r.view == "right side (client's right toward the camera)"
    assert "craniovertebral" in r.side_note and "toward the client's front" in r.side_note
    rows = {row.name: row for row in r.measurements}
    assert set(rows) >= {"head_forward", "trunk_lean", "hip_forward", "knee_extension", "plumb_line"}
    angle = a.measurements["head_forward"].details["angle_from_vertical"]
    assert rows["head_forward"].detail.startswith(f"ear-shoulder line {angle.value:+.1f}°")
    assert "not the CVA" in rows["head_forward"].detail
    assert rows["plumb_line"].detail.startswith("ahead of the ankle: shoulder")
    how = dict(r.sections())["How it was measured"]
    assert isinstance(how, str) and "craniovertebral" in how
    pdf = render_pdf(r, annotate(side_photo, a))
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "right side (client's right toward the camera)" in text
    assert "craniovertebral" in text and "plumb line" in text.lower()
    front = build_report(load_photo(FRONT), analyze(load_photo(FRONT), View.ANTERIOR, model=model))
    assert front.side_note == "" and "craniovertebral" not in str(front.sections())
