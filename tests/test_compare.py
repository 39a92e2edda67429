"""Before/after comparison: real photos against transformed copies whose true change is known, and
small synthetic analyses whose measurements and ± are set by construction."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from posture import geometry as geo
from posture.analysis import Analysis, AnalysisOptions, analyze
from posture.cli import main
from posture.compare import (
    SCHEMA,
    AlignOptions,
    CompareOptions,
    align_pair,
    compare,
    overlay,
    trend,
)
from posture.imaging import Photo, load_photo
from posture.metrics import MeasureContext, measure_all
from posture.pose import Landmark as L
from posture.pose import PoseModel
from posture.sides import View
from tests.conftest import FRONT, encode, rgb_of

TILTS = ("shoulder_tilt", "hip_tilt", "head_tilt")
NO_LEVEL = AnalysisOptions(auto_level=False)

# A standing figure in an anterior view (client's right on the image's left), full-size pixels.
_FIGURE = {
    L.NOSE: (500, 330), L.RIGHT_EYE: (485, 315), L.LEFT_EYE: (515, 315),
    L.RIGHT_EYE_INNER: (490, 315), L.LEFT_EYE_INNER: (510, 315),
    L.RIGHT_EYE_OUTER: (480, 315), L.LEFT_EYE_OUTER: (520, 315),
    L.RIGHT_EAR: (465, 325), L.LEFT_EAR: (535, 325), L.MOUTH_RIGHT: (490, 355), L.MOUTH_LEFT: (510, 355),
    L.RIGHT_SHOULDER: (400, 450), L.LEFT_SHOULDER: (600, 450),
    L.RIGHT_ELBOW: (380, 650), L.LEFT_ELBOW: (620, 650), L.RIGHT_WRIST: (375, 830), L.LEFT_WRIST: (625, 830),
    L.RIGHT_PINKY: (372, 860), L.LEFT_PINKY: (628, 860), L.RIGHT_INDEX: (375, 865), L.LEFT_INDEX: (625, 865),
    L.RIGHT_THUMB: (385, 850), L.LEFT_THUMB: (615, 850),
    L.RIGHT_HIP: (440, 880), L.LEFT_HIP: (560, 880), L.RIGHT_KNEE: (445, 1180), L.LEFT_KNEE: (555, 1180),
    L.RIGHT_ANKLE: (450, 1480), L.LEFT_ANKLE: (550, 1480), L.RIGHT_HEEL: (452, 1505),
    L.LEFT_HEEL: (548, 1505), L.RIGHT_FOOT_INDEX: (435, 1530), L.LEFT_FOOT_INDEX: (565, 1530),
}


def synthetic_analysis(
    rotate_cw_deg: float = 0.0,
    sigma_px: float = 0.5,
    cm_per_px: float | None = None,
    right_shoulder_drop_px: float = 0.0,
    width: int = 1000,
    height: int = 1600,
) -> Analysis:
    """An Analysis built from the figure above (optionally turned clockwise on screen about the photo
    centre, and with the client's right shoulder lowered), measured by the real ``measure_all``.
    ``sigma_px`` sets the landmark noise floor and so the stated ±."""
    pts = np.zeros((len(L), 4))
    pts[:, 2:] = 1.0
    for lm, (x, y) in _FIGURE.items():
        pts[lm, :2] = (x, y)
    pts[L.RIGHT_SHOULDER, 1] += right_shoulder_drop_px
    pts[:, :2] = geo.rotate_points_cw(pts[:, :2], rotate_cw_deg, (width / 2, height / 2))
    ctx = MeasureContext(toward_left=1, width=width, height=height, sigma_px=sigma_px, cm_per_px=cm_per_px)
    return Analysis(
        image={"width": width, "height": height, "sha256": f"synthetic-{rotate_cw_deg}"},
        view=View.ANTERIOR,
        landmarks=pts,
        passes=pts[None].copy(),
        measurements=measure_all(pts, pts[None], ctx),
        warnings=(),
        context=ctx,
        level={"roll_deg": 0.0, "roll_sd_deg": 0.0, "reference": "photo edges",
               "description": "measured against the photo's edges"},
        scale=None if cm_per_px is None else {"cm_per_px": cm_per_px, "stature_cm": 175.0,
                                              "relative_sd": 0.0, "pixel_height": 1200.0},
        method={"passes": 1, "refined": False, "landmark_sigma_px": sigma_px, "model": "synthetic"},
    )


def _pad_and_rotate(rgb: np.ndarray, cw_deg: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    pad = int(0.15 * max(h, w))  # room so the turned body stays inside the frame
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    ph, pw = padded.shape[:2]
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), -cw_deg, 1.0)  # negative angle = clockwise
    turned = cv2.warpAffine(padded, m, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return padded, turned


@pytest.fixture(scope="module")
def front_pair(model: PoseModel) -> dict[str, Analysis]:
    padded, turned3 = _pad_and_rotate(rgb_of(FRONT), 3.0)
    _, turned8 = _pad_and_rotate(rgb_of(FRONT), 8.0)
    return {
        "padded": analyze(Photo.from_array(padded), "anterior", NO_LEVEL, model=model),
        "padded_jpeg": analyze(load_photo(encode(padded, quality=85)), "anterior", NO_LEVEL, model=model),
        "turned3": analyze(Photo.from_array(turned3), "anterior", NO_LEVEL, model=model),
        "turned8": analyze(Photo.from_array(turned8), "anterior", NO_LEVEL, model=model),
    }


# -- real photos -----------------------------------------------------------------------------------


def test_same_photo_no_real_change(front_pair: dict[str, Analysis]) -> None:
    a = front_pair["padded"]
    same = compare(a, a)
    assert all(c.comparable for c in same.changes.values())
    assert not same.real_changes
    assert all(c.delta == 0 for c in same.changes.values())
    # the same photo re-encoded as JPEG (different pixels, a fresh model pass): still nothing real
    again = compare(a, front_pair["padded_jpeg"])
    assert not again.real_changes, [c.summary for c in again.real_changes]
    for c in again.changes.values():
        assert c.delta is not None and c.uncertainty is not None
        assert abs(c.delta) <= c.uncertainty


def _roll_set_by_hand(a: Analysis) -> Analysis:
    """The same photo with the camera stated level by hand: the roll's ± is the hand-set prior
    instead of the no-reference (hand-held phone) prior."""
    ctx = replace(a.context, roll_sd_deg=AnalysisOptions().roll_sd_manual_deg)
    return replace(a, context=ctx, measurements=measure_all(a.landmarks, a.passes, ctx))


def test_three_degree_turn_lowers_every_tilt_by_three_and_is_real(front_pair: dict[str, Analysis]) -> None:
    """Anterior view: turning the photo clockwise raises the image-left (client's right) side, so
    every tilt (positive = right side lower) drops by the turn."""
    c = compare(front_pair["padded"], front_pair["turned3"])
    for name in ("shoulder_tilt", "hip_tilt"):
        ch = c.changes[name]
        assert ch.delta == pytest.approx(-3.0, abs=0.8), ch.summary
    assert c.changes["head_tilt"].delta == pytest.approx(-3.0, abs=1.2)
    # with no level reference in either photo a 3° turn may be the camera's: not a real change
    # (issue 12: the hand-held roll's ± is no longer 0)
    for name in TILTS:
        ch = c.changes[name]
        assert ch.uncertainty is not None and ch.band == CompareOptions().angle_band_deg
        assert ch.real_change == (abs(ch.delta or 0) > max(ch.uncertainty, ch.band))
        assert not ch.real_change, ch.summary
    # with the camera stated level by hand in both, the same turn is the client's and clears both
    c = compare(_roll_set_by_hand(front_pair["padded"]), _roll_set_by_hand(front_pair["turned3"]))
    for name in TILTS:
        ch = c.changes[name]
        assert ch.uncertainty is not None
        # the rule: real only beyond both the combined ± and the band...
        assert ch.real_change == (abs(ch.delta or 0) > max(ch.uncertainty, ch.band))
        # ...and with the refined landmarks a 3° turn clears both on the shoulder and hip lines (the
        # head's short ear-to-ear line has a placement floor of ~1.9° per photo alone, so a 3° turn
        # sits at its combined ± of ~3.2°: for it only the rule above is asserted)
        if name != "head_tilt":
            assert ch.real_change, ch.summary


def test_eight_degree_turn_is_a_real_change(front_pair: dict[str, Analysis]) -> None:
    """Real photo, stated ± of ~2-4° per photo: a turn well beyond the combined ± is called real."""
    c = compare(front_pair["padded"], front_pair["turned8"])
    for name in TILTS:
        ch = c.changes[name]
        assert ch.delta == pytest.approx(-8.0, abs=1.5), ch.summary
        assert ch.real_change, ch.summary
        assert "real change" in ch.summary


def test_align_pair_puts_a_rescaled_copy_on_the_original(model: PoseModel) -> None:
    rgb = rgb_of(FRONT)
    photo_a = Photo.from_array(rgb)
    a = analyze(photo_a, "anterior", NO_LEVEL, model=model)
    # the same scene at 0.6x, shifted right and down inside a larger grey canvas
    small = cv2.resize(rgb, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    canvas = np.full((rgb.shape[0], rgb.shape[1] + 200, 3), 128, np.uint8)
    ox, oy = 150, 250
    canvas[oy:oy + small.shape[0], ox:ox + small.shape[1]] = small
    photo_b = Photo.from_array(canvas)
    lms = a.landmarks.copy()
    lms[:, 0] = lms[:, 0] * 0.6 + ox
    lms[:, 1] = lms[:, 1] * 0.6 + oy
    b = replace(a, landmarks=lms, image={"width": canvas.shape[1], "height": canvas.shape[0], "sha256": "b"})
    opts = AlignOptions(height=600, width=450, fill=(128, 128, 128))
    ra, rb = align_pair(photo_a, a, photo_b, b, opts)
    assert ra.shape == rb.shape == (600, 450, 3)
    body = (slice(60, 540), slice(100, 350))  # the client, well inside both frames
    aligned = np.abs(ra[body].astype(int) - rb[body].astype(int)).mean()
    naive = np.abs(
        cv2.resize(rgb, (450, 600)).astype(int)[body] - cv2.resize(canvas, (450, 600)).astype(int)[body]
    ).mean()
    assert aligned < 6.0 and naive > 4 * aligned, (aligned, naive)
    blend = overlay(photo_a, a, photo_b, b, 0.5, opts)
    assert blend.shape == ra.shape and blend.dtype == np.uint8
    with pytest.raises(Exception, match="alpha"):
        overlay(photo_a, a, photo_b, b, 1.5, opts)


def test_cli_compare_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", str(FRONT), str(FRONT), "--json", "--fast", "--no-level"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == SCHEMA
    assert d["before"]["schema"] == d["after"]["schema"] == "posture.analysis/1"
    assert set(d["changes"]) >= set(TILTS)
    for ch in d["changes"].values():
        assert {"before", "after", "delta", "uncertainty", "real_change", "summary"} <= set(ch)
        assert ch["real_change"] is False


def test_cli_compare_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = main(["compare", str(tmp_path / "nope.jpg"), str(FRONT), "--fast"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


# -- synthetic analyses ----------------------------------------------------------------------------


def test_three_degree_turn_with_small_uncertainty_is_real() -> None:
    before = synthetic_analysis(0.0, sigma_px=0.5)
    after = synthetic_analysis(3.0, sigma_px=0.5)
    c = compare(before, after)
    for name in TILTS:
        ch = c.changes[name]
        assert ch.delta == pytest.approx(-3.0, abs=1e-6)
        assert ch.uncertainty is not None and ch.uncertainty < CompareOptions().angle_band_deg
        assert ch.real_change, ch.summary
    # the same turn measured with a wide ± is not called real
    wide = compare(synthetic_analysis(0.0, sigma_px=6.0), synthetic_analysis(3.0, sigma_px=6.0))
    assert not any(wide.changes[n].real_change for n in TILTS)
    # a change inside the noise band is not real, however small the ±
    small = compare(before, synthetic_analysis(2.0, sigma_px=0.1))
    assert not any(small.changes[n].real_change for n in TILTS)


def test_combined_uncertainty_adds_in_quadrature() -> None:
    before = synthetic_analysis(0.0, sigma_px=1.0)
    after = synthetic_analysis(0.0, sigma_px=3.0)
    for name, ch in compare(before, after).changes.items():
        ub = before.measurements[name].uncertainty or 0.0
        ua = after.measurements[name].uncertainty or 0.0
        assert ch.uncertainty == pytest.approx(np.hypot(ub, ua))
        assert ch.uncertainty > max(ub, ua)


def test_summary_words() -> None:
    before = synthetic_analysis(right_shoulder_drop_px=200 * np.tan(np.radians(4.0)))
    after = synthetic_analysis(right_shoulder_drop_px=200 * np.tan(np.radians(2.0)))
    ch = compare(before, after).changes["shoulder_tilt"]
    assert ch.summary.startswith("Shoulder line tilt: right shoulder lower reduced by 2.0° (4.0 → 2.0°)")
    assert "within" in ch.summary and not ch.real_change  # beyond the ± but inside the 2.5° band
    worse = compare(after, before).changes["shoulder_tilt"]
    assert "increased by 2.0°" in worse.summary
    reverse = compare(after, synthetic_analysis(right_shoulder_drop_px=-200 * np.tan(np.radians(2.0))))
    assert "reversed" in reverse.changes["shoulder_tilt"].summary
    assert "left shoulder lower" in reverse.changes["shoulder_tilt"].summary


def test_units_must_match() -> None:
    pct = synthetic_analysis(0.0)
    cm = synthetic_analysis(3.0, cm_per_px=0.12)
    c = compare(pct, cm)
    for name in ("trunk_shift", "pelvic_shift", "side_shortening"):
        assert pct.measurements[name].unit != cm.measurements[name].unit
        ch = c.changes[name]
        assert not ch.comparable and ch.delta is None and not ch.real_change
        assert "not compared" in ch.summary
    assert c.changes["shoulder_tilt"].comparable
    assert any("height" in w for w in c.warnings)
    d = c.to_dict()
    assert d["changes"]["trunk_shift"]["delta"] is None
    json.dumps(d)


def test_length_band_in_cm() -> None:
    before = synthetic_analysis(0.0, sigma_px=0.2, cm_per_px=0.1)
    moved = synthetic_analysis(0.0, sigma_px=0.2, cm_per_px=0.1)
    lms = moved.landmarks.copy()
    for lm in (L.RIGHT_SHOULDER, L.LEFT_SHOULDER):
        lms[lm, 0] -= 20  # shoulders 2 cm toward the image's left = the client's right
    ctx = moved.context
    after = replace(moved, landmarks=lms, passes=lms[None], measurements=measure_all(lms, lms[None], ctx))
    ch = compare(before, after).changes["trunk_shift"]
    assert ch.unit == "cm" and ch.delta == pytest.approx(2.0, abs=0.01)
    assert ch.real_change and ch.band == CompareOptions().length_band_cm


def test_trend_series() -> None:
    dates = [dt.date(2025, 1, d) for d in (5, 12, 26)]
    series = [synthetic_analysis(t) for t in (0.0, 1.0, 2.5)]
    tr = trend(list(zip(dates, series, strict=True)))
    pts = tr["shoulder_tilt"]
    assert [p.x for p in pts] == dates
    assert [p.value for p in pts] == pytest.approx([0.0, -1.0, -2.5], abs=1e-6)
    assert all(p.uncertainty and p.uncertainty > 0 for p in pts)
    by_index = trend(series)
    assert [p.x for p in by_index["hip_tilt"]] == [0, 1, 2]
    # units: the newest assessment is in cm, so older % values of lengths are left out
    mixed = trend([synthetic_analysis(0.0), synthetic_analysis(0.0, cm_per_px=0.1)])
    assert [p.x for p in mixed["trunk_shift"]] == [1]
    assert [p.x for p in mixed["shoulder_tilt"]] == [0, 1]
