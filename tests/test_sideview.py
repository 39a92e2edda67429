"""Side-view measurements (posture.sideview) on constructed landmark sets.

Each set is built from a body described in (forward, up) pixels, forward = toward the client's front,
and drawn into the photo for a ``left`` view (client faces the image's left) or a ``right`` view. The
expected values are computed here from that description with formulas of their own (trigonometry of
the constructed body), not read from the module's output.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from posture import geometry as geo
from posture.analysis import Analysis, AnalysisOptions, analyze, correct_landmarks
from posture.constants import UNIT_CM, UNIT_DEG, UNIT_PCT_EAR_ANKLE
from posture.imaging import Photo
from posture.metrics import Measurement
from posture.pose import MIRROR_PERMUTATION, PoseModel
from posture.pose import Landmark as L
from posture.sides import View
from posture.sideview import (
    WOODHULL_1985_CM,
    SideContext,
    SideView,
    assign_side_view_sides,
    detect_facing,
    measure_side,
)
from tests.conftest import SAMPLES, rgb_of

W, H = 600, 900
GROUND = 850.0
CENTER_X = 300.0

# a neutral-ish body: (forward, up) of the near side's points, pixels
BASE = {
    "ANKLE": (0.0, 40.0),
    "HEEL": (-12.0, 10.0),
    "FOOT_INDEX": (45.0, 5.0),
    "KNEE": (6.0, 240.0),
    "HIP": (12.0, 450.0),
    "SHOULDER": (8.0, 700.0),
    "EAR": (20.0, 780.0),
    "EYE": (45.0, 790.0),
    "NOSE": (55.0, 780.0),
}


def body(**moves: tuple[float, float]) -> dict[str, tuple[float, float]]:
    b = dict(BASE)
    b.update(moves)
    return b


def build(view: str, parts: dict[str, tuple[float, float]], *, near_vis: float = 0.95,
          far_vis: float = 0.6, far_shift: float = 0.0) -> np.ndarray:
    """An anatomical (33, 4) set: the declared near side gets ``parts``; the far side the same
    body ``far_shift`` px further forward (its points overlap in a true profile)."""
    fx = -1 if view == "left" else 1
    near = view
    far = "right" if view == "left" else "left"
    pts = np.zeros((33, 4))
    pts[:, 2:] = 0.9
    for side, vis, shift in ((near, near_vis, 0.0), (far, far_vis, far_shift)):
        for part, (f, u) in parts.items():
            if part == "NOSE":
                continue
            x, y = CENTER_X + (f + shift) * fx, GROUND - u
            lm = L[f"{side.upper()}_{part}"]
            pts[lm] = (x, y, vis, 0.99)
    f, u = parts["NOSE"]
    pts[L.NOSE] = (CENTER_X + f * fx, GROUND - u, 0.99, 0.99)
    # points not used by the side view (arms, mouth, ...) sit on the trunk, visible
    for lm in (L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST):
        pts[lm] = (CENTER_X, GROUND - 550.0, 0.8, 0.9)
    return pts


def ctx(view: str, **kw: object) -> SideContext:
    return SideContext(SideView(view), W, H, **kw)  # type: ignore[arg-type]


def measure(view: str, pts: np.ndarray, **kw: object):  # type: ignore[no-untyped-def]
    return measure_side(pts, None, ctx(view, **kw))


def expected_knee(parts: dict[str, tuple[float, float]]) -> float:
    """Deviation from straight, by the interior angle (arccos) and the side of the hip-ankle line
    the knee lies on (its forward offset from that line at the knee's height)."""
    (hf, hu), (kf, ku), (af, au) = parts["HIP"], parts["KNEE"], parts["ANKLE"]
    a = np.array([hf - kf, hu - ku])
    b = np.array([af - kf, au - ku])
    interior = math.degrees(math.acos(float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b))))
    line_f = af + (hf - af) * (ku - au) / (hu - au)
    behind = kf < line_f
    return (180.0 - interior) * (1 if behind else -1)


VIEWS = ("left", "right")


