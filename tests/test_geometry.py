import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from posture import geometry as geo

finite = st.floats(-2000, 2000, allow_nan=False)


def test_tilt_sign_anterior_and_posterior() -> None:
    # anterior: client's right is on the image's left; right shoulder 10 px lower
    assert geo.tilt_deg((100, 210), (300, 200), toward_left=1) == pytest.approx(
        math.degrees(math.atan2(10, 200))
    )
    # posterior: client's right is on the image's right
    assert geo.tilt_deg((300, 210), (100, 200), toward_left=-1) > 0
    assert geo.tilt_deg((300, 190), (100, 200), toward_left=-1) < 0


def test_shift_sign() -> None:
    # anterior: image-left is the client's right
    assert geo.lateral_offset((90, 0), (100, 300), toward_left=1) == 10
    assert geo.lateral_offset((110, 0), (100, 300), toward_left=-1) == 10


@given(finite, finite, finite, finite, st.floats(-30, 30))
def test_level_then_rotate_is_identity(x1: float, y1: float, x2: float, y2: float, roll: float) -> None:
    pts = np.array([[x1, y1], [x2, y2]])
    back = geo.rotate_points_cw(geo.level_points(pts, roll, (5.0, 7.0)), roll, (5.0, 7.0))
    assert np.allclose(back, pts, atol=1e-6)


@given(st.floats(-20, 20), st.floats(-10, 10))
def test_rotating_content_clockwise_lowers_anterior_tilt(tilt: float, theta: float) -> None:
    # right shoulder (image left) and left shoulder (image right) with a given tilt
    r = math.radians(tilt)
    right = (-100 * math.cos(r), 100 * math.sin(r))
    left = (100 * math.cos(r), -100 * math.sin(r))
    pts = geo.rotate_points_cw(np.array([right, left]), theta, (0.0, 0.0))
    got = geo.tilt_deg(tuple(pts[0]), tuple(pts[1]), toward_left=1)
    assert got == pytest.approx(tilt - theta, abs=1e-6)
    # in a posterior photo the client's right is on the image's right: the same turn reads opposite
    post = geo.rotate_points_cw(np.array([[-left[0], left[1]], [-right[0], right[1]]]), theta, (0.0, 0.0))
    got_post = geo.tilt_deg(tuple(post[1]), tuple(post[0]), toward_left=-1)
    assert got_post == pytest.approx(tilt + theta, abs=1e-6)


@given(finite, finite, finite, finite)
def test_mirror_symmetry(xr: float, yr: float, xl: float, yl: float) -> None:
    assume(math.hypot(xr - xl, yr - yl) > 1.0)
    # mirroring the image (x -> -x) with sides kept anatomical flips the view convention
    a = geo.tilt_deg((xr, yr), (xl, yl), toward_left=1)
    b = geo.tilt_deg((-xr, yr), (-xl, yl), toward_left=-1)
    assert a == pytest.approx(b, abs=1e-9)


def test_robust_sd_ignores_one_outlier() -> None:
    clean = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.02])
    wild = np.append(clean[:-1], 30.0)
    # on clean data it is an ordinary spread estimate...
    assert geo.robust_sd(clean) == pytest.approx(np.std(clean, ddof=1), rel=0.6)
    # ...one wild value moves a plain SD to ~10 but this one to at most half of that
    assert geo.robust_sd(wild) <= 0.5 * np.std(wild, ddof=1) + 1e-9
    assert geo.robust_sd(wild) < np.std(wild, ddof=1)
    assert geo.robust_sd(np.array([2.0])) == 0.0
