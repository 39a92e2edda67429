"""One entry point for a whole analysis: :func:`analyze` (used by the CLI, the app and the tests).

One job: the orchestration. ``analyze`` runs the pipeline and returns an :class:`Analysis` (whose
``to_dict()`` is the CLI's JSON); :class:`AnalysisOptions` holds every tunable number of it;
:func:`correct_landmarks` re-measures after points were moved by hand. The steps themselves live one
layer down, and this module imports only them (never findings, report, store, cli or ui):

decode (``imaging``) -> find the client (``pose``: one model pass on the working copy) -> camera roll
(``level``) -> refine the landmarks on a canonical crop of the client, turned level, with test-time
augmentation (``refine``: mirror, crop margin, small rotations; each plain pass averaged with a
mirrored twin, the consensus a per-coordinate trimmed mean over the pairs) -> the client's anatomical
sides from the declared view (``sides``) and a check of that view against a face detector
(``face``) -> cm per pixel from stature (``scale``) -> measurements with ± (``metrics``).

Every coordinate in the result is in pixels of the full-size oriented photo, x right, y DOWN; sides
are the CLIENT's anatomical sides.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from posture.capture import (
    Capture,
    CaptureOptions,
    arms_relaxed,
    camera_level,
    check_capture,
    view_matches,
    whole_body,
)
from posture.errors import InvalidOptionError, MultiplePeopleError, NoPersonError, NotUprightError
from posture.face import find_faces, head_box
from posture.geometry import box_area, box_iou, level_points, tilt_deg
from posture.imaging import Photo
from posture.level import NO_REFERENCE_REASON, estimate_roll
from posture.metrics import MeasureContext, Measurement, landmark_key, measure_all
from posture.pose import Landmark as L
from posture.pose import PoseModel, RawPose, shared_model
from posture.refine import (
    DEFAULT_AUGMENTATIONS,
    MAX_WAIST_BEND_DEG,
    SIDE_AUGMENTATIONS,
    WAIST_ABOVE_HIPS,
    WAIST_BAND,
    Augmentation,
    BodyTurn,
    pair_mirrored,
    refine_passes,
    trimmed_mean,
    turned_passes,
    waist_pivot,
)
from posture.scale import ScaleOptions, scale_from_stature
from posture.sides import FACE_LANDMARKS, View, assign_sides, label_agreement
from posture.sideview import SideContext, SideViewResult, detect_facing, measure_side

SCHEMA = "posture.analysis/1"

# Two detections overlapping at least this much (intersection over union) are one person reported
# twice by the model.
SAME_PERSON_IOU = 0.5
# Choosing the client: a person's box area is weighted by 1 - (distance of its centre from the photo
# centre, in photo widths/heights), the distance capped here so that an off-centre client still
# counts for something.
MAX_CENTRE_PENALTY = 0.7
# The landmark-placement noise is never below this many working-copy pixels (the model's output
# grid), expressed in full-size pixels.
MIN_SIGMA_WORKING_PX = 0.5
# The framing check needs at least this many visible landmarks to measure the body's height.
MIN_FRAMING_LANDMARKS = 4
# Head top estimate when the mask cannot give it: this many eye-to-mouth distances above the eyes
# (adult head proportions) ...
HEAD_TOP_EYE_MOUTH_RATIO = 2.3
# ... with the eye-to-mouth distance at least this many working-copy pixels.
MIN_EYE_MOUTH_PX = 1.0
# Fewer refinement passes than this give no consensus: the landmarks then come from the first pass.
MIN_REFINED_PASSES = 2


@dataclass(frozen=True)
class AnalysisOptions:
    """Every tunable number of an analysis, in one place."""

    # Client's standing height; gives centimetres. None keeps % of shoulder width.
    stature_cm: float | None = None
    # A known camera roll (deg, clockwise on screen) overrides the automatic estimate.
    camera_roll_deg: float | None = None
    # Estimate the camera roll from the scene's verticals (doors, wall corners).
    auto_level: bool = True
    # The camera roll's one-sigma uncertainty when nothing in the scene gives a level reference:
    # the roll of a hand-held phone. MEASURED, not cited (no published figure was found): the RMS of
    # the roll that analyze() found against scene verticals on the 28 of 76 photos of standing
    # people in ../shared/images that have them (casual, hand-held and tripod shots; median |roll|
    # 0.75°, 90th percentile 2.7°, largest 5.0°) is 1.6°; a prior, so the ± of a tilt is honest when
    # the phone was held 2° off. (Two of the 28, h36m S1 +1.7° and mpii 051423444 +3.9°, have no
    # level reference since the level's ± takes in the vanishing point's distance; without them the
    # RMS is lower, so 1.6° stays, the wider.)
    roll_sd_no_reference_deg: float = 1.6
    # ... and when the roll was set by hand (``camera_roll_deg``): an ASSUMPTION of 0.5°, the
    # precision of reading a phone's level or of measuring a door frame on the photo by hand.
    roll_sd_manual_deg: float = 0.5
    # The shoulder and hip lines' residual cross-talk (deg per deg of the other line's tilt), the
    # ``cross_talk`` part of their ±: MEASURED by benchmarks/validity.py (region turns) on the current
    # pipeline, +0.016 (hip <- trunk) and +0.015 (shoulder <- pelvis) per degree on its first 12
    # photos; the larger, rounded up.
    cross_talk_per_deg: float = 0.02
    # Refine on a canonical crop with test-time augmentation (False = one model pass, fast path).
    refine: bool = True
    augmentations: tuple[Augmentation, ...] = DEFAULT_AUGMENTATIONS
    # ... and in a side view (not straightened: more distinct passes instead, see refine)
    side_augmentations: tuple[Augmentation, ...] = SIDE_AUGMENTATIONS
    # Passes (the first augmentations) used to locate the client before the final crop; 0 = crop
    # straight from the first full-photo pass.
    locate_passes: int = 3
    # Crop height in pixels given to the model: the model reads a 256 px region of the person, so
    # 640 px leaves its person detector enough detail while making the result independent of the
    # photo's own resolution.
    canonical_height: int = 640
    # Each line read from its own body region: after the locate passes, rounds of passes (the first
    # n augmentations, n per round) on the photo with the region above the waist turned so that the
    # shoulder line read so far is level and the region below so that the hip line is (see
    # ``posture.refine.BodyTurn``; benchmarks/validity.py measures the effect). The model then reads
    # only small residual tilts, each round's smaller; each round crops the body as the previous
    # one found it straightened. Five rounds of 12: with 4, 12, 12 (and the bend capped at 6°) the
    # gains were 0.93/0.88 and the cross-talk +0.18/+0.08 per degree (12 photos); with these 1.01/0.99
    # and +0.02/+0.02. () = off: one set of ``augmentations`` on the photo as it is.
    straighten_passes: tuple[int, ...] = (12, 12, 12, 12, 12)
    # The landmarks are the consensus of this many last rounds (each nearly converged; pooling them
    # halves the noise that one round's reading passes on to the next round's turn).
    straighten_pool_rounds: int = 2
    # The rounds stop early, after at least ``straighten_min_rounds``, once both lines have settled:
    # each line's last reading moved by at most ``straighten_stop_deg`` from the round before, and
    # the next round's turn would differ from the last by at most that much. Another round would
    # then re-read the same straightened body: on a steady photo the round-to-round noise is
    # ~0.02-0.2° (the shipped yogait photos), so a settled analysis saves 12 or 24 of its 64 passes,
    # and a cluttered or unusual pose (jumps of 1-3° per round) still gets every round.
    # 0 = always every round.
    straighten_min_rounds: int = 3
    straighten_stop_deg: float = 0.15
    # Each round's turn is the fixed point estimated from the rounds so far (see ``_fixed_point``)
    # instead of the last reading (False: plain iteration).
    straighten_extrapolate: bool = True
    # The waist row the body is straightened about (torso lengths above the hip joints) and the band
    # (torso lengths) across which the turn ramps from the upper region's to the lower's. A real side
    # bend may sit elsewhere: benchmarks/validity.py --analysis-waist/--analysis-band measure other
    # rows against warps bent at other rows (README, "Validity").
    straighten_waist: float = WAIST_ABOVE_HIPS
    straighten_band: float = WAIST_BAND
    # Landmarks below this visibility are not trusted for a measurement.
    min_visibility: float = 0.5
    # Landmark placement noise floor as a fraction of torso length (shoulder to hip midpoints).
    # Refined: the residual error after augmentation; single pass: one pass's placement jitter.
    # Both calibrated by benchmarks/accuracy.py (coverage of the stated 95% interval >= 0.9).
    noise_fraction_refined: float = 0.003
    pass_spread_weight: float = 0.45
    noise_fraction_single: float = 0.015
    # A second person whose box is at least this fraction of the client's makes the photo ambiguous.
    ambiguous_area_ratio: float = 0.55
    # The client chosen by hand among the people detected in the photo: an index into them ordered
    # LEFT TO RIGHT by the centre of their box (0 = leftmost, the order of
    # ``MultiplePeopleError.boxes``; messages, the CLI and the app count people from 1). None = the
    # largest, most central person, refused when ambiguous.
    person: int | None = None
    model_path: str | None = None
    # A standing client's trunk is within a few degrees of vertical; beyond this the body is lying,
    # bending or the photo is turned, and frontal-plane measurements mean nothing.
    max_trunk_lean_deg: float = 45.0
    # Below this share of the photo's height the client is far away (or a photo of a photo): the
    # landmarks then rest on few pixels. Posture-photo protocols fill ~70-90% of the frame.
    min_body_height_fraction: float = 0.4
    # The photo check (``posture.capture``): its thresholds, and the therapist's confirmation that
    # the pose is the client's own habit (releases the findings a failed stance or view check holds).
    capture: CaptureOptions = field(default_factory=CaptureOptions)
    confirm_stance: bool = False


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyze`. ``to_dict()`` is the CLI's JSON (schema ``posture.analysis/1``)."""

    image: Mapping[str, Any]
    view: View
    landmarks: np.ndarray = field(repr=False)  # anatomical (33, 4), full-size pixels
    passes: np.ndarray = field(repr=False)  # anatomical (P, 33, 4)
    measurements: Mapping[str, Measurement]
    warnings: tuple[str, ...]
    context: MeasureContext
    level: Mapping[str, Any]
    scale: Mapping[str, Any] | None
    method: Mapping[str, Any]
    manual: frozenset[str] = frozenset()
    mask: np.ndarray | None = field(repr=False, default=None)  # working-copy resolution
    findings: tuple[Any, ...] = ()
    # the photo check; None for an analysis saved before it existed (then not checked)
    capture: Capture | None = None
    # wall time of each phase (ms); not part of the JSON, which must not change between runs
    timings_ms: Mapping[str, float] = field(default_factory=dict, compare=False)

    def point(self, lm: L) -> tuple[float, float]:
        return float(self.landmarks[lm, 0]), float(self.landmarks[lm, 1])

    def point_xy(self, name: str) -> tuple[float, float]:
        """Full-size pixel position of an anatomical landmark by name ('left_shoulder')."""
        return self.point(L[name.upper()])

    def to_dict(self) -> dict[str, Any]:
        lms = {}
        for lm in L:
            x, y, vis, _pres = self.landmarks[lm]
            key = landmark_key(lm)
            entry: dict[str, Any] = {"x": round(float(x), 1), "y": round(float(y), 1),
                                     "visibility": round(float(vis), 3)}
            if key in self.manual:
                entry["manual"] = True
            lms[key] = entry
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "image": dict(self.image),
            "view": self.view.value,
            "landmarks": lms,
            "measurements": {k: m.to_dict() for k, m in self.measurements.items()},
            "level": dict(self.level),
            "scale": dict(self.scale) if self.scale else None,
            "method": dict(self.method),
            "warnings": list(self.warnings),
        }
        if self.capture is not None:
            out["capture"] = self.capture.to_dict()
            if self.capture.holds_findings:
                out["findings_held"] = self.capture.hold_reason()
        if self.findings:
            out["findings"] = [f.to_dict() for f in self.findings]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Analysis:
        """Rebuild an Analysis from its :meth:`to_dict` (schema ``posture.analysis/1``), e.g. from a
        stored assessment, for comparison, re-annotation or more manual corrections;
        ``Analysis.from_dict(a.to_dict()).to_dict() == a.to_dict()`` without findings.

        What cannot come back: the per-pass landmark sets (the consensus is used as the only pass, so
        re-measuring after :func:`correct_landmarks` drops the pass-spread part of the ±), the
        segmentation mask, and findings as objects (their dicts stay in the stored ``findings``).
        Values were rounded by ``to_dict`` (0.1 px, 0.01 units). The photo check (``capture``, with
        the therapist's confirmation) comes back; JSON saved before it existed has none (None: not
        checked). A wrong schema is a PostureError."""
        from posture.errors import PostureError
        from posture.metrics import Quantity

        if d.get("schema") != SCHEMA:
            raise PostureError(f"Stored analysis has schema {d.get('schema')!r}, expected {SCHEMA!r}.")
        view = View.parse(str(d["view"]))
        lms = np.zeros((len(L), 4), dtype=np.float64)
        manual: set[str] = set()
        stored = d.get("landmarks") or {}
        for lm in L:
            e = stored.get(landmark_key(lm)) or {}
            lms[lm] = (float(e.get("x", 0.0)), float(e.get("y", 0.0)), float(e.get("visibility", 0.0)), 1.0)
            if e.get("manual"):
                manual.add(landmark_key(lm))
        measurements = {}
        for name, m in (d.get("measurements") or {}).items():
            details = {
                k: Quantity(float(q["value"]) if q.get("value") is not None else float("nan"),
                            str(q["unit"]), q.get("uncertainty"))
                for k, q in (m.get("details") or {}).items()
            }
            measurements[name] = Measurement(
                name=name,
                label=str(m["label"]),
                value=m.get("value"),
                unit=str(m.get("unit") or ""),
                side=str(m.get("side") or ""),
                uncertainty=m.get("uncertainty"),
                landmarks=tuple(m.get("landmarks") or ()),
                available=bool(m.get("available", True)),
                reason=m.get("reason"),
                details=details,
                uncertainty_parts={str(k): float(v) for k, v in (m.get("uncertainty_parts") or {}).items()
                                   if v is not None},
            )
        image = dict(d.get("image") or {})
        level = dict(d.get("level") or {})
        scale = d.get("scale")
        method = dict(d.get("method") or {})
        ctx = MeasureContext(
            toward_left=view.toward_left,
            width=int(image.get("width") or 0),
            height=int(image.get("height") or 0),
            roll_deg=float(level.get("roll_deg") or 0.0),
            roll_sd_deg=float(level.get("roll_sd_deg") or 0.0),
            cm_per_px=None if not scale else float(scale["cm_per_px"]),
            scale_rel_sd=0.0 if not scale else float(scale.get("relative_sd") or 0.0),
            sigma_px=float(method.get("landmark_sigma_px") or 2.0),
            manual=frozenset(manual),
        )
        return cls(
            image=image,
            view=view,
            landmarks=lms,
            passes=lms[None].copy(),
            measurements=measurements,
            warnings=tuple(d.get("warnings") or ()),
            context=ctx,
            level=level,
            scale=dict(scale) if scale else None,
            method=method,
            manual=frozenset(manual),
            capture=Capture.from_dict(d["capture"]) if d.get("capture") else None,
        )


