"""Measured pattern -> findings, severity and red flags.

A finding is a *hypothesis for the therapist to confirm by hand*, never a diagnosis. Every
threshold lives in :class:`FindingOptions` with the source of its number.

Counting rule
-------------
A measurement takes part in a pattern only when ``|value|`` exceeds BOTH its own 95% uncertainty
(the "±" from ``posture.metrics``) and the noise band of :class:`FindingOptions`. Everything else is
"within measurement noise".

Sign table (client's anatomical sides, see ``posture.metrics``)
---------------------------------------------------------------

=================  ==========================  ==========================
measurement        value > 0                   value < 0
=================  ==========================  ==========================
shoulder_tilt      right shoulder lower        left shoulder lower
hip_tilt           right hip lower             left hip lower
                   = LEFT hip higher           = RIGHT hip higher
head_tilt          head tilted to the right    head tilted to the left
side_shortening    right side shorter          left side shorter
trunk_shift        shoulders right of hips     shoulders left of hips
pelvic_shift       pelvis right of the feet    pelvis left of the feet
=================  ==========================  ==========================

The core link (pattern ``side_bend_opposite_hip``)
---------------------------------------------------
The *short side* S is the side of the lower shoulder (``shoulder_tilt``) and/or of the shortened
trunk (``side_shortening``); when both count they must agree. The pattern fires when the hip line is
HIGHER on the side opposite S. With the signs above that is ``sign(hip_tilt) == S`` (S = +1 for the
right): a right shoulder low (``shoulder_tilt > 0``) with the LEFT hip high (``hip_tilt > 0``, the
right hip being lower) is the trunk bending to the right over a hitched left pelvis. The hip to
check (``check_side``) is the side opposite S, i.e. the high hip:

======================  ===============  ==========================  =============
short side S            shoulder_tilt    hip_tilt (hip high on ...)  check_side
======================  ===============  ==========================  =============
right                   > 0              > 0 (left hip high)         left
left                    < 0              < 0 (right hip high)        right
======================  ===============  ==========================  =============

When the hip is high on the SAME side as S, the trunk is shortened on S by a hitched hip on S; that
is reported as ``trunk_shortening`` (no opposite-hip link). A short side without a counted hip tilt
is ``trunk_shortening`` (trunk measured shorter) or ``shoulder_low`` (shoulder alone).

Other patterns: ``hip_high`` (hip line alone), ``lateral_shift`` (trunk and/or pelvis shifted over one
leg), ``head_tilt``, and ``normal`` ("posture within normal variation") when nothing counts, or
``not_assessable`` when nothing could be measured.

The exercise library is :mod:`posture.findings.exercises`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from posture.constants import UNIT_CM
from posture.formatting import format_number, format_value
from posture.metrics import Measurement
from posture.significance import WITHIN_NOISE, is_clear

if TYPE_CHECKING:
    from posture.analysis import Analysis

SCHEMA_FINDING = "posture.finding/1"

NOISE = WITHIN_NOISE
MILD = "mild"
MODERATE = "moderate"
MARKED = "marked"
SEVERITIES = (NOISE, MILD, MODERATE, MARKED)

DISCLAIMER = (
    "A screening aid for a trained therapist, not a diagnosis. Findings describe the posture in one "
    "photo and are hypotheses to confirm by hands-on assessment."
)
RED_FLAGS_TITLE = "Red flags: same-day medical referral"
RED_FLAGS: tuple[str, ...] = (
    "New difficulty passing urine, loss of bladder or bowel control, or a new change in either",
    "Numbness or altered feeling in the saddle area (between the legs, buttocks, inner thighs)",
    "Weakness or numbness in both legs",
    "Leg weakness that is getting worse (progressive), e.g. foot drop",
    "New sexual dysfunction",
)


# -- options ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoffs:
    """Bands for one measurement in one unit: |value| <= noise is noise; then mild up to
    ``moderate``, moderate up to ``marked``, marked above."""

    noise: float
    moderate: float
    marked: float

    def band(self, magnitude: float) -> str:
        if magnitude <= self.noise:
            return NOISE
        if magnitude < self.moderate:
            return MILD
        if magnitude < self.marked:
            return MODERATE
        return MARKED


@dataclass(frozen=True)
class FindingOptions:
    """Every threshold the findings use, with where its number comes from.

    Angles in degrees; lengths either in cm (client's height given) or in % of shoulder width
    (no height; a shoulder width of ~40 cm makes 1 cm ~ 2.5 %).
    """

    # Shoulder line: noise 1.0 deg = clinicians' digitising error when marking points on a photo
    # (~1 deg; SAPO reports 0.11 deg on a test object, people add far more). Moderate from 3.0 deg:
    # above the between-session MDC95 = 1.96 * sqrt(2) * SEM ~ 2.8 deg for SEM 1 deg (PMC8486407).
    # Marked from 7.5 deg: about one SD of scapular height in healthy women (SD 7.39 deg, Sci Rep 2021).
    shoulder_tilt: Cutoffs = Cutoffs(noise=1.0, moderate=3.0, marked=7.5)
    # Hip-joint line: noise 1.0 deg (digitising error, as above). A 15 mm heel lift gives >= 1.2 deg
    # of pelvic tilt (pubmed 10802434), so ~1.2 deg already deserves a leg-length check (mild).
    # Moderate from 2.8 deg (MDC95 for pelvic-tilt SEM 1 deg); marked from 5 deg (~4x the 15 mm
    # heel-lift tilt, well past the ~20 mm leg-length difference seen as clinically relevant).
    hip_tilt: Cutoffs = Cutoffs(noise=1.0, moderate=2.8, marked=5.0)
    # Head (ear line): same 1 deg digitising floor; the short ear-to-ear baseline makes the angle
    # noisier, so the bands are wider (project judgement, no published norm in our references).
    head_tilt: Cutoffs = Cutoffs(noise=1.0, moderate=4.0, marked=8.0)
    # Lateral shifts and side shortening in cm: noise 1.0 cm (landmark digitising on a body photo is
    # about a centimetre; SAPO's 1.8 mm on a rigid test object is the lower bound). Moderate from
    # 2.0 cm (the ~20 mm leg-length difference considered clinically relevant, Knutson 2005),
    # marked from 4.0 cm (twice that).
    length_cm: Cutoffs = Cutoffs(noise=1.0, moderate=2.0, marked=4.0)
    # The same in % of shoulder width (1 cm of a ~40 cm shoulder width = 2.5 %).
    length_pct: Cutoffs = Cutoffs(noise=2.5, moderate=5.0, marked=10.0)

    def cutoffs(self, m: Measurement) -> Cutoffs:
        if m.name in ("shoulder_tilt", "hip_tilt", "head_tilt"):
            c: Cutoffs = getattr(self, m.name)
            return c
        return self.length_cm if m.unit == UNIT_CM else self.length_pct


# -- findings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One measurement behind a finding, with its ± and severity band."""

    name: str
    label: str
    value: float
    unit: str
    uncertainty: float
    side: str  # the measurement's sign in words, e.g. "right shoulder lower"
    band: str

    @property
    def text(self) -> str:
        return f"{self.label}: {format_value(self.value, self.unit, self.uncertainty)} ({self.side})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "value": round(self.value, 2),
            "unit": self.unit,
            "uncertainty": round(self.uncertainty, 2),
            "side": self.side,
            "band": self.band,
            "text": self.text,
        }


