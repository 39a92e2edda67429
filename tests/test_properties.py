"""Property tests (hypothesis): the decoder never fails with anything but a PostureError, and the
geometry, side assignment and measurements keep their symmetries on synthetic landmark arrays."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from posture import geometry as geo
from posture.errors import PostureError
from posture.imaging import Photo, load_photo
from posture.metrics import MeasureContext, measure_all
from posture.pose import MIRROR_PERMUTATION
from posture.pose import Landmark as L
from posture.sides import View, assign_sides, label_agreement

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- decoder ---------------------------------------------------------------------------------------


def _small(fmt: str) -> bytes:
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:72, 0:96]
    rgb = np.dstack([x * 2, y * 3, (x + y) % 256]).astype(np.uint8)
    rgb[10:30, 10:40] = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt)
    return buf.getvalue()


SMALL = {"JPEG": _small("JPEG"), "PNG": _small("PNG")}


def _decode(data: bytes) -> None:
    """Only success (a well-formed Photo) or a PostureError is acceptable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's UserWarnings about corrupt EXIF are fine
        try:
            photo = load_photo(data)
        except PostureError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
    assert isinstance(photo, Photo)
    assert photo.rgb.dtype == np.uint8 and photo.rgb.ndim == 3 and photo.rgb.shape[2] == 3
    assert photo.width >= 1 and photo.height >= 1


@SETTINGS
@given(st.binary(min_size=0, max_size=4096))
def test_random_bytes_decode_or_posture_error(data: bytes) -> None:
    _decode(data)


