"""Each line read from its own body region: the waist turn (posture.refine.BodyTurn) and its effect
through analyze() on shipped photos."""

from __future__ import annotations

import numpy as np
import pytest

from posture.analysis import AnalysisOptions, analyze
from posture.imaging import Photo
from posture.pose import Landmark as L
from posture.pose import PoseModel, RawPose
from posture.refine import BodyTurn, waist_pivot
from posture.sides import View
from tests.conftest import FRONT, SAMPLES, rgb_of

# A region turn of d degrees must come out as d on its own line and 0 on the other. Before the
# straightening (one set of 16 passes on the photo as it is) these photos read a 4° trunk turn's hip
# line at +0.8-0.9° and a 4° pelvis turn's hip line 1.0-1.2° short; the tolerance is about half.
TURN_DEG = 4.0
CHANGE_TOL_DEG = 0.6
SHOULDERS = (L.RIGHT_SHOULDER, L.LEFT_SHOULDER)
HIPS = (L.RIGHT_HIP, L.LEFT_HIP)


def _striped(h: int = 200, w: int = 160) -> np.ndarray:
    """A test card without any black pixel: a gradient with stripes."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([40 + (xx * 200) // w, 40 + (yy * 200) // h, 120 + 60 * ((xx // 8) % 2)], axis=-1)
    return rgb.astype(np.uint8)


def test_rows_away_from_the_turned_region_are_copied_exactly() -> None:
    rgb = _striped()
    turn = BodyTurn(pivot=(80.0, 100.0), upper_cw_deg=5.0, lower_cw_deg=0.0, band_px=20.0)
    out = turn.apply(rgb, (0, 0, 160, 200))
    assert np.array_equal(out[111:], rgb[111:])  # below the band: untouched
    assert not np.array_equal(out[:90], rgb[:90])  # above it: turned
    # the background bends with the body: every pixel is sampled from the card, none is black
    assert out.min() >= 40


def test_source_of_maps_a_turned_landmark_back_exactly() -> None:
    turn = BodyTurn(pivot=(300.0, 400.0), upper_cw_deg=-3.0, lower_cw_deg=2.0, band_px=40.0,
                    level_deg=4.0)
    pts = np.array([[250.0, 150.0], [360.0, 160.0], [270.0, 600.0], [330.0, 610.0]])
    # forward: rotate each source point about the pivot by its region's angle (rigid far from the
    # band) and check that source_of brings it back
    for cw in (-3.0, 2.0):
        r = np.radians(cw)
        rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])  # clockwise, y down
        sel = pts[:2] if cw == -3.0 else pts[2:]
        fwd = (sel - turn.pivot) @ rot.T + turn.pivot
        assert np.allclose(turn.source_of(fwd), sel, atol=1e-9)


@pytest.mark.parametrize("level_deg", [0.0, 4.0, -7.5])
def test_the_window_map_is_source_of_at_every_pixel(level_deg: float) -> None:
    """apply() builds its remap for a whole window at once (trigonometry only inside the waist band):
    it must be exactly source_of() at each pixel, so the fast map changes no landmark."""
    rng = np.random.default_rng(int(level_deg * 10) + 100)
    for _ in range(8):
        w, h = int(rng.integers(40, 300)), int(rng.integers(40, 300))
        turn = BodyTurn(pivot=(float(rng.uniform(0, w)), float(rng.uniform(0, h))),
                        upper_cw_deg=float(rng.uniform(-25, 25)), lower_cw_deg=float(rng.uniform(-25, 25)),
                        band_px=float(rng.uniform(0.5, 120)), level_deg=level_deg)
        x0, y0 = int(rng.integers(-30, 30)), int(rng.integers(-30, 30))
        yy, xx = np.mgrid[y0:y0 + h, x0:x0 + w].astype(np.float64)
        src = turn.source_of(np.stack([xx.ravel(), yy.ravel()], axis=1))
        map_x, map_y = turn.source_map(x0, y0, x0 + w, y0 + h)
        assert map_x.shape == (h, w) and map_x.dtype == np.float32
        assert np.array_equal(map_x, src[:, 0].reshape(h, w).astype(np.float32))
        assert np.array_equal(map_y, src[:, 1].reshape(h, w).astype(np.float32))


@pytest.mark.parametrize("roll", [-6.0, -2.5, 4.0, 6.0])
def test_the_box_along_the_level_does_not_change_with_the_camera(roll: float) -> None:
    """A body seen on a camera turned by ``roll`` has the same box along the level as the untouched
    body has along the photo's rows (so every crop turned level frames it alike); the photo's own
    box of the turned body is wider."""
    rng = np.random.default_rng(3)
    pts = np.zeros((33, 3))
    pts[:, 0] = rng.uniform(200, 320, 33)  # a standing body: tall and narrow
    pts[:, 1] = rng.uniform(100, 500, 33)
    pts[:4, :2] = [(200, 100), (320, 100), (200, 500), (320, 500)]  # head top, feet at the corners
    pts[:, 2] = 0.9
    r = np.radians(roll)
    rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])  # clockwise on screen, y down
    centre = np.array([400.0, 350.0])  # the camera turns about any point
    turned = pts.copy()
    turned[:, :2] = (pts[:, :2] - centre) @ rot.T + centre
    x0, y0, x1, y1 = RawPose(pts).bbox()
    tx0, ty0, tx1, ty1 = RawPose(turned).bbox(level_deg=roll)
    assert tx1 - tx0 == pytest.approx(x1 - x0, abs=1e-9)
    assert ty1 - ty0 == pytest.approx(y1 - y0, abs=1e-9)
    # its centre is the untouched box's centre, carried by the camera's turn
    expect = (np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - centre) @ rot.T + centre
    assert ((tx0 + tx1) / 2, (ty0 + ty1) / 2) == pytest.approx(tuple(expect), abs=1e-9)
    ax0, _ay0, ax1, _ay1 = RawPose(turned).bbox()
    assert ax1 - ax0 > (x1 - x0) + 10.0
    assert RawPose(pts).bbox(level_deg=0.0) == RawPose(pts).bbox()


def test_a_turn_levels_the_line_it_is_given() -> None:
    # a front-view shoulder line with the client's right (image left) 10 px lower over 200 px
    pts = np.zeros((33, 2))
    pts[L.RIGHT_SHOULDER], pts[L.LEFT_SHOULDER] = (200.0, 210.0), (400.0, 200.0)
    pts[L.RIGHT_HIP], pts[L.LEFT_HIP] = (240.0, 500.0), (360.0, 500.0)
    pivot, torso = waist_pivot(pts, SHOULDERS, HIPS)
    assert pivot == pytest.approx((300.0, 500.0 - 0.4 * 295.0), abs=0.5)
    tilt = np.degrees(np.arctan2(10.0, 200.0))  # right side lower: positive
    turn = BodyTurn(pivot, upper_cw_deg=View.ANTERIOR.toward_left * tilt, lower_cw_deg=0.0,
                    band_px=0.15 * torso)
    # where the shoulders appear in the turned image: invert source_of by fixed-point iteration
    seen = pts[[L.RIGHT_SHOULDER, L.LEFT_SHOULDER]].copy()
    for _ in range(20):
        seen = seen + (pts[[L.RIGHT_SHOULDER, L.LEFT_SHOULDER]] - turn.source_of(seen))
    assert seen[0, 1] == pytest.approx(seen[1, 1], abs=1e-6)


def _region_turn(rgb: np.ndarray, pivot: tuple[float, float], torso: float, tilt: float,
                 upper: bool) -> np.ndarray:
    """The validity benchmark's warp: one region of the photo turned by ``tilt`` (front view)."""
    cw = -View.ANTERIOR.toward_left * tilt
    turn = BodyTurn(pivot, cw if upper else 0.0, 0.0 if upper else cw, 0.15 * torso)
    h, w = rgb.shape[:2]
    return turn.apply(rgb, (0, 0, w, h))


