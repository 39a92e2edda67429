"""Numbers a therapist can trust: resolution independence, centimetres, camera roll through analyze()."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posture.analysis import AnalysisOptions, analyze
from posture.imaging import Photo, load_photo
from posture.pose import PoseModel
from tests.conftest import FRONT, encode, rgb_of

TILTS = ("shoulder_tilt", "hip_tilt")
# Issue goal: roll-corrected tilts move by at most 0.3° when the camera turns by up to 6°. Measured
# on this scene: 0.02-0.26° (the roll itself is found within 0.01°, and the refinement crops are
# turned level before the model sees them).
TILT_UNDER_ROLL_TOL = 0.3


def _resize_long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=interp)


def test_640_and_4000_px_agree_within_uncertainty(model: PoseModel) -> None:
    rgb = rgb_of(FRONT)
    opts = AnalysisOptions(auto_level=False)
    small = analyze(Photo.from_array(_resize_long_side(rgb, 640)), "anterior", opts, model=model)
    # the 4000 px copy goes through the real decoder (JPEG, reduced-size decode)
    big_bytes = encode(_resize_long_side(rgb, 4000), quality=95)
    big = analyze(load_photo(big_bytes), "anterior", opts, model=model)
    assert big.image["height"] == 4000
    for name in TILTS:
        a, b = small.measurements[name], big.measurements[name]
        assert a.value is not None and b.value is not None
        combined = float(np.hypot(a.uncertainty or 0, b.uncertainty or 0))
        assert abs(a.value - b.value) <= combined, name
    # landmarks are reported in each photo's own pixels
    ratio = big.point_xy("left_hip")[1] / small.point_xy("left_hip")[1]
    assert ratio == pytest.approx(4000 / 640, rel=0.03)


def test_centimetres_survive_a_50_percent_downscale(model: PoseModel) -> None:
    rgb = rgb_of(FRONT)
    opts = AnalysisOptions(auto_level=False, stature_cm=178.0)
    full = analyze(Photo.from_array(rgb), "anterior", opts, model=model)
    half_rgb = _resize_long_side(rgb, max(rgb.shape[:2]) // 2)
    half = analyze(Photo.from_array(half_rgb), "anterior", opts, model=model)
    assert full.scale is not None and half.scale is not None
    # one pixel of the half-size photo covers two of the full one
    assert half.scale["cm_per_px"] == pytest.approx(2 * full.scale["cm_per_px"], rel=0.05)
    for name in ("trunk_shift", "pelvic_shift", "side_shortening"):
        a, b = full.measurements[name], half.measurements[name]
        assert a.unit == b.unit == "cm"
        combined = float(np.hypot(a.uncertainty or 0, b.uncertainty or 0))
        assert abs((a.value or 0) - (b.value or 0)) <= combined, name
    h = full.measurements["shoulder_tilt"].details["height_difference"]
    assert h.unit == "cm"


def test_manual_roll_cancels_a_turned_camera(model: PoseModel) -> None:
    rgb = rgb_of(FRONT)
    h, w = rgb.shape[:2]
    pad = cv2.copyMakeBorder(rgb, h // 10, h // 10, w // 5, w // 5, cv2.BORDER_REPLICATE)
    ph, pw = pad.shape[:2]
    turned = cv2.warpAffine(pad, cv2.getRotationMatrix2D((pw / 2, ph / 2), -2.0, 1.0), (pw, ph),
                            borderMode=cv2.BORDER_REPLICATE)  # content turned 2° clockwise
    base = analyze(Photo.from_array(pad), "anterior", AnalysisOptions(auto_level=False), model=model)
    raw = analyze(Photo.from_array(turned), "anterior", AnalysisOptions(auto_level=False), model=model)
    told = analyze(Photo.from_array(turned), "anterior", AnalysisOptions(camera_roll_deg=2.0), model=model)
    assert told.level["reference"] == "manual"
    for name in TILTS:
        b = base.measurements[name].value or 0.0
        # uncorrected, a clockwise turn lowers an anterior tilt by the turn...
        assert (raw.measurements[name].value or 0.0) == pytest.approx(b - 2.0, abs=0.4), name
        # ...and the stated roll gives the level reading back, within the stated uncertainty
        t = told.measurements[name]
        combined = float(np.hypot(base.measurements[name].uncertainty or 0, t.uncertainty or 0))
        assert abs((t.value or 0.0) - b) <= combined, name


def test_no_scene_lines_means_no_reference(model: PoseModel) -> None:
    rgb = rgb_of(FRONT)
    h, w = rgb.shape[:2]
    # the person on a plain, slightly noisy backdrop: nothing to level against
    mask_bg = np.full((h, w, 3), 180, np.uint8)
    near_corner = np.abs(rgb.astype(int) - rgb[5, 5].astype(int)).sum(axis=2, keepdims=True) < 40
    plain = np.where(near_corner, mask_bg, rgb)
    a = analyze(Photo.from_array(plain.astype(np.uint8)), "anterior", AnalysisOptions(), model=model)
    # the person's own straight edges (arms, legs) must never be taken for the room's
    assert a.level["reference"] == "photo edges", a.level
    assert "no level reference found" in a.level["description"]


def _room_with_client(model: PoseModel) -> np.ndarray:
    """The sample client cut out with the model's own mask and placed in a drawn room whose door
    frames and wall corners are true verticals (slightly converging, as from a pitched phone)."""
    rgb = rgb_of(FRONT)
    first = analyze(Photo.from_array(rgb), "anterior", AnalysisOptions(auto_level=False), model=model)
    assert first.mask is not None
    mask = cv2.resize(first.mask, (rgb.shape[1], rgb.shape[0]))[..., None] > 0.5
    h, w = rgb.shape[:2]
    H, W = int(h * 1.5), int(w * 2.2)
    rng = np.random.default_rng(1)
    room = np.full((H, W, 3), 200, np.uint8) + rng.integers(0, 12, (H, W, 3), dtype=np.uint8)
    vp = (W / 2, H * 6.0)  # verticals meet far below: camera pitched down a little
    for x_top in (0.06, 0.16, 0.80, 0.92):
        x0 = x_top * W
        x1 = x0 + (vp[0] - x0) * (H / vp[1])
        cv2.line(room, (int(x0), 0), (int(x1), H - 1), (60, 50, 40), 7, cv2.LINE_AA)
    cv2.line(room, (0, int(H * 0.82)), (W - 1, int(H * 0.82)), (90, 80, 70), 4, cv2.LINE_AA)
    y0, x0 = H - h - int(0.12 * h), (W - w) // 2
    region = room[y0 : y0 + h, x0 : x0 + w]
    room[y0 : y0 + h, x0 : x0 + w] = np.where(mask, rgb, region)
    return room


@pytest.mark.parametrize("theta", [-6.0, -3.0, 3.0, 6.0])
def test_roll_from_scene_verticals_cancels_a_turned_camera(model: PoseModel, theta: float) -> None:
    room = _room_with_client(model)
    base = analyze(Photo.from_array(room), "anterior", AnalysisOptions(), model=model)
    assert base.level["reference"] == "scene verticals", base.level
    H, W = room.shape[:2]
    m = cv2.getRotationMatrix2D((W / 2, H / 2), -theta, 1.0)  # content clockwise on screen by theta
    turned_rgb = cv2.warpAffine(room, m, (W, H), borderMode=cv2.BORDER_REPLICATE)
    turned = analyze(Photo.from_array(turned_rgb), "anterior", AnalysisOptions(), model=model)
    assert turned.level["reference"] == "scene verticals", turned.level
    assert turned.level["roll_deg"] - base.level["roll_deg"] == pytest.approx(theta, abs=0.5)
    for name in TILTS:
        a, b = base.measurements[name], turned.measurements[name]
        assert abs((b.value or 0) - (a.value or 0)) <= TILT_UNDER_ROLL_TOL, name
