"""Findings across the views of one visit: patterns no single photo can show.

Input: each view's named measurements (``{"anterior": {...}, "left": {...}}``; the view names of
:class:`posture.exam.ExamView`), in the CLIENT's anatomical sides, side-view values signed toward the
client's FRONT (``posture.sideview``). Output: :class:`CrossViewFinding` s, each a
:class:`~posture.findings.rules.Finding` (so the exercise library serves it by its ``key``) plus the
views it rests on. Every one remains a hypothesis to check by hand.

A value takes part only when it is clear by the one rule (:func:`posture.significance.is_clear`):
beyond both its own ± and the noise band (below, :class:`AcrossOptions`). Pure: works on constructed
Measurements; never imports the report, the store or the CLI.

The rules:
  * ``sway_back``: in a side view the trunk leans back (shoulder behind the hip) over hips pushed
    ahead of the ankle beyond the published average (Woodhull 1985); a forward head joins it when
    present. Stated per side view; both side views agreeing is said.
  * ``forward_head``: the ear ahead of the shoulder beyond the published average (side views).
  * ``knee_hyperextension``: a knee behind the hip-ankle line by more than the recurvatum cut-off;
    ``knee_hyperextension_hitched_hip`` when that knee is on the side of the high hip of a front or
    back view.
  * ``side_bend_across_views``: a frontal side bend (``side_bend_opposite_hip`` /
    ``trunk_shortening`` / ``shoulder_low`` of :func:`~posture.findings.rules.derive_findings`) checked
    against the other frontal view (same short side or not) and the side views (a trunk leaning
    forward or back; a trunk turned when the two side views' trunk leans differ clearly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from posture.constants import UNIT_CM, UNIT_DEG
from posture.findings.rules import (
    MARKED,
    MILD,
    MODERATE,
    NOISE,
    Cutoffs,
    Evidence,
    Finding,
    FindingOptions,
    derive_findings,
    other,
)
from posture.formatting import format_value
from posture.metrics import Measurement
from posture.significance import is_clear

SCHEMA_ACROSS: Final = "posture.finding_across/1"

FRONTAL_VIEWS: Final = ("anterior", "posterior")
SIDE_VIEWS: Final = ("left", "right")

#: the roles each cross-view pattern provides (registered in PATTERN_ROLES by ``posture.findings``
#: so that the exercise library can key entries to them)
ACROSS_PATTERN_ROLES: Final[Mapping[str, frozenset[str]]] = {
    "forward_head": frozenset(),
    "sway_back": frozenset(),
    "knee_hyperextension": frozenset({"hyperextended_knee"}),
    "knee_hyperextension_hitched_hip": frozenset({"hyperextended_knee", "high_hip"}),
    "side_bend_across_views": frozenset({"short_side", "long_side"}),
}

#: Woodhull, Maltrud & Mello 1985 (Eur J Appl Physiol 54:109-115): average offsets ahead of the
#: ankle in relaxed standing (cm); the same table as ``posture.sideview.WOODHULL_1985_CM``.
WOODHULL_EAR_CM: Final = 5.9
WOODHULL_SHOULDER_CM: Final = 3.8
WOODHULL_HIP_CM: Final = 6.2

HYPOTHESIS: Final = "A hypothesis from the photos to check by hand, not a diagnosis."

VIEW_WORDS: Final[Mapping[str, str]] = {
    "anterior": "front view",
    "posterior": "back view",
    "left": "left side view",
    "right": "right side view",
}


# the bands of AcrossOptions (their sources are written there)
_TRUNK_LEAN: Final = Cutoffs(noise=1.0, moderate=3.0, marked=6.0)
_LENGTH_CM: Final = Cutoffs(noise=1.0, moderate=2.0, marked=4.0)
_LENGTH_PCT: Final = Cutoffs(noise=0.7, moderate=1.4, marked=2.8)
_KNEE_RECURVATUM: Final = Cutoffs(noise=5.0, moderate=7.5, marked=10.0)


@dataclass(frozen=True)
class AcrossOptions:
    """Every threshold of the cross-view rules, with where its number comes from."""

    # the trunk's lean from vertical (deg): noise 1.0 deg = the digitising error of marking points on
    # a photo (as the front view's lines, FindingOptions); moderate from 3 deg, marked from 6 deg
    # (project judgement, no published norm in our references)
    trunk_lean: Cutoffs = _TRUNK_LEAN
    # offsets in cm: the front view's lengths (digitising ~1 cm; FindingOptions.length_cm), counted
    # BEYOND the published average offset (Woodhull 1985) of the point ahead of its reference
    length_cm: Cutoffs = _LENGTH_CM
    # offsets in % of the ear-ankle height (no stature given): 1 cm of an adult's ~145 cm ear-to-ankle
    # height is ~0.7 %; without the stature the published averages (in cm) cannot be subtracted, so
    # the offset is read from 0 (stated in the finding)
    length_pct: Cutoffs = _LENGTH_PCT
    # knee hyper-extension (deg behind the hip-ankle line): genu recurvatum is commonly called from
    # more than 5 deg of hyper-extension; marked from 10 deg
    knee_recurvatum: Cutoffs = _KNEE_RECURVATUM
    # the frontal findings' own options (the side bend is read by derive_findings)
    frontal: FindingOptions = field(default_factory=FindingOptions)

    def offset_reference_cm(self, name: str) -> float:
        """The published average of a side-view offset (cm), read as 'no offset'."""
        if name == "head_forward":
            return WOODHULL_EAR_CM - WOODHULL_SHOULDER_CM
        if name == "hip_forward":
            return WOODHULL_HIP_CM
        return 0.0


@dataclass(frozen=True)
class CrossViewFinding:
    """A finding that rests on one or more views of a visit (``views``, in the order given)."""

    finding: Finding
    views: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.finding.key

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.finding.to_dict(),
            "schema": SCHEMA_ACROSS,
            "views": list(self.views),
            "views_text": views_text(self.views),
            "hypothesis": HYPOTHESIS,
            "notes": list(self.notes),
        }


def views_text(views: Sequence[str]) -> str:
    words = [VIEW_WORDS.get(v, v) for v in views]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# -- reading one side-view value ---------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    view: str
    m: Measurement
    excess: float  # the value beyond its reference (signed, the measurement's unit)
    band: str  # severity of the excess


def side_cutoffs(m: Measurement, opts: AcrossOptions) -> Cutoffs:
    """The bands of a side-view measurement."""
    if m.name == "knee_extension":
        return opts.knee_recurvatum
    if m.unit == UNIT_DEG:
        return opts.trunk_lean
    return opts.length_cm if m.unit == UNIT_CM else opts.length_pct


def side_excess(m: Measurement, opts: AcrossOptions) -> float:
    """A side-view value beyond its reference: the published average for a cm offset, else 0."""
    assert m.value is not None
    ref = opts.offset_reference_cm(m.name) if m.unit == UNIT_CM else 0.0
    return float(m.value) - ref


def _read(view: str, m: Measurement | None, opts: AcrossOptions) -> _Read | None:
    """The value beyond its reference when it is clear by the one rule, else None."""
    if m is None or not m.available or m.value is None or not math.isfinite(m.value):
        return None
    excess = side_excess(m, opts)
    c = side_cutoffs(m, opts)
    if not is_clear(excess, m.uncertainty, c.noise):
        return None
    return _Read(view, m, excess, c.band(abs(excess)))


def side_clear(m: Measurement | None, options: AcrossOptions | None = None) -> bool:
    """True when a side-view value is clear by the one rule: beyond both its ± and the noise band,
    counted from the published average (cm offsets; :meth:`AcrossOptions.offset_reference_cm`)."""
    return _read("", m, options or AcrossOptions()) is not None


def _evidence(r: _Read) -> Evidence:
    m = r.m
    assert m.value is not None
    return Evidence(
        m.name, f"{VIEW_WORDS.get(r.view, r.view).capitalize()}: {m.label}", float(m.value), m.unit,
        float(m.uncertainty or 0.0), m.side, r.band,
    )


def _worst(bands: Sequence[str]) -> str:
    order = (NOISE, MILD, MODERATE, MARKED)
    return max(bands, key=order.index, default=NOISE)


def _val(r: _Read) -> str:
    return format_value(r.m.value, r.m.unit, r.m.uncertainty)


# -- the rules ---------------------------------------------------------------------------------


def derive_across(
    by_view: Mapping[str, Mapping[str, Measurement]],
    side_used: Mapping[str, Mapping[str, str]] | None = None,
    options: AcrossOptions | None = None,
) -> tuple[CrossViewFinding, ...]:
    """The findings across views of one visit (pure).

    ``by_view`` maps a view name ('anterior', 'posterior', 'left', 'right') to that photo's named
    measurements. ``side_used`` maps a side view to the client's side each measurement was taken
    from ('left'/'right'; a far-side fallback); missing = the side toward the camera (the view's
    name)."""
    opts = options or AcrossOptions()
    used = side_used or {}
    out: list[CrossViewFinding] = []
    sides = [v for v in SIDE_VIEWS if v in by_view]
    frontal = [v for v in FRONTAL_VIEWS if v in by_view]

    # side-view reads
    head = {v: _read(v, by_view[v].get("head_forward"), opts) for v in sides}
    lean = {v: _read(v, by_view[v].get("trunk_lean"), opts) for v in sides}
    hipf = {v: _read(v, by_view[v].get("hip_forward"), opts) for v in sides}
    knee = {v: _read(v, by_view[v].get("knee_extension"), opts) for v in sides}

    sway_views = [
        v for v in sides
        if (lr := lean[v]) is not None and lr.excess < 0 and (hr := hipf[v]) is not None and hr.excess > 0
    ]
    if sway_views:
        out.append(_sway(sway_views, sides, head, lean, hipf, opts))
    head_views = [v for v in sides if (r := head[v]) is not None and r.excess > 0]
    if head_views and not sway_views:
        out.append(_forward_head(head_views, sides, head, opts))

    # the high hip of the frontal views (hip_tilt > 0: the client's right side lower -> left high)
    high_hip: dict[str, str] = {}
    for v in frontal:
        m = by_view[v].get("hip_tilt")
        if m is not None and m.available and m.value is not None and is_clear(
            m.value, m.uncertainty, opts.frontal.hip_tilt.noise
        ):
            high_hip[v] = "left" if m.value > 0 else "right"
    for v in sides:
        r = knee[v]
        if r is None or r.excess <= 0:
            continue
        out.append(_knee(v, r, used.get(v, {}).get("knee_extension") or v, high_hip, by_view, opts))

    if frontal:
        f = _side_bend(frontal, sides, by_view, lean, opts)
        if f is not None:
            out.append(f)
    return tuple(out)


def _both_say(views: Sequence[str], present: Sequence[str]) -> tuple[str, ...]:
    notes = []
    if len(present) == 2 and len(views) == 1:
        notes.append(f"Not seen in the {VIEW_WORDS[other_side(views[0])]}: check whether the client "
                     "stood differently or one photo is turned.")
    elif len(views) == 2:
        notes.append("Seen in both side views.")
    return tuple(notes)


def other_side(view: str) -> str:
    return "right" if view == "left" else "left"


def _pct_note(reads: Sequence[_Read]) -> tuple[str, ...]:
    if any(r.m.unit != UNIT_CM and r.m.name in ("head_forward", "hip_forward") for r in reads):
        return ("Without the client's height the offsets are in % of the ear-ankle height and are "
                "read from 0, not from the published averages (Woodhull 1985); enter the height.",)
    return ()


def _sway(
    views: Sequence[str], present: Sequence[str], head: Mapping[str, _Read | None],
    lean: Mapping[str, _Read | None], hipf: Mapping[str, _Read | None], opts: AcrossOptions,
) -> CrossViewFinding:
    reads: list[_Read] = []
    for v in views:
        for d in (head, lean, hipf):
            r = d[v]
            if r is not None and (d is not head or r.excess > 0):
                reads.append(r)
    with_head = any(r.m.name == "head_forward" for r in reads)
    v0 = views[0]
    lr, hr = lean[v0], hipf[v0]
    assert lr is not None and hr is not None
    text = (
        f"In the {views_text(views)} the trunk leans back ({_val(lr)}) over hips pushed ahead of the "
        f"ankle ({_val(hr)})" + (", with the head carried forward" if with_head else "") + ": a "
        "sway-back pattern. The body then hangs on the front of the hips, which changes how the "
        "pelvis and the hip rotators are loaded; check the hip flexors' length "
        "(Thomas test), the glutes' strength and the lumbar curve by hand. " + HYPOTHESIS
    )
    title = "Sway-back pattern" + (" with forward head" if with_head else "")
    f = Finding("sway_back", title, _worst([r.band for r in reads]), text,
                evidence=tuple(_evidence(r) for r in reads),
                checks=("Thomas test for hip-flexor length", "glute strength, both sides",
                        "lumbar curve and pelvic tilt by palpation"))
    return CrossViewFinding(f, tuple(views), _both_say(views, present) + _pct_note(reads))


def _forward_head(
    views: Sequence[str], present: Sequence[str], head: Mapping[str, _Read | None], opts: AcrossOptions,
) -> CrossViewFinding:
    reads = [r for v in views if (r := head[v]) is not None]
    text = (
        f"In the {views_text(views)} the ear is ahead of the shoulder by more than the published "
        f"average ({_val(reads[0])}): a forward head. This is the ear-shoulder offset, not the "
        "clinical craniovertebral angle (the pose model has no C7 point). Check the neck's deep "
        "flexors, the suboccipitals and the chest muscles by hand. " + HYPOTHESIS
    )
    f = Finding("forward_head", "Forward head", _worst([r.band for r in reads]), text,
                evidence=tuple(_evidence(r) for r in reads),
                checks=("deep neck flexor endurance (chin-tuck hold)", "pectoral length"))
    return CrossViewFinding(f, tuple(views), _both_say(views, present) + _pct_note(reads))


def _knee(
    view: str, r: _Read, side: str, high_hip: Mapping[str, str],
    by_view: Mapping[str, Mapping[str, Measurement]], opts: AcrossOptions,
) -> CrossViewFinding:
    hitched = [v for v, s in high_hip.items() if s == side]
    ev = [_evidence(r)]
    if hitched:
        for v in hitched:
            m = by_view[v]["hip_tilt"]
            ev.append(Evidence(m.name, f"{VIEW_WORDS[v].capitalize()}: {m.label}", float(m.value or 0.0),
                               m.unit, float(m.uncertainty or 0.0), m.side,
                               opts.frontal.hip_tilt.band(abs(float(m.value or 0.0)))))
        text = (
            f"The client's {side} knee is hyper-extended ({_val(r)}, {VIEW_WORDS[view]}) on the side of "
            f"the high hip ({views_text(hitched)}): standing locked back on the {side} leg while that hip "
            "is hitched can load the hip's rotators and the sciatic track on that side. Check the knee's "
            f"range and the {side} hip rotators by hand. " + HYPOTHESIS
        )
        title = f"Hyper-extended {side} knee on the side of the high hip"
        f = Finding("knee_hyperextension_hitched_hip", title,
                    _worst([e.band for e in ev]), text,
                    sides={"hyperextended_knee": side, "high_hip": side}, evidence=tuple(ev),
                    check_side=side)
        return CrossViewFinding(f, (view, *hitched))
    text = (
        f"The client's {side} knee is hyper-extended ({_val(r)}, {VIEW_WORDS[view]}). Check the knee's "
        "range, the hamstrings and calf by hand, and whether the client locks the knee back "
        "habitually. " + HYPOTHESIS
    )
    f = Finding("knee_hyperextension", f"Hyper-extended {side} knee", r.band, text,
                sides={"hyperextended_knee": side}, evidence=tuple(ev))
    notes = () if side == view else (f"Measured on the far side ({side}) of the {VIEW_WORDS[view]}.",)
    return CrossViewFinding(f, (view,), notes)


_SIDE_BEND_KEYS: Final = ("side_bend_opposite_hip", "trunk_shortening", "shoulder_low")


def _short_side(fs: Sequence[Finding]) -> tuple[str, Finding] | None:
    for key in _SIDE_BEND_KEYS:
        for f in fs:
            if f.key == key:
                s = f.sides.get("short_side") or f.sides.get("low_shoulder")
                if s:
                    return s, f
    return None


def _side_bend(
    frontal: Sequence[str], sides: Sequence[str], by_view: Mapping[str, Mapping[str, Measurement]],
    lean: Mapping[str, _Read | None], opts: AcrossOptions,
) -> CrossViewFinding | None:
    bends = {v: _short_side(derive_findings(by_view[v], None, opts.frontal)) for v in frontal}
    seen = {v: b for v, b in bends.items() if b is not None}
    if not seen:
        return None
    v0, (short, f0) = next(iter(seen.items()))
    views = [v0]
    notes: list[str] = []
    ev = list(f0.evidence)
    for v in frontal:
        if v == v0:
            continue
        b = bends[v]
        if b is None:
            notes.append(f"Not clear in the {VIEW_WORDS[v]}: the side bend rests on the "
                         f"{VIEW_WORDS[v0]} alone.")
        elif b[0] == short:
            notes.append(f"Confirmed by the {VIEW_WORDS[v]} (the same short side).")
            views.append(v)
            ev += list(b[1].evidence)
        else:
            notes.append(f"Contradicted by the {VIEW_WORDS[v]} (short side {b[0]}): retake both photos.")
            views.append(v)
    leans = [r for v in sides if (r := lean[v]) is not None]
    if sides:
        views += list(sides)
        if leans:
            for r in leans:
                word = "forward" if r.excess > 0 else "back"
                notes.append(f"The {VIEW_WORDS[r.view]} shows the trunk leaning {word} ({_val(r)}): part of "
                             "the frontal tilt may come from a leaning or turned trunk.")
                ev.append(_evidence(r))
        else:
            notes.append(f"The {views_text(sides)} show the trunk upright: the side bend is not a "
                         "forward or backward lean.")
        rot = _rotation(by_view, opts)
        if rot:
            notes.append(rot)
    confirmed = any(n.startswith("Confirmed") for n in notes)
    text = (
        f"A side bend toward the client's {short} (short side {short}, long side {other(short)}) in the "
        f"{VIEW_WORDS[v0]}" + (", confirmed by the other frontal view" if confirmed else "") + ". "
        + " ".join(notes) + " " + HYPOTHESIS
    )
    title = f"Side bend to the {short} across views" + (" (confirmed)" if confirmed else "")
    f = Finding("side_bend_across_views", title, f0.severity, text,
                sides={"short_side": short, "long_side": other(short)}, evidence=tuple(ev),
                check_side=f0.check_side)
    return CrossViewFinding(f, tuple(dict.fromkeys(views)), tuple(notes))


def _rotation(by_view: Mapping[str, Mapping[str, Measurement]], opts: AcrossOptions) -> str:
    """A trunk turned about the vertical: the two side views' trunk leans differ clearly (each side
    view measures the shoulder-hip line of the side toward the camera)."""
    ml, mr = by_view.get("left", {}).get("trunk_lean"), by_view.get("right", {}).get("trunk_lean")
    if ml is None or mr is None or ml.value is None or mr.value is None:
        return ""
    if not (ml.available and mr.available):
        return ""
    diff = float(mr.value) - float(ml.value)
    unc = math.hypot(float(ml.uncertainty or 0.0), float(mr.uncertainty or 0.0))
    if not is_clear(diff, unc, opts.trunk_lean.noise * math.sqrt(2.0)):
        return ""
    ahead = "right" if diff > 0 else "left"
    return (f"The {ahead} shoulder is further ahead of its hip than the {other(ahead)} "
            f"({format_value(abs(diff), UNIT_DEG, unc)} between the side views): the trunk may be turned "
            "as well as bent.")
