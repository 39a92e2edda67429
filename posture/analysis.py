"""One entry point for a whole analysis: :func:`analyze` (used by the CLI, the app and the tests).

Pipeline: decode (``imaging``) -> find the client (one model pass on the working copy) -> refine the
landmarks on a canonical crop of the client with test-time augmentation (mirror, crop margin, small
rotations; the consensus is the per-coordinate median) -> assign anatomical sides from the declared
view -> camera roll (``level``) and scale (``scale``) -> measurements with ± (``metrics``).

Every coordinate in the result is in pixels of the full-size oriented photo, y down.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from posture.errors import MultiplePeopleError, NoPersonError, NotUprightError
from posture.face import find_faces, head_box
from posture.imaging import Photo
from posture.level import estimate_roll
from posture.metrics import MeasureContext, Measurement, landmark_key, measure_all
from posture.pose import MIRROR_PERMUTATION, PoseModel, RawPose, shared_model
from posture.pose import Landmark as L
from posture.scale import scale_from_stature
from posture.sides import FACE_LANDMARKS, View, assign_sides, label_agreement

SCHEMA = "posture.analysis/1"


@dataclass(frozen=True)
class Augmentation:
    """One model pass on the canonical crop: mirrored or not, crop margin, rotation (deg, clockwise
    on screen)."""

    mirror: bool = False
    margin: float = 0.25
    rotate_deg: float = 0.0


DEFAULT_AUGMENTATIONS: tuple[Augmentation, ...] = (
    Augmentation(False, 0.25, 0.0),
    Augmentation(True, 0.25, 0.0),
    Augmentation(False, 0.15, 0.0),
    Augmentation(True, 0.40, 0.0),
    Augmentation(False, 0.25, 4.0),
    Augmentation(True, 0.25, -4.0),
    Augmentation(False, 0.40, -4.0),
    Augmentation(True, 0.15, 4.0),
    Augmentation(False, 0.20, 2.0),
    Augmentation(True, 0.30, -2.0),
    Augmentation(False, 0.30, -2.0),
    Augmentation(True, 0.20, 2.0),
)


@dataclass(frozen=True)
class AnalysisOptions:
    """Every tunable number of an analysis, in one place."""

    # Client's standing height; gives centimetres. None keeps % of shoulder width.
    stature_cm: float | None = None
    # A known camera roll (deg, clockwise on screen) overrides the automatic estimate.
    camera_roll_deg: float | None = None
    # Estimate the camera roll from the scene's verticals (doors, wall corners).
    auto_level: bool = True
    # Refine on a canonical crop with test-time augmentation (False = one model pass, fast path).
    refine: bool = True
    augmentations: tuple[Augmentation, ...] = DEFAULT_AUGMENTATIONS
    # Passes (the first augmentations) used to locate the client before the final crop; 0 = crop
    # straight from the first full-photo pass.
    locate_passes: int = 3
    # Crop height in pixels given to the model: the model reads a 256 px region of the person, so
    # 640 px leaves its person detector enough detail while making the result independent of the
    # photo's own resolution.
    canonical_height: int = 640
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
    model_path: str | None = None
    # A standing client's trunk is within a few degrees of vertical; beyond this the body is lying,
    # bending or the photo is turned, and frontal-plane measurements mean nothing.
    max_trunk_lean_deg: float = 45.0
    # Below this share of the photo's height the client is far away (or a photo of a photo): the
    # landmarks then rest on few pixels. Posture-photo protocols fill ~70-90% of the frame.
    min_body_height_fraction: float = 0.4


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
        if self.findings:
            out["findings"] = [f.to_dict() for f in self.findings]
        return out


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
    warnings: list[str] = list(photo.notes)
    rgb = photo.rgb
    wh, ww = rgb.shape[:2]
    laps = _Laps()
    model_passes = 1  # counted here, not read off the shared model (other threads use it too)

    candidates = net.detect(rgb)
    primary = _choose_client(candidates, ww, wh, opts, warnings)
    laps.lap("detect")

    # the camera roll first: the model then sees the client level in every refinement crop, so a
    # turned camera changes the input as little as possible
    level = _level(photo, primary.mask, opts, warnings)
    roll = float(level["roll_deg"])
    laps.lap("level")

    mirrored: list[bool] = [False]
    passes_work = [primary.points]
    if opts.refine:
        bbox = primary.bbox()
        if opts.locate_passes:
            # a few passes first, so that the final crop does not inherit the jitter of one pass
            located = _refine(net, rgb, bbox, opts.augmentations[: opts.locate_passes], opts, roll)
            model_passes += len(opts.augmentations[: opts.locate_passes])
            if located:
                boxes = np.array([RawPose(p).bbox() for p, _m in located])
                bbox = tuple(float(v) for v in np.median(boxes, axis=0))  # type: ignore[assignment]
        refined = _refine(net, rgb, bbox, opts.augmentations, opts, roll)
        model_passes += len(opts.augmentations)
        if len(refined) >= 2:
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
    anat_passes = _pair_mirrored(anat_passes, mirrored)
    anat = _trimmed_mean(anat_passes)
    _check_upright(anat, opts)
    _check_framing(anat, photo, opts, warnings)
    _view_warnings(photo.rgb, primary.points, label_agreement(primary.points, v), v, opts, warnings)
    laps.lap("sides_and_checks")

    scale = _scale(photo, primary.mask, anat, opts, warnings)
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
        sigma_px=max(frac * torso, 0.5 * inv),
        min_visibility=opts.min_visibility,
        pass_spread_weight=opts.pass_spread_weight if len(passes_work) > 1 else 1.0,
    )
    measurements = measure_all(anat, anat_passes, ctx)
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
        timings_ms=laps.result(),
    )


def correct_landmarks(
    analysis: Analysis, corrections: Mapping[str, tuple[float, float]]
) -> Analysis:
    """Return a new analysis with landmarks moved by hand (anatomical names, full-size pixels).

    Only the measurements are recomputed (no model pass): a corrected point is marked manual, its
    visibility set to 1, and its placement noise becomes the click precision.
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
    measurements = measure_all(pts, passes, ctx)
    return replace(
        analysis,
        landmarks=pts,
        passes=passes,
        measurements=measurements,
        context=ctx,
        manual=frozenset(manual),
        findings=(),
    )