@pytest.mark.parametrize("view", VIEWS)
def test_every_measurement_matches_the_constructed_body(view: str) -> None:
    parts = body()
    r = measure(view, build(view, parts), cm_per_px=0.25)
    m = r.measurements
    ear, sh, hip, knee, ank = (parts[p] for p in ("EAR", "SHOULDER", "HIP", "KNEE", "ANKLE"))
    assert m["head_forward"].unit == UNIT_CM
    assert m["head_forward"].value == pytest.approx((ear[0] - sh[0]) * 0.25)
    assert m["head_forward"].details["angle_from_vertical"].value == pytest.approx(
        math.degrees(math.atan((ear[0] - sh[0]) / (ear[1] - sh[1])))
    )
    assert m["trunk_lean"].unit == UNIT_DEG
    assert m["trunk_lean"].value == pytest.approx(
        math.degrees(math.atan((sh[0] - hip[0]) / (sh[1] - hip[1])))
    )
    assert m["hip_forward"].value == pytest.approx((hip[0] - ank[0]) * 0.25)
    assert m["knee_extension"].value == pytest.approx(expected_knee(parts))
    plumb = m["plumb_line"]
    for name, p in (("ear", ear), ("shoulder", sh), ("hip", hip), ("knee", knee)):
        assert plumb.details[name].value == pytest.approx((p[0] - ank[0]) * 0.25), name
        assert plumb.details[name].unit == UNIT_CM
    assert plumb.value == pytest.approx(plumb.details["ear"].value)
    for part, cm in WOODHULL_1985_CM.items():
        assert plumb.details[f"reference_{part}_woodhull_1985"].value == cm
    # the near side is the declared one; landmarks are named for it
    assert all(s == view for s in r.sides_used.values())
    assert m["trunk_lean"].landmarks == (f"{view}_shoulder", f"{view}_hip")
    assert not r.facing.contradicts and r.facing.detected is SideView(view)
    assert r.warnings == ()
    for meas in m.values():
        assert meas.available and meas.uncertainty is not None and meas.uncertainty > 0


@pytest.mark.parametrize("view", VIEWS)
def test_without_a_scale_offsets_are_a_share_of_the_ear_ankle_height(view: str) -> None:
    parts = body()
    r = measure(view, build(view, parts))
    height = parts["EAR"][1] - parts["ANKLE"][1]
    hf = r.measurements["hip_forward"]
    assert hf.unit == UNIT_PCT_EAR_ANKLE
    assert hf.value == pytest.approx(100.0 * (parts["HIP"][0] - parts["ANKLE"][0]) / height)
    assert hf.details["pixels"].value == pytest.approx(parts["HIP"][0] - parts["ANKLE"][0])


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(
    ("name", "moves", "sign", "words"),
    [
        ("head_forward", {"EAR": (60.0, 780.0), "NOSE": (95.0, 780.0)}, 1, "head ahead"),
        ("head_forward", {"EAR": (-30.0, 780.0), "NOSE": (5.0, 780.0)}, -1, "head behind"),
        ("trunk_lean", {"SHOULDER": (70.0, 700.0)}, 1, "leaning forward"),
        ("trunk_lean", {"SHOULDER": (-50.0, 700.0)}, -1, "leaning back"),
        ("hip_forward", {"HIP": (60.0, 450.0)}, 1, "hip ahead"),
        ("hip_forward", {"HIP": (-40.0, 450.0)}, -1, "hip behind"),
        ("knee_extension", {"KNEE": (-20.0, 240.0)}, 1, "hyper-extended"),
        ("knee_extension", {"KNEE": (40.0, 240.0)}, -1, "bent"),
        ("plumb_line", {"EAR": (90.0, 780.0), "NOSE": (120.0, 780.0)}, 1, "ear ahead"),
        ("plumb_line", {"EAR": (-40.0, 780.0), "NOSE": (-5.0, 780.0)}, -1, "ear behind"),
    ],
)
def test_sign_is_toward_the_clients_front_in_both_views(
    view: str, name: str, moves: dict[str, tuple[float, float]], sign: int, words: str
) -> None:
    m = measure(view, build(view, body(**moves))).measurements[name]
    assert m.value is not None and math.copysign(1, m.value) == sign
    assert abs(m.value) > (m.uncertainty or 0.0)
    assert words in m.side


