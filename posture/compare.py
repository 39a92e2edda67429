"""Two assessments of the same client -> what changed, and whether the change is real or noise.

``compare(before, after)`` pairs the measurements by name. For each:

* ``delta = after - before`` (signed, same convention as the measurement: positive tilt = client's
  right side lower, so a negative delta means "less right-side-low" / "more left-side-low");
* ``uncertainty`` = sqrt(u_before² + u_after²): both ± are 95% half-widths of independent
  measurements, so the 95% half-width of their difference adds in quadrature;
* ``real_change`` only when |delta| exceeds BOTH that combined uncertainty AND a clinical noise band
  (:class:`CompareOptions`). The band covers what a single photo's ± cannot see: the client standing
  a little differently on another day. Our own ± covers the photo and the model.

A measurement is compared only when it is available in both and in the same unit (a shift in cm on
one day and in % of shoulder width on another is reported as not comparable, with the reason).

``align_pair`` / ``overlay`` put the two photos side by side on the same body scale with the feet on
one line; ``trend`` gives each measurement's series over several assessments.

One job: before vs after. Its place in the layers: above ``posture.metrics`` (it reads Analysis and
Measurement objects, duck-typed) and below the report, store, CLI and app that show it; it imports
only ``posture.errors``, ``posture.constants`` and ``posture.pose`` (the landmark names), plus numpy
and OpenCV; never findings, report, store, cli or ui.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import cv2
import numpy as np

from posture.constants import LEVEL_CUTOFF, UNIT_CM, UNIT_DEG, UNIT_PCT_EAR_ANKLE
from posture.errors import PostureError
from posture.significance import is_clear

SCHEMA = "posture.comparison/1"


@dataclass(frozen=True)
class CompareOptions:
    """Noise bands: the smallest between-session change that counts as real, per unit.

    Sources: the inclinometer reliability studies summarised in PMC8486407 (pelvic tilt SEM
    0.9-2.3 deg); Knutson GA (2005), "Anatomic and functional leg-length inequality: a review and
    recommendation for clinical decision-making. Part I", Chiropractic & Osteopathy 13:11;
    Ferreira EA et al. (2010), "Postural assessment software (PAS/SAPO): validation and reliability",
    Clinics 65(7) (PMC2910855); Kinetisense's published report conventions."""

    # Angles (deg). MDC95 = Z95 (1.96) * sqrt(2) * SEM. Inclinometer tilt measurements have an SEM of
    # 0.9-2.3 deg (PMC8486407); at the best-case SEM of 0.9 deg the MDC95 is 2.5 deg. We use that
    # best case, not the ~2.8 deg of SEM 1 deg, because this band only has to cover the client's
    # re-standing between sessions: the photo/model part of the error is already in our own ±,
    # which the change must ALSO exceed. (A 3 deg change is then called real when our ± allows it.)
    angle_band_deg: float = 2.5
    # Lengths in cm (shifts, side shortening). 1 cm: Kinetisense treats a 1 cm difference as
    # meaningful (its foot-depth flag), it is half the ~20 mm leg-length difference considered
    # clinically relevant (Knutson 2005), and well above SAPO's 1.8 mm digitising error.
    length_band_cm: float = 1.0
    # Lengths in % of shoulder width (no height given): 2.5% = 1 cm on a typical adult shoulder
    # width of ~40 cm, i.e. the same 1 cm band expressed in this unit.
    length_band_pct: float = 2.5
    # Side-view offsets in % of the ear-to-ankle height (no height given): the same 1 cm band on an
    # adult's ~145 cm ear-to-ankle height is ~0.7 % (as posture.findings.across.AcrossOptions).
    length_band_pct_ear_ankle: float = 0.7
    # Changes smaller than this (in the measurement's unit) are described as "no change": the
    # resolution of the one-decimal display, the same cut-off that reads a value as "level".
    negligible: float = LEVEL_CUTOFF

    def band(self, unit: str) -> float:
        if unit == UNIT_DEG:
            return self.angle_band_deg
        if unit == UNIT_CM:
            return self.length_band_cm
        if unit == UNIT_PCT_EAR_ANKLE:
            return self.length_band_pct_ear_ankle
        if unit.startswith("%"):
            return self.length_band_pct
        return 0.0


