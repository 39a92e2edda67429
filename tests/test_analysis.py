"""End-to-end analysis on shipped photos and transformed copies whose effect is known exactly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posture.analysis import AnalysisOptions, analyze, correct_landmarks
from posture.constants import LEVEL_CUTOFF
from posture.imaging import Photo, load_photo
from posture.pose import PoseModel
from tests.conftest import BACK, FRONT, encode, rgb_of

SIGNED = ("shoulder_tilt", "hip_tilt", "head_tilt", "trunk_shift", "pelvic_shift", "side_shortening")
TILTS = ("shoulder_tilt", "hip_tilt", "head_tilt")
NO_LEVEL = AnalysisOptions(auto_level=False)


@pytest.fixture(scope="module")
def front(model: PoseModel):  # type: ignore[no-untyped-def]
    return analyze(load_photo(FRONT), "anterior", NO_LEVEL, model=model)


def test_contract(front) -> None:  # type: ignore[no-untyped-def]
    d = front.to_dict()
    assert d["schema"] == "posture.analysis/1"
    assert set(d["image"]) == {"width", "height", "sha256"}
    assert d["view"] == "anterior"
    assert {"left_shoulder", "right_hip", "nose"} <= set(d["landmarks"])
    for name in SIGNED:
        m = d["measurements"][name]
        assert m["available"], m
        assert {"value", "unit", "side", "uncertainty", "landmarks"} <= set(m)
        assert m["uncertainty"] > 0
    # anterior: the client's right shoulder is on the image's left
    assert d["landmarks"]["right_shoulder"]["x"] < d["landmarks"]["left_shoulder"]["x"]
    assert d["measurements"]["shoulder_tilt"]["unit"] == "deg"
    side = d["measurements"]["shoulder_tilt"]["side"]
    value = d["measurements"]["shoulder_tilt"]["value"]
    if abs(value) < LEVEL_CUTOFF:
        assert side == "shoulders level"
    else:
        assert ("right" in side) == (value > 0)


def test_mirror_flips_signs_and_swaps_sides(front, model: PoseModel) -> None:  # type: ignore[no-untyped-def]
    rgb = rgb_of(FRONT)
    mirrored = analyze(Photo.from_array(rgb[:, ::-1].copy()), "anterior", NO_LEVEL, model=model)
    w = rgb.shape[1]
    for a, b in (("right_shoulder", "left_shoulder"), ("left_hip", "right_hip")):
        xa = mirrored.to_dict()["landmarks"][a]["x"]
        xb = front.to_dict()["landmarks"][b]["x"]
        assert abs(xa - (w - xb)) < 3.0
    for name in SIGNED:
        a, b = front.measurements[name], mirrored.measurements[name]
        assert a.value is not None and b.value is not None
        tol = 0.6 if a.unit == "deg" else 1.5
        assert b.value == pytest.approx(-a.value, abs=tol), name


@pytest.mark.parametrize("theta", [-5.0, 3.0])
def test_rotation_shifts_tilts_by_theta(front, model: PoseModel, theta: float) -> None:  # type: ignore[no-untyped-def]
    rgb = rgb_of(FRONT)
    h, w = rgb.shape[:2]
    # pad so that the body stays in frame, then turn the content clockwise on screen by theta
    pad = cv2.copyMakeBorder(rgb, h // 8, h // 8, w // 4, w // 4, cv2.BORDER_REPLICATE)
    ph, pw = pad.shape[:2]
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), -theta, 1.0)
    rot = cv2.warpAffine(pad, m, (pw, ph), borderMode=cv2.BORDER_REPLICATE)
    turned = analyze(Photo.from_array(rot), "anterior", NO_LEVEL, model=model)
    for name in TILTS[:2]:
        before = front.measurements[name].value
        after = turned.measurements[name].value
        # anterior view: turning the content clockwise lowers the client's LEFT side
        assert after == pytest.approx(before - theta, abs=0.6), name


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_rescale_keeps_angles(front, model: PoseModel, factor: float) -> None:  # type: ignore[no-untyped-def]
    rgb = rgb_of(FRONT)
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=interp)
    other = analyze(Photo.from_array(scaled), "anterior", NO_LEVEL, model=model)
    for name in TILTS[:2]:
        a, b = front.measurements[name], other.measurements[name]
        assert abs(a.value - b.value) <= max(a.uncertainty, b.uncertainty), name  # type: ignore[operator]
    # landmarks come back in the pixels of the photo that was given
    ratio = other.point_xy("left_shoulder")[0] / front.point_xy("left_shoulder")[0]
    assert ratio == pytest.approx(factor, rel=0.03)


def test_exif_rotated_copy_equals_upright(front, model: PoseModel) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    rgb = rgb_of(FRONT)
    stored = np.ascontiguousarray(np.rot90(rgb, k=1))  # camera held sideways: pixels turned left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = encode(stored, "PNG", exif=exif.tobytes())
    photo = load_photo(data)
    assert (photo.width, photo.height) == (rgb.shape[1], rgb.shape[0])
    assert np.array_equal(photo.rgb, rgb)
    again = analyze(photo, "anterior", NO_LEVEL, model=model)
    for name in SIGNED:
        assert again.measurements[name].value == pytest.approx(front.measurements[name].value, abs=1e-6)


def test_back_view_sides(model: PoseModel) -> None:
    a = analyze(load_photo(BACK), "posterior", NO_LEVEL, model=model)
    lm = a.to_dict()["landmarks"]
    # posterior: the client's right is on the image's right
    assert lm["right_shoulder"]["x"] > lm["left_shoulder"]["x"]
    assert lm["right_hip"]["x"] > lm["left_hip"]["x"]
    assert not any("face is visible" in w for w in a.warnings)
    # legs cut at the knees: the plumb-line measurement is unavailable, the others still come out
    assert not a.measurements["pelvic_shift"].available
    assert "ankle" in (a.measurements["pelvic_shift"].reason or "")
    assert a.measurements["shoulder_tilt"].available


def test_front_photo_declared_posterior_warns(model: PoseModel) -> None:
    a = analyze(load_photo(FRONT), "posterior", NO_LEVEL, model=model)
    assert any("face is visible" in w for w in a.warnings)


def test_correction_changes_only_what_it_should(front) -> None:  # type: ignore[no-untyped-def]
    x, y = front.point_xy("right_shoulder")
    moved = correct_landmarks(front, {"right_shoulder": (x, y + 12.0)})
    assert moved.measurements["shoulder_tilt"].value > front.measurements["shoulder_tilt"].value + 1.0  # type: ignore[operator]
    assert moved.measurements["hip_tilt"].value == front.measurements["hip_tilt"].value
    # the plumb line does not use the shoulders (its % of shoulder width rescales, its pixels do not)
    px = moved.measurements["pelvic_shift"].details["pixels"].value
    assert px == front.measurements["pelvic_shift"].details["pixels"].value
    assert moved.to_dict()["landmarks"]["right_shoulder"]["manual"] is True
    assert "manual" not in moved.to_dict()["landmarks"]["left_shoulder"]


def test_single_pass_fast_path(model: PoseModel) -> None:
    before = model.passes
    a = analyze(load_photo(FRONT), "anterior", AnalysisOptions(refine=False, auto_level=False), model=model)
    assert model.passes - before == 1
    assert a.method["passes"] == 1
    assert a.measurements["shoulder_tilt"].available
