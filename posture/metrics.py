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

Uncertainty is a 95% half-width (the "±", :data:`posture.constants.Z95` x one sigma) of the whole
error this module can know, built from named parts. ``Measurement.uncertainty_parts`` holds each part
as its own 95% half-width in the measurement's unit (JSON: ``"uncertainty_parts"`` beside
``"uncertainty"``), and ``uncertainty`` is their quadrature sum, sqrt(sum of part^2):

  * ``repeatability``: the spread of the measurement across the model passes (test-time augmentation),
    weighted by ``MeasureContext.pass_spread_weight``; 0 with one pass;
  * ``placement``: the landmark-placement floor of the model's points (``MeasureContext.sigma_px``)
    propagated through the geometry;
  * ``manual_points``: the click precision of points placed by hand (``click_sd_px``: half a display
    pixel of the photo as it was shown), replacing the placement floor for those points;
  * ``level``: the camera-roll uncertainty (``roll_sd_deg``), propagated numerically (the measurement
    re-taken with the roll one sigma either way), so it enters tilts degree for degree and lateral
    shifts through the height over which they are measured;
  * ``scale``: the relative 1-sigma error of cm per pixel (``scale_rel_sd``), centimetres only;
  * ``cross_talk``: the shoulder and hip lines' residual coupling, ``cross_talk_per_deg`` x the other
    line's tilt (a bound, not a spread; 0 until ``benchmarks/validity.py`` measures a residual).

What the ± cannot cover: clothing that hides the body's outline, and a client who stands differently on
another day (that is the findings' noise band and ``posture.compare``'s day-to-day band).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

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
    # each source of the ± as its own 95% half-width in ``unit`` (see the module docstring);
    # ``uncertainty`` is their quadrature sum. Empty for an unavailable measurement.
    uncertainty_parts: Mapping[str, float] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        """'right', 'left' or 'none' (the sign in words, without the body part)."""
        if self.value is None or self.value == 0:
            return "none"
        return "right" if self.value > 0 else "left"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": _r(self.value),
            "unit": self.unit,
            "side": self.side,
            "uncertainty": _r(self.uncertainty),
            "uncertainty_parts": {k: _r(v, 3) for k, v in self.uncertainty_parts.items()},
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
    # A hand-placed point is as precise as the click on the photo as it was shown: a click lands on
    # a whole display pixel (quantisation SD 1/sqrt(12) = 0.29 px) aimed at a still target, so its
    # SD is taken as ``click_sd_display_px`` display pixels (an assumption, not a measurement; where
    # the joint really is under the skin is the noise band's business). ``click_sd_px`` is that SD in
    # photo pixels when the caller knows the display scale (the app: ``correct_landmarks``'s
    # ``photo_px_per_display_px``); None assumes the photo was shown ``click_display_px`` display
    # pixels along its long side (the app's size, and any viewer on a laptop).
    click_display_px: float = 700.0
    click_sd_display_px: float = 0.5
    click_sd_px: float | None = None
    # Residual coupling of the shoulder and hip lines (deg of error per deg of the other line's
    # tilt), measured by benchmarks/validity.py; 0 until that benchmark reports a residual.
    cross_talk_per_deg: float = 0.0
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
    out = {spec.name: _measure(spec, points, passes, ctx) for spec in SPECS}
    return _with_cross_talk(out, ctx)


# the lines whose residual coupling is the ``cross_talk`` part: each reads part of the other's tilt
CROSS_TALK_PAIRS: Mapping[str, str] = {"shoulder_tilt": "hip_tilt", "hip_tilt": "shoulder_tilt"}


def _with_cross_talk(ms: dict[str, Measurement], ctx: MeasureContext) -> dict[str, Measurement]:
    out = dict(ms)
    for name, other in CROSS_TALK_PAIRS.items():
        m, o = ms.get(name), ms.get(other)
        if m is None or not m.available or m.uncertainty is None:
            continue
        ct = ctx.cross_talk_per_deg * abs(o.value) if o is not None and o.value is not None else 0.0
        parts = dict(m.uncertainty_parts)
        parts["cross_talk"] = ct
        out[name] = replace(m, uncertainty=combine_parts(parts), uncertainty_parts=parts)
    return out