# -- helpers -------------------------------------------------------------------------------------


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


def _bbox_area(b: tuple[float, float, float, float]) -> float:
    return max(b[2] - b[0], 1.0) * max(b[3] - b[1], 1.0)


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (_bbox_area(a) + _bbox_area(b) - inter)


def _choose_client(
    candidates: list[RawPose], w: int, h: int, opts: AnalysisOptions, warnings: list[str]
) -> RawPose:
    if not candidates:
        raise NoPersonError("No person was found in the photo.")
    people: list[RawPose] = []
    for c in candidates:  # the model may report one person twice
        if all(_iou(c.bbox(), p.bbox()) < 0.5 for p in people):
            people.append(c)

    def score(p: RawPose) -> float:
        x0, y0, x1, y1 = p.bbox()
        cx, cy = (x0 + x1) / 2 / w - 0.5, (y0 + y1) / 2 / h - 0.5
        return _bbox_area(p.bbox()) * (1.0 - min(math.hypot(cx, cy), 0.7))

    people.sort(key=score, reverse=True)
    client = people[0]
    if len(people) > 1:
        ratio = _bbox_area(people[1].bbox()) / _bbox_area(client.bbox())
        if ratio >= opts.ambiguous_area_ratio:
            raise MultiplePeopleError(
                f"{len(people)} people of similar size are in the photo, so it is not clear who "
                "the client is."
            )
        warnings.append(
            f"{len(people) - 1} other person(s) detected in the background; the largest, most "
            "central person was analysed."
        )
    return client


