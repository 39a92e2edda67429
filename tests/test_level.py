"""Tests for posture.level: camera roll from scene lines.

Roll convention under test (see posture/level.py): rotating a level photo's content CLOCKWISE on
screen by theta (cv2.getRotationMatrix2D(centre, -theta, 1.0)) increases the estimated roll by theta.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posture.level import (
    NO_REFERENCE_REASON,
    RollEstimate,
    RollOptions,
    estimate_roll,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
TOL_DEG = 0.5

# Synthetic scene size (portrait, like most posture photos).
H, W = 1200, 900

Segment = tuple[float, float, float, float]


# --------------------------------------------------------------------------------------------------
# Synthetic scenes
# --------------------------------------------------------------------------------------------------


def _draw(img: np.ndarray, seg: Segment, color: tuple[int, int, int], thickness: int) -> None:
    """Anti-aliased line with sub-pixel endpoints (4 fractional bits)."""
    x1, y1, x2, y2 = (round(v * 16) for v in seg)
    cv2.line(img, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA, 4)


def _line_toward(x_c: float, y_c: float, vp: tuple[float, float] | None, half_len: float) -> Segment:
    """Segment centred on (x_c, y_c) whose line passes through ``vp`` (None: truly vertical)."""
    if vp is None:
        dx, dy = 0.0, 1.0
    else:
        dx, dy = vp[0] - x_c, vp[1] - y_c
        norm = math.hypot(dx, dy)
        dx, dy = dx / norm, dy / norm
    return (x_c - dx * half_len, y_c - dy * half_len, x_c + dx * half_len, y_c + dy * half_len)


def _vanishing_point(vp_dist: float | None) -> tuple[float, float] | None:
    """VP straight below (+) or above (-) the image centre, ``vp_dist`` image heights away."""
    if vp_dist is None:
        return None
    return ((W - 1) / 2.0, (H - 1) / 2.0 + vp_dist * H)


# (x of the line at its centre as a fraction of W from the image centre, y offset of its centre as a
# fraction of H, half length as a fraction of H): two door frames, a wall corner, a cupboard edge.
DEFAULT_VERTICALS = [
    (-0.40, 0.02, 0.33),
    (-0.28, 0.02, 0.33),
    (0.27, -0.04, 0.30),
    (0.40, -0.04, 0.30),
    (-0.18, -0.30, 0.12),
    (0.19, 0.30, 0.11),
]


def _person_mask(cx: float, cy: float, half_w: float) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, (round(cx), round(cy - 0.05 * H)), (round(half_w), round(0.2 * H)), 0, 0, 360, 255, -1)
    cv2.circle(m, (round(cx), round(cy - 0.30 * H)), round(0.6 * half_w), 255, -1)
    cv2.rectangle(
        m,
        (round(cx - 0.8 * half_w), round(cy + 0.1 * H)),
        (round(cx + 0.8 * half_w), round(cy + 0.42 * H)),
        255,
        -1,
    )
    return m


def make_scene(
    vp_dist: float | None = 3.0,
    verticals: list[tuple[float, float, float]] | None = None,
    shelves: bool = True,
    person: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[Segment]]:
    """A level (roll 0) synthetic room: noisy mid-grey wall, dark door frames / corners converging to
    a vertical VP ``vp_dist`` image heights below (+) or above (-) the centre (None: parallel), two
    shelves, and a person blob whose clothing has tilted stripes (distractors the mask must remove).

    Returns (rgb, person_mask float32, the drawn vertical segments)."""
    rng = np.random.default_rng(seed)
    img = np.clip(128.0 + rng.normal(0.0, 6.0, size=(H, W, 1)), 0, 255).astype(np.uint8).repeat(3, axis=2)
    cx, cy = (W - 1) / 2.0, (H - 1) / 2.0
    vp = _vanishing_point(vp_dist)
    segs = [
        _line_toward(cx + fx * W, cy + fy * H, vp, fl * H)
        for fx, fy, fl in (DEFAULT_VERTICALS if verticals is None else verticals)
    ]
    for s in segs:
        _draw(img, s, (40, 35, 30), 5)
    if shelves:
        for fy in (0.12, 0.85):
            _draw(img, (0.05 * W, fy * H, 0.30 * W, fy * H), (60, 50, 50), 4)
    mask = np.zeros((H, W), np.float32)
    if person:
        m = _person_mask(cx, cy, 0.1 * W)
        img[m > 0] = (200, 170, 150)
        for k in range(-3, 4):
            x = cx + k * 0.02 * W
            lean = math.tan(math.radians(5.0)) * 0.25 * H
            _draw(img, (x - lean, cy - 0.15 * H, x + lean, cy + 0.35 * H), (20, 20, 60), 4)
        mask = (m > 0).astype(np.float32)
    return img, mask, segs


def rotate_crop(
    img: np.ndarray, mask: np.ndarray | None, theta: float, crop: float = 0.8
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate the content clockwise on screen by ``theta`` about the centre, then keep the central
    ``crop`` fraction (centred on the same point) so the rotated border is not in the picture."""
    h, w = img.shape[:2]
    rot = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), -theta, 1.0)
    out = cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out_mask = None if mask is None else cv2.warpAffine(mask, rot, (w, h), flags=cv2.INTER_NEAREST)
    x0, y0 = round(w * (1 - crop) / 2), round(h * (1 - crop) / 2)
    out = np.ascontiguousarray(out[y0 : h - y0, x0 : w - x0])
    if out_mask is not None:
        out_mask = np.ascontiguousarray(out_mask[y0 : h - y0, x0 : w - x0])
    return out, out_mask