@dataclass(frozen=True)
class Change:
    """One measurement before vs after."""

    name: str
    label: str
    unit: str
    before: float | None
    after: float | None
    delta: float | None
    uncertainty: float | None  # 95% half-width of delta
    band: float | None
    real_change: bool
    comparable: bool
    summary: str
    before_side: str = ""
    after_side: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "before": _r(self.before),
            "after": _r(self.after),
            "delta": _r(self.delta),
            "uncertainty": _r(self.uncertainty),
            "noise_band": _r(self.band),
            "real_change": self.real_change,
            "comparable": self.comparable,
            "before_side": self.before_side,
            "after_side": self.after_side,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Comparison:
    before: Any = field(repr=False)  # posture.analysis.Analysis
    after: Any = field(repr=False)
    changes: Mapping[str, Change]
    warnings: tuple[str, ...] = ()
    options: CompareOptions = CompareOptions()

    @property
    def real_changes(self) -> list[Change]:
        return [c for c in self.changes.values() if c.real_change]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "changes": {k: c.to_dict() for k, c in self.changes.items()},
            "warnings": list(self.warnings),
        }

    def summary_lines(self) -> list[str]:
        return [c.summary for c in self.changes.values()] + [f"warning: {w}" for w in self.warnings]


def compare(before: Any, after: Any, options: CompareOptions | None = None) -> Comparison:
    """Compare two :class:`~posture.analysis.Analysis` results of the same client."""
    opts = options or CompareOptions()
    warnings: list[str] = []
    if before.view != after.view:
        warnings.append(
            f"The photos are different views ({before.view.value} vs {after.view.value}): "
            "the sides are still the client's, but posture can look different from front and back."
        )
    units_differ = False
    changes: dict[str, Change] = {}
    names = list(before.measurements) + [n for n in after.measurements if n not in before.measurements]
    for name in names:
        mb = before.measurements.get(name)
        ma = after.measurements.get(name)
        ch = _change(name, mb, ma, opts)
        if not ch.comparable and mb is not None and ma is not None and mb.available and ma.available:
            units_differ = True
        changes[name] = ch
    if units_differ:
        warnings.append(
            "Some lengths are in cm in one assessment and in % of shoulder width in the other; they "
            f"were not compared: {_why_no_cm(before, after)}."
        )
    return Comparison(before, after, changes, tuple(warnings), opts)


# The analysis's warning when a height was given but the feet were hidden (posture.analysis._scale).
FEET_HIDDEN_WARNING = "feet are not clearly visible"


def _why_no_cm(before: Any, after: Any) -> str:
    """What really kept a photo's lengths out of centimetres: no height entered, or a height whose
    photo hid the feet (the scale needs the heels)."""
    reasons = []
    for which, an in (("before", before), ("after", after)):
        if getattr(an, "scale", None):
            continue
        if any(FEET_HIDDEN_WARNING in str(w) for w in getattr(an, "warnings", ())):
            reasons.append(f"in the {which} photo the feet are hidden, so the height entered could "
                           "not give centimetres (retake it with the feet in the frame)")
        else:
            reasons.append(f"no height was entered for the {which} photo (enter the client's height)")
    return "; ".join(reasons) or "the two photos were measured in different units"


