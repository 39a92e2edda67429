"""Side-view (lateral) measurements from anatomical landmarks: pure geometry, no model call.

Views. ``left`` = the client's LEFT side toward the camera: the client faces the image's LEFT.
``right`` = the client's RIGHT side toward the camera: the client faces the image's RIGHT.

Inputs are *anatomical* landmark arrays like :mod:`posture.metrics` uses: shape (33, 4) = x, y,
visibility, presence in full-size photo pixels (x right, y DOWN), rows named by
:class:`posture.pose.Landmark` where LEFT/RIGHT mean the CLIENT's sides.

Sign convention (once, for every side-view value): positive = toward the client's FRONT.
  * ``head_forward``   > 0: the ear is ahead of the shoulder;
  * ``trunk_lean``     > 0: the shoulder is ahead of the hip (trunk leaning forward);
  * ``hip_forward``    > 0: the hip is ahead of the ankle;
  * ``knee_extension`` > 0: the knee is BEHIND the hip-ankle line (hyper-extended); < 0 = bent;
  * ``plumb_line``     > 0: a landmark is ahead of the vertical through the ankle.
"Horizontal" and "vertical" are TRUE horizontal/vertical: the landmarks are first turned by the
camera roll (the same ``level_points`` the front view uses), so a photo turned by theta and measured
with ``roll_deg=theta`` gives the same values.

Near and far side. In a side view the side toward the camera is seen, the other is mostly hidden
behind the body and guessed by the model. Every measurement uses the landmarks of the declared near
side (left view -> the client's left ear, shoulder, hip, knee, ankle); when one of them cannot be
trusted (low visibility, at the photo's edge) it falls back to the far side, says so in a warning and
widens its ± (``SideContext.far_side_sigma_factor``).

Uncertainty is a 95% half-width (:data:`posture.constants.Z95` x one sigma), combining in quadrature
the spread across model passes (when several landmark sets are given), a landmark-placement floor
(``sigma_px``) propagated through the geometry, the camera-roll uncertainty (for angles from the
vertical and for horizontal offsets between points at different heights) and, in cm, the scale's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

import numpy as np

from posture import geometry as geo
from posture.constants import LEVEL_CUTOFF, UNIT_CM, UNIT_DEG, UNIT_PCT_EAR_ANKLE, UNIT_PX, Z95
from posture.metrics import MeasureContext, Measurement, Quantity, click_sd_px
from posture.pose import MIRROR_PERMUTATION
from posture.pose import Landmark as L

#: Published average plumb-line offsets ahead of the ankle (cm) in relaxed standing, for reference
#: only: Woodhull, Maltrud & Mello 1985, "Alignment of the human body in standing", Eur J Appl
#: Physiol 54:109-115.
WOODHULL_1985_CM: Final[Mapping[str, float]] = {
    "ear": 5.9,
    "shoulder": 3.8,
    "hip": 6.2,
    "knee": 3.8,
}

#: What head_forward is NOT (said in its label's docstring, the JSON and the report).
NOT_CVA_NOTE: Final = (
    "Not the clinical craniovertebral angle (CVA): that is the tragus-C7 line against the "
    "horizontal, and the pose model has no C7 landmark. Photo CVA has an MDC of about 1.3-1.7 deg "
    "and forward-head cut-offs of about 48-50 deg; those figures do not apply to this ear-shoulder "
    "reading."
)


#: the sign convention of every side-view value, in words (JSON, report)
SIGN_CONVENTION: Final = (
    "positive = toward the client's front (head ahead of the shoulder, trunk leaning forward, hip "
    "ahead of the ankle); knee positive = hyper-extended (behind the hip-ankle line)"
)


class SideView(StrEnum):
    """Which side of the client faces the camera."""

    LEFT = "left"  # client's left side toward the camera, faces the image's left
    RIGHT = "right"  # client's right side toward the camera, faces the image's right

    @property
    def forward_x(self) -> int:
        """Image x direction (+1 right, -1 left) that points to the client's FRONT."""
        return -1 if self is SideView.LEFT else 1

    @property
    def near(self) -> str:
        """The client's side nearer the camera ('left' or 'right')."""
        return self.value

    @property
    def far(self) -> str:
        return "right" if self is SideView.LEFT else "left"

    @classmethod
    def parse(cls, value: str | SideView) -> SideView:
        if isinstance(value, SideView):
            return value
        v = str(getattr(value, "value", value)).strip().lower()
        aliases = {"l": "left", "r": "right", "left-lateral": "left", "right-lateral": "right"}
        try:
            return cls(aliases.get(v, v))
        except ValueError:
            from posture.errors import InvalidOptionError

            raise InvalidOptionError(
                f"Unknown side view {value!r}.",
                "Use left (the client's left side toward the camera) or right.",
            ) from None