@SETTINGS
@given(st.binary(min_size=0, max_size=512))
def test_magic_prefixed_garbage(data: bytes) -> None:
    """Garbage behind each format's magic number reaches the format's own decoder."""
    for magic in (b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP",
                  b"II*\x00", b"BM", b"\x00\x00\x00\x18ftypheic"):
        _decode(magic + data)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    fmt = draw(st.sampled_from(sorted(SMALL)))
    data = bytearray(SMALL[fmt])
    n = draw(st.integers(1, 12))
    for _ in range(n):
        kind = draw(st.sampled_from(["set", "insert", "delete"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "set":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif len(data) > 1:
            del data[pos : pos + draw(st.integers(1, 16))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@SETTINGS
@given(_mutated())
def test_mutated_image_decode_or_posture_error(data: bytes) -> None:
    _decode(data)


# -- geometry --------------------------------------------------------------------------------------

coord = st.floats(-5000, 5000, allow_nan=False, allow_infinity=False)
angle = st.floats(-179, 179, allow_nan=False, allow_infinity=False)


def _angle_diff(a: float, b: float) -> float:
    return (a - b + 180.0) % 360.0 - 180.0


@SETTINGS
@given(st.lists(st.tuples(coord, coord), min_size=1, max_size=20), angle, st.tuples(coord, coord))
def test_level_rotate_round_trip(pts: list[tuple[float, float]], roll: float,
                                 center: tuple[float, float]) -> None:
    p = np.array(pts)
    back = geo.rotate_points_cw(geo.level_points(p, roll, center), roll, center)
    np.testing.assert_allclose(back, p, atol=1e-6)


@SETTINGS
@given(st.tuples(coord, coord), st.tuples(coord, coord), angle, st.tuples(coord, coord))
def test_level_keeps_distances_and_levels_its_line(a: tuple[float, float], b: tuple[float, float],
                                                  roll: float, center: tuple[float, float]) -> None:
    assume(geo.distance(a, b) > 1.0)
    # a line that appears at image angle `roll` becomes horizontal
    r = math.radians(roll)
    b_on_line = (a[0] + 100 * math.cos(r), a[1] + 100 * math.sin(r))
    lv = geo.level_points(np.array([a, b_on_line, b]), roll, center)
    assert abs(lv[0, 1] - lv[1, 1]) < 1e-6
    assert math.isclose(geo.distance(tuple(lv[0]), tuple(lv[2])), geo.distance(a, b), rel_tol=1e-9)


@SETTINGS
@given(st.tuples(coord, coord), st.tuples(coord, coord), st.floats(-60, 60), st.sampled_from([1, -1]))
def test_tilt_turns_with_the_content(right: tuple[float, float], left: tuple[float, float],
                                     theta: float, toward_left: int) -> None:
    """Turning the picture clockwise by theta lifts the image's left end of a line. In a front view
    that end is the client's right, so the tilt changes by -theta; in a back view by +theta."""
    assume(geo.distance(right, left) > 1.0)
    before = geo.tilt_deg(right, left, toward_left)
    turned = geo.rotate_points_cw(np.array([right, left]), theta, (0.0, 0.0))
    after = geo.tilt_deg(tuple(turned[0]), tuple(turned[1]), toward_left)
    assert abs(_angle_diff(after, before - toward_left * theta)) < 1e-6


@SETTINGS
@given(st.tuples(coord, coord), st.tuples(coord, coord), st.sampled_from([1, -1]), coord)
def test_mirror_and_switch_view_keeps_tilt_and_shift(right: tuple[float, float],
                                                     left: tuple[float, float], toward_left: int,
                                                     width: float) -> None:
    assume(geo.distance(right, left) > 1.0)
    m_right, m_left = (width - right[0], right[1]), (width - left[0], left[1])
    assert abs(_angle_diff(geo.tilt_deg(m_right, m_left, -toward_left),
                           geo.tilt_deg(right, left, toward_left))) < 1e-9
    assert math.isclose(geo.lateral_offset(m_right, m_left, -toward_left),
                        geo.lateral_offset(right, left, toward_left), abs_tol=1e-9)
    # swapping which point is the client's right flips the sign (mod 360)
    assert abs(_angle_diff(geo.tilt_deg(left, right, toward_left),
                           geo.tilt_deg(right, left, toward_left) + 180.0)) < 1e-9


# -- synthetic bodies ------------------------------------------------------------------------------

W, H = 1000, 2000

# A standing person seen from the FRONT in ANATOMICAL rows: the client's right on the image's left.
_TEMPLATE = {
    L.NOSE: (500, 250), L.LEFT_EYE_INNER: (515, 230), L.LEFT_EYE: (525, 230),
    L.LEFT_EYE_OUTER: (535, 230), L.RIGHT_EYE_INNER: (485, 230), L.RIGHT_EYE: (475, 230),
    L.RIGHT_EYE_OUTER: (465, 230), L.LEFT_EAR: (550, 240), L.RIGHT_EAR: (450, 240),
    L.MOUTH_LEFT: (515, 280), L.MOUTH_RIGHT: (485, 280), L.LEFT_SHOULDER: (620, 420),
    L.RIGHT_SHOULDER: (380, 420), L.LEFT_ELBOW: (660, 700), L.RIGHT_ELBOW: (340, 700),
    L.LEFT_WRIST: (670, 950), L.RIGHT_WRIST: (330, 950), L.LEFT_PINKY: (672, 1000),
    L.RIGHT_PINKY: (328, 1000), L.LEFT_INDEX: (668, 1005), L.RIGHT_INDEX: (332, 1005),
    L.LEFT_THUMB: (660, 990), L.RIGHT_THUMB: (340, 990), L.LEFT_HIP: (570, 1000),
    L.RIGHT_HIP: (430, 1000), L.LEFT_KNEE: (565, 1400), L.RIGHT_KNEE: (435, 1400),
    L.LEFT_ANKLE: (560, 1800), L.RIGHT_ANKLE: (440, 1800), L.LEFT_HEEL: (555, 1830),
    L.RIGHT_HEEL: (445, 1830), L.LEFT_FOOT_INDEX: (575, 1870), L.RIGHT_FOOT_INDEX: (425, 1870),
}


@st.composite
def _body(draw: st.DrawFn) -> np.ndarray:
    """Anatomical (33, 4) landmarks of an anterior view: the template jittered by up to 40 px."""
    jitter = draw(st.lists(st.floats(-40, 40, allow_nan=False), min_size=66, max_size=66))
    vis = draw(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=33, max_size=33))
    pts = np.zeros((33, 4))
    for lm, (x, y) in _TEMPLATE.items():
        pts[lm] = (x + jitter[2 * lm], y + jitter[2 * lm + 1], vis[lm], 1.0)
    return pts


def _mirror_x(pts: np.ndarray) -> np.ndarray:
    out = pts.copy()
    out[..., 0] = W - out[..., 0]
    return out


@SETTINGS
@given(_body(), st.booleans())
def test_assign_sides_mirror_and_switch_view(anat: np.ndarray, model_reversed: bool) -> None:
    """A mirrored photo declared with the other view gets the same anatomical sides; whichever way
    the model labelled the points, the output's torso reads the declared way."""
    model_pts = anat[MIRROR_PERMUTATION] if model_reversed else anat.copy()
    for view, other in ((View.ANTERIOR, View.POSTERIOR), (View.POSTERIOR, View.ANTERIOR)):
        a = assign_sides(model_pts, view)
        b = assign_sides(_mirror_x(model_pts), other)
        np.testing.assert_allclose(_mirror_x(b.points), a.points)
        assert a.swapped == b.swapped
        assert label_agreement(a.points, view) >= 0.0
        # rows are only permuted, never invented
        assert sorted(map(tuple, a.points.tolist())) == sorted(map(tuple, model_pts.tolist()))
    # for the declared anterior view the template's anatomy is recovered whenever the torso votes
    torso_vis = min(anat[L.LEFT_SHOULDER, 2], anat[L.RIGHT_SHOULDER, 2]) + min(
        anat[L.LEFT_HIP, 2], anat[L.RIGHT_HIP, 2])
    if torso_vis > 0:
        np.testing.assert_allclose(assign_sides(model_pts, View.ANTERIOR).points, anat)


def _ctx(toward_left: int, roll: float) -> MeasureContext:
    return MeasureContext(toward_left=toward_left, width=W, height=H, roll_deg=roll, sigma_px=2.0)


def _passes(anat: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.repeat(anat[None], 5, axis=0)
    p[:, :, :2] += rng.normal(0, 3.0, (5, 33, 2))
    return p


@SETTINGS
@given(_body(), st.floats(-5, 5, allow_nan=False), st.integers(0, 1000))
def test_measure_all_mirror_same_view_negates(anat: np.ndarray, roll: float, seed: int) -> None:
    """The client's mirror twin (x mirrored, left/right rows swapped, camera roll mirrored) seen
    with the same view: every signed measurement changes sign, its ± stays."""
    passes = _passes(anat, seed)
    twin = _mirror_x(anat)[MIRROR_PERMUTATION]
    twin_passes = _mirror_x(passes)[:, MIRROR_PERMUTATION]
    for view in View:
        a = measure_all(anat, passes, _ctx(view.toward_left, roll))
        b = measure_all(twin, twin_passes, _ctx(view.toward_left, -roll))
        for name, ma in a.items():
            mb = b[name]
            assert ma.available == mb.available, name
            if ma.value is None or mb.value is None:
                continue
            assert mb.value == pytest.approx(-ma.value, abs=1e-6), name
            assert mb.uncertainty == pytest.approx(ma.uncertainty, rel=1e-6, abs=1e-9), name
            assert ma.unit == mb.unit


@SETTINGS
@given(_body(), st.floats(-5, 5, allow_nan=False), st.integers(0, 1000))
def test_measure_all_mirror_other_view_same(anat: np.ndarray, roll: float, seed: int) -> None:
    """The same anatomy photographed from the other side (x mirrored, rows kept, view switched)
    gives the same measurements: sides follow the client, not the image."""
    passes = _passes(anat, seed)
    a = measure_all(anat, passes, _ctx(1, roll))
    b = measure_all(_mirror_x(anat), _mirror_x(passes), _ctx(-1, -roll))
    for name, ma in a.items():
        mb = b[name]
        assert ma.available == mb.available, name
        assert ma.side == mb.side or ma.value is None or abs(ma.value) < 0.06
        if ma.value is not None and mb.value is not None:
            assert mb.value == pytest.approx(ma.value, abs=1e-6), name
            assert mb.uncertainty == pytest.approx(ma.uncertainty, rel=1e-6, abs=1e-9), name


def test_a_tilt_line_with_its_ends_crossed_is_unavailable_not_180() -> None:
    """Ears read crossed over (the client's right ear on the client's left of the left ear) are a
    misread, not a head tilted by 180°: the head tilt falls back to the eye line, and with the eyes
    crossed too it is unavailable with the reason; a level line read the right way round is 0."""
    pts = np.zeros((33, 4))
    for lm, (x, y) in _TEMPLATE.items():
        pts[lm] = (x, y, 1.0, 1.0)
    ctx = _ctx(View.ANTERIOR.toward_left, 0.0)
    passes = np.repeat(pts[None], 3, axis=0)
    level = measure_all(pts, passes, ctx)["head_tilt"]
    assert level.available and level.value == pytest.approx(0.0, abs=1e-9)
    ears = pts.copy()
    ears[[L.RIGHT_EAR, L.LEFT_EAR]] = ears[[L.LEFT_EAR, L.RIGHT_EAR]]
    m = measure_all(ears, np.repeat(ears[None], 3, axis=0), ctx)["head_tilt"]
    assert m.available and m.value == pytest.approx(0.0, abs=1e-9)
    assert m.landmarks == ("right_eye", "left_eye")
    both = ears.copy()
    both[[L.RIGHT_EYE, L.LEFT_EYE]] = both[[L.LEFT_EYE, L.RIGHT_EYE]]
    m = measure_all(both, np.repeat(both[None], 3, axis=0), ctx)["head_tilt"]
    assert not m.available and m.value is None
    assert "crossed over" in (m.reason or "")


@SETTINGS
@given(st.floats(-50, 50, allow_nan=False), st.floats(0, 10, allow_nan=False))
def test_a_value_prints_the_same_live_and_saved(value: float, unc: float) -> None:
    """A card shows the live value; a reopened assessment the value its JSON kept (0.01): both print
    alike, also on a rounding boundary (a saved +12.75 once printed +12.8 where the page showed +12.7)."""
    from posture.formatting import format_value
    from posture.metrics import _r

    assert format_value(value, "deg", unc) == format_value(_r(value), "deg", _r(unc))


def test_the_boundary_case_that_printed_differently() -> None:
    from posture.formatting import format_value

    assert format_value(12.7496, "deg", 1.0) == format_value(12.75, "deg", 1.0) == "+12.8° ± 1.0°"