def _change(name: str, mb: Any, ma: Any, opts: CompareOptions) -> Change:
    ref = mb if mb is not None else ma
    label = str(ref.label)
    if mb is None or ma is None or not mb.available or not ma.available:
        which = "before" if (mb is None or not mb.available) else "after"
        why = (mb if which == "before" else ma)
        reason = getattr(why, "reason", None) or "not measured"
        return Change(name, label, str(ref.unit), _val(mb), _val(ma), None, None, None, False, False,
                      f"{label}: not compared — unavailable in the {which} photo ({reason}).")
    if mb.unit != ma.unit:
        return Change(name, label, str(ma.unit), mb.value, ma.value, None, None, None, False, False,
                      f"{label}: not compared — measured in {mb.unit} before and in {ma.unit} after.",
                      mb.side, ma.side)
    b, a = float(mb.value), float(ma.value)
    delta = a - b
    unc = math.hypot(float(mb.uncertainty or 0.0), float(ma.uncertainty or 0.0))
    band = opts.band(str(mb.unit))
    real = is_clear(delta, unc, band)  # the one rule for "real" (posture.significance)
    what = _describe(mb, ma, opts)
    u = _unit(str(mb.unit))
    if real:
        verdict = (
            f"a real change (more than ±{unc:.1f}{u} measurement uncertainty and the {band:g}{u} "
            "noise band)"
        )
    elif abs(delta) > unc:
        verdict = f"beyond the photos' ±{unc:.1f}{u} but within the {band:g}{u} day-to-day noise band"
    else:
        verdict = f"within measurement noise (±{unc:.1f}{u})"
    summary = f"{label}: {what} — {verdict}."
    return Change(name, label, str(mb.unit), b, a, delta, unc, band, real, True, summary, mb.side, ma.side)


def _describe(mb: Any, ma: Any, opts: CompareOptions) -> str:
    """Plain words for before -> after, e.g. 'right shoulder lower reduced by 2.1°'."""
    b, a = float(mb.value), float(ma.value)
    u = _unit(str(mb.unit))
    eps = opts.negligible
    sb = 0 if abs(b) < eps else (1 if b > 0 else -1)
    sa = 0 if abs(a) < eps else (1 if a > 0 else -1)
    if sb == 0 and sa == 0:
        return f"{ma.side} before and after"
    if sb == 0:
        return f"{ma.side} by {abs(a):.1f}{u} (level before)"
    if sa == 0:
        return f"{mb.side} by {abs(b):.1f}{u} before, now {ma.side}"
    if sb != sa:
        return f"reversed: {mb.side} by {abs(b):.1f}{u} before, {ma.side} by {abs(a):.1f}{u} now"
    diff = abs(a) - abs(b)
    if abs(diff) < eps:
        return f"{mb.side} by {abs(b):.1f}{u}, unchanged"
    word = "reduced" if diff < 0 else "increased"
    return f"{mb.side} {word} by {abs(diff):.1f}{u} ({abs(b):.1f} → {abs(a):.1f}{u})"


def _unit(unit: str) -> str:
    return "°" if unit == UNIT_DEG else f" {unit}"


def _val(m: Any) -> float | None:
    return None if m is None or not m.available else m.value


def _r(x: float | None, nd: int = 2) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


# -- trend ----------------------------------------------------------------------------------------


class TrendPoint(NamedTuple):
    x: Any  # the date (or label) given with the analysis, else its index
    value: float
    uncertainty: float | None


def trend(analyses: Sequence[Any]) -> dict[str, list[TrendPoint]]:
    """Each measurement's series over assessments (oldest first).

    ``analyses`` holds Analysis objects (x = index 0, 1, ...) or (x, Analysis) pairs, e.g.
    (date taken, analysis). Unavailable values are left out. A series keeps one unit: that of the
    newest assessment (points in another unit, e.g. % of shoulder width before the height was
    entered, are left out)."""
    items: list[tuple[Any, Any]] = []
    for i, item in enumerate(analyses):
        if isinstance(item, tuple) and len(item) == 2:
            items.append((item[0], item[1]))
        else:
            items.append((i, item))
    units: dict[str, str] = {}
    for _x, an in items:
        for name, m in an.measurements.items():
            if m.available:
                units[name] = m.unit  # the newest wins
    out: dict[str, list[TrendPoint]] = {name: [] for name in units}
    for x, an in items:
        for name, m in an.measurements.items():
            if m.available and m.value is not None and m.unit == units.get(name):
                out[name].append(TrendPoint(x, float(m.value), m.uncertainty))
    return out