@dataclass(frozen=True)
class SideContext:
    """Everything a side-view measurement needs besides the landmarks (frozen; named options)."""

    view: SideView
    width: int
    height: int
    roll_deg: float = 0.0
    roll_sd_deg: float = 0.0
    cm_per_px: float | None = None
    scale_rel_sd: float = 0.0
    sigma_px: float = 2.0
    min_visibility: float = 0.5
    manual: frozenset[str] = frozenset()
    # as in metrics.MeasureContext: a point this close to the border (fraction of the long side)
    # is where the model parks a joint it cannot see
    edge_fraction: float = 0.01
    # a hand-placed point's SD, as in metrics.MeasureContext: click_sd_display_px display pixels of
    # the photo as it was shown (click_sd_px in photo pixels when the caller knows the display scale,
    # else the photo is taken to have been shown click_display_px pixels along its long side)
    click_display_px: float = 700.0
    click_sd_display_px: float = 0.5
    click_sd_px: float | None = None
    pass_spread_weight: float = 1.0
    # The far side is hidden behind the body and guessed by the model: its placement noise is
    # taken as this multiple of sigma_px (a stated assumption, not fitted to any benchmark).
    far_side_sigma_factor: float = 2.0
    # facing votes (nose vs ear, toes vs heel) must agree at least this much (weighted mean of
    # signs, 0..1) before a detected facing is reported, or it contradicts the declared view
    facing_min_score: float = 0.5

    def __post_init__(self) -> None:
        # accept "left"/"right" as well as the enum
        object.__setattr__(self, "view", SideView.parse(self.view))

    @classmethod
    def from_measure_context(cls, view: SideView | str, ctx: MeasureContext) -> SideContext:
        """The side-view context with the same roll, scale, noise floor and hand-placed points as
        a front-view :class:`~posture.metrics.MeasureContext` (whose ``toward_left`` a side view
        does not use)."""
        return cls(
            view=SideView.parse(view),
            width=ctx.width,
            height=ctx.height,
            roll_deg=ctx.roll_deg,
            roll_sd_deg=ctx.roll_sd_deg,
            cm_per_px=ctx.cm_per_px,
            scale_rel_sd=ctx.scale_rel_sd,
            sigma_px=ctx.sigma_px,
            min_visibility=ctx.min_visibility,
            manual=ctx.manual,
            edge_fraction=ctx.edge_fraction,
            click_display_px=ctx.click_display_px,
            click_sd_display_px=ctx.click_sd_display_px,
            click_sd_px=ctx.click_sd_px,
            pass_spread_weight=ctx.pass_spread_weight,
        )


# ---------------------------------------------------------------------------------------------
# Sides


#: the body parts whose visibility tells the near side (toward the camera) from the far side
SIDE_PARTS: Final = ("EAR", "SHOULDER", "ELBOW", "WRIST", "HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX")


@dataclass(frozen=True)
class SideViewSides:
    """The model's landmarks with the client's sides assigned for a side view."""

    points: np.ndarray  # anatomical (33, 4)
    swapped: bool  # True when the model's left/right labels were exchanged
    near_visibility: float  # mean visibility of the near side's points, after assignment
    far_visibility: float


