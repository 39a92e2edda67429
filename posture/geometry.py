"""Pure numpy geometry: angles, offsets, rotations, boxes. No I/O, no mediapipe.

One job: the maths every layer shares. Its place in the layers: the bottom; it imports nothing from
the package, and metrics, refine and analysis import it.

Coordinates are image pixels, x right, y DOWN. ``toward_left`` is the image x direction (+1 or -1)
that points to the CLIENT's left: +1 in an anterior (front) view, -1 in a posterior (back) view.
"""

from __future__ import annotations

import math

import numpy as np

Point = tuple[float, float]
#: an axis-aligned box x0, y0, x1, y1 in pixels (y down)
Box = tuple[float, float, float, float]
# A box side shorter than this (px) counts as this long, so a degenerate box has a positive area.
MIN_BOX_SIDE_PX = 1.0


def level_points(points: np.ndarray, roll_deg: float, center: Point) -> np.ndarray:
    """Rotate ``points`` (N, 2) about ``center`` so that a scene line which appears at image angle
    ``roll_deg`` (atan2(dy, dx), y down) becomes horizontal.

    A camera rolled clockwise by ``roll_deg`` makes true horizontals appear at +roll_deg; this undoes
    it, so measurements are taken against true horizontal/vertical.
    """
    if roll_deg == 0.0:
        return np.asarray(points, dtype=np.float64).copy()
    r = math.radians(roll_deg)
    c, s = math.cos(r), math.sin(r)
    p = np.asarray(points, dtype=np.float64) - np.asarray(center, dtype=np.float64)
    out = np.empty_like(p)
    out[..., 0] = p[..., 0] * c + p[..., 1] * s
    out[..., 1] = -p[..., 0] * s + p[..., 1] * c
    return out + np.asarray(center, dtype=np.float64)


def rotate_points_cw(points: np.ndarray, theta_deg: float, center: Point) -> np.ndarray:
    """Where ``points`` land when the image content is rotated clockwise on screen by ``theta_deg``
    about ``center`` (the inverse of :func:`level_points`)."""
    return level_points(points, -theta_deg, center)


def tilt_deg(right: Point, left: Point, toward_left: int) -> float:
    """Signed tilt of the line between the client's right and left points.

    Positive = the client's RIGHT point is lower (larger y). Level = 0. Range (-180, 180].
    """
    dy = right[1] - left[1]
    dx = (left[0] - right[0]) * toward_left
    return math.degrees(math.atan2(dy, dx))


def lateral_offset(upper: Point, lower: Point, toward_left: int) -> float:
    """Horizontal offset of ``upper`` relative to ``lower`` in pixels, positive toward the
    client's RIGHT."""
    return (upper[0] - lower[0]) * -toward_left


def midpoint(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)


def distance(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def angle_noise_deg(sigma_px: float, length_px: float) -> float:
    """Standard deviation (deg) of a line's angle when both end points carry independent isotropic
    noise of ``sigma_px`` and the points are ``length_px`` apart (small-angle approximation)."""
    if length_px <= 0:
        return float("inf")
    return math.degrees(math.sqrt(2.0) * sigma_px / length_px)


def robust_sd(values: np.ndarray) -> float:
    """A spread estimate that one outlier cannot blow up: 1.4826 x MAD, but never below half the
    plain standard deviation (so a bimodal set is not reported as tight)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(v - np.median(v))))
    return max(mad, 0.5 * float(np.std(v, ddof=1)))


def box_area(b: Box) -> float:
    """Area of ``b`` (px²), each side at least :data:`MIN_BOX_SIDE_PX`."""
    return max(b[2] - b[0], MIN_BOX_SIDE_PX) * max(b[3] - b[1], MIN_BOX_SIDE_PX)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 = disjoint, 1 = the same box)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (box_area(a) + box_area(b) - inter)