def analyze(
    photo: Photo,
    view: str | View = View.ANTERIOR,
    options: AnalysisOptions | None = None,
    model: PoseModel | None = None,
) -> Analysis:
    """Analyse one standing photo. Raises a :class:`~posture.errors.PostureError` for anything the
    user must fix (no person, several people, ...); measurement-level problems become
    "unavailable" measurements and warnings instead."""
    opts = options or AnalysisOptions()
    v = View.parse(view)
    net = model or shared_model(opts.model_path)
    with net.in_turn():  # its passes are served in the order the analyses arrived
        return _analyze(photo, v, opts, net)


def _analyze(photo: Photo, v: View, opts: AnalysisOptions, net: PoseModel) -> Analysis:
    warnings: list[str] = list(photo.notes)
    rgb = photo.rgb
    wh, ww = rgb.shape[:2]
    laps = _Laps()
    model_passes = 1  # counted here, not read off the shared model (other threads use it too)

    candidates = net.detect(rgb)
    primary = _choose_client(candidates, ww, wh, opts, warnings, 1.0 / photo.scale)
    laps.lap("detect")

    # the camera roll first: the model then sees the client level in every refinement crop, so a
    # turned camera changes the input as little as possible
    level = _level(photo, primary.mask, opts, warnings)
    roll = float(level["roll_deg"])
    laps.lap("level")

    mirrored: list[bool] = [False]
    passes_work = [primary.points]
    if opts.refine:
        # the client's box along the level, as every crop below is turned level
        bbox = primary.bbox(level_deg=roll)
        located: list[tuple[np.ndarray, bool]] = []
        if opts.locate_passes:
            # a few passes first, so that the final crop does not inherit the jitter of one pass
            located = refine_passes(
                net, rgb, bbox, opts.augmentations[: opts.locate_passes], opts.canonical_height, roll
            )
            model_passes += len(opts.augmentations[: opts.locate_passes])
            if located:
                boxes = np.array([RawPose(p).bbox(level_deg=roll) for p, _m in located])
                bbox = tuple(float(v) for v in np.median(boxes, axis=0))  # type: ignore[assignment]
        # (not in a side view: the shoulder and hip lines it levels are frontal-plane lines)
        straighten = (bool(opts.straighten_passes) and len(located) >= MIN_REFINED_PASSES
                      and not v.is_side)
        if straighten:
            # each line read from its own region: the locate passes give a first reading of both
            # lines, then rounds of passes on the body straightened about the waist
            rounds = [located]
            lines = _line_tilts([p for p, _m in located], [m for _p, m in located], v, roll, photo,
                                opts.straighten_waist)
            first = lines
            target = (lines.shoulders, lines.hips)
            history: list[tuple[tuple[float, float], tuple[float, float]]] = []
            for n in opts.straighten_passes:
                turn = _body_turn(target, lines, v, roll, opts.straighten_band)
                augs = opts.augmentations[:n]
                turned, turned_box = turned_passes(net, rgb, bbox, augs, opts.canonical_height, turn,
                                                   roll)
                model_passes += len(augs)
                if len(turned) < MIN_REFINED_PASSES or turned_box is None:
                    break
                rounds.append(turned)
                # the next round's crop frames the straightened body, as found on this round's
                # turned photo (the next turn differs from this one by a fraction of a degree)
                bbox = turned_box
                lines = _line_tilts([p for p, _m in turned], [m for _p, m in turned], v, roll, photo,
                                    opts.straighten_waist)
                history.append((_turn_tilts(turn, v), (lines.shoulders, lines.hips)))
                target = (
                    _fixed_point([(e[0], c[0]) for e, c in history], opts.straighten_extrapolate,
                                 first.shoulders),
                    _fixed_point([(e[1], c[1]) for e, c in history], opts.straighten_extrapolate,
                                 first.hips),
                )
                if (opts.straighten_min_rounds and len(history) >= max(2, opts.straighten_min_rounds)
                        and _converged(history, target, opts.straighten_stop_deg)):
                    break
            if history and not _settled(history):
                warnings.append(
                    "The shoulder or hip line did not settle while the body was straightened (the "
                    "model reads this pose inconsistently): treat the tilts with caution, and check "
                    "the photo (whole body in the frame, a neutral stance)."
                )
            # the consensus pools the last rounds (each pairs its own plain and mirrored passes)
            keep = rounds[1:][-opts.straighten_pool_rounds :] if len(rounds) > 1 else rounds
            refined = [pm for r in keep for pm in r]
        else:
            augs = opts.side_augmentations if v.is_side else opts.augmentations
            refined = refine_passes(net, rgb, bbox, augs, opts.canonical_height, roll)
            model_passes += len(augs)
        if len(refined) >= MIN_REFINED_PASSES:
            passes_work = [p for p, _m in refined]
            mirrored = [m for _p, m in refined]
        else:
            warnings.append("Refinement passes failed; the landmarks come from a single model pass.")
        laps.lap("refine")
    # each pass gets the client's sides from the declared view on its own, so that a pass whose
    # labels came out reversed cannot pull the consensus toward the other side
    inv = 1.0 / photo.scale  # working-copy pixels -> full-size pixels
    anat_passes = np.stack([assign_sides(p, v).points for p in passes_work])
    anat_passes[:, :, :2] *= inv
    anat_passes = pair_mirrored(anat_passes, mirrored)
    anat = trimmed_mean(anat_passes)
    _check_upright(anat, opts)
    _check_framing(anat, photo, opts, warnings)
    if v.is_side:  # which way the client faces, from the nose and toes
        conflict = _side_conflict(anat, v, float(level["roll_deg"]), photo, opts)
    else:
        conflict = _view_conflict(photo.rgb, primary.points, label_agreement(primary.points, v), v)
    if conflict:
        warnings.append(conflict)
    capture = _capture(anat, photo.width, photo.height, v, level, conflict, opts.capture,
                       opts.confirm_stance)
    laps.lap("sides_and_checks")

    scale = _scale(photo, primary.mask, anat, opts, warnings, side_view=v.is_side)
    torso = _torso_length(anat)
    frac = opts.noise_fraction_refined if len(passes_work) > 1 else opts.noise_fraction_single
    ctx = MeasureContext(
        toward_left=v.toward_left,
        width=photo.width,
        height=photo.height,
        roll_deg=float(level["roll_deg"]),
        roll_sd_deg=float(level.get("roll_sd_deg") or 0.0),
        cm_per_px=None if scale is None else float(scale["cm_per_px"]),
        scale_rel_sd=0.0 if scale is None else float(scale["relative_sd"]),
        sigma_px=max(frac * torso, MIN_SIGMA_WORKING_PX * inv),
        min_visibility=opts.min_visibility,
        pass_spread_weight=opts.pass_spread_weight if len(passes_work) > 1 else 1.0,
        cross_talk_per_deg=opts.cross_talk_per_deg,
    )
    measurements, side = _measure(anat, anat_passes, v, ctx)
    if side is not None:
        warnings.extend(side.warnings)
    for m in measurements.values():
        if not m.available and m.reason:
            warnings.append(f"{m.label} unavailable: {m.reason}.")
    laps.lap("scale_and_measure")
    method = {
        "passes": len(passes_work),
        "model_passes": model_passes,
        "refined": len(passes_work) > 1,
        "working_size": [int(ww), int(wh)],
        "landmark_sigma_px": round(ctx.sigma_px, 2),
        "model": net.path.name,
    }
    if side is not None:
        method["side_view"] = side.summary()
    if opts.person is not None:
        method["person"] = opts.person
    return Analysis(
        image=photo.image_info(),
        view=v,
        landmarks=anat,
        passes=anat_passes,
        measurements=measurements,
        warnings=tuple(dict.fromkeys(warnings)),
        context=ctx,
        level=level,
        scale=scale,
        method=method,
        mask=primary.mask,
        capture=capture,
        timings_ms=laps.result(),
    )