def assign_side_view_sides(model_points: np.ndarray, view: SideView | str) -> SideViewSides:
    """Give the declared near side (left view -> the client's LEFT) to the label set the model sees
    better. In a profile the torso's left-right order carries no information (the shoulders
    overlap), so the front-view rule of ``posture.sides`` cannot be used; the side toward the
    camera is the one the model places with the higher visibility. All pairs are swapped together,
    so limbs stay consistent. Which way the client faces is checked separately
    (:func:`detect_facing`)."""
    v = SideView.parse(view)

    def mean_vis(p: np.ndarray, side: str) -> float:
        return float(np.mean([p[side_landmark(side, part), 2] for part in SIDE_PARTS]))

    pts = np.asarray(model_points, dtype=np.float64)
    near, far = mean_vis(pts, v.near), mean_vis(pts, v.far)
    if far > near:
        return SideViewSides(pts[MIRROR_PERMUTATION].copy(), True, far, near)
    return SideViewSides(pts.copy(), False, near, far)


# ---------------------------------------------------------------------------------------------
# Facing


@dataclass(frozen=True)
class FacingCheck:
    """Which way the client faces, from the nose and toes (they point forward)."""

    declared: SideView
    detected: SideView | None  # None = could not tell
    score: float  # -1..1, weighted vote: +1 = every cue points to the image's right
    cues: int  # how many (visible) cues voted
    contradicts: bool
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "declared": self.declared.value,
            "detected": self.detected.value if self.detected else None,
            "score": round(self.score, 2),
            "cues": self.cues,
            "contradicts": self.contradicts,
            "warning": self.warning,
        }


_FACING_CUES: tuple[tuple[tuple[L, ...], tuple[L, ...]], ...] = (
    # (front points, back points): the front lies toward where the client faces. The nose is read
    # against the midpoint of both ears: in a three-quarter view or with the head turned to the
    # camera the nose sits almost over the far ear, so a vote per ear would be noise.
    ((L.NOSE,), (L.LEFT_EAR, L.RIGHT_EAR)),
    ((L.LEFT_FOOT_INDEX,), (L.LEFT_HEEL,)),
    ((L.RIGHT_FOOT_INDEX,), (L.RIGHT_HEEL,)),
)

#: a facing cue whose front-back offset is below this fraction of the torso length (shoulder to
#: hip midpoints) does not vote: it points nowhere
FACING_DEADBAND_TORSO: Final = 0.02


def detect_facing(
    points: np.ndarray,
    declared: SideView | str,
    *,
    min_visibility: float = 0.5,
    min_score: float = 0.5,
    deadband_torso: float = FACING_DEADBAND_TORSO,
) -> FacingCheck:
    """Which way the client faces (nose ahead of the ears, toes ahead of the heels) and whether
    that contradicts the declared side view. Uses both sides' points, so it does not depend on
    which side the model's labels put where."""
    view = SideView.parse(declared)
    sh = (points[L.LEFT_SHOULDER, :2] + points[L.RIGHT_SHOULDER, :2]) / 2.0
    hp = (points[L.LEFT_HIP, :2] + points[L.RIGHT_HIP, :2]) / 2.0
    deadband = deadband_torso * float(np.hypot(*(sh - hp)))
    votes = 0.0
    weights = 0.0
    cues = 0
    for front, back in _FACING_CUES:
        w = float(min(min(points[lm, 2] for lm in front), np.mean([points[lm, 2] for lm in back])))
        dx = float(np.mean([points[lm, 0] for lm in front]) - np.mean([points[lm, 0] for lm in back]))
        if w < min_visibility or abs(dx) <= deadband:
            continue
        votes += math.copysign(w, dx)
        weights += w
        cues += 1
    score = votes / weights if weights > 0 else 0.0
    detected: SideView | None = None
    if cues and score >= min_score:
        detected = SideView.RIGHT
    elif cues and score <= -min_score:
        detected = SideView.LEFT
    contradicts = detected is not None and detected is not view
    warning = None
    if contradicts:
        assert detected is not None
        warning = (
            f"The client seems to face the image's {_image_side(detected)} (nose and toes point "
            f"that way), which is a {detected.value} side view, but the photo was declared a "
            f"{view.value} side view (client's {view.value} side toward the camera, facing the "
            f"image's {_image_side(view)}). Check the view: the side-view values are signed for "
            f"the declared view and would all flip."
        )
    elif detected is None:
        warning = (
            "Could not tell which way the client faces (nose and toes not clearly visible or "
            "pointing different ways); the declared view is assumed."
        )
    return FacingCheck(view, detected, score, cues, contradicts, warning)