@pytest.mark.parametrize("path", [FRONT, SAMPLES / "yogait_t4.jpg"])
def test_each_line_follows_only_its_own_region(model: PoseModel, path: object) -> None:
    rgb = rgb_of(path)  # type: ignore[arg-type]
    opts = AnalysisOptions(auto_level=False, camera_roll_deg=0.0)
    base = analyze(Photo.from_array(rgb), "anterior", opts, model=model)
    pivot, torso = waist_pivot(base.landmarks, SHOULDERS, HIPS)

    def change(img: np.ndarray) -> tuple[float, float]:
        a = analyze(Photo.from_array(img), "anterior", opts, model=model)
        return tuple(  # type: ignore[return-value]
            (a.measurements[n].value or 0.0) - (base.measurements[n].value or 0.0)
            for n in ("shoulder_tilt", "hip_tilt")
        )

    s, h = change(_region_turn(rgb, pivot, torso, TURN_DEG, upper=True))
    assert s == pytest.approx(TURN_DEG, abs=CHANGE_TOL_DEG)
    assert h == pytest.approx(0.0, abs=CHANGE_TOL_DEG)
    s, h = change(_region_turn(rgb, pivot, torso, -TURN_DEG, upper=False))
    assert s == pytest.approx(0.0, abs=CHANGE_TOL_DEG)
    assert h == pytest.approx(-TURN_DEG, abs=CHANGE_TOL_DEG)