def _crop_transform(
    bbox: tuple[float, float, float, float], aug: Augmentation, out_h: int, level_deg: float = 0.0
) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine map (2x3) from working-copy pixels to the augmented canonical crop, and its size."""
    x0, y0, x1, y1 = bbox
    bh = max(y1 - y0, 1.0)
    bw = max(x1 - x0, 1.0)
    side_h = bh * (1.0 + 2.0 * aug.margin)
    side_w = max(bw + 2.0 * aug.margin * bh, side_h * 0.5)
    s = out_h / side_h
    out_w = round(side_w * s)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    # translate centre to origin, scale, rotate clockwise on screen, mirror, move to crop centre
    r = math.radians(aug.rotate_deg - level_deg)  # undo the camera roll, then augment
    c, sn = math.cos(r), math.sin(r)
    rot = np.array([[c, -sn], [sn, c]])  # y-down: this turns content clockwise on screen
    a = rot * s
    if aug.mirror:
        a = np.array([[-1.0, 0.0], [0.0, 1.0]]) @ a
    t = np.array([out_w / 2.0, out_h / 2.0]) - a @ np.array([cx, cy])
    return np.hstack([a, t[:, None]]), (out_w, out_h)


def _refine(
    net: PoseModel,
    rgb: np.ndarray,
    bbox: tuple[float, float, float, float],
    augmentations: tuple[Augmentation, ...],
    opts: AnalysisOptions,
    level_deg: float = 0.0,
) -> list[tuple[np.ndarray, bool]]:
    """Run the augmented passes on crops around ``bbox``; return landmark sets mapped back to
    working-copy pixels (mirrored passes have their left/right rows swapped back), each with
    whether its pass was mirrored."""
    results: list[tuple[np.ndarray, bool]] = []
    for aug in augmentations:
        m, (ow, oh) = _crop_transform(bbox, aug, opts.canonical_height, level_deg)
        s = float(np.hypot(m[0, 0], m[1, 0]))
        src = rgb
        m_src = m
        if s < 0.7:
            # shrink only the region the crop reads, with area averaging (avoids aliasing), then
            # apply a mild warp to it
            inv_full = cv2.invertAffineTransform(m)
            corners = np.array([[0, 0, 1], [ow, 0, 1], [0, oh, 1], [ow, oh, 1]], dtype=np.float64)
            xy = corners @ inv_full.T
            h, w = rgb.shape[:2]
            x0 = int(np.clip(np.floor(xy[:, 0].min()) - 2, 0, w - 1))
            x1 = int(np.clip(np.ceil(xy[:, 0].max()) + 2, x0 + 1, w))
            y0 = int(np.clip(np.floor(xy[:, 1].min()) - 2, 0, h - 1))
            y1 = int(np.clip(np.ceil(xy[:, 1].max()) + 2, y0 + 1, h))
            src = cv2.resize(rgb[y0:y1, x0:x1], None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            m_src = m.copy()
            m_src[:, :2] = m[:, :2] / s
            m_src[:, 2] = m[:, 2] + m[:, :2] @ np.array([x0, y0], dtype=np.float64)
        crop = cv2.warpAffine(
            src, m_src, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
            borderValue=(127, 127, 127),
        )
        found = net.detect(crop)
        if not found:
            continue
        inv = cv2.invertAffineTransform(m)
        mapped = []
        for pose in found:
            pts = pose.points.copy()
            xy = np.hstack([pts[:, :2], np.ones((len(pts), 1))]) @ inv.T
            pts[:, :2] = xy
            if aug.mirror:
                pts = pts[MIRROR_PERMUTATION]
            mapped.append(pts)
        best = max(mapped, key=lambda p: _iou(RawPose(p).bbox(), bbox))
        if _iou(RawPose(best).bbox(), bbox) >= 0.3:
            results.append((best, aug.mirror))
    return results


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


def _trimmed_mean(passes: np.ndarray) -> np.ndarray:
    """Per-coordinate mean after dropping the lowest and highest value (with 5+ passes): as robust
    to one wild pass as a median, and steadier than a median on a handful of values."""
    if len(passes) < 5:
        return np.asarray(np.median(passes, axis=0))
    ordered = np.sort(passes, axis=0)
    return np.asarray(ordered[1:-1].mean(axis=0))


def _pair_mirrored(passes: np.ndarray, mirrored: list[bool]) -> np.ndarray:
    """Average each plain pass with a mirrored one.

    The model has a handedness bias: on a mirrored photo it places a joint a little differently
    (up to ~3° on a hip line), so plain and mirrored passes form two clusters and a plain median
    jumps between them. A plain+mirrored pair cancels the bias; the pairs are the passes that the
    consensus (median) and the spread (uncertainty) are computed from.
    """
    plain = [p for p, m in zip(passes, mirrored, strict=True) if not m]
    mirror = [p for p, m in zip(passes, mirrored, strict=True) if m]
    if not plain or not mirror:
        return passes
    return np.stack([(a + b) / 2.0 for a, b in zip(plain, mirror, strict=False)])


def _check_framing(anat: np.ndarray, photo: Photo, opts: AnalysisOptions, warnings: list[str]) -> None:
    """Warn when the client is small in the frame (far away, or a photo of a printed photo)."""
    visible = anat[anat[:, 2] >= opts.min_visibility]
    if len(visible) < 4:
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


def _view_warnings(
    rgb: np.ndarray,
    model_pts: np.ndarray,
    agreement: float,
    view: View,
    opts: AnalysisOptions,
    warnings: list[str],
) -> None:
    """Check the declared view against a face detector and the model's own left/right reading.

    ``model_pts`` are working-copy pixels with the model's labels; ``agreement`` < 0 means the
    model's labels read the photo the other way round."""
    sw = float(np.hypot(*(model_pts[L.LEFT_SHOULDER, :2] - model_pts[L.RIGHT_SHOULDER, :2])))
    judgeable, face = find_faces(rgb, head_box(model_pts[list(FACE_LANDMARKS), :2], sw))
    if view is View.POSTERIOR and face:
        warnings.append(
            "A face is visible, but the photo was declared a posterior (back) view: check the view, "
            "or left and right will be swapped."
        )
    elif view is View.ANTERIOR and judgeable and not face and agreement < 0:
        warnings.append(
            "No face is visible and the body reads as seen from behind, but the photo was declared "
            "an anterior (front) view: if this is a back view, choose posterior, or left and right "
            "will be swapped."
        )
    elif agreement < 0 and view is View.POSTERIOR:
        warnings.append(
            "The pose model read this photo as a front view while it was declared posterior; sides "
            "were assigned from the declared view. Check that the view is right."
        )