def _image_side(view: SideView) -> str:
    return "left" if view.forward_x < 0 else "right"


# ---------------------------------------------------------------------------------------------
# Measurement table


@dataclass(frozen=True)
class SideSpec:
    name: str
    label: str
    kind: str  # "offset" | "lean" | "joint" | "plumb"
    parts: tuple[str, ...]  # body parts of ONE side, e.g. ("EAR", "SHOULDER")
    words: tuple[str, str, str]  # positive, negative, zero


SIDE_SPECS: tuple[SideSpec, ...] = (
    SideSpec(
        "head_forward",
        "Head forward (ear ahead of shoulder, not CVA)",
        "offset",
        ("EAR", "SHOULDER"),
        ("head ahead of the shoulder", "head behind the shoulder", "head over the shoulder"),
    ),
    SideSpec(
        "trunk_lean",
        "Trunk lean (shoulder-hip line from vertical)",
        "lean",
        ("SHOULDER", "HIP"),
        ("trunk leaning forward", "trunk leaning back", "trunk upright"),
    ),
    SideSpec(
        "hip_forward",
        "Hip forward (hip ahead of the ankle)",
        "offset",
        ("HIP", "ANKLE"),
        ("hip ahead of the ankle", "hip behind the ankle", "hip over the ankle"),
    ),
    SideSpec(
        "knee_extension",
        "Knee extension (hip-knee-ankle from straight)",
        "joint",
        ("HIP", "KNEE", "ANKLE"),
        (
            "knee hyper-extended (behind the hip-ankle line)",
            "knee bent (ahead of the hip-ankle line)",
            "knee straight",
        ),
    ),
    SideSpec(
        "plumb_line",
        "Plumb line (ear ahead of the ankle)",
        "plumb",
        ("EAR", "SHOULDER", "HIP", "KNEE", "ANKLE"),
        ("ear ahead of the ankle", "ear behind the ankle", "ear over the ankle"),
    ),
)

SIDE_SPEC_BY_NAME: Final = {s.name: s for s in SIDE_SPECS}


@dataclass(frozen=True)
class SideViewResult:
    view: SideView
    facing: FacingCheck
    measurements: Mapping[str, Measurement]
    sides_used: Mapping[str, str]  # measurement name -> 'left'/'right' (client's side) or ''
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        """Everything but the measurements (which an analysis reports in its own table)."""
        return {
            "view": self.view.value,
            "sign_convention": SIGN_CONVENTION,
            "facing": self.facing.to_dict(),
            "sides_used": dict(self.sides_used),
            "warnings": list(self.warnings),
            "head_forward_note": NOT_CVA_NOTE,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "measurements": {k: m.to_dict() for k, m in self.measurements.items()},
        }


def side_landmark(side: str, part: str) -> L:
    """The landmark of the client's ``side`` ('left'/'right') and ``part`` ('EAR', 'KNEE', ...)."""
    return L[f"{side.upper()}_{part}"]


def landmark_key(lm: L) -> str:
    return lm.name.lower()


def measure_side(
    points: np.ndarray, passes: np.ndarray | None, ctx: SideContext
) -> SideViewResult:
    """Every side-view measurement of :data:`SIDE_SPECS` for ``ctx.view``.

    ``points`` (33, 4) is the consensus anatomical landmark set, ``passes`` (P, 33, 4) the per-pass
    sets it came from (None or P = 1: no pass spread). Full-size photo pixels.
    """
    pts = np.asarray(points, dtype=np.float64)
    pas = pts[None] if passes is None else np.asarray(passes, dtype=np.float64)
    center = (ctx.width / 2.0, ctx.height / 2.0)
    lv = _leveled(pts, ctx.roll_deg, center)
    lvp = np.stack([_leveled(p, ctx.roll_deg, center) for p in pas])
    facing = detect_facing(
        lv, ctx.view, min_visibility=ctx.min_visibility, min_score=ctx.facing_min_score
    )
    warnings: list[str] = [facing.warning] if facing.warning else []
    ref = _reference_height(pts, lv, ctx)
    out: dict[str, Measurement] = {}
    used: dict[str, str] = {}
    for spec in SIDE_SPECS:
        m, side, warn = _measure(spec, pts, lv, lvp, ref, ctx)
        out[spec.name] = m
        used[spec.name] = side
        if warn:
            warnings.append(warn)
    return SideViewResult(ctx.view, facing, out, used, tuple(warnings))