def correct_landmarks(
    analysis: Analysis,
    corrections: Mapping[str, tuple[float, float]],
    *,
    photo_px_per_display_px: float | None = None,
) -> Analysis:
    """Return a new analysis with landmarks moved by hand (anatomical names, full-size pixels).

    ``photo_px_per_display_px``: how many photo pixels one screen pixel covered where the points were
    clicked (the app passes the width it showed); a hand-placed point's SD is then
    ``MeasureContext.click_sd_display_px`` (0.5) of those. None keeps the context's figure, by default
    the assumption that the photo was shown ``MeasureContext.click_display_px`` pixels along its long
    side.

    Only the measurements and the photo check are recomputed (no model pass): a corrected point is
    marked manual, its visibility set to 1, and its placement noise becomes the click precision. The
    photo check keeps its view check (that needs the photo) and the therapist's confirmation.
    """
    if not corrections:
        return analysis
    pts = analysis.landmarks.copy()
    passes = analysis.passes.copy()
    names = {landmark_key(lm): lm for lm in L}
    manual = set(analysis.manual)
    for name, (x, y) in corrections.items():
        lm = names.get(name)
        if lm is None:
            raise KeyError(f"unknown landmark {name!r}")
        pts[lm] = (float(x), float(y), 1.0, 1.0)
        passes[:, lm] = (float(x), float(y), 1.0, 1.0)
        manual.add(name)
    ctx = replace(analysis.context, manual=frozenset(manual))
    if photo_px_per_display_px is not None:
        if not (math.isfinite(photo_px_per_display_px) and photo_px_per_display_px > 0):
            raise ValueError(f"photo_px_per_display_px must be positive, got {photo_px_per_display_px!r}")
        ctx = replace(ctx, click_sd_px=ctx.click_sd_display_px * float(photo_px_per_display_px))
    measurements, side = _measure(pts, passes, analysis.view, ctx)
    method = dict(analysis.method)
    if side is not None:
        method["side_view"] = side.summary()
    return replace(
        analysis,
        method=method,
        landmarks=pts,
        passes=passes,
        measurements=measurements,
        context=ctx,
        manual=frozenset(manual),
        findings=(),
        capture=_recheck(analysis.capture, pts, analysis),
    )