def combine_parts(parts: Mapping[str, float]) -> float:
    """The stated ± of a measurement: the quadrature sum of its parts (each a 95% half-width)."""
    return math.sqrt(sum(v * v for v in parts.values()))


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


def _crossed(lms: tuple[L, ...], points: np.ndarray, ctx: MeasureContext) -> str | None:
    """None when the client's right point of a tilt line lies on the client's right of the left one,
    else the reason: a line read with its ends swapped is not a tilt of 180°, it is a misread (or a
    view declared the wrong way round)."""
    r, left = lms
    lv = _leveled(points, ctx.roll_deg, (ctx.width / 2.0, ctx.height / 2.0))
    if (float(lv[left, 0]) - float(lv[r, 0])) * ctx.toward_left > 0:
        return None
    return (f"the {landmark_key(r).replace('_', ' ')} and {landmark_key(left).replace('_', ' ')} "
            "are crossed over (check the declared view)")


def _measure(spec: Spec, raw: np.ndarray, passes: np.ndarray, ctx: MeasureContext) -> Measurement:
    chosen: tuple[L, ...] | None = None
    reason: str | None = None
    for alt in spec.points:
        why = _usable(raw, alt, ctx)
        if why is None and spec.kind == "tilt":
            why = _crossed(alt, raw, ctx)
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
    kind = _KINDS[spec.kind]
    center = (ctx.width / 2.0, ctx.height / 2.0)
    lv = _leveled(raw, ctx.roll_deg, center)
    shoulder_w = geo.distance(_xy(lv, L.RIGHT_SHOULDER), _xy(lv, L.LEFT_SHOULDER))
    factor, unit = (1.0, UNIT_DEG) if spec.kind == "tilt" else _unit_per_px(shoulder_w, ctx)
    value = kind.value(chosen, lv, ctx) * factor
    per_pass = np.array(
        [kind.value(chosen, _leveled(p, ctx.roll_deg, center), ctx) * factor for p in passes]
    )
    model_sd, manual_sd = _placement_sds(chosen, ctx)
    gain = kind.noise_gain(chosen, lv) * factor  # unit per px of placement noise
    # the roll one sigma either way, with the same unit factor (shoulder width is roll-invariant)
    if ctx.roll_sd_deg > 0:
        hi = kind.value(chosen, _leveled(raw, ctx.roll_deg + ctx.roll_sd_deg, center), ctx)
        lo = kind.value(chosen, _leveled(raw, ctx.roll_deg - ctx.roll_sd_deg, center), ctx)
        level_sd = abs(hi - lo) / 2.0 * factor
    else:
        level_sd = 0.0
    parts = {
        "repeatability": Z95 * ctx.pass_spread_weight * geo.robust_sd(per_pass),
        "placement": Z95 * gain * model_sd,
        "manual_points": Z95 * gain * manual_sd,
        "level": Z95 * level_sd,
    }
    if unit == UNIT_CM:
        parts["scale"] = Z95 * abs(value) * ctx.scale_rel_sd
    unc = combine_parts(parts)
    details: dict[str, Quantity] = {}
    if spec.kind == "tilt":
        details["height_difference"] = _height_difference(chosen, lv, unc, shoulder_w, ctx)
    else:
        # the same length in photo pixels: every part but the scale's
        px_unc = combine_parts({k: v for k, v in parts.items() if k != "scale"})
        ok = factor > 0 and math.isfinite(factor)
        details["pixels"] = Quantity(
            value / factor if ok else float("nan"), UNIT_PX, px_unc / factor if ok else None
        )
    pos, neg, zero = spec.words
    side = zero if abs(value) < LEVEL_CUTOFF else (pos if value > 0 else neg)
    return Measurement(
        spec.name, label, value, unit, side, unc, names, details=details, uncertainty_parts=parts
    )


def _placement_sds(lms: Sequence[L], ctx: MeasureContext) -> tuple[float, float]:
    """Root-sum-square placement noise (photo px) of the model's points and of the hand-placed ones."""
    n_manual = sum(landmark_key(lm) in ctx.manual for lm in lms)
    n_model = len(lms) - n_manual
    return math.sqrt(n_model) * ctx.sigma_px, math.sqrt(n_manual) * click_sd_px(ctx)