def rotate_mask_border(img: np.ndarray, mask: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate as above but keep the whole frame; the black corners the rotation leaves are added to
    the ignore mask, so their straight border is not taken for a scene line."""
    h, w = img.shape[:2]
    rot = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), -theta, 1.0)
    out = cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    valid = cv2.warpAffine(np.ones((h, w), np.float32), rot, (w, h), flags=cv2.INTER_NEAREST)
    out_mask = cv2.warpAffine(mask, rot, (w, h), flags=cv2.INTER_NEAREST)
    return out, np.maximum(out_mask, 1.0 - valid)


def naive_median_roll(segs: list[Segment]) -> float:
    """What a naive method reports: the median angle of the near-vertical lines (same sign
    convention as roll_deg: a line pointing down along (-sin r, cos r) has angle r)."""
    angles = []
    for x1, y1, x2, y2 in segs:
        dx, dy = x2 - x1, y2 - y1
        if dy < 0:
            dx, dy = -dx, -dy
        angles.append(math.degrees(math.atan2(-dx, dy)))
    return float(np.median(angles))


def _assert_confident(est: RollEstimate) -> float:
    assert est.confident, est.reason
    assert est.roll_deg is not None
    assert est.roll_sd_deg is not None and est.roll_sd_deg > 0
    assert 0.0 < est.confidence <= 1.0
    assert est.n_lines >= RollOptions().min_inlier_lines
    return est.roll_deg


def _assert_no_reference(est: RollEstimate) -> None:
    assert not est.confident
    assert est.reason.startswith(NO_REFERENCE_REASON), est.reason


# --------------------------------------------------------------------------------------------------
# Roll: synthetic scenes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vp_dist", [None, 3.0, 1.5, -2.0], ids=["parallel", "vp_below", "vp_below_near", "vp_above"]
)
def test_rotation_changes_roll_by_theta(vp_dist: float | None) -> None:
    img, mask, _ = make_scene(vp_dist=vp_dist)
    base_img, base_mask = rotate_crop(img, mask, 0.0)
    base = _assert_confident(estimate_roll(base_img, base_mask))
    assert abs(base) <= TOL_DEG  # the scene is level
    for theta in (-6.0, -3.0, 3.0, 6.0):
        r_img, r_mask = rotate_crop(img, mask, theta)
        est = estimate_roll(r_img, r_mask)
        roll = _assert_confident(est)
        assert est.source == "vertical vanishing point"
        assert abs((roll - base) - theta) <= TOL_DEG, (theta, roll, base)
        assert abs(roll - theta) <= TOL_DEG, (theta, roll)


def test_sign_convention_parallel_lines() -> None:
    """Verticals drawn along (-sin r, cos r) and horizontals at atan2(dy, dx) = +r give roll +r."""
    r = math.radians(4.0)
    img = np.full((H, W, 3), 128, np.uint8)
    for fx in (-0.4, -0.3, -0.2, 0.2, 0.3, 0.4):
        x, y = (W - 1) / 2 + fx * W, (H - 1) / 2
        half = 0.3 * H
        _draw(
            img,
            (x + math.sin(r) * half, y - math.cos(r) * half, x - math.sin(r) * half, y + math.cos(r) * half),
            (30, 30, 30),
            4,
        )
    est = estimate_roll(img)
    assert abs(_assert_confident(est) - 4.0) <= 0.2
    assert est.vanishing_point_xy is None or math.hypot(*est.vanishing_point_xy) > 50 * H

    img_h = np.full((H, W, 3), 128, np.uint8)
    for fy in (-0.35, -0.25, -0.1, 0.1, 0.25, 0.35):
        x, y = (W - 1) / 2, (H - 1) / 2 + fy * H
        half = 0.35 * W
        _draw(
            img_h,
            (x - math.cos(r) * half, y - math.sin(r) * half, x + math.cos(r) * half, y + math.sin(r) * half),
            (30, 30, 30),
            4,
        )
    est_h = estimate_roll(img_h)
    assert est_h.source == "horizontal lines"
    assert abs(_assert_confident(est_h) - 4.0) <= 0.2
    # Horizontals are the weaker cue: their confidence is scaled down.
    assert est_h.confidence <= RollOptions().horizontal_confidence_weight


def test_converging_verticals_beat_naive_median() -> None:
    """Strong pitch (VP 2 image heights below), zero roll, verticals mostly left of centre: the
    median line angle is biased by several degrees; the vanishing-point estimate is not."""
    verticals = [
        (-0.42, 0.0, 0.30),
        (-0.36, 0.05, 0.28),
        (-0.30, -0.05, 0.30),
        (-0.22, 0.0, 0.25),
        (-0.15, 0.25, 0.15),
        (0.30, 0.0, 0.25),
    ]
    img, mask, segs = make_scene(vp_dist=2.0, verticals=verticals)
    naive = naive_median_roll(segs)
    assert abs(naive) > 1.0, naive  # the test is meaningful: pitch fools the naive method
    est = estimate_roll(img, mask)
    assert abs(_assert_confident(est)) <= TOL_DEG, (est.roll_deg, naive)
    assert est.vanishing_point_xy is not None
    vx, vy = est.vanishing_point_xy
    assert vy == pytest.approx((H - 1) / 2 + 2.0 * H, rel=0.1)
    assert abs(vx - (W - 1) / 2) < 0.05 * H


def test_person_mask_removes_lines_on_the_person() -> None:
    """Well-separated parallel lines drawn only on the person: without the mask they would be a
    (wrong) confident level reference; with the mask nothing is left."""
    img = np.full((H, W, 3), 128, np.uint8)
    cx, cy = (W - 1) / 2, (H - 1) / 2
    m = _person_mask(cx, cy, 0.3 * W)
    img[m > 0] = (200, 170, 150)
    lean = math.tan(math.radians(5.0)) * 0.2 * H
    for k in range(-3, 4):
        x = cx + k * 0.07 * W
        _draw(img, (x - lean, cy - 0.2 * H, x + lean, cy + 0.2 * H), (20, 20, 60), 5)
    without = estimate_roll(img)
    assert without.confident and without.roll_deg is not None
    assert abs(without.roll_deg + 5.0) < 0.5  # the clothing lines lean 5 deg
    _assert_no_reference(estimate_roll(img, (m > 0).astype(np.float32)))
    # A bool mask at another resolution is resized and works the same way.
    small = cv2.resize(m, (W // 3, H // 3), interpolation=cv2.INTER_NEAREST) > 0
    _assert_no_reference(estimate_roll(img, small))


def _add_clutter(img: np.ndarray, n: int, seed: int) -> None:
    """``n`` random dark segments at random angles (chair legs, cables, picture edges...)."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    for _ in range(n):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a, length = rng.uniform(0.0, math.pi), rng.uniform(50.0, 400.0)
        _draw(img, (x, y, x + length * math.cos(a), y + length * math.sin(a)), (40, 40, 40), 3)


def test_scene_with_clutter_still_measured() -> None:
    for seed in range(5):
        img, mask, _ = make_scene(vp_dist=3.0, seed=seed)
        _add_clutter(img, 20, seed)
        theta = 4.0 if seed % 2 else -4.0
        r_img, r_mask = rotate_crop(img, mask, theta)
        assert abs(_assert_confident(estimate_roll(r_img, r_mask)) - theta) <= TOL_DEG


@pytest.mark.parametrize("seed", range(8))
def test_random_clutter_is_not_confident(seed: int) -> None:
    """Straight lines at random angles share no vanishing point: a few always meet by chance, but
    they are not the dominant structure, so no confident roll."""
    img = np.full((H, W, 3), 128, np.uint8)
    _add_clutter(img, 80, seed)
    est = estimate_roll(img)
    _assert_no_reference(est)


def _plain() -> np.ndarray:
    return np.full((H, W, 3), 140, np.uint8)


def _noise() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, size=(H, W, 3), dtype=np.uint8)