def test_a_straight_knee_reads_zero_and_straight() -> None:
    parts = body(KNEE=(6.0, 245.0))  # on the hip-ankle line: ankle (0, 40), hip (12, 450)
    m = measure("right", build("right", parts)).measurements["knee_extension"]
    assert m.value == pytest.approx(0.0, abs=1e-9)
    assert m.side == "knee straight"
    # the hip-knee-ankle angle is the same angle (180 - |value|) with the same, whole ±
    hka = m.details["hip_knee_ankle_angle"]
    assert hka.value == pytest.approx(180.0)
    assert hka.uncertainty == pytest.approx(m.uncertainty)


@pytest.mark.parametrize(
    "parts",
    [
        body(),
        body(EAR=(60.0, 780.0), NOSE=(95.0, 780.0), SHOULDER=(-30.0, 700.0), KNEE=(-15.0, 240.0),
             HIP=(50.0, 450.0)),
    ],
)
def test_a_mirrored_left_set_is_a_right_set_with_the_same_values(
    parts: dict[str, tuple[float, float]],
) -> None:
    left = build("left", parts)
    mirrored = left[MIRROR_PERMUTATION].copy()
    mirrored[:, 0] = W - mirrored[:, 0]
    a = measure("left", left, cm_per_px=0.3).measurements
    b = measure("right", mirrored, cm_per_px=0.3).measurements
    assert detect_facing(mirrored, "right").detected is SideView.RIGHT
    for name in a:
        assert b[name].value == pytest.approx(a[name].value), name
        assert b[name].uncertainty == pytest.approx(a[name].uncertainty), name
        assert b[name].side == a[name].side
        for k, q in a[name].details.items():
            assert b[name].details[k].value == pytest.approx(q.value), (name, k)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("theta", [-8.0, 5.0])
def test_a_turned_set_shifts_from_vertical_angles_and_the_roll_undoes_it(view: str, theta: float) -> None:
    parts = body(EAR=(40.0, 780.0), SHOULDER=(-10.0, 700.0), KNEE=(-12.0, 240.0))
    pts = build(view, parts)
    turned = pts.copy()
    turned[:, :2] = geo.rotate_points_cw(pts[:, :2], theta, (W / 2.0, H / 2.0))
    base = measure(view, pts).measurements
    rot = measure(view, turned).measurements
    # clockwise on screen moves the top of a vertical line to the image's right: toward the front
    # in a right view, toward the back in a left view
    toward_front = theta if view == "right" else -theta
    assert rot["trunk_lean"].value == pytest.approx(base["trunk_lean"].value + toward_front)
    assert rot["head_forward"].details["angle_from_vertical"].value == pytest.approx(
        base["head_forward"].details["angle_from_vertical"].value + toward_front
    )
    # a three-point angle does not turn with the photo
    assert rot["knee_extension"].value == pytest.approx(base["knee_extension"].value)
    # horizontal offsets change under the turn (they are read against the photo's axes) ...
    assert rot["hip_forward"].value != pytest.approx(base["hip_forward"].value, abs=0.5)
    # ... and the camera-roll input undoes all of it
    fixed = measure(view, turned, roll_deg=theta).measurements
    for name, m in base.items():
        assert fixed[name].value == pytest.approx(m.value, abs=1e-6), name


def test_roll_uncertainty_widens_angles_and_offsets() -> None:
    pts = build("right", body())
    sure = measure("right", pts).measurements
    unsure = measure("right", pts, roll_sd_deg=1.0).measurements
    for name in ("trunk_lean", "head_forward", "hip_forward"):
        assert unsure[name].uncertainty > sure[name].uncertainty, name
    assert unsure["knee_extension"].uncertainty == pytest.approx(sure["knee_extension"].uncertainty)


@pytest.mark.parametrize("view", VIEWS)
def test_facing_check_warns_on_a_wrong_declared_side(view: str) -> None:
    wrong = "right" if view == "left" else "left"
    pts = build(view, body())
    ok = detect_facing(pts, view)
    assert ok.detected is SideView(view) and not ok.contradicts and ok.warning is None
    bad = detect_facing(pts, wrong)
    assert bad.contradicts and bad.detected is SideView(view)
    assert bad.warning is not None and f"{view} side view" in bad.warning
    # the same photo measured with the wrong declared side carries the warning
    r = measure(wrong, pts)
    assert r.facing.contradicts and bad.warning in r.warnings