class ClickContext(Protocol):
    """What the click precision of a hand-placed point depends on (a front or a side context)."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def click_display_px(self) -> float: ...
    @property
    def click_sd_display_px(self) -> float: ...
    @property
    def click_sd_px(self) -> float | None: ...


def click_sd_px(ctx: ClickContext) -> float:
    """One sigma (photo pixels) of a hand-placed point: ``click_sd_display_px`` display pixels of the
    photo as it was shown (see :class:`MeasureContext`); front and side views alike."""
    if ctx.click_sd_px is not None:
        return ctx.click_sd_px
    return ctx.click_sd_display_px * max(ctx.width, ctx.height) / ctx.click_display_px


def _height_difference(
    lms: tuple[L, ...], lv: np.ndarray, tilt_unc_deg: float, shoulder_w: float, ctx: MeasureContext
) -> Quantity:
    """A tilt's line as the height difference of its ends, with the tilt's whole ± carried over
    (length x the angle's ±) and, in cm, the scale's."""
    r, left = lms
    dy = float(lv[r, 1] - lv[left, 1])
    length = geo.distance(_xy(lv, r), _xy(lv, left))
    factor, unit = _unit_per_px(shoulder_w, ctx)
    value = dy * factor
    unc = length * math.radians(tilt_unc_deg) * factor
    if unit == UNIT_CM:
        unc = math.hypot(unc, Z95 * abs(value) * ctx.scale_rel_sd)
    return Quantity(value, unit, unc)


def _unit_per_px(shoulder_w: float, ctx: MeasureContext) -> tuple[float, str]:
    """How a pixel length is reported: cm when the scale is known, else % of shoulder width."""
    if ctx.cm_per_px is not None:
        return ctx.cm_per_px, UNIT_CM
    return (100.0 / shoulder_w if shoulder_w > 0 else float("nan")), UNIT_PCT_SHOULDER


@dataclass(frozen=True)
class _Kind:
    """How one kind of measurement is read off a levelled landmark set.

    ``value`` gives degrees (tilt) or photo pixels (shift, shortening); ``noise_gain`` the SD of that
    value per pixel of root-sum-square placement noise of its points (each point's noise independent
    and isotropic)."""

    value: Callable[[tuple[L, ...], np.ndarray, MeasureContext], float]
    noise_gain: Callable[[tuple[L, ...], np.ndarray], float]


def _tilt_value(lms: tuple[L, ...], p: np.ndarray, ctx: MeasureContext) -> float:
    r, left = lms
    return geo.tilt_deg(_xy(p, r), _xy(p, left), ctx.toward_left)


def _tilt_gain(lms: tuple[L, ...], p: np.ndarray) -> float:
    # angle SD = sqrt(s_r^2 + s_l^2) / length (rad); geo.angle_noise_deg for equal s
    length = geo.distance(_xy(p, lms[0]), _xy(p, lms[1]))
    return math.degrees(1.0 / length) if length > 0 else float("inf")


def _shift_value(lms: tuple[L, ...], p: np.ndarray, ctx: MeasureContext) -> float:
    ur, ul, lr, ll = lms
    upper = geo.midpoint(_xy(p, ur), _xy(p, ul))
    lower = geo.midpoint(_xy(p, lr), _xy(p, ll))
    return geo.lateral_offset(upper, lower, ctx.toward_left)


def _shortening_value(lms: tuple[L, ...], p: np.ndarray, ctx: MeasureContext) -> float:
    rs, ls, rh, lh = lms
    right_len = p[rh, 1] - p[rs, 1]
    left_len = p[lh, 1] - p[ls, 1]
    return float(left_len - right_len)


_KINDS: dict[str, _Kind] = {
    "tilt": _Kind(_tilt_value, _tilt_gain),
    # a difference of two midpoints: each point enters with weight 1/2
    "shift": _Kind(_shift_value, lambda lms, p: 0.5),
    # a sum of four y differences: each point enters with weight 1
    "shortening": _Kind(_shortening_value, lambda lms, p: 1.0),
}


def _r(x: float | None, nd: int = 2) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)