# -- helpers -------------------------------------------------------------------------------------


def _measure(
    points: np.ndarray, passes: np.ndarray, view: View, ctx: MeasureContext
) -> tuple[dict[str, Measurement], SideViewResult | None]:
    """The measurements of ``view``: the front/back table (``metrics``) or, for a side view, the
    side-view table (``sideview``: same roll, scale, noise floor and hand-placed points) with its
    facing check."""
    if view.is_side:
        side = measure_side(points, passes, SideContext.from_measure_context(view.value, ctx))
        return dict(side.measurements), side
    return measure_all(points, passes, ctx), None


def _side_conflict(
    anat: np.ndarray, view: View, roll: float, photo: Photo, opts: AnalysisOptions
) -> str | None:
    """A side view's declared side against which way the client faces (nose and toes, read against
    true vertical): the message when they contradict, else None."""
    lv = anat.copy()
    lv[:, :2] = level_points(anat[:, :2], roll, (photo.width / 2.0, photo.height / 2.0))
    facing = detect_facing(lv, view.value, min_visibility=opts.min_visibility)
    return facing.warning if facing.contradicts else None


class _Laps:
    """Wall time of each phase of one analysis (reported in ``Analysis.method["timings_ms"]``)."""

    def __init__(self) -> None:
        self._t = time.perf_counter()
        self._laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._laps[name] = self._laps.get(name, 0.0) + (now - self._t) * 1000.0
        self._t = now

    def result(self) -> dict[str, float]:
        return {k: round(v, 1) for k, v in self._laps.items()}