# ---------------------------------------------------------------------------------------------
# internals


def _leveled(points: np.ndarray, roll: float, center: geo.Point) -> np.ndarray:
    out = points.copy()
    out[:, :2] = geo.level_points(points[:, :2], roll, center)
    return out


def _usable(points: np.ndarray, lms: Sequence[L], ctx: SideContext) -> str | None:
    """None when every landmark can be trusted, else the reason in words."""
    edge = ctx.edge_fraction * max(ctx.width, ctx.height)
    for lm in lms:
        key = landmark_key(lm)
        if key in ctx.manual:
            continue
        x, y, vis = points[lm, 0], points[lm, 1], points[lm, 2]
        if not (edge <= x <= ctx.width - edge and edge <= y <= ctx.height - edge):
            return f"{key.replace('_', ' ')} is outside or at the edge of the photo (body cut off)"
        if vis < ctx.min_visibility:
            return f"{key.replace('_', ' ')} is not clearly visible (visibility {vis:.2f})"
    return None


def _reference_height(raw: np.ndarray, lv: np.ndarray, ctx: SideContext) -> float | None:
    """Ear-to-ankle height (px, true vertical) of the first side whose ear and ankle are usable."""
    for side in (ctx.view.near, ctx.view.far):
        ear, ankle = side_landmark(side, "EAR"), side_landmark(side, "ANKLE")
        if _usable(raw, (ear, ankle), ctx) is None:
            h = float(lv[ankle, 1] - lv[ear, 1])
            if h > 0:
                return h
    return None


@dataclass(frozen=True)
class _Geo:
    """What one kind of measurement computes on the chosen landmarks."""

    value: float
    per_pass: np.ndarray
    floor_sd: float  # one sigma, in the measurement's unit
    unit: str
    details: dict[str, Quantity]


def _measure(
    spec: SideSpec,
    raw: np.ndarray,
    lv: np.ndarray,
    lvp: np.ndarray,
    ref_h: float | None,
    ctx: SideContext,
) -> tuple[Measurement, str, str | None]:
    near = tuple(side_landmark(ctx.view.near, p) for p in spec.parts)
    far = tuple(side_landmark(ctx.view.far, p) for p in spec.parts)
    why_near = _usable(raw, near, ctx)
    chosen, side, sigma_factor, warn = near, ctx.view.near, 1.0, None
    if why_near is not None:
        why_far = _usable(raw, far, ctx)
        if why_far is not None:
            return (
                Measurement(
                    spec.name,
                    spec.label,
                    None,
                    _unit_of(spec, ctx),
                    "unavailable",
                    None,
                    tuple(landmark_key(lm) for lm in near),
                    available=False,
                    reason=why_near,
                ),
                "",
                None,
            )
        chosen, side, sigma_factor = far, ctx.view.far, ctx.far_side_sigma_factor
        warn = (
            f"{spec.name} is measured from the client's {side} side (away from the camera): "
            f"{why_near}; the far side is partly hidden, so its ± is wider."
        )
    if spec.kind in ("offset", "plumb") and ctx.cm_per_px is None and ref_h is None:
        return (
            Measurement(
                spec.name,
                spec.label,
                None,
                UNIT_PCT_EAR_ANKLE,
                "unavailable",
                None,
                tuple(landmark_key(lm) for lm in chosen),
                available=False,
                reason="no scale and no usable ear-to-ankle height to express the offset in",
            ),
            "",
            None,
        )
    sigma = _sigma(chosen, ctx) * sigma_factor
    g = _KINDS[spec.kind](chosen, lv, lvp, ref_h, sigma, ctx)
    sd = math.hypot(ctx.pass_spread_weight * geo.robust_sd(g.per_pass), g.floor_sd)
    unc = Z95 * sd
    pos, neg, zero = spec.words
    words = zero if abs(g.value) < LEVEL_CUTOFF else (pos if g.value > 0 else neg)
    label = spec.label if side == ctx.view.near else f"{spec.label} - far side"
    names = tuple(landmark_key(lm) for lm in chosen)
    details = dict(g.details)
    if "hip_knee_ankle_angle" in details:  # the same angle (180 - |value|): the same, whole ±
        details["hip_knee_ankle_angle"] = replace(details["hip_knee_ankle_angle"], uncertainty=unc)
    return Measurement(spec.name, label, g.value, g.unit, words, unc, names, details=details), side, warn