@dataclass(frozen=True)
class Finding:
    """A posture pattern read from the measurements.

    ``sides`` maps roles to the client's side ("left"/"right"), e.g. ``{"short_side": "right",
    "loaded_hip": "left"}``; exercise side rules are resolved through these roles.
    ``check_side`` is the hip to examine by hand, when the pattern points at one.
    """

    key: str
    title: str
    severity: str
    text: str
    sides: Mapping[str, str] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    check_side: str | None = None
    checks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_FINDING,
            "key": self.key,
            "title": self.title,
            "severity": self.severity,
            "sides": dict(self.sides),
            "check_side": self.check_side,
            "evidence": [e.to_dict() for e in self.evidence],
            "text": self.text,
            "checks": list(self.checks),
        }


# the roles each pattern provides (exercise side rules are validated against these)
PATTERN_ROLES: dict[str, frozenset[str]] = {
    "side_bend_opposite_hip": frozenset(
        {"short_side", "long_side", "loaded_hip", "high_hip", "low_shoulder", "high_shoulder"}
    ),
    "trunk_shortening": frozenset({"short_side", "long_side"}),
    "shoulder_low": frozenset({"low_shoulder", "high_shoulder"}),
    "hip_high": frozenset({"high_hip", "low_hip"}),
    "lateral_shift": frozenset({"shift_side"}),
    "head_tilt": frozenset({"head_short_side"}),
    "normal": frozenset(),
    "not_assessable": frozenset(),
}
SIDE_RULES = frozenset().union(*PATTERN_ROLES.values()) | {"both"}