def _choose_client(
    candidates: list[RawPose], w: int, h: int, opts: AnalysisOptions, warnings: list[str],
    to_full: float = 1.0,
) -> RawPose:
    """The client among the detected people: ``opts.person`` (left to right) when given, else the
    largest, most central one; several people of similar size raise :class:`MultiplePeopleError`
    with their boxes (full-size pixels via ``to_full``, left to right)."""
    if not candidates:
        raise NoPersonError("No person was found in the photo.")
    people: list[RawPose] = []
    for c in candidates:  # the model may report one person twice
        if all(box_iou(c.bbox(), p.bbox()) < SAME_PERSON_IOU for p in people):
            people.append(c)
    people.sort(key=lambda p: p.bbox()[0] + p.bbox()[2])  # left to right by the box's centre
    if opts.person is not None:
        if not 0 <= opts.person < len(people):
            raise InvalidOptionError(
                f"Person {opts.person + 1} was chosen, but {len(people)} "
                f"{'person was' if len(people) == 1 else 'people were'} found in the photo "
                f"(1 to {len(people)}, counted from the left)."
            )
        if len(people) > 1:
            warnings.append(
                f"{len(people)} people are in the photo; person {opts.person + 1} (counted from the "
                "left) was analysed as chosen."
            )
        return people[opts.person]
    boxes = tuple(
        (float(x0) * to_full, float(y0) * to_full, float(x1) * to_full, float(y1) * to_full)
        for x0, y0, x1, y1 in (p.bbox() for p in people)
    )

    def score(p: RawPose) -> float:
        x0, y0, x1, y1 = p.bbox()
        cx, cy = (x0 + x1) / 2 / w - 0.5, (y0 + y1) / 2 / h - 0.5
        return box_area(p.bbox()) * (1.0 - min(math.hypot(cx, cy), MAX_CENTRE_PENALTY))

    people.sort(key=score, reverse=True)
    client = people[0]
    if len(people) > 1:
        ratio = box_area(people[1].bbox()) / box_area(client.bbox())
        if ratio >= opts.ambiguous_area_ratio:
            raise MultiplePeopleError(
                f"{len(people)} people of similar size are in the photo, so it is not clear who "
                "the client is. Left to right: "
                + ", ".join(f"person {i} at x {b[0]:.0f}-{b[2]:.0f} px"
                            for i, b in enumerate(boxes, start=1))
                + ".",
                boxes=boxes,
            )
        warnings.append(
            f"{len(people) - 1} other person(s) detected in the background; the largest, most "
            "central person was analysed."
        )
    return client