def test_facing_unclear_when_nose_and_toes_are_not_visible() -> None:
    pts = build("right", body())
    for lm in (L.NOSE, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX):
        pts[lm, 2] = 0.1
    f = detect_facing(pts, "right")
    assert f.detected is None and not f.contradicts and f.warning is not None


def test_facing_does_not_trust_which_side_the_labels_name() -> None:
    pts = build("left", body())
    swapped = pts[MIRROR_PERMUTATION]  # labels swapped, same positions
    assert detect_facing(swapped, "left").detected is SideView.LEFT


@pytest.mark.parametrize("view", VIEWS)
def test_far_side_fallback_warns_and_widens_the_uncertainty(view: str) -> None:
    parts = body()
    pts = build(view, parts, far_vis=0.9)
    near = measure(view, pts).measurements
    hidden = pts.copy()
    far = "right" if view == "left" else "left"
    hidden[L[f"{view.upper()}_EAR"], 2] = 0.2
    r = measure(view, hidden)
    hf = r.measurements["head_forward"]
    assert r.sides_used["head_forward"] == far
    assert hf.landmarks == (f"{far}_ear", f"{far}_shoulder")
    assert hf.value == pytest.approx(near["head_forward"].value)
    assert hf.uncertainty > 1.5 * near["head_forward"].uncertainty
    assert hf.label.endswith("far side")
    assert any("head_forward" in w and f"{far} side" in w and "ear" in w for w in r.warnings)
    # measurements that do not need the ear stay on the near side, with their ±
    assert r.sides_used["trunk_lean"] == view
    assert r.measurements["trunk_lean"].uncertainty == pytest.approx(near["trunk_lean"].uncertainty)


def test_unavailable_when_neither_side_can_be_trusted() -> None:
    pts = build("right", body())
    pts[L.LEFT_ANKLE, 1] = pts[L.RIGHT_ANKLE, 1] = H + 30.0  # feet cut off
    r = measure("right", pts, cm_per_px=0.25)
    hf = r.measurements["hip_forward"]
    assert not hf.available and hf.value is None and "ankle" in (hf.reason or "")
    assert r.measurements["trunk_lean"].available
    # without a scale and without an ankle there is no ear-ankle height for the % unit either
    assert not measure("right", pts).measurements["head_forward"].available


def test_pass_spread_widens_the_uncertainty() -> None:
    pts = build("right", body())
    rng = np.random.default_rng(7)
    passes = np.stack([pts.copy() for _ in range(6)])
    passes[:, :, :2] += rng.normal(0.0, 6.0, size=(6, 33, 2))
    single = measure_side(pts, None, ctx("right")).measurements
    spread = measure_side(pts, passes, ctx("right")).measurements
    for name in single:
        assert spread[name].uncertainty > single[name].uncertainty, name
        assert spread[name].value == pytest.approx(single[name].value), name


def test_to_dict_carries_the_convention_and_the_cva_caveat() -> None:
    d = measure("left", build("left", body())).to_dict()
    assert d["view"] == "left"
    assert "front" in d["sign_convention"]
    assert "craniovertebral" in d["head_forward_note"] and "C7" in d["head_forward_note"]
    assert set(d["measurements"]) == {
        "head_forward", "trunk_lean", "hip_forward", "knee_extension", "plumb_line"
    }
    assert d["measurements"]["head_forward"]["details"]["angle_from_vertical"]["unit"] == UNIT_DEG


def test_side_view_parse() -> None:
    assert SideView.parse("LEFT") is SideView.LEFT
    assert SideView.parse("r") is SideView.RIGHT
    assert SideView.LEFT.forward_x == -1 and SideView.RIGHT.forward_x == 1
    from posture.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError):
        SideView.parse("anterior")


@pytest.mark.parametrize("view", VIEWS)
def test_the_better_seen_label_set_becomes_the_near_side(view: str) -> None:
    pts = build(view, body(), near_vis=0.95, far_vis=0.4)
    kept = assign_side_view_sides(pts, view)
    assert not kept.swapped and np.array_equal(kept.points, pts)
    # the model put its labels the other way round: the well-seen points carry the far side's names
    relabelled = pts[MIRROR_PERMUTATION]
    fixed = assign_side_view_sides(relabelled, view)
    assert fixed.swapped and np.array_equal(fixed.points, pts)
    assert fixed.near_visibility > fixed.far_visibility
    r = measure(view, fixed.points)
    assert all(s == view for s in r.sides_used.values())