def other(side: str) -> str:
    return "left" if side == "right" else "right"


def _side(sign: int) -> str:
    return "right" if sign > 0 else "left"


def noise_band(m: Measurement, options: FindingOptions | None = None) -> float:
    """The noise band of ``m`` in its own unit (the card shows it, the findings and reports use it)."""
    return (options or FindingOptions()).cutoffs(m).noise


def counts(m: Measurement | None, options: FindingOptions | None = None) -> bool:
    """True when ``m`` is a clear asymmetry by the one rule, :func:`posture.significance.is_clear`:
    ``|value|`` exceeds both its own uncertainty and the noise band. The cards, the findings and the
    report's table (so the PDF) all ask this."""
    if m is None or not m.available:
        return False
    return is_clear(m.value, m.uncertainty, noise_band(m, options))


def _evidence(m: Measurement, options: FindingOptions) -> Evidence:
    assert m.value is not None
    return Evidence(
        m.name, m.label, float(m.value), m.unit, float(m.uncertainty or 0.0), m.side,
        options.cutoffs(m).band(abs(m.value)),
    )


def _worst(evidence: Iterable[Evidence]) -> str:
    return max((e.band for e in evidence), key=SEVERITIES.index, default=NOISE)


def _mag(m: Measurement) -> str:
    assert m.value is not None
    return format_number(abs(m.value), m.unit, signed=False)


HANDS_ON_CHECKS: tuple[str, ...] = (
    "palpate the {hip} piriformis and deep hip rotators near the sciatic notch",
    "FAIR test (flexion, adduction, internal rotation) on the {hip} side",
    "straight-leg raise on both sides, comparing {hip} with {other}",
    "check the front of the thigh as well (femoral track) to screen for a nerve-root source",
)


def derive_findings(
    measurements: Mapping[str, Measurement],
    view: Any = None,
    options: FindingOptions | None = None,
) -> tuple[Finding, ...]:
    """Read the findings from named measurements (pure; works on constructed Measurements).

    ``view`` is accepted for context only: measurements are already in the client's anatomical
    sides, so the same measurements give the same findings from a front or a back photo.
    """
    del view
    opts = options or FindingOptions()
    got: dict[str, Measurement] = {}
    for name in ("shoulder_tilt", "hip_tilt", "head_tilt", "side_shortening", "trunk_shift",
                 "pelvic_shift"):
        m = measurements.get(name)
        if m is not None and counts(m, opts):
            got[name] = m

    def sign(name: str) -> int:
        m = got.get(name)
        if m is None or m.value is None:
            return 0
        return 1 if m.value > 0 else -1

    findings: list[Finding] = []
    sh, ss, hp = sign("shoulder_tilt"), sign("side_shortening"), sign("hip_tilt")
    hip_used = False

    # the short side S: low shoulder and/or shortened trunk (conflicting signs: no single side)
    short = sh or ss
    if sh and ss and sh != ss:
        short = 0
    if short and hp == short:
        findings.append(_core(got, short, opts))
        hip_used = True
    else:
        if ss:
            findings.append(_shortening(got, ss, hp == -ss, opts))
            hip_used = hp == -ss
        if sh and sh != ss:
            findings.append(_shoulder(got, sh, hp == 0, opts))
    if hp and not hip_used:
        findings.append(_hip(got, hp, opts))
    if "trunk_shift" in got or "pelvic_shift" in got:
        findings.append(_shift(got, opts))
    if "head_tilt" in got:
        findings.append(_head(got, opts))

    if not findings:
        available = [m for m in measurements.values() if m.available and m.value is not None]
        if not available:
            findings.append(Finding(
                "not_assessable", "Posture could not be assessed", NOISE,
                "None of the posture measurements could be taken from this photo, so no pattern "
                "can be read. Retake the photo with the whole body visible, standing square to "
                "the camera.",
            ))
        else:
            findings.append(Finding(
                "normal", "Posture within normal variation", NOISE,
                "No measured asymmetry exceeds both its measurement uncertainty and the noise "
                "band. Small left-right differences are normal and are not linked to pain on "
                "their own.",
                evidence=tuple(_evidence(m, opts) for m in available),
            ))
    return tuple(findings)