@dataclass(frozen=True)
class _Lines:
    """The shoulder and hip lines of one round's consensus (tilt degrees against true horizontal),
    with the waist pivot and the torso length (working-copy pixels) the next turn is made about."""

    shoulders: float
    hips: float
    pivot: tuple[float, float]
    torso: float


def _line_tilts(
    passes_work: list[np.ndarray], mirrored: list[bool], view: View, roll: float, photo: Photo,
    waist: float,
) -> _Lines:
    """The shoulder and hip lines of the consensus of ``passes_work`` (working-copy pixels), against
    true horizontal (i.e. with the camera roll that the crops undo)."""
    anat = trimmed_mean(pair_mirrored(np.stack([assign_sides(p, view).points for p in passes_work]),
                                      mirrored))
    centre = (photo.rgb.shape[1] / 2.0, photo.rgb.shape[0] / 2.0)
    lv = level_points(anat[:, :2], roll, centre)

    def tilt(right: L, left: L) -> float:
        return tilt_deg((lv[right, 0], lv[right, 1]), (lv[left, 0], lv[left, 1]), view.toward_left)

    pivot, torso = waist_pivot(anat, (L.RIGHT_SHOULDER, L.LEFT_SHOULDER), (L.RIGHT_HIP, L.LEFT_HIP),
                               waist)
    return _Lines(tilt(L.RIGHT_SHOULDER, L.LEFT_SHOULDER), tilt(L.RIGHT_HIP, L.LEFT_HIP), pivot, torso)


def _body_turn(target: tuple[float, float], lines: _Lines, view: View, roll: float,
               band: float) -> BodyTurn:
    """The turn that shows the model a neutral body: the region above the waist turned so that a
    shoulder line of tilt ``target[0]`` is level, the region below so that a hip line of tilt
    ``target[1]`` is (the bend between them capped at :data:`MAX_WAIST_BEND_DEG`)."""
    shoulders, hips = target
    shared = (shoulders + hips) / 2.0
    half_bend = max(-MAX_WAIST_BEND_DEG, min(MAX_WAIST_BEND_DEG, shoulders - hips)) / 2.0
    # a tilt t lowers the client's right; turning the region clockwise on screen by toward_left * t
    # raises it back (front view: the client's right is on the image's left, which a clockwise turn
    # raises; back view: the other way)
    return BodyTurn(
        pivot=lines.pivot,
        upper_cw_deg=view.toward_left * (shared + half_bend),
        lower_cw_deg=view.toward_left * (shared - half_bend),
        band_px=band * lines.torso,
        level_deg=roll,
    )


def _turn_tilts(turn: BodyTurn, view: View) -> tuple[float, float]:
    """The (shoulder, hip) line tilts that ``turn`` levels (the inverse of :func:`_body_turn`)."""
    return view.toward_left * turn.upper_cw_deg, view.toward_left * turn.lower_cw_deg


# The fixed point of the straightening is estimated from a line fitted to the rounds only when
# their turns spread over at least this much (deg); closer, the fitted slope is mostly noise.
MIN_TURN_SPREAD_DEG = 0.3
# The slope of the reading on the turn (1 - the model's gain on a residual tilt) is kept in this
# range: 0 = the model reads the residual whole, 0.7 = it reads 30 % of it.
MAX_READING_SLOPE = 0.7


# A round's turn never levels a line tilted more than this (deg) away from what the unstraightened
# locate passes read: the straightening undoes the model's shortfall on a tilt (0.6-0.9 of it) and
# its cross-talk, a few degrees; a reading that keeps running further is a pose the model cannot
# read steadily (a 5 % crop once drove a hip line from 16° to 80°), not a tilt to chase.
MAX_STRAIGHTEN_SHIFT_DEG = 8.0
# The rounds have settled when a line's last reading moved by at most this much (deg) from the one
# before (round-to-round noise is ~0.1-0.3°, up to ~1.3° on a cluttered photo) and the body turned
# to level it reads at most SETTLED_RESIDUAL_DEG off level (a settled straightening leaves tenths of a
# degree; the 5 % crop above read 8° off level at the cap).
SETTLED_DEG = 2.0
SETTLED_RESIDUAL_DEG = 3.0