def _gradient() -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    g = 40 + 150 * (0.6 * xx / W + 0.4 * yy / H)
    return np.repeat(g[..., None], 3, axis=2).astype(np.uint8)


def _radial() -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    g = 220 - 150 * np.hypot(xx - W / 2, yy - H / 2) / math.hypot(W / 2, H / 2)
    return np.repeat(g[..., None], 3, axis=2).astype(np.uint8)


@pytest.mark.parametrize(
    "make", [_plain, _noise, _gradient, _radial], ids=["plain", "noise", "gradient", "radial"]
)
def test_no_lines_is_not_confident(make: object) -> None:
    assert callable(make)
    est = estimate_roll(make())
    _assert_no_reference(est)
    assert est.roll_deg is None or est.n_lines < RollOptions().min_inlier_lines
    assert json.loads(json.dumps(est.to_dict()))["confident"] is False


def test_tiny_image_is_not_confident() -> None:
    _assert_no_reference(estimate_roll(np.zeros((10, 10, 3), np.uint8)))


def test_resolution_independent() -> None:
    img, mask, _ = make_scene(vp_dist=2.5)
    r_img, r_mask = rotate_crop(img, mask, 4.0)
    small = estimate_roll(r_img, r_mask)
    big_img = cv2.resize(r_img, None, fx=3.0, fy=3.0, interpolation=cv2.INTER_CUBIC)
    big = estimate_roll(big_img, r_mask)  # mask at a different size than the image
    assert _assert_confident(small) == pytest.approx(_assert_confident(big), abs=0.2)
    assert big.vanishing_point_xy is not None and small.vanishing_point_xy is not None
    assert big.vanishing_point_xy[1] == pytest.approx(3.0 * small.vanishing_point_xy[1], rel=0.05)