def _core(got: Mapping[str, Measurement], short_sign: int, opts: FindingOptions) -> Finding:
    s = _side(short_sign)
    hip = other(s)
    parts = []
    ev = []
    if "shoulder_tilt" in got:
        parts.append(f"the {s} shoulder sits lower ({_mag(got['shoulder_tilt'])})")
        ev.append(_evidence(got["shoulder_tilt"], opts))
    if "side_shortening" in got:
        parts.append(f"the trunk is shorter on the {s} ({_mag(got['side_shortening'])})")
        ev.append(_evidence(got["side_shortening"], opts))
    ev.append(_evidence(got["hip_tilt"], opts))
    lead = " and ".join(parts)
    text = (
        f"{lead[0].upper()}{lead[1:]}, while the {hip} hip sits higher "
        f"({_mag(got['hip_tilt'])}). Together this reads as the trunk side-bending toward the {s} "
        f"over a hitched {hip} pelvis. That pattern can keep the {hip} hip's deep rotators under "
        f"load, the piriformis first, and with them the sciatic nerve where it passes beneath "
        f"them: check the {hip} hip. This is a hypothesis to confirm by hand (palpation, "
        f"the piriformis/FAIR test, a straight-leg raise), not a diagnosis. Buttock or leg "
        f"symptoms can also start in the lower back (a disc, or a narrowed foramen where the "
        f"nerve root leaves the spine); a root problem is usually felt along both the sciatic "
        f"and the femoral tracks. Whatever settles the symptoms, working on the posture pattern "
        f"helps keep them from coming back."
    )
    checks = tuple(c.format(hip=hip, other=s) for c in HANDS_ON_CHECKS)
    return Finding(
        "side_bend_opposite_hip",
        f"Side-bend pattern: check the {hip} hip",
        _worst(ev),
        text,
        sides={"short_side": s, "long_side": hip, "loaded_hip": hip, "high_hip": hip,
               "low_shoulder": s, "high_shoulder": hip},
        evidence=tuple(ev),
        check_side=hip,
        checks=checks,
    )


def _shortening(
    got: Mapping[str, Measurement], ss: int, hip_same_side: bool, opts: FindingOptions
) -> Finding:
    s = _side(ss)
    ev = [_evidence(got["side_shortening"], opts)]
    extra = ""
    if "shoulder_tilt" in got and (1 if (got["shoulder_tilt"].value or 0) > 0 else -1) == ss:
        ev.append(_evidence(got["shoulder_tilt"], opts))
        extra += f" The {s} shoulder also sits lower ({_mag(got['shoulder_tilt'])})."
    if hip_same_side:
        ev.append(_evidence(got["hip_tilt"], opts))
        extra += (f" The {s} hip sits higher ({_mag(got['hip_tilt'])}), hitched up toward the "
                  f"{s} ribs.")
    text = (
        f"The distance from shoulder to hip is shorter on the {s} "
        f"({_mag(got['side_shortening'])}).{extra} The {s} side muscles between ribs and pelvis "
        f"(quadratus lumborum, obliques, latissimus) may be held short; the {other(s)} side is on "
        f"stretch. A hypothesis to check by hand, not a diagnosis."
    )
    return Finding(
        "trunk_shortening", f"Trunk shortened on the {s} side", _worst(ev), text,
        sides={"short_side": s, "long_side": other(s)}, evidence=tuple(ev),
    )


def _shoulder(
    got: Mapping[str, Measurement], sh: int, hips_level: bool, opts: FindingOptions
) -> Finding:
    s = _side(sh)
    ev = (_evidence(got["shoulder_tilt"], opts),)
    hips = " with the hips level within measurement noise" if hips_level else ""
    text = (
        f"The {s} shoulder sits lower ({_mag(got['shoulder_tilt'])}){hips}. A shoulder "
        f"difference alone is common; check whether the {other(s)} upper trapezius and levator "
        f"scapulae are holding the {other(s)} shoulder up "
        f"or the {s} side is drawn down, and whether it changes with breathing or arm position. "
        f"A photo cannot show a spinal curvature (photo and X-ray shoulder balance agree only "
        f"weakly)."
    )
    return Finding(
        "shoulder_low", f"{s.capitalize()} shoulder lower", ev[0].band, text,
        sides={"low_shoulder": s, "high_shoulder": other(s)}, evidence=ev,
    )