def _settled(history: list[tuple[tuple[float, float], tuple[float, float]]]) -> bool:
    """Whether both lines settled in the last round (see :data:`SETTLED_DEG`)."""
    e2, c2 = history[-1]
    if any(abs(c - e) > SETTLED_RESIDUAL_DEG for c, e in zip(c2, e2, strict=True)):
        return False
    if len(history) < 2:
        return True
    c1 = history[-2][1]
    return abs(c2[0] - c1[0]) <= SETTLED_DEG and abs(c2[1] - c1[1]) <= SETTLED_DEG


def _converged(history: list[tuple[tuple[float, float], tuple[float, float]]],
               target: tuple[float, float], within_deg: float) -> bool:
    """Whether another straightening round would re-read the same body: both lines' last reading
    moved by at most ``within_deg`` from the round before, and the next turn (``target``) differs
    from the last by at most that much."""
    (e2, c2), (_e1, c1) = history[-1], history[-2]
    return all(abs(a - b) <= within_deg for a, b in zip(c2, c1, strict=True)) and all(
        abs(t - e) <= within_deg for t, e in zip(target, e2, strict=True))


def _fixed_point(rounds: list[tuple[float, float]], extrapolate: bool, first: float) -> float:
    """The tilt at which the model, shown the line straightened by it, reads the line level.

    ``rounds`` are (turn, reading) pairs of one line: the tilt a round's turn levelled and the tilt
    the round then read on the photo (its landmarks turned back). On a straightened body the model
    reads only part g of the residual tilt (the rest of the body pulls it toward level), so a
    reading is ``turn + g * (true - turn)``: plain iteration (the next turn = the last reading)
    closes only g of the gap per round. The line through the rounds' (turn, reading) meets
    reading = turn at the true tilt: that is the next turn (with ``extrapolate``; else the last
    reading). Each round is the model reading the photo; this only chooses where to look next.
    A line whose reading follows the turn as fast as the turn itself (slope beyond
    :data:`MAX_READING_SLOPE`) has no fixed point to extrapolate to: the next turn is then the last
    reading; either way the turn stays within :data:`MAX_STRAIGHTEN_SHIFT_DEG` of ``first``, the
    unstraightened reading."""
    reading = rounds[-1][1]
    target = reading
    if extrapolate and len(rounds) >= 2:
        e = np.array([r[0] for r in rounds])
        c = np.array([r[1] for r in rounds])
        if float(e.max() - e.min()) >= MIN_TURN_SPREAD_DEG:
            k = float(np.polyfit(e, c, 1)[0])
            if 0.0 <= k <= MAX_READING_SLOPE:
                target = float(np.mean(c - k * e)) / (1.0 - k)
            elif k < 0.0:  # the reading moves against the turn: read it as the model reading all of it
                target = float(np.mean(c))
    return min(max(target, first - MAX_STRAIGHTEN_SHIFT_DEG), first + MAX_STRAIGHTEN_SHIFT_DEG)


def _check_upright(anat: np.ndarray, opts: AnalysisOptions) -> None:
    """A frontal-plane posture reading needs a standing body: refuse a lying or inverted one."""
    sh = (anat[L.LEFT_SHOULDER, :2] + anat[L.RIGHT_SHOULDER, :2]) / 2
    hp = (anat[L.LEFT_HIP, :2] + anat[L.RIGHT_HIP, :2]) / 2
    dx, dy = sh - hp  # y down: a standing trunk points up, dy < 0
    lean = math.degrees(math.atan2(abs(dx), -dy))  # 0 = upright, 90 = lying, 180 = upside down
    if lean > opts.max_trunk_lean_deg:
        raise NotUprightError(
            f"The person does not look upright (the trunk is {lean:.0f}° from vertical)."
        )


def _check_framing(anat: np.ndarray, photo: Photo, opts: AnalysisOptions, warnings: list[str]) -> None:
    """Warn when the client is small in the frame (far away, or a photo of a printed photo)."""
    visible = anat[anat[:, 2] >= opts.min_visibility]
    if len(visible) < MIN_FRAMING_LANDMARKS:
        return
    share = float(np.ptp(visible[:, 1])) / photo.height
    if share < opts.min_body_height_fraction:
        warnings.append(
            f"The client fills only {share:.0%} of the photo's height, so each pixel counts for more: "
            "stand closer or zoom in so that the whole body fills most of the frame (and photograph "
            "the client, not a printed photo)."
        )


def _torso_length(anat: np.ndarray) -> float:
    sh = (anat[L.LEFT_SHOULDER, :2] + anat[L.RIGHT_SHOULDER, :2]) / 2
    hp = (anat[L.LEFT_HIP, :2] + anat[L.RIGHT_HIP, :2]) / 2
    return float(np.hypot(*(sh - hp)))


def _view_conflict(rgb: np.ndarray, model_pts: np.ndarray, agreement: float, view: View) -> str | None:
    """Check the declared view against a face detector and the model's own left/right reading: the
    message when they contradict it (a warning and the photo check's ``view_matches``), else None.

    ``model_pts`` are working-copy pixels with the model's labels; ``agreement`` < 0 means the
    model's labels read the photo the other way round."""
    sw = float(np.hypot(*(model_pts[L.LEFT_SHOULDER, :2] - model_pts[L.RIGHT_SHOULDER, :2])))
    judgeable, face = find_faces(rgb, head_box(model_pts[list(FACE_LANDMARKS), :2], sw))
    if view is View.POSTERIOR and face:
        return (
            "A face is visible, but the photo was declared a posterior (back) view: check the view, "
            "or left and right will be swapped."
        )
    if view is View.ANTERIOR and judgeable and not face and agreement < 0:
        return (
            "No face is visible and the body reads as seen from behind, but the photo was declared "
            "an anterior (front) view: if this is a back view, choose posterior, or left and right "
            "will be swapped."
        )
    if agreement < 0 and view is View.POSTERIOR:
        return (
            "The pose model read this photo as a front view while it was declared posterior; sides "
            "were assigned from the declared view. Check that the view is right."
        )
    return None