def test_a_front_view_context_carries_over() -> None:
    from posture.metrics import MeasureContext

    front = MeasureContext(toward_left=1, width=W, height=H, roll_deg=3.0, roll_sd_deg=0.4,
                           cm_per_px=0.2, sigma_px=1.5, manual=frozenset({"left_ear"}))
    side = SideContext.from_measure_context("left", front)
    assert side.view is SideView.LEFT
    assert (side.roll_deg, side.roll_sd_deg, side.cm_per_px, side.sigma_px) == (3.0, 0.4, 0.2, 1.5)
    assert side.manual == frozenset({"left_ear"})
    assert SideContext("right", W, H).view is SideView.RIGHT  # type: ignore[arg-type]


@pytest.mark.parametrize("view", VIEWS)
def test_facing_with_the_head_turned_to_the_camera(view: str) -> None:
    """Fashion-photo case: the head turned toward the camera puts the nose almost over the far ear
    (here 2 px behind it); the nose still lies ahead of the ears' midpoint."""
    pts = build(view, body(), far_shift=30.0)  # far ear at forward 50
    fx = -1 if view == "left" else 1
    pts[L.NOSE, 0] = CENTER_X + 48.0 * fx
    for lm in (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX):
        pts[lm, 2] = 0.1  # toes hidden (long skirt, shoes)
    f = detect_facing(pts, view)
    assert f.detected is SideView(view) and f.cues == 1 and not f.contradicts


def test_hand_placed_points_carry_the_click_precision() -> None:
    pts = build("right", body())
    placed = frozenset({"right_shoulder", "right_hip"})
    model_read = measure("right", pts).measurements["trunk_lean"]
    clicked = measure("right", pts, manual=placed, click_sd_px=0.25).measurements["trunk_lean"]
    coarse = measure("right", pts, manual=placed, click_sd_px=8.0).measurements["trunk_lean"]
    assert clicked.value == pytest.approx(model_read.value)
    assert clicked.uncertainty < model_read.uncertainty < coarse.uncertainty


# ---------------------------------------------------------------------------------------------
# Through analyze() on a shipped photo. No true profile photo may ship (see sample_images/
# LICENSES.txt); coco_000000234748 is the most side-on one: a man leaning on a post, seen
# three-quarter from his right, facing the image's right. The laws below hold for any photo.

SIDE_PHOTO = SAMPLES / "coco_000000234748.jpg"
SIDE_NAMES = ("head_forward", "trunk_lean", "hip_forward", "knee_extension", "plumb_line")


def _within(a: Measurement, b: Measurement, shift: float = 0.0) -> bool:
    assert a.value is not None and b.value is not None
    return abs(b.value - (a.value + shift)) <= math.hypot(a.uncertainty or 0.0, b.uncertainty or 0.0)


@pytest.fixture(scope="module")
def side_photo() -> np.ndarray:
    return rgb_of(SIDE_PHOTO)


@pytest.fixture(scope="module")
def right_analysis(model: PoseModel, side_photo: np.ndarray) -> Analysis:
    return analyze(Photo.from_array(side_photo), "right", AnalysisOptions(auto_level=False), model=model)


def test_a_mirrored_right_photo_analysed_as_left_gives_the_same_values(
    model: PoseModel, side_photo: np.ndarray, right_analysis: Analysis
) -> None:
    right = right_analysis
    left = analyze(Photo.from_array(side_photo[:, ::-1].copy()), "left", AnalysisOptions(auto_level=False),
                   model=model)
    for a in (right, left):
        assert a.view.is_side
        assert set(a.measurements) == set(SIDE_NAMES)
        assert a.method["side_view"]["facing"]["detected"] == a.view.value
        assert not any("seems to face" in w for w in a.warnings)
    assert right.measurements["head_forward"].landmarks == ("right_ear", "right_shoulder")
    assert left.measurements["head_forward"].landmarks == ("left_ear", "left_shoulder")
    for name in SIDE_NAMES:
        a, b = right.measurements[name], left.measurements[name]
        assert a.available and b.available, name
        assert _within(a, b), (name, a.value, a.uncertainty, b.value, b.uncertainty)
    # the photo shows what the numbers say: leaning back on the post, feet out in front
    assert (right.measurements["trunk_lean"].value or 0.0) < 0
    assert (right.measurements["hip_forward"].value or 0.0) < 0