def _level(
    photo: Photo, mask: np.ndarray | None, opts: AnalysisOptions, warnings: list[str]
) -> dict[str, Any]:
    if opts.camera_roll_deg is not None:
        return {
            "roll_deg": float(opts.camera_roll_deg),
            "roll_sd_deg": 0.0,
            "reference": "manual",
            "description": f"camera roll set by hand to {opts.camera_roll_deg:+.1f}°",
        }
    if opts.auto_level:
        est = estimate_roll(photo.rgb, mask)
        if est.confident and est.roll_deg is not None:
            return {
                "roll_deg": float(est.roll_deg),
                "roll_sd_deg": float(est.roll_sd_deg or 0.0),
                "reference": "scene verticals",
                "confidence": round(float(est.confidence), 2),
                "description": (
                    f"measured against true vertical from {est.n_lines} scene lines "
                    f"(camera roll {est.roll_deg:+.1f}°)"
                ),
            }
    return {
        "roll_deg": 0.0,
        "roll_sd_deg": 0.0,
        "reference": "photo edges",
        "description": "no level reference found: measured against the photo's edges",
    }


def _scale(
    photo: Photo,
    mask: np.ndarray | None,
    anat: np.ndarray,
    opts: AnalysisOptions,
    warnings: list[str],
) -> dict[str, Any] | None:
    if opts.stature_cm is None:
        return None
    s = photo.scale
    heels = [anat[lm] for lm in (L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_ANKLE, L.RIGHT_ANKLE)]
    if min(p[2] for p in heels[:2]) < opts.min_visibility or max(p[1] for p in heels) > photo.height:
        warnings.append("The feet are not clearly visible, so centimetres could not be derived.")
        return None
    heel_y = float(max(anat[L.LEFT_HEEL, 1], anat[L.RIGHT_HEEL, 1])) * s
    eye_y = float(min(anat[L.LEFT_EYE, 1], anat[L.RIGHT_EYE, 1]))
    mouth_y = float(max(anat[L.MOUTH_LEFT, 1], anat[L.MOUTH_RIGHT, 1]))
    # head top is roughly 2.3 eye-to-mouth distances above the eyes (adult head proportions)
    fallback = (eye_y - 2.3 * max(mouth_y - eye_y, 1.0)) * s
    try:
        est = scale_from_stature(
            mask, heel_y, fallback, float(opts.stature_cm), photo.rgb.shape[0]
        )
    except ValueError as exc:
        from posture.errors import InvalidOptionError

        raise InvalidOptionError(str(exc), "Give the client's height in cm (50-250).") from None
    cm_per_px = est.cm_per_px * s  # working px -> full-size px
    return {
        "cm_per_px": cm_per_px,
        "stature_cm": float(opts.stature_cm),
        "pixel_height": est.pixel_height / s,
        "relative_sd": est.relative_uncertainty / 1.96,
        "method": est.method,
    }