def _unit_of(spec: SideSpec, ctx: SideContext) -> str:
    if spec.kind in ("lean", "joint"):
        return UNIT_DEG
    return UNIT_CM if ctx.cm_per_px is not None else UNIT_PCT_EAR_ANKLE


def _sigma(lms: Sequence[L], ctx: SideContext) -> float:
    """Landmark-placement noise; points placed by hand carry the click precision instead."""
    if all(landmark_key(lm) in ctx.manual for lm in lms):
        return click_sd_px(ctx)
    return ctx.sigma_px


def _forward(p: np.ndarray, a: L, b: L, fx: int) -> float:
    """Horizontal offset (px) of ``a`` ahead of ``b``: positive toward the client's front."""
    return float((p[a, 0] - p[b, 0]) * fx)


def _from_vertical(p: np.ndarray, upper: L, lower: L, fx: int) -> float:
    """Angle (deg) of the line lower -> upper from true vertical, positive when ``upper`` is
    ahead of ``lower`` (toward the client's front)."""
    fwd = (p[upper, 0] - p[lower, 0]) * fx
    up = p[lower, 1] - p[upper, 1]  # y down: positive when upper is above
    return math.degrees(math.atan2(fwd, up))


def _length(
    px: float,
    per_px: np.ndarray,
    px_floor_sd: float,
    dy_px: float,
    ref_h: float | None,
    ctx: SideContext,
) -> tuple[float, np.ndarray, float, str, Quantity]:
    """A horizontal pixel offset -> cm (with a scale) or % of the ear-ankle height, with its
    one-sigma floor (placement noise, roll uncertainty over a height ``dy_px``, scale)."""
    roll_px = abs(dy_px) * math.radians(ctx.roll_sd_deg)
    px_sd = math.hypot(px_floor_sd, roll_px)
    if ctx.cm_per_px is not None:
        factor, unit = ctx.cm_per_px, UNIT_CM
    else:
        assert ref_h is not None
        factor, unit = 100.0 / ref_h, UNIT_PCT_EAR_ANKLE
    value = px * factor
    scale_sd = abs(value) * ctx.scale_rel_sd if unit == UNIT_CM else 0.0
    floor = math.hypot(px_sd * factor, scale_sd)
    pixels = Quantity(px, UNIT_PX, Z95 * math.hypot(ctx.pass_spread_weight * geo.robust_sd(per_px), px_sd))
    return value, per_px * factor, floor, unit, pixels


def _offset(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, ref_h: float | None, sigma: float,
    ctx: SideContext,
) -> _Geo:
    a, b = lms
    fx = ctx.view.forward_x
    px = _forward(lv, a, b, fx)
    per = np.array([_forward(p, a, b, fx) for p in lvp])
    dy = float(lv[b, 1] - lv[a, 1])
    value, per_u, floor, unit, pixels = _length(px, per, math.sqrt(2.0) * sigma, dy, ref_h, ctx)
    details: dict[str, Quantity] = {"pixels": pixels}
    # the line's angle from vertical (positive = upper point ahead), for head_forward the
    # ear-shoulder angle; NOT the craniovertebral angle (see NOT_CVA_NOTE)
    ang = _from_vertical(lv, a, b, fx)
    ang_per = np.array([_from_vertical(p, a, b, fx) for p in lvp])
    ang_sd = math.sqrt(
        (ctx.pass_spread_weight * geo.robust_sd(ang_per)) ** 2
        + geo.angle_noise_deg(sigma, geo.distance(_xy(lv, a), _xy(lv, b))) ** 2
        + ctx.roll_sd_deg**2
    )
    details["angle_from_vertical"] = Quantity(ang, UNIT_DEG, Z95 * ang_sd)
    return _Geo(value, per_u, floor, unit, details)