def _capture(
    anat: np.ndarray,
    width: int,
    height: int,
    view: View,
    level: Mapping[str, Any],
    conflict: str | None,
    options: CaptureOptions,
    confirmed: bool,
) -> Capture:
    """The photo check on the anatomical landmarks (full-size pixels). A side view keeps the
    checks that mean the same in profile (whole body, arms, view, level): the stance and
    squareness checks read the feet and shoulders side by side, which a profile cannot show."""
    if view.is_side:
        return Capture((
            whole_body(anat, width, height, options),
            arms_relaxed(anat, options),
            view_matches(conflict),
            camera_level(str(level.get("reference", ""))),
        )).with_confirmation(confirmed)
    return check_capture(
        anat, width, height, view.toward_left, view_conflict=conflict,
        level_reference=str(level.get("reference", "")), options=options,
    ).with_confirmation(confirmed)


def _recheck(capture: Capture | None, pts: np.ndarray, analysis: Analysis) -> Capture | None:
    """The photo check again on corrected landmarks (default thresholds: the options are not kept
    with an analysis), with the same view check and confirmation (None stays None: an analysis saved
    before the check existed is not checked)."""
    if capture is None:
        return None
    view = capture.check("view_matches")
    conflict = view.message if view is not None and not view.ok else None
    return _capture(pts, int(analysis.image.get("width") or 0), int(analysis.image.get("height") or 0),
                    analysis.view, analysis.level, conflict, CaptureOptions(), capture.confirmed)


def _level(
    photo: Photo, mask: np.ndarray | None, opts: AnalysisOptions, warnings: list[str]
) -> dict[str, Any]:
    if opts.camera_roll_deg is not None:
        return {
            "roll_deg": float(opts.camera_roll_deg),
            "roll_sd_deg": float(opts.roll_sd_manual_deg),
            "roll_sd_source": "prior for a roll set by hand (AnalysisOptions.roll_sd_manual_deg)",
            "reference": "manual",
            "description": f"camera roll set by hand to {opts.camera_roll_deg:+.1f}°",
        }
    if opts.auto_level:
        est = estimate_roll(photo.rgb, mask)
        if est.confident and est.roll_deg is not None:
            lines = "horizontal" if est.source == "horizontal lines" else "vertical"
            return {
                "roll_deg": float(est.roll_deg),
                "roll_sd_deg": float(est.roll_sd_deg or 0.0),
                "reference": "scene verticals",
                "confidence": round(float(est.confidence), 2),
                "lines": lines,
                "description": (
                    f"measured against true {'level' if lines == 'horizontal' else 'vertical'}"
                    f" from {est.n_lines} scene lines (camera roll {est.roll_deg:+.1f}°)"
                ),
            }
    return {
        "roll_deg": 0.0,
        "roll_sd_deg": float(opts.roll_sd_no_reference_deg),
        "roll_sd_source": "prior for a hand-held phone (AnalysisOptions.roll_sd_no_reference_deg)",
        "reference": "photo edges",
        "description": NO_REFERENCE_REASON,
    }


def _scale(
    photo: Photo,
    mask: np.ndarray | None,
    anat: np.ndarray,
    opts: AnalysisOptions,
    warnings: list[str],
    side_view: bool = False,
) -> dict[str, Any] | None:
    if opts.stature_cm is None:
        return None
    s = photo.scale
    heels = [anat[lm] for lm in (L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_ANKLE, L.RIGHT_ANKLE)]
    # in a side view the far heel is hidden behind the near one: one seen heel is enough
    heel_vis = (max if side_view else min)(p[2] for p in heels[:2])
    if heel_vis < opts.min_visibility or max(p[1] for p in heels) > photo.height:
        warnings.append("The feet are not clearly visible, so centimetres could not be derived.")
        return None
    heel_y = float(max(anat[L.LEFT_HEEL, 1], anat[L.RIGHT_HEEL, 1])) * s
    eye_y = float(min(anat[L.LEFT_EYE, 1], anat[L.RIGHT_EYE, 1]))
    mouth_y = float(max(anat[L.MOUTH_LEFT, 1], anat[L.MOUTH_RIGHT, 1]))
    fallback = (eye_y - HEAD_TOP_EYE_MOUTH_RATIO * max(mouth_y - eye_y, MIN_EYE_MOUTH_PX)) * s
    try:
        est = scale_from_stature(
            mask, heel_y, fallback, float(opts.stature_cm), photo.rgb.shape[0]
        )
    except ValueError as exc:
        limits = ScaleOptions()
        raise InvalidOptionError(
            str(exc),
            f"Give the client's height in cm ({limits.min_stature_cm:g}-{limits.max_stature_cm:g}).",
        ) from None
    cm_per_px = est.cm_per_px * s  # working px -> full-size px
    return {
        "cm_per_px": cm_per_px,
        "stature_cm": float(opts.stature_cm),
        "pixel_height": est.pixel_height / s,
        # one sigma, as ScaleEstimate.relative_uncertainty already is (metrics multiplies by Z95)
        "relative_sd": est.relative_uncertainty,
        "method": est.method,
    }