def test_a_side_analysis_round_trips_and_takes_hand_corrections(right_analysis: Analysis) -> None:
    a = right_analysis
    again = Analysis.from_dict(a.to_dict())
    assert again.view is View.RIGHT
    assert again.to_dict()["measurements"] == a.to_dict()["measurements"]
    assert again.method["side_view"]["sides_used"]["head_forward"] == "right"
    # the therapist moves the ear 10 px toward the client's front (the image's right here)
    x, y = a.point_xy("right_ear")
    fixed = correct_landmarks(a, {"right_ear": (x + 10.0, y)})
    hf, before = fixed.measurements["head_forward"], a.measurements["head_forward"]
    assert hf.details["pixels"].value == pytest.approx(before.details["pixels"].value + 10.0, abs=0.01)
    assert "right_ear" in fixed.manual
    assert fixed.measurements["trunk_lean"].value == pytest.approx(a.measurements["trunk_lean"].value)


def test_a_wrong_declared_side_is_warned_about(model: PoseModel, side_photo: np.ndarray) -> None:
    a = analyze(Photo.from_array(side_photo), "left", AnalysisOptions(auto_level=False, refine=False),
                model=model)
    assert a.method["side_view"]["facing"]["contradicts"]
    assert any("seems to face the image's right" in w for w in a.warnings)


@pytest.mark.parametrize("theta", [4.0])
def test_a_turned_photo_shifts_from_vertical_angles_and_the_roll_undoes_it(
    model: PoseModel, side_photo: np.ndarray, theta: float
) -> None:
    h, w = side_photo.shape[:2]
    pad = cv2.copyMakeBorder(side_photo, h // 10, h // 10, w // 10, w // 10, cv2.BORDER_REPLICATE)
    ph, pw = pad.shape[:2]
    turned = cv2.warpAffine(pad, cv2.getRotationMatrix2D((pw / 2, ph / 2), -theta, 1.0), (pw, ph),
                            borderMode=cv2.BORDER_REPLICATE)  # content turned theta clockwise
    base = analyze(Photo.from_array(pad), "right", AnalysisOptions(auto_level=False), model=model)
    raw = analyze(Photo.from_array(turned), "right", AnalysisOptions(auto_level=False), model=model)
    told = analyze(Photo.from_array(turned), "right", AnalysisOptions(camera_roll_deg=theta), model=model)
    # clockwise moves the top of the body toward the image's right = the client's front here
    assert _within(base.measurements["trunk_lean"], raw.measurements["trunk_lean"], shift=theta)
    b_ang = base.measurements["head_forward"].details["angle_from_vertical"]
    r_ang = raw.measurements["head_forward"].details["angle_from_vertical"]
    combined = math.hypot(b_ang.uncertainty or 0.0, r_ang.uncertainty or 0.0)
    assert abs(r_ang.value - (b_ang.value + theta)) <= combined
    # a joint angle does not turn with the photo
    assert _within(base.measurements["knee_extension"], raw.measurements["knee_extension"])
    # the stated roll gives every value back
    for name in SIDE_NAMES:
        assert _within(base.measurements[name], told.measurements[name]), name


def test_cli_analyze_view_left_json(tmp_path: Path, side_photo: np.ndarray) -> None:
    path = tmp_path / "side.png"
    Image.fromarray(side_photo[:, ::-1].copy()).save(path)
    proc = subprocess.run(
        [sys.executable, "-m", "posture.cli", "analyze", str(path), "--view", "left", "--json", "--fast"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["schema"] == "posture.analysis/1" and d["view"] == "left"
    assert set(d["measurements"]) == set(SIDE_NAMES)
    assert d["measurements"]["trunk_lean"]["unit"] == UNIT_DEG
    assert "craniovertebral" in d["method"]["side_view"]["head_forward_note"]
    assert d["method"]["side_view"]["facing"]["detected"] == "left"


def test_the_share_of_height_unit_prints_with_its_reference() -> None:
    from posture.formatting import format_value

    assert format_value(1.04, UNIT_PCT_EAR_ANKLE, 0.66) == "+1.0 % ± 0.7 % of the ear-to-ankle height"
