"""Landmarks (+ camera roll, scale) -> named measurements with units, sides in words and ±.

One job: the measurement table and the one generic function that computes it. Its place in the
layers: called by ``posture.analysis`` (and read by findings, compare, report, which sit above); it
imports only ``posture.geometry``, ``posture.pose`` (the landmark names) and ``posture.constants``,
never findings, report, store, cli or ui.

Every measurement is declared once in :data:`SPECS` (which landmarks, what kind, how its sign reads
in words) and computed by one generic function, in the spirit of Pose2Sim's angle table.

Inputs are *anatomical* landmark arrays: shape (33, 4) = x, y, visibility, presence in full-size
photo pixels (y down), rows named by :class:`posture.pose.Landmark` where LEFT/RIGHT now mean the
CLIENT's sides (assigned by ``posture.sides``). Signs: positive tilt = client's right side lower;
positive shift = toward the client's right; positive shortening = right side shorter.

Uncertainty is a 95% half-width (the "±", :data:`posture.constants.Z95` x one sigma), combining in
quadrature:
  * the spread of the measurement across the model passes (test-time augmentation), when there are
    several;
  * a landmark-placement floor (``MeasureContext.sigma_px``) propagated through the geometry;
  * the uncertainty of the camera-roll estimate, for angles measured against true horizontal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posture import geometry as geo
from posture.constants import LEVEL_CUTOFF, UNIT_CM, UNIT_DEG, UNIT_PCT_SHOULDER, UNIT_PX, Z95
from posture.pose import Landmark as L


@dataclass(frozen=True)
class Quantity:
    """A secondary number of a measurement (e.g. a height difference) with its unit and ±."""

    value: float
    unit: str
    uncertainty: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _r(self.value),
            "unit": self.unit,
            "uncertainty": _r(self.uncertainty),
        }


@dataclass(frozen=True)
class Measurement:
    name: str
    label: str
    value: float | None
    unit: str
    side: str
    uncertainty: float | None
    landmarks: tuple[str, ...]
    available: bool = True
    reason: str | None = None
    details: Mapping[str, Quantity] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        """'right', 'left' or 'none' (the sign in words, without the body part)."""
        if self.value is None or self.value == 0:
            return "none"
        return "right" if self.value > 0 else "left"

    def exceeds_uncertainty(self) -> bool:
        return bool(
            self.available
            and self.value is not None
            and abs(self.value) > (self.uncertainty or 0.0)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": _r(self.value),
            "unit": self.unit,
            "side": self.side,
            "uncertainty": _r(self.uncertainty),
            "available": self.available,
            "reason": self.reason,
            "landmarks": list(self.landmarks),
            "details": {k: q.to_dict() for k, q in self.details.items()},
        }


@dataclass(frozen=True)
class MeasureContext:
    toward_left: int  # +1 anterior, -1 posterior
    width: int
    height: int
    roll_deg: float = 0.0
    roll_sd_deg: float = 0.0
    cm_per_px: float | None = None
    scale_rel_sd: float = 0.0
    sigma_px: float = 2.0
    min_visibility: float = 0.5
    manual: frozenset[str] = frozenset()
    # A point this close to the border (fraction of the long side) is where the model parks a joint
    # it cannot see when the photo is cut off; it is not trusted.
    edge_fraction: float = 0.01
    # A hand-placed point is as precise as one pixel of the photo as shown on screen, about this
    # many pixels along its long side in the app (and in any viewer on a laptop).
    click_display_px: float = 700.0
    # The consensus is a trimmed mean over P passes, so its error is a fraction of one pass's spread;
    # the passes share the same photo, so it is larger than 1/sqrt(P). Calibrated with
    # benchmarks/accuracy.py so that >= 90% of perturbed results fall inside the stated 95% ±.
    pass_spread_weight: float = 1.0


@dataclass(frozen=True)
class Spec:
    name: str
    label: str
    kind: str  # "tilt" | "shift" | "shortening"
    points: tuple[tuple[L, ...], ...]  # alternatives, first usable wins
    words: tuple[str, str, str]  # positive, negative, zero


SPECS: tuple[Spec, ...] = (
    Spec(
        "shoulder_tilt",
        "Shoulder line tilt",
        "tilt",
        ((L.RIGHT_SHOULDER, L.LEFT_SHOULDER),),
        ("right shoulder lower", "left shoulder lower", "shoulders level"),
    ),
    Spec(
        "hip_tilt",
        "Hip-joint line tilt",
        "tilt",
        ((L.RIGHT_HIP, L.LEFT_HIP),),
        ("right hip lower", "left hip lower", "hips level"),
    ),
    Spec(
        "head_tilt",
        "Head tilt (ear line)",
        "tilt",
        ((L.RIGHT_EAR, L.LEFT_EAR), (L.RIGHT_EYE, L.LEFT_EYE)),
        ("head tilted to the right", "head tilted to the left", "head level"),
    ),
    Spec(
        "trunk_shift",
        "Trunk shift (shoulders over hips)",
        "shift",
        ((L.RIGHT_SHOULDER, L.LEFT_SHOULDER, L.RIGHT_HIP, L.LEFT_HIP),),
        (
            "shoulders shifted to the right of the hips",
            "shoulders shifted to the left of the hips",
            "shoulders centred over the hips",
        ),
    ),
    Spec(
        "pelvic_shift",
        "Pelvic shift (hips over ankles, plumb line)",
        "shift",
        ((L.RIGHT_HIP, L.LEFT_HIP, L.RIGHT_ANKLE, L.LEFT_ANKLE),),
        (
            "pelvis shifted to the right of the feet",
            "pelvis shifted to the left of the feet",
            "pelvis centred over the feet",
        ),
    ),
    Spec(
        "side_shortening",
        "Side shortening (shoulder-to-hip height)",
        "shortening",
        ((L.RIGHT_SHOULDER, L.LEFT_SHOULDER, L.RIGHT_HIP, L.LEFT_HIP),),
        ("right side shorter", "left side shorter", "sides equal"),
    ),
)

SPEC_BY_NAME = {s.name: s for s in SPECS}


def landmark_key(lm: L) -> str:
    return lm.name.lower()


def measure_all(
    points: np.ndarray, passes: np.ndarray, ctx: MeasureContext
) -> dict[str, Measurement]:
    """Compute every measurement in :data:`SPECS`.

    ``points`` (33, 4) is the consensus landmark set, ``passes`` (P, 33, 4) the per-pass sets it
    came from (P may be 1). Both anatomical, full-size pixels.
    """
    center = (ctx.width / 2.0, ctx.height / 2.0)
    lv = _leveled(points, ctx.roll_deg, center)
    lv_passes = np.stack([_leveled(p, ctx.roll_deg, center) for p in passes])
    shoulder_w = geo.distance(_xy(lv, L.RIGHT_SHOULDER), _xy(lv, L.LEFT_SHOULDER))
    return {
        spec.name: _measure(spec, points, lv, lv_passes, shoulder_w, ctx) for spec in SPECS
    }


def _leveled(points: np.ndarray, roll: float, center: geo.Point) -> np.ndarray:
    out = points.copy()
    out[:, :2] = geo.level_points(points[:, :2], roll, center)
    return out


def _xy(points: np.ndarray, lm: L) -> geo.Point:
    return (float(points[lm, 0]), float(points[lm, 1]))


def _usable(points: np.ndarray, lms: Sequence[L], ctx: MeasureContext) -> str | None:
    """None when every landmark can be trusted, else the reason in words."""
    edge = ctx.edge_fraction * max(ctx.width, ctx.height)
    for lm in lms:
        x, y, vis = points[lm, 0], points[lm, 1], points[lm, 2]
        key = landmark_key(lm)
        if key in ctx.manual:
            continue
        if not (edge <= x <= ctx.width - edge and edge <= y <= ctx.height - edge):
            return f"{key.replace('_', ' ')} is outside or at the edge of the photo (body cut off)"
        if vis < ctx.min_visibility:
            return f"{key.replace('_', ' ')} is not clearly visible (visibility {vis:.2f})"
    return None


def _measure(
    spec: Spec,
    raw: np.ndarray,
    lv: np.ndarray,
    lv_passes: np.ndarray,
    shoulder_w: float,
    ctx: MeasureContext,
) -> Measurement:
    chosen: tuple[L, ...] | None = None
    reason: str | None = None
    for alt in spec.points:
        why = _usable(raw, alt, ctx)
        if why is None:
            chosen = alt
            break
        reason = reason or why
    if chosen is None:
        return Measurement(
            spec.name,
            spec.label,
            None,
            UNIT_DEG if spec.kind == "tilt" else "",
            "unavailable",
            None,
            tuple(landmark_key(lm) for lm in spec.points[0]),
            available=False,
            reason=reason,
        )
    label = spec.label
    if spec.name == "head_tilt" and chosen[0] == L.RIGHT_EYE:
        label = "Head tilt (eye line; ears not visible)"
    names = tuple(landmark_key(lm) for lm in chosen)
    fn = _KINDS[spec.kind]
    value, per_pass, floor_sd, unit, details = fn(chosen, lv, lv_passes, shoulder_w, ctx)
    sd = math.sqrt((ctx.pass_spread_weight * geo.robust_sd(per_pass)) ** 2 + floor_sd**2)
    if spec.kind == "tilt" and not _all_manual(chosen, ctx):
        sd = math.sqrt(sd**2 + ctx.roll_sd_deg**2)
    unc = Z95 * sd
    pos, neg, zero = spec.words
    side = zero if abs(value) < LEVEL_CUTOFF else (pos if value > 0 else neg)
    return Measurement(
        spec.name, label, value, unit, side, unc, names, details=details
    )


def _all_manual(lms: Sequence[L], ctx: MeasureContext) -> bool:
    return all(landmark_key(lm) in ctx.manual for lm in lms)


Result = tuple[float, np.ndarray, float, str, dict[str, Quantity]]


def _unit_per_px(shoulder_w: float, ctx: MeasureContext) -> tuple[float, str]:
    """How a pixel length is reported: cm when the scale is known, else % of shoulder width."""
    if ctx.cm_per_px is not None:
        return ctx.cm_per_px, UNIT_CM
    return (100.0 / shoulder_w if shoulder_w > 0 else float("nan")), UNIT_PCT_SHOULDER


def _length_unit(px: float, px_sd: float, shoulder_w: float, ctx: MeasureContext) -> Quantity:
    """A pixel length (with its 1-sigma px_sd) -> a Quantity in the reporting unit, with its ±."""
    factor, unit = _unit_per_px(shoulder_w, ctx)
    value = px * factor
    scale_sd = value * ctx.scale_rel_sd if unit == UNIT_CM else 0.0
    return Quantity(value, unit, Z95 * math.hypot(px_sd * factor, scale_sd))


def _tilt(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, shoulder_w: float, ctx: MeasureContext
) -> Result:
    r, left = lms
    value = geo.tilt_deg(_xy(lv, r), _xy(lv, left), ctx.toward_left)
    per = np.array([geo.tilt_deg(_xy(p, r), _xy(p, left), ctx.toward_left) for p in lvp])
    length = geo.distance(_xy(lv, r), _xy(lv, left))
    sigma = _sigma(lms, ctx)
    floor = geo.angle_noise_deg(sigma, length)
    dy = lv[r, 1] - lv[left, 1]
    dy_per = lvp[:, r, 1] - lvp[:, left, 1]
    dy_sd = math.hypot(ctx.pass_spread_weight * geo.robust_sd(dy_per), math.sqrt(2) * sigma)
    details = {"height_difference": _length_unit(float(dy), dy_sd, shoulder_w, ctx)}
    return value, per, floor, UNIT_DEG, details


def _length(
    px_of: Callable[[np.ndarray], float],
    sigma_px: float,
    lv: np.ndarray,
    lvp: np.ndarray,
    shoulder_w: float,
    ctx: MeasureContext,
) -> Result:
    """A measurement that is a pixel length (``px_of`` of a landmark set) reported in cm or % of
    shoulder width; ``sigma_px`` is the placement noise propagated to that length."""
    px = px_of(lv)
    per_px = np.array([px_of(p) for p in lvp])
    factor, unit = _unit_per_px(shoulder_w, ctx)
    value = px * factor
    scale_sd = value * ctx.scale_rel_sd if unit == UNIT_CM else 0.0
    floor = math.hypot(sigma_px * factor, scale_sd)
    px_sd = math.hypot(ctx.pass_spread_weight * geo.robust_sd(per_px), sigma_px)
    return value, per_px * factor, floor, unit, {"pixels": Quantity(px, UNIT_PX, Z95 * px_sd)}


def _shift(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, shoulder_w: float, ctx: MeasureContext
) -> Result:
    ur, ul, lr, ll = lms

    def offset(p: np.ndarray) -> float:
        upper = geo.midpoint(_xy(p, ur), _xy(p, ul))
        lower = geo.midpoint(_xy(p, lr), _xy(p, ll))
        return geo.lateral_offset(upper, lower, ctx.toward_left)

    # each midpoint averages two points (sigma/sqrt 2 each); the difference of two -> sigma
    return _length(offset, _sigma(lms, ctx), lv, lvp, shoulder_w, ctx)


def _shortening(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, shoulder_w: float, ctx: MeasureContext
) -> Result:
    rs, ls, rh, lh = lms

    def short(p: np.ndarray) -> float:
        right_len = p[rh, 1] - p[rs, 1]
        left_len = p[lh, 1] - p[ls, 1]
        return float(left_len - right_len)

    # four points, each with sigma in y -> 2 sigma for the sum of differences
    return _length(short, 2.0 * _sigma(lms, ctx), lv, lvp, shoulder_w, ctx)


def _sigma(lms: Sequence[L], ctx: MeasureContext) -> float:
    """Landmark-placement noise; points placed by hand carry the click precision instead."""
    if _all_manual(lms, ctx):
        return max(ctx.width, ctx.height) / ctx.click_display_px
    return ctx.sigma_px


_KINDS: dict[str, Callable[..., Result]] = {
    "tilt": _tilt,
    "shift": _shift,
    "shortening": _shortening,
}


def _r(x: float | None, nd: int = 2) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)