def _hip(got: Mapping[str, Measurement], hp: int, opts: FindingOptions) -> Finding:
    high = _side(-hp)  # hip_tilt > 0: right hip lower -> left hip higher
    ev = (_evidence(got["hip_tilt"], opts),)
    text = (
        f"The {high} hip joint sits higher ({_mag(got['hip_tilt'])}). A tilt of about 1.2° is what "
        f"a 15 mm heel lift produces, so check leg length (and the feet and knees) before reading "
        f"it as muscular; also compare the {high} and {other(high)} hip abductors (glute medius) "
        f"for strength. This line joins the hip joints, not the iliac crests: confirm by palpating "
        f"the crests."
    )
    return Finding(
        "hip_high", f"{high.capitalize()} hip higher", ev[0].band, text,
        sides={"high_hip": high, "low_hip": other(high)}, evidence=ev,
    )


def _shift(got: Mapping[str, Measurement], opts: FindingOptions) -> Finding:
    ev: list[Evidence] = []
    sentences: list[str] = []
    signs = []
    if "trunk_shift" in got:
        m = got["trunk_shift"]
        s = _side(1 if (m.value or 0) > 0 else -1)
        ev.append(_evidence(m, opts))
        sentences.append(f"The shoulders sit {_mag(m)} to the {s} of the hips.")
        signs.append(s)
    if "pelvic_shift" in got:
        m = got["pelvic_shift"]
        s = _side(1 if (m.value or 0) > 0 else -1)
        ev.append(_evidence(m, opts))
        sentences.append(f"The pelvis sits {_mag(m)} to the {s} of the plumb line through the feet.")
        signs.append(s)
    # the leg carrying the body: the pelvic shift when measured, else the trunk shift
    side = signs[-1]
    if len(set(signs)) == 2:
        tail = (f" The two shifts go opposite ways, a zig-zag that keeps the head over the feet; "
                f"the pelvis is over the {side} leg.")
    else:
        tail = f" The body's weight is carried more over the {side} leg."
    text = (
        " ".join(sentences) + tail + f" Standing this way loads the {side} hip's abductors and "
        f"the outside of the {side} leg more; check whether the client can stand centred without "
        f"effort, and look at the feet and knees."
    )
    return Finding(
        "lateral_shift", f"Weight shifted over the {side} leg", _worst(ev), text,
        sides={"shift_side": side}, evidence=tuple(ev),
    )


def _head(got: Mapping[str, Measurement], opts: FindingOptions) -> Finding:
    m = got["head_tilt"]
    s = _side(1 if (m.value or 0) > 0 else -1)
    ev = (_evidence(m, opts),)
    text = (
        f"The head tilts toward the {s} ({_mag(m)}): the {s} side of the neck is held shorter. "
        f"Check the {s} upper trapezius, levator scapulae and scalenes, and whether the tilt "
        f"follows the shoulder line or compensates for it; eyesight and hearing habits can "
        f"also set a head tilt."
    )
    return Finding(
        "head_tilt", f"Head tilted to the {s}", ev[0].band, text,
        sides={"head_short_side": s}, evidence=ev,
    )


def findings_held(analysis: Analysis) -> str:
    """Why the findings of this analysis are held back ("" when they are not): a stance or view
    check of the photo check (``analysis.capture``) failed and the therapist has not confirmed that
    the pose is the client's own habit. An analysis without a photo check is not held."""
    return analysis.capture.hold_reason() if analysis.capture is not None else ""


def attach_findings(analysis: Analysis, options: FindingOptions | None = None) -> Analysis:
    """The analysis with its findings filled in (``dataclasses.replace``); none while the photo check
    holds them back (:func:`findings_held` says why; the red flags are shown regardless)."""
    if findings_held(analysis):
        return replace(analysis, findings=())
    return replace(
        analysis, findings=derive_findings(analysis.measurements, analysis.view, options)
    )