# -- aligned photos -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignOptions:
    # Output size of each aligned photo (px); 3:4 portrait frames a standing person.
    height: int = 1024
    width: int = 768
    # Where the feet (ankle midpoint) go, as a fraction of the height from the top.
    feet_line: float = 0.92
    # Height of the body span used for scale (shoulders to ankles), as a fraction of the frame.
    body_fraction: float = 0.68
    # Torso (shoulders to hips) span when the ankles are not visible in both photos; a torso is
    # ~0.36 of shoulder-to-ankle height (adult proportions), keeping the scale comparable.
    torso_fraction: float = 0.245
    # Ankles must be at least this visible (model visibility) to anchor on the feet.
    min_visibility: float = 0.5
    fill: tuple[int, int, int] = (255, 255, 255)


def _mid(an: Any, a: str, b: str) -> np.ndarray:
    pa = np.asarray(an.point_xy(a), dtype=np.float64)
    pb = np.asarray(an.point_xy(b), dtype=np.float64)
    return np.asarray((pa + pb) / 2.0)


def _feet_visible(an: Any, opts: AlignOptions) -> bool:
    from posture.pose import Landmark

    h = float(an.image.get("height") or 0)
    for lm in (Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE):
        _x, y, vis = (float(v) for v in an.landmarks[lm, :3])
        if vis < opts.min_visibility or (h and y > h):
            return False
    return True


def align_pair(
    photo_a: Any, analysis_a: Any, photo_b: Any, analysis_b: Any, options: AlignOptions | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two RGB arrays of the same size with the two bodies at the same scale: shoulder-to-ankle height
    (or torso length when a photo has no visible ankles) equal, ankle midpoints on one line (hip
    midpoints when anchoring on the torso), bodies centred horizontally."""
    opts = options or AlignOptions()
    feet = _feet_visible(analysis_a, opts) and _feet_visible(analysis_b, opts)
    out = []
    for photo, an in ((photo_a, analysis_a), (photo_b, analysis_b)):
        s_work = float(photo.scale)  # full-size px -> working px
        shoulders = _mid(an, "left_shoulder", "right_shoulder")
        if feet:
            anchor = _mid(an, "left_ankle", "right_ankle")
            span = abs(anchor[1] - shoulders[1])
            target = opts.body_fraction * opts.height
            anchor_y = opts.feet_line * opts.height
        else:
            anchor = _mid(an, "left_hip", "right_hip")
            span = float(np.hypot(*(anchor - shoulders)))
            target = opts.torso_fraction * opts.height
            anchor_y = (opts.feet_line - opts.body_fraction + opts.torso_fraction) * opts.height
        if span < 1.0:
            raise PostureError("The body is too small in one photo to align the pair.",
                               "Use photos where the client fills most of the frame.")
        k = target / span  # output px per full-size px
        m = np.array([
            [k / s_work, 0.0, opts.width / 2.0 - k * float(anchor[0])],
            [0.0, k / s_work, anchor_y - k * float(anchor[1])],
        ])
        out.append(cv2.warpAffine(
            np.ascontiguousarray(photo.rgb), m, (opts.width, opts.height), flags=cv2.INTER_AREA
            if k / s_work < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=opts.fill,
        ))
    return out[0], out[1]


def side_by_side(rgb_a: np.ndarray, rgb_b: np.ndarray, gap: int = 8) -> np.ndarray:
    """Two aligned images next to each other with a white gap (before left, after right)."""
    h = max(rgb_a.shape[0], rgb_b.shape[0])
    spacer = np.full((h, gap, 3), 255, dtype=np.uint8)
    return np.asarray(np.hstack([rgb_a, spacer, rgb_b]), dtype=np.uint8)


def overlay(
    photo_a: Any,
    analysis_a: Any,
    photo_b: Any,
    analysis_b: Any,
    alpha: float = 0.5,
    options: AlignOptions | None = None,
) -> np.ndarray:
    """The two aligned photos blended (``alpha`` = weight of the AFTER photo)."""
    if not 0.0 <= alpha <= 1.0:
        raise PostureError(f"alpha must be between 0 and 1, not {alpha}.", "Use e.g. 0.5.")
    a, b = align_pair(photo_a, analysis_a, photo_b, analysis_b, options)
    return np.asarray(cv2.addWeighted(a, 1.0 - alpha, b, alpha, 0.0), dtype=np.uint8)