def test_hough_fallback_detector() -> None:
    img, mask, _ = make_scene(vp_dist=3.0)
    for theta in (-5.0, 5.0):
        r_img, r_mask = rotate_crop(img, mask, theta)
        est = estimate_roll(r_img, r_mask, RollOptions(detector="hough"))
        assert abs(_assert_confident(est) - theta) <= TOL_DEG


def test_to_dict_is_json() -> None:
    img, mask, _ = make_scene()
    d = estimate_roll(img, mask).to_dict()
    back = json.loads(json.dumps(d))
    assert back["confident"] is True
    assert set(back) >= {"roll_deg", "roll_sd_deg", "confidence", "confident", "n_lines", "reason", "source"}
    assert back["roll_sd_deg"] >= RollOptions().sd_floor_deg


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="RGB"):
        estimate_roll(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(ValueError, match="detector"):
        RollOptions(detector="magic")
    with pytest.raises(ValueError, match="person_mask"):
        estimate_roll(np.zeros((100, 100, 3), np.uint8), np.zeros((2, 3, 4, 5)))


@settings(max_examples=15, deadline=None)
@given(
    theta=st.floats(min_value=-8.0, max_value=8.0),
    vp_dist=st.one_of(
        st.none(), st.floats(min_value=2.0, max_value=12.0), st.floats(min_value=-12.0, max_value=-2.0)
    ),
    n_lines=st.integers(min_value=5, max_value=8),
    n_clutter=st.integers(min_value=0, max_value=10),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_property_rotation_shifts_roll(
    theta: float, vp_dist: float | None, n_lines: int, n_clutter: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Lines at least 6% of the width apart, clear of the person in the middle, kept inside the crop.
    slots = np.linspace(0.16, 0.36, 4)
    xs = np.concatenate([-slots, slots])
    chosen = rng.choice(xs, size=n_lines, replace=False)
    verticals = [(float(fx), float(rng.uniform(-0.1, 0.1)), float(rng.uniform(0.2, 0.32))) for fx in chosen]
    img, mask, _ = make_scene(vp_dist=vp_dist, verticals=verticals, seed=seed)
    _add_clutter(img, n_clutter, seed)
    base_img, base_mask = rotate_crop(img, mask, 0.0)
    r_img, r_mask = rotate_crop(img, mask, theta)
    base = _assert_confident(estimate_roll(base_img, base_mask))
    rotated = _assert_confident(estimate_roll(r_img, r_mask))
    assert abs(base) <= TOL_DEG
    assert abs((rotated - base) - theta) <= TOL_DEG, (theta, rotated, base)


# --------------------------------------------------------------------------------------------------
# Roll: real photos
# --------------------------------------------------------------------------------------------------

# Rough person boxes (x0, y0, x1, y1) in the 1080x720 sample photos, standing in for a segmentation
# mask: the client (arms included) and, in t5, a seated person at the right edge.
PERSON_BOXES = {
    "yogait_t5.jpg": [(295, 10, 830, 615), (1020, 265, 1080, 450)],
    "yogait_tada_photo.jpg": [(375, 40, 715, 590)],
}


def _load(name: str) -> tuple[np.ndarray, np.ndarray]:
    bgr = cv2.imread(str(SAMPLES / name))
    assert bgr is not None, f"missing sample image {name}"
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    mask = np.zeros(rgb.shape[:2], np.float32)
    for x0, y0, x1, y1 in PERSON_BOXES[name]:
        mask[y0:y1, x0:x1] = 1.0
    return rgb, mask


@pytest.mark.parametrize("name", sorted(PERSON_BOXES))
def test_real_photo_rotation(name: str) -> None:
    """Office photos whose verticals are a window frame at the left edge and two table stems.

    The unrotated photo is confident (checked by eye: it looks level). For each rotation the
    estimate must either move by theta (within 0.5 deg) or honestly decline. Two ways to keep the
    rotated border out: crop the central 80% (this also crops the window frame away, leaving only
    the table stems), or keep the frame and add the empty corners to the ignore mask."""
    rgb, mask = _load(name)
    base_est = estimate_roll(rgb, mask)
    base = _assert_confident(base_est)
    assert abs(base) < 1.0
    assert base_est.source == "vertical vanishing point"

    n_confident = 0
    for theta in (-6.0, -3.0, 3.0, 6.0):
        for variant in ("crop", "mask_border"):
            if variant == "crop":
                r_img, r_mask = rotate_crop(rgb, mask, theta, crop=0.8)
            else:
                r_img, r_mask = rotate_mask_border(rgb, mask, theta)
            est = estimate_roll(r_img, r_mask)
            if est.confident:
                n_confident += 1
                assert est.roll_deg is not None
                assert abs((est.roll_deg - base) - theta) <= TOL_DEG, (variant, theta, est.roll_deg, base)
            else:
                assert est.reason.startswith(NO_REFERENCE_REASON)
    assert n_confident >= 1, "no rotated version gave a confident estimate"


def test_receding_rails_are_not_scene_verticals() -> None:
    """Stair rails seen at an angle converge to a point just above the photo: taken for verticals,
    they would need a camera pitched ~50 deg and give a roll a few degrees off. With the vertical VP
    kept at a distance a posture photo's pitch allows, they are no level reference; the steps (level
    horizontals) are."""
    img, mask, _ = make_scene(vp_dist=None, verticals=[], shelves=False)
    cx, cy = (W - 1) / 2.0, (H - 1) / 2.0
    near_vp = (cx + 0.04 * H, cy - 0.9 * H)  # ~1 long side above the centre, slightly right
    for fx, fy in ((-0.44, 0.20), (-0.38, 0.26), (-0.32, 0.32), (0.34, 0.20), (0.40, 0.26), (0.46, 0.32)):
        _draw(img, _line_toward(cx + fx * W, cy + fy * H, near_vp, 0.2 * H), (30, 30, 30), 5)
    for fy in (0.05, 0.16, 0.27, 0.38, 0.47):  # the steps, left and right of the person
        _draw(img, (0.02 * W, cy + fy * H, 0.28 * W, cy + fy * H), (60, 50, 50), 4)
        _draw(img, (0.72 * W, cy + fy * H, 0.98 * W, cy + fy * H), (60, 50, 50), 4)
    rail_roll = math.degrees(math.atan2(near_vp[0] - cx, cy - near_vp[1]))  # the VP above: down flips
    assert abs(rail_roll) > 2.0
    old = estimate_roll(img, mask, RollOptions(min_vp_distance=0.5))
    assert old.source == "vertical vanishing point"  # the trap is real: the rails were the level
    assert abs(_assert_confident(old) - rail_roll) < 0.5
    new = estimate_roll(img, mask)
    assert new.source == "horizontal lines"
    assert abs(_assert_confident(new)) <= TOL_DEG


def test_a_slanted_rail_is_not_a_camera_roll() -> None:
    """A stair rail's parallel edges at 17 deg to the photo's vertical pass the candidate window;
    taken for verticals they would say the phone was held 17 deg off level. Beyond the largest
    plausible roll they are no reference; the steps are."""
    img, mask, _ = make_scene(vp_dist=None, verticals=[], shelves=False)
    cx, cy = (W - 1) / 2.0, (H - 1) / 2.0
    slant = math.radians(17.0)
    for k in range(5):  # the rail's edges and the balustrade's: parallel, a few centimetres apart
        x_c, y_c = cx - 0.40 * W + k * 0.04 * W, cy + 0.1 * H
        dx, dy = math.sin(slant) * 0.3 * H, math.cos(slant) * 0.3 * H
        _draw(img, (x_c + dx, y_c - dy, x_c - dx, y_c + dy), (30, 30, 30), 5)
    for fy in (0.05, 0.16, 0.27, 0.38, 0.47):
        _draw(img, (0.02 * W, cy + fy * H, 0.28 * W, cy + fy * H), (60, 50, 50), 4)
        _draw(img, (0.72 * W, cy + fy * H, 0.98 * W, cy + fy * H), (60, 50, 50), 4)
    # the gates before the fix (and a VP distance taken as known, as the ± then did)
    old = estimate_roll(img, mask, RollOptions(max_roll_deg=20.0, vp_inverse_distance_sd=1e-3))
    assert old.source == "vertical vanishing point"  # the trap is real
    assert abs(abs(_assert_confident(old)) - 17.0) < 0.5
    # the rail's edges all lie on one side of the centre: with the VP's distance unknown their
    # roll is too uncertain to level with, whatever the roll gate
    wide = estimate_roll(img, mask, RollOptions(max_roll_deg=20.0))
    assert wide.source != "vertical vanishing point" or not wide.confident
    new = estimate_roll(img, mask)
    assert new.source == "horizontal lines"
    assert abs(_assert_confident(new)) <= TOL_DEG


def test_one_sided_verticals_carry_the_vp_distance_in_their_sd() -> None:
    """Verticals all on one side of the centre hardly fix how far away the VP is, and a VP nearer or
    farther turns the direction the roll is read from: the same lines spread over both sides give a
    narrower ±. With the VP's distance taken as known, the ± is the same either way (the old
    formula), so the difference is the pitch term alone."""
    balanced = [(-0.40, 0.02, 0.30), (-0.28, 0.0, 0.30), (-0.16, 0.02, 0.30),
                (0.16, 0.0, 0.30), (0.28, 0.02, 0.30), (0.40, 0.0, 0.30)]
    one_sided = [(-0.45, 0.02, 0.30), (-0.38, 0.0, 0.30), (-0.31, 0.02, 0.30),
                 (-0.24, 0.0, 0.30), (-0.17, 0.02, 0.30), (-0.10, 0.0, 0.30)]
    sds = {}
    for name, verticals in (("balanced", balanced), ("one_sided", one_sided)):
        img, mask, _ = make_scene(vp_dist=3.0, verticals=verticals, shelves=False)
        est = estimate_roll(img, mask)
        if name == "balanced":
            _assert_confident(est)
        assert est.source == "vertical vanishing point"
        known = estimate_roll(img, mask, RollOptions(vp_inverse_distance_sd=1e-3))
        assert est.roll_sd_deg is not None and known.roll_sd_deg is not None
        assert est.roll_sd_deg >= known.roll_sd_deg
        sds[name] = (est.roll_sd_deg, known.roll_sd_deg)
    assert sds["one_sided"][0] > 1.5 * sds["balanced"][0], sds
    assert sds["balanced"][0] < 1.2 * sds["balanced"][1], sds