def test_the_straightening_turn_goes_to_the_fixed_point_and_never_runs_away() -> None:
    """The next turn is where a line straightened by it would read level: with a model that reads
    half of a residual tilt (reading = turn + 0.5 (true - turn)) two rounds find the true tilt; a
    reading that follows the turn whole (a pose the model cannot read steadily: a 5 % crop once drove
    a hip line from 16° to 80°) is not chased beyond MAX_STRAIGHTEN_SHIFT_DEG of the first reading;
    and such rounds are reported as not settled."""
    from posture.analysis import MAX_STRAIGHTEN_SHIFT_DEG, _fixed_point, _settled

    true = 6.0

    def read(turn: float) -> float:
        return turn + 0.5 * (true - turn)

    rounds = [(3.0, read(3.0)), (4.5, read(4.5))]
    assert _fixed_point(rounds, True, 3.0) == pytest.approx(true)
    assert _fixed_point(rounds, False, 3.0) == pytest.approx(read(4.5))  # plain iteration
    runaway = [(16.0, 23.0), (23.0, 31.0), (24.0, 33.0)]  # the reading runs ahead of every turn
    nxt = _fixed_point(runaway, True, 15.6)
    assert nxt == pytest.approx(15.6 + MAX_STRAIGHTEN_SHIFT_DEG)
    assert not _settled([((23.0, 0.0), (31.0, 0.1)), ((23.6, 0.0), (31.7, 0.1))])  # 8° off level
    assert not _settled([((1.0, 0.0), (1.1, 0.1)), ((1.1, 0.1), (3.5, 0.1))])  # jumped 2.4°
    assert _settled([((10.2, -4.4), (10.9, -4.7)), ((10.9, -4.7), (11.1, -4.8))])


def test_the_rounds_stop_once_both_lines_have_settled() -> None:
    """Another round only when it could read something new: a line that still moves, or a next
    turn that differs from the last, keeps the rounds going."""
    from posture.analysis import _converged

    steady = [((1.00, 0.50), (1.08, 0.55)), ((1.08, 0.55), (1.02, 0.60))]
    assert _converged(steady, (1.02, 0.60), 0.15)
    moving_hip = [((1.00, 0.50), (1.08, 0.20)), ((1.08, 0.20), (1.02, 0.60))]  # hip moved 0.4°
    assert not _converged(moving_hip, (1.02, 0.60), 0.15)
    turn_ahead = [((1.00, 0.50), (1.08, 0.55)), ((1.08, 0.55), (1.02, 0.60))]
    assert not _converged(turn_ahead, (1.02, 0.90), 0.15)  # the fixed point is 0.35° further


def test_a_settled_photo_stops_early_and_reads_as_with_every_round(model: PoseModel) -> None:
    """A steady front photo settles before the fifth round and skips the rest; its lines then read
    what every round would have given, well within their ±. A photo that does not settle (a
    cluttered kitchen, the hips under an apron) still gets every round."""
    full = AnalysisOptions(straighten_min_rounds=0)
    schedule = 1 + full.locate_passes + sum(full.straighten_passes)
    photo = Photo.from_array(rgb_of(SAMPLES / "yogait_t5.jpg"))
    every = analyze(photo, "anterior", full, model=model)
    early = analyze(photo, "anterior", AnalysisOptions(), model=model)
    assert every.method["model_passes"] == schedule
    assert early.method["model_passes"] < schedule
    for name in ("shoulder_tilt", "hip_tilt"):
        a, b = every.measurements[name], early.measurements[name]
        assert a.value is not None and b.value is not None and b.uncertainty is not None
        assert abs(a.value - b.value) < b.uncertainty / 4
    cluttered = analyze(Photo.from_array(rgb_of(SAMPLES / "coco_000000397133.jpg")), "posterior",
                        AnalysisOptions(), model=model)
    assert cluttered.method["model_passes"] == schedule