def _lean(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, ref_h: float | None, sigma: float,
    ctx: SideContext,
) -> _Geo:
    upper, lower = lms
    fx = ctx.view.forward_x
    value = _from_vertical(lv, upper, lower, fx)
    per = np.array([_from_vertical(p, upper, lower, fx) for p in lvp])
    length = geo.distance(_xy(lv, upper), _xy(lv, lower))
    floor = math.hypot(geo.angle_noise_deg(sigma, length), ctx.roll_sd_deg)
    return _Geo(value, per, floor, UNIT_DEG, {})


def _knee(p: np.ndarray, hip: L, knee: L, ankle: L, fx: int) -> float:
    """Signed deviation (deg) of hip-knee-ankle from straight: positive when the knee lies BEHIND
    the hip-ankle line (hyper-extended), negative when ahead of it (bent)."""
    # (forward, up) coordinates
    uf, uu = (p[knee, 0] - p[ankle, 0]) * fx, p[ankle, 1] - p[knee, 1]  # shank, ankle -> knee
    vf, vu = (p[hip, 0] - p[knee, 0]) * fx, p[knee, 1] - p[hip, 1]  # thigh, knee -> hip
    cross = uf * vu - uu * vf
    dot = uf * vf + uu * vu
    return -math.degrees(math.atan2(cross, dot))


def _joint(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, ref_h: float | None, sigma: float,
    ctx: SideContext,
) -> _Geo:
    hip, knee, ankle = lms
    fx = ctx.view.forward_x
    value = _knee(lv, hip, knee, ankle, fx)
    per = np.array([_knee(p, hip, knee, ankle, fx) for p in lvp])
    a = geo.distance(_xy(lv, hip), _xy(lv, knee))
    b = geo.distance(_xy(lv, knee), _xy(lv, ankle))
    if a <= 0 or b <= 0:
        floor = float("inf")
    else:
        # a perpendicular shift of the hip turns the thigh by s/a, of the ankle the shank by s/b,
        # of the knee both (1/a + 1/b)
        floor = math.degrees(sigma * math.sqrt(1 / a**2 + 1 / b**2 + (1 / a + 1 / b) ** 2))
    details = {"hip_knee_ankle_angle": Quantity(180.0 - abs(value), UNIT_DEG, Z95 * floor)}
    # a three-point angle does not depend on the camera roll
    return _Geo(value, per, floor, UNIT_DEG, details)


def _plumb(
    lms: tuple[L, ...], lv: np.ndarray, lvp: np.ndarray, ref_h: float | None, sigma: float,
    ctx: SideContext,
) -> _Geo:
    *upper, ankle = lms
    fx = ctx.view.forward_x
    details: dict[str, Quantity] = {}
    head: tuple[float, np.ndarray, float, str] | None = None
    for lm in upper:
        part = lm.name.split("_", 1)[1].lower()
        px = _forward(lv, lm, ankle, fx)
        per = np.array([_forward(p, lm, ankle, fx) for p in lvp])
        dy = float(lv[ankle, 1] - lv[lm, 1])
        value, per_u, floor, unit, _ = _length(px, per, math.sqrt(2.0) * sigma, dy, ref_h, ctx)
        sd = math.hypot(ctx.pass_spread_weight * geo.robust_sd(per_u), floor)
        details[part] = Quantity(value, unit, Z95 * sd)
        if head is None:
            head = (value, per_u, floor, unit)
    for part, cm in WOODHULL_1985_CM.items():
        details[f"reference_{part}_woodhull_1985"] = Quantity(cm, UNIT_CM, None)
    assert head is not None
    value, per_u, floor, unit = head
    return _Geo(value, per_u, floor, unit, details)


def _xy(p: np.ndarray, lm: L) -> geo.Point:
    return (float(p[lm, 0]), float(p[lm, 1]))


_KINDS: Final[dict[str, Callable[..., _Geo]]] = {
    "offset": _offset,
    "lean": _lean,
    "joint": _joint,
    "plumb": _plumb,
}
