"""Camera roll from the photo itself: how far the camera was turned, read off straight scene lines.

One job: an RGB photo (+ the person's mask) -> :class:`RollEstimate`. Its place in the layers: below
``posture.metrics`` and ``posture.analysis`` (which level the landmarks with the roll), beside
``posture.scale``; it imports only numpy and OpenCV. No I/O, no mediapipe, nothing from findings,
report, store, cli or ui.

Conventions
-----------
* ``rgb`` is an RGB ``uint8`` array (H, W, 3). Coordinates are pixels of the photo as the person sees it,
  x to the right, y DOWN.
* ``roll_deg`` is the CLOCKWISE-ON-SCREEN rotation of the scene in the photo, in degrees:

  - a truly horizontal scene line appears at image angle ``atan2(dy, dx) = +roll_deg``;
  - a truly vertical scene line, pointing down, appears with direction ``(-sin r, cos r)``.

  Equivalently, if a level photo's content is rotated clockwise on screen by ``theta`` (with OpenCV:
  ``cv2.getRotationMatrix2D(center, -theta, 1.0)``, since OpenCV's positive angle is counter-clockwise),
  the estimated roll increases by ``theta``. :func:`posture.geometry.level_points` with the same
  ``roll_deg`` undoes it.

How the roll is measured
------------------------
1. The photo is converted to grey and downscaled (``cv2.INTER_AREA``) so its long side is
   ``RollOptions.work_long_side_px``; every length threshold is a fraction of the working image, so the
   result does not depend on the photo's resolution.
2. Straight edges are found with OpenCV's Line Segment Detector (Canny + probabilistic Hough if the
   build has no LSD). Short segments and segments on or near the person (the dilated person mask) are
   dropped: the body is what we measure, it cannot be the level reference.
3. PRIMARY CUE - scene verticals (door frames, wall corners, window frames, table legs): segments within
   ``vertical_window_deg`` of the image vertical. A phone is usually pitched, so true verticals are not
   parallel in the photo but converge to a vertical vanishing point (VP). The VP is found by RANSAC over
   pairwise intersections of the segments' lines in homogeneous coordinates (parallel lines give a VP at
   infinity, which is handled the same way), scored by segment length (MSAC), then refined by weighted
   least squares on the inliers. An inlier is a segment whose direction points at the VP within
   ``inlier_tol_deg``. For a camera whose principal point is the image centre, the direction from the
   image CENTRE toward the vertical VP is the image of "down"; its angle from the image's vertical axis is
   the roll. A naive median of line angles is biased by pitch whenever the verticals are not symmetric
   about the centre; the VP is not. Two gates keep slanted structures out: the VP must lie at least
   ``min_vp_distance`` from the centre (nearer would need a camera pitched ~27 deg or more: receding
   stair rails meet there) and give a roll of at most ``max_roll_deg`` (a rail's parallel edges at
   17 deg are not a phone held 17 deg off level).
4. SECONDARY CUE - scene horizontals (shelves, the floor-wall line), used only when the verticals do not
   give a confident answer. Horizontals also converge (under yaw), and the direction from the centre
   toward their VP equals the horizon direction only if the horizon passes through the centre (no pitch).
   The error this can cause, ``atan(offset / vp_distance)`` for an assumed horizon offset
   ``assumed_horizon_offset``, is added to the uncertainty, so only nearly parallel horizontals (a
   fronto-parallel wall) can give a confident roll, and their confidence is multiplied by
   ``horizontal_confidence_weight``.
5. When no usable straight scene edges are found (plain wall, noise, a smooth gradient, or lines only on
   the person) the result is not confident and says so: measurements are then taken against the photo's
   edges. The estimator never reports a confident roll without straight scene lines.

Confidence: ``confident`` needs every gate of :class:`RollOptions` to pass: at least
``min_inlier_lines`` DISTINCT agreeing scene lines (LSD pieces of one edge and the two edges of one pole
count once), total inlier length >= ``min_inlier_length_frac`` of the image height, inliers carrying at
least ``min_support_frac`` of all near-vertical edge length (the reference must be the dominant
straight structure, not four clutter lines that meet by chance), residual RMS <= ``max_residual_rms_deg``,
``roll_sd_deg`` <= ``max_roll_sd_deg`` and ``confidence`` >= ``min_confidence``. ``confidence`` (0..1) is
the product of saturating factors for distinct line count, inlier length, residual spread and support.

Uncertainty: ``roll_sd_deg`` = sqrt(RMS of the inliers' angular residuals^2 + ``scene_line_sd_deg``^2)
/ sqrt(n), n = effective number of DISTINCT inlier lines (pieces of one edge are not independent),
floored at ``sd_floor_deg`` (LSD endpoint precision and lens distortion make anything tighter
unrealistic). ``scene_line_sd_deg`` models real "verticals" that are not quite vertical. For verticals
the roll and the VP's distance are fitted together (``vp_inverse_distance_sd``, a pitch prior): lines
balanced about the centre give the formula above; lines all on one side leave the VP's distance, and
so the roll, less certain, and the ± says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

__all__ = [
    "NO_REFERENCE_REASON",
    "RollEstimate",
    "RollOptions",
    "estimate_roll",
]

NO_REFERENCE_REASON = "no level reference found: measured against the photo's edges"

Axis = Literal["vertical", "horizontal"]


@dataclass(frozen=True)
class RollOptions:
    """Every threshold of :func:`estimate_roll`. Lengths are fractions of the WORKING image (after
    downscaling) so they are resolution independent."""

    # Long side of the working copy. LSD cost grows with pixel count; at 960 px a 12 MP photo takes
    # ~70 ms, and a 100 px segment still fixes its angle to ~0.3 deg.
    work_long_side_px: int = 960
    # "auto": LSD if this OpenCV build has it, else Canny + HoughLinesP. "lsd" / "hough" force one.
    detector: str = "auto"
    # Segments shorter than this fraction of the working long side are texture (carpet, fabric) and
    # their angle is too imprecise (1 px over 38 px = 1.5 deg) to vote.
    min_segment_frac: float = 0.04
    # Canny thresholds for the Hough fallback (grey levels); 50/150 is OpenCV's classic 1:3 pair.
    canny_low: int = 50
    canny_high: int = 150
    # Hough accumulator votes needed, as a fraction of the minimum segment length.
    hough_vote_frac: float = 0.5
    # Gaps (fraction of working long side) the Hough fallback may bridge inside one segment.
    hough_max_gap_frac: float = 0.005
    # A mask value above this marks the person (MediaPipe's segmentation is a probability).
    mask_threshold: float = 0.5
    # The person mask is grown by this fraction of the working long side: the silhouette edge, hair and
    # loose clothing just outside a soft mask are still the person.
    mask_dilation_frac: float = 0.03
    # Points sampled along each segment to test it against the dilated mask.
    mask_samples_per_segment: int = 16
    # A segment with more than this fraction of its samples on the dilated mask is ignored.
    max_mask_overlap_frac: float = 0.1
    # Candidate verticals: within this angle of the image vertical. Covers roll up to ~10 deg plus the
    # convergence of verticals at the image edges under ordinary phone pitch.
    vertical_window_deg: float = 20.0
    # Candidate horizontals: within this angle of the image horizontal (secondary cue).
    horizontal_window_deg: float = 20.0
    # The largest roll a level reference may give. A phone held more than ~12 deg off level is rare
    # (and plain to see), while slanted straight structures at 13-20 deg pass the windows above: a
    # stair rail's parallel edges read as "verticals" of a 17 deg roll. The candidate windows stay
    # wider, for the convergence of true verticals near the image edges.
    max_roll_deg: float = 12.0
    # A segment is an inlier if its direction points at the VP within this angle: LSD angles of long
    # segments are good to a few tenths of a degree; 1.25 deg leaves room for mild lens distortion.
    inlier_tol_deg: float = 1.25
    # A vertical VP closer to the image centre than this (in working long sides) is not where a
    # posture photo's verticals meet: a phone's main lens has a focal length of ~0.75 long sides
    # (26 mm equivalent), so a VP at 1.5 needs a camera pitched ~27 deg up or down (at 0.5, ~56 deg),
    # while a standing client is photographed with the phone at chest height, pitched a few degrees.
    # Bundles that meet that close are receding lines (stair rails, a shelf seen at an angle) or
    # crossings of unrelated lines; taken as verticals they put the level a few degrees off.
    min_vp_distance: float = 1.5
    # RANSAC hypotheses (segment pairs). All pairs are tried when there are fewer than this.
    max_hypotheses: int = 400
    # Least-squares refinement rounds (refit VP, recompute inliers).
    refine_iterations: int = 3
    # Fixed seed: the same photo always gives the same answer.
    random_seed: int = 0
    # Inlier segments whose lines pass within this distance (fraction of the working long side) of
    # each other at the image centre are one scene line: LSD splits a long edge into pieces and finds
    # both edges of a pole or door-frame moulding; counting them separately overstates the evidence.
    same_line_frac: float = 0.015
    # Confident only with at least this many DISTINCT inlier lines (two lines always meet somewhere;
    # a single object can be tapered or leaning; four independent edges agreeing by chance is
    # unlikely) ...
    min_inlier_lines: int = 4
    # ... whose total length is at least this fraction of the working image height ...
    min_inlier_length_frac: float = 0.5
    # ... whose residual RMS is at most this (scene verticals are straight; furniture at odd angles
    # is not) ...
    max_residual_rms_deg: float = 0.75
    # ... whose roll uncertainty is at most this ...
    max_roll_sd_deg: float = 0.75
    # ... and whose combined confidence reaches this.
    min_confidence: float = 0.3
    # Confidence saturates at this many distinct inlier lines (e.g. two door frames and a wall corner).
    full_confidence_lines: int = 6
    # Confidence saturates when total inlier length reaches this multiple of the image height.
    full_confidence_length_frac: float = 2.0
    # Confident only if the inliers carry at least this fraction of all candidate (near-vertical)
    # segment length: the level reference must be THE dominant straight structure. In random line
    # clutter the best 4-line bundle that happens to meet at a point holds ~30-50%; in the sample
    # room photos (person masked) the true verticals hold 60-85%.
    min_support_frac: float = 0.55
    # Confidence saturates when inliers carry this fraction of the candidate length.
    full_support_frac: float = 0.7
    # Smallest reported uncertainty: LSD endpoint precision and lens distortion.
    sd_floor_deg: float = 0.2
    # How far real "verticals" (furniture legs, frames, lens distortion near the edges) typically
    # deviate from true vertical, independently per scene line. Residuals cannot show it when few
    # lines happen to agree: on the sample office photos two subsets of scene lines disagreed by
    # ~0.6 deg while each agreed internally within 0.3 deg.
    scene_line_sd_deg: float = 0.5
    # How far the camera's pitch may put the vertical VP: the SD of its inverse distance from the
    # image centre (1 / working long sides). That inverse distance is about tan(pitch) / focal
    # length; 0.25 is a phone pitched ~10 deg with a 26 mm-equivalent lens (focal length ~0.72 long
    # sides). A PRIOR, not fitted. The roll is the direction from the centre to the VP; lines spread
    # on both sides of the centre fix the VP's distance by their convergence, but lines all on one
    # side hardly do, and a VP nearer or farther turns that direction: ``roll_sd_deg`` carries this
    # (the profile of the fit in roll and inverse distance, with this prior on the latter). Measured
    # (benchmarks/results_level_turns.txt): the photos whose level moved most when turned are those
    # whose ± this widens most.
    vp_inverse_distance_sd: float = 0.25
    # Use scene horizontals when verticals are not confident.
    use_horizontal_fallback: bool = True
    # Horizontals converge under yaw and mislead under pitch: their confidence is scaled by this.
    horizontal_confidence_weight: float = 0.5
    # Assumed distance of the true horizon from the image centre (working long sides), ~10 deg of
    # phone pitch with a typical 26 mm-equivalent lens; converts a finite horizontal VP into extra
    # uncertainty.
    assumed_horizon_offset: float = 0.15
    # Images whose short side is below this (px) carry no usable line geometry.
    min_image_side_px: int = 32

    def __post_init__(self) -> None:
        if self.detector not in ("auto", "lsd", "hough"):
            raise ValueError(f"detector must be 'auto', 'lsd' or 'hough', got {self.detector!r}")
        if self.work_long_side_px < 64:
            raise ValueError("work_long_side_px must be at least 64")
        if self.max_roll_deg <= 0.0:
            raise ValueError("max_roll_deg must be positive")
        if not 0.0 < self.inlier_tol_deg < self.vertical_window_deg:
            raise ValueError("inlier_tol_deg must be positive and smaller than the angle windows")


@dataclass(frozen=True)
class RollEstimate:
    """Camera roll measured from scene lines (see the module docstring for the sign convention).

    roll_deg: clockwise-on-screen rotation of the scene, or None when nothing could be measured. When
    ``confident`` is False a best guess may still be given for display: do not level with it.
    roll_sd_deg: one-sigma uncertainty of roll_deg (None when roll_deg is None).
    confidence: 0..1 from inlier count, inlier length, residual spread and support.
    confident: True only when every RollOptions gate passed; otherwise measure against the photo edges.
    n_lines: distinct scene lines behind the estimate (collinear pieces and the two edges of one
    pole count once); n_segments: inlier line segments; n_candidates: segments of the chosen
    orientation that were considered (after length and person-mask filtering).
    source: "vertical vanishing point", "horizontal lines" or "none".
    vanishing_point_xy: the VP in photo pixels, None if at (numerical) infinity or not measured.
    reason: plain-words explanation for the report.
    """

    roll_deg: float | None
    roll_sd_deg: float | None
    confidence: float
    confident: bool
    n_lines: int
    n_segments: int
    n_candidates: int
    source: str
    vanishing_point_xy: tuple[float, float] | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "roll_deg": None if self.roll_deg is None else float(self.roll_deg),
            "roll_sd_deg": None if self.roll_sd_deg is None else float(self.roll_sd_deg),
            "confidence": float(self.confidence),
            "confident": bool(self.confident),
            "n_lines": int(self.n_lines),
            "n_segments": int(self.n_segments),
            "n_candidates": int(self.n_candidates),
            "source": self.source,
            "vanishing_point_xy": (
                None
                if self.vanishing_point_xy is None
                else [float(self.vanishing_point_xy[0]), float(self.vanishing_point_xy[1])]
            ),
            "reason": self.reason,
            "unit": "deg",
        }


@dataclass(frozen=True)
class _Segments:
    """Segments in normalised working coordinates: (p - centre) / long side."""

    mid: np.ndarray  # (n, 2)
    dirs: np.ndarray  # (n, 2) unit directions
    lines: np.ndarray  # (n, 3) homogeneous lines, (a, b) unit normal
    length_px: np.ndarray  # (n,) length in working pixels


@dataclass(frozen=True)
class _VPFit:
    vp: np.ndarray  # (3,) homogeneous, unit norm, normalised working coordinates
    roll_deg: float
    inliers: np.ndarray  # bool (n,)
    residuals_deg: np.ndarray  # (n,)
    lengths_px: np.ndarray  # (n,) candidate segment lengths, working pixels
    offsets: np.ndarray  # (n,) signed distance of each candidate's line from the image centre
    n_candidates: int
    candidate_length_px: float


def _to_gray(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[..., :3]
        if arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        return np.asarray(cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY))
    if arr.ndim == 2:
        if arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(arr)
    raise ValueError(f"rgb must be an (H, W, 3) RGB image, got shape {arr.shape}")


def _working_mask(
    person_mask: np.ndarray | None, size_wh: tuple[int, int], options: RollOptions
) -> np.ndarray | None:
    """Person mask resized to the working image, thresholded and dilated; bool (h, w)."""
    if person_mask is None:
        return None
    m = np.asarray(person_mask)
    if m.ndim == 3:
        m = m[..., 0]
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"person_mask must be a 2-D (H, W) array, got shape {np.shape(person_mask)}")
    m32: np.ndarray = m.view(np.uint8) if m.dtype == np.bool_ else m.astype(np.float32, copy=False)
    w, h = size_wh
    if m32.shape != (h, w):
        # Nearest-neighbour when shrinking: ~0.3 ms instead of ~20 ms for a 12 MP float mask, and the
        # dilation below dwarfs its one-working-pixel error.
        shrinking = m32.shape[0] > h or m32.shape[1] > w
        interp = cv2.INTER_NEAREST if shrinking else cv2.INTER_LINEAR
        m32 = np.asarray(cv2.resize(np.ascontiguousarray(m32), (w, h), interpolation=interp))
    person = m32 > options.mask_threshold
    radius = options.mask_dilation_frac * max(w, h)
    if radius <= 0 or not person.any():
        return np.asarray(person)
    # Dilation by a disc of ``radius`` via the distance to the nearest person pixel: O(pixels),
    # where cv2.dilate with a large elliptical kernel costs ~40 ms.
    background = np.where(person, 0, 255).astype(np.uint8)
    dist = cv2.distanceTransform(background, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.asarray(dist <= radius)


def _detect_raw_segments(gray: np.ndarray, options: RollOptions) -> np.ndarray:
    """(n, 4) float64 x1, y1, x2, y2 in working pixels."""
    use_lsd = options.detector in ("auto", "lsd")
    if use_lsd:
        try:
            lsd = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD)
        except (cv2.error, AttributeError):
            if options.detector == "lsd":
                raise
            use_lsd = False
        else:
            found = lsd.detect(gray)[0]
            if found is None:
                return np.zeros((0, 4))
            return np.asarray(found, dtype=np.float64).reshape(-1, 4)
    long_side = max(gray.shape)
    min_len = options.min_segment_frac * long_side
    edges = cv2.Canny(gray, options.canny_low, options.canny_high)
    hough = cv2.HoughLinesP(
        edges,
        rho=1.0,
        theta=math.pi / 720.0,
        threshold=max(1, int(options.hough_vote_frac * min_len)),
        minLineLength=min_len,
        maxLineGap=max(1.0, options.hough_max_gap_frac * long_side),
    )
    if hough is None:
        return np.zeros((0, 4))
    return np.asarray(hough, dtype=np.float64).reshape(-1, 4)


def _filter_segments(
    raw: np.ndarray, mask: np.ndarray | None, size_wh: tuple[int, int], options: RollOptions
) -> np.ndarray:
    w, h = size_wh
    if raw.shape[0] == 0:
        return raw
    d = raw[:, 2:4] - raw[:, 0:2]
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length >= options.min_segment_frac * max(w, h)
    seg: np.ndarray = np.asarray(raw[keep])
    if mask is not None and seg.shape[0] > 0:
        t = np.linspace(0.0, 1.0, options.mask_samples_per_segment)
        xs = seg[:, None, 0] + t[None, :] * (seg[:, None, 2] - seg[:, None, 0])
        ys = seg[:, None, 1] + t[None, :] * (seg[:, None, 3] - seg[:, None, 1])
        xi = np.clip(np.rint(xs).astype(np.intp), 0, w - 1)
        yi = np.clip(np.rint(ys).astype(np.intp), 0, h - 1)
        on_person = mask[yi, xi].mean(axis=1)
        seg = np.asarray(seg[on_person <= options.max_mask_overlap_frac])
    return seg


def _normalise(seg: np.ndarray, size_wh: tuple[int, int]) -> _Segments:
    w, h = size_wh
    scale = float(max(w, h))
    centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    p1 = (seg[:, 0:2] - centre) / scale
    p2 = (seg[:, 2:4] - centre) / scale
    d = p2 - p1
    norm = np.hypot(d[:, 0], d[:, 1])
    dirs = d / norm[:, None]
    h1 = np.column_stack([p1, np.ones(len(p1))])
    h2 = np.column_stack([p2, np.ones(len(p2))])
    lines = np.cross(h1, h2)
    lines = lines / np.hypot(lines[:, 0], lines[:, 1])[:, None]
    return _Segments(mid=(p1 + p2) / 2.0, dirs=dirs, lines=lines, length_px=norm * scale)


def _angle_from_axis_deg(vec: np.ndarray, axis: Axis) -> np.ndarray:
    """Unsigned angle (0..90) between the line direction(s) ``vec`` (..., 2) and the image axis."""
    ax, ay = np.abs(vec[..., 0]), np.abs(vec[..., 1])
    if axis == "vertical":
        return np.asarray(np.degrees(np.arctan2(ax, ay)))
    return np.asarray(np.degrees(np.arctan2(ay, ax)))


def _residuals_deg(vps: np.ndarray, seg: _Segments) -> np.ndarray:
    """Angle (deg) between each segment and the line from its midpoint to each VP: (k, n)."""
    to_vp = vps[:, None, :2] - vps[:, None, 2:3] * seg.mid[None, :, :]
    cross = seg.dirs[None, :, 0] * to_vp[..., 1] - seg.dirs[None, :, 1] * to_vp[..., 0]
    norm = np.hypot(to_vp[..., 0], to_vp[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        sin_r = np.abs(cross) / norm
    sin_r = np.where(norm > 1e-12, np.clip(sin_r, 0.0, 1.0), 1.0)
    return np.asarray(np.degrees(np.arcsin(sin_r)))


def _valid_vps(vps: np.ndarray, axis: Axis, window_deg: float, min_distance: float) -> np.ndarray:
    """VPs lying in the axis direction from the centre (within ``window_deg``: the largest roll
    allowed), far enough away: bool (k,)."""
    direction = vps[:, :2]
    dir_norm = np.hypot(direction[:, 0], direction[:, 1])
    ok = dir_norm > 1e-12
    ok &= _angle_from_axis_deg(direction, axis) <= window_deg
    ok &= dir_norm >= min_distance * np.abs(vps[:, 2])
    return np.asarray(ok)


def _roll_from_vp(vp: np.ndarray, axis: Axis) -> float:
    ux, uy = float(vp[0]), float(vp[1])
    if axis == "vertical":
        if uy < 0:
            ux, uy = -ux, -uy
        return math.degrees(math.atan2(-ux, uy))
    if ux < 0:
        ux, uy = -ux, -uy
    return math.degrees(math.atan2(uy, ux))


def _centre_offsets(seg: _Segments, axis: Axis) -> np.ndarray:
    """Signed distance from the image centre to each segment's line (normalised units), with the
    line direction oriented down (vertical) or right (horizontal) so that signs are comparable."""
    d = seg.dirs.copy()
    flip = d[:, 1] < 0 if axis == "vertical" else d[:, 0] < 0
    d[flip] = -d[flip]
    return np.asarray(d[:, 0] * seg.mid[:, 1] - d[:, 1] * seg.mid[:, 0])


def _count_distinct(offsets: np.ndarray, merge: float) -> int:
    """Number of groups of ``offsets`` separated by gaps larger than ``merge``."""
    if offsets.size == 0:
        return 0
    ordered = np.sort(offsets)
    return 1 + int((np.diff(ordered) > merge).sum())


def _fit_vp(all_seg: _Segments, axis: Axis, options: RollOptions) -> _VPFit | None:
    window = options.vertical_window_deg if axis == "vertical" else options.horizontal_window_deg
    sel = _angle_from_axis_deg(all_seg.dirs, axis) <= window
    n = int(sel.sum())
    if n < 2:
        return None
    seg = _Segments(
        mid=all_seg.mid[sel],
        dirs=all_seg.dirs[sel],
        lines=all_seg.lines[sel],
        length_px=all_seg.length_px[sel],
    )
    weights = seg.length_px
    # A VP near the centre is a crossing of unrelated lines for either orientation.
    min_distance = options.min_vp_distance
    max_roll = min(window, options.max_roll_deg)

    n_pairs = n * (n - 1) // 2
    if n_pairs <= options.max_hypotheses:
        ii, jj = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(options.random_seed)
        p = weights / weights.sum()
        ii = rng.choice(n, size=options.max_hypotheses, p=p)
        jj = rng.choice(n, size=options.max_hypotheses, p=p)
        distinct = ii != jj
        ii, jj = ii[distinct], jj[distinct]
    vps = np.cross(seg.lines[ii], seg.lines[jj])
    vps_norm = np.linalg.norm(vps, axis=1)
    vps = vps[vps_norm > 1e-15] / vps_norm[vps_norm > 1e-15][:, None]
    vps = vps[_valid_vps(vps, axis, max_roll, min_distance)]
    if vps.shape[0] == 0:
        return None

    tol = options.inlier_tol_deg
    res = _residuals_deg(vps, seg)
    score = (weights[None, :] * np.clip(1.0 - (res / tol) ** 2, 0.0, None)).sum(axis=1)
    best_i = int(np.argmax(score))
    best = vps[best_i]
    inliers = res[best_i] < tol

    for _ in range(options.refine_iterations):
        if int(inliers.sum()) < 2:
            break
        lines = seg.lines[inliers]
        w = weights[inliers]
        scatter = (lines * w[:, None]).T @ lines
        _, vecs = np.linalg.eigh(scatter)
        candidate = vecs[:, 0]
        if not _valid_vps(candidate[None, :], axis, max_roll, min_distance)[0]:
            break
        cand_res = _residuals_deg(candidate[None, :], seg)[0]
        cand_in = cand_res < tol
        if int(cand_in.sum()) < int(inliers.sum()) and float(weights[cand_in].sum()) < float(
            weights[inliers].sum()
        ):
            break
        best, inliers = candidate, cand_in
    residuals = _residuals_deg(best[None, :], seg)[0]
    inliers = residuals < tol
    return _VPFit(
        vp=best,
        roll_deg=_roll_from_vp(best, axis),
        inliers=inliers,
        residuals_deg=residuals,
        lengths_px=weights,
        offsets=_centre_offsets(seg, axis),
        n_candidates=n,
        candidate_length_px=float(weights.sum()),
    )


@dataclass(frozen=True)
class _Scored:
    fit: _VPFit
    axis: Axis
    roll_sd_deg: float
    rms_deg: float
    confidence: float
    confident: bool
    inlier_length_px: float
    n_distinct: int
    failed: str


def _score(fit: _VPFit, axis: Axis, work_h: int, options: RollOptions) -> _Scored:
    lengths = fit.lengths_px[fit.inliers]
    res = fit.residuals_deg[fit.inliers]
    n_in = _count_distinct(fit.offsets[fit.inliers], options.same_line_frac)
    inlier_len = float(lengths.sum())
    if n_in > 0 and inlier_len > 0:
        rms = math.sqrt(float((lengths * res**2).sum()) / inlier_len)
        # Pieces of one scene line are not independent: count at most the distinct lines.
        n_eff = min(inlier_len**2 / float((lengths**2).sum()), float(n_in))
    else:
        rms, n_eff = float("inf"), 0.0
    if n_eff > 0:
        line_sd = math.hypot(rms, options.scene_line_sd_deg)
        sd = max(options.sd_floor_deg, (
            _vertical_roll_sd(fit.offsets[fit.inliers], lengths, n_eff, line_sd,
                              options.vp_inverse_distance_sd)
            if axis == "vertical" else line_sd / math.sqrt(n_eff)))
    else:
        sd = float("inf")
    if axis == "horizontal":
        # Direction to a finite horizontal VP equals the horizon only when the horizon crosses the
        # image centre; add the error an assumed pitch offset would cause.
        vp_dist = math.inf if abs(fit.vp[2]) < 1e-15 else float(np.hypot(*fit.vp[:2])) / abs(fit.vp[2])
        pitch_err = math.degrees(math.atan2(options.assumed_horizon_offset, vp_dist))
        sd = math.hypot(sd, pitch_err)

    f_count = min(1.0, n_in / options.full_confidence_lines)
    f_length = min(1.0, inlier_len / (options.full_confidence_length_frac * work_h))
    # Quadratic: real LSD residuals of a few tenths of a degree cost little; near the gate, a lot.
    f_spread = max(0.0, 1.0 - (rms / options.max_residual_rms_deg) ** 2) if math.isfinite(rms) else 0.0
    support = inlier_len / fit.candidate_length_px if fit.candidate_length_px > 0 else 0.0
    f_support = min(1.0, support / options.full_support_frac)
    confidence = f_count * f_length * f_spread * f_support
    if axis == "horizontal":
        confidence *= options.horizontal_confidence_weight
    confidence = float(min(1.0, max(0.0, confidence)))

    failed = ""
    if n_in < options.min_inlier_lines:
        failed = f"only {n_in} distinct agreeing line(s), need {options.min_inlier_lines}"
    elif inlier_len < options.min_inlier_length_frac * work_h:
        failed = "the agreeing lines are too short"
    elif support < options.min_support_frac:
        failed = f"most near-{axis} edges disagree ({support:.0%} agree)"
    elif rms > options.max_residual_rms_deg:
        failed = f"the lines disagree (spread {rms:.2f} deg)"
    elif sd > options.max_roll_sd_deg:
        failed = f"uncertainty too large (+/-{sd:.2f} deg)"
    elif confidence < options.min_confidence:
        failed = f"confidence too low ({confidence:.2f})"
    return _Scored(
        fit=fit,
        axis=axis,
        roll_sd_deg=sd,
        rms_deg=rms,
        confidence=confidence,
        confident=not failed,
        inlier_length_px=inlier_len,
        n_distinct=n_in,
        failed=failed,
    )


def _vertical_roll_sd(offsets: np.ndarray, lengths: np.ndarray, n_eff: float, line_sd_deg: float,
                      inverse_distance_sd: float) -> float:
    """One-sigma roll (deg) from inlier verticals whose lines pass ``offsets`` (normalised units)
    from the image centre, each a noisy reading of the direction to the VP (``line_sd_deg``; the
    length weights count ``n_eff`` lines in all). A line at offset o meets the VP at inverse distance
    q at an angle ~ roll + o * q from the direction to it, so roll and q are fitted together; q has a
    prior of SD ``inverse_distance_sd``. The roll's variance is that of the joint fit: sd/sqrt(n_eff)
    when the offsets are balanced about the centre, more when they all lie on one side."""
    w = lengths / float(lengths.sum()) * n_eff
    sig = math.radians(line_sd_deg)
    design = np.column_stack([np.ones_like(offsets), offsets])
    info = (design * w[:, None]).T @ design / sig**2
    info[1, 1] += 1.0 / inverse_distance_sd**2
    return math.degrees(math.sqrt(float(np.linalg.inv(info)[0, 0])))


def _no_reference(n_candidates: int, detail: str = "") -> RollEstimate:
    reason = NO_REFERENCE_REASON if not detail else f"{NO_REFERENCE_REASON} ({detail})"
    return RollEstimate(
        roll_deg=None,
        roll_sd_deg=None,
        confidence=0.0,
        confident=False,
        n_lines=0,
        n_segments=0,
        n_candidates=n_candidates,
        source="none",
        vanishing_point_xy=None,
        reason=reason,
    )


def estimate_roll(
    rgb: np.ndarray,
    person_mask: np.ndarray | None = None,
    options: RollOptions = RollOptions(),
) -> RollEstimate:
    """Camera roll of ``rgb`` from straight scene lines (see the module docstring).

    ``person_mask`` (any size; resized) marks the person where > ``options.mask_threshold``; lines on
    or near the person are ignored. Never raises for an image without lines: the result is then
    ``confident=False`` with ``reason`` starting with :data:`NO_REFERENCE_REASON`.
    """
    gray = _to_gray(rgb)
    h0, w0 = gray.shape
    if min(h0, w0) < options.min_image_side_px:
        return _no_reference(0, "image too small")
    factor = min(1.0, options.work_long_side_px / float(max(h0, w0)))
    if factor < 1.0:
        size = (max(1, round(w0 * factor)), max(1, round(h0 * factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    h, w = gray.shape
    size_wh = (w, h)
    mask = _working_mask(person_mask, size_wh, options)

    raw = _detect_raw_segments(gray, options)
    filtered = _filter_segments(raw, mask, size_wh, options)
    if filtered.shape[0] == 0:
        return _no_reference(0, "no straight scene edges")
    seg = _normalise(filtered, size_wh)

    scored: list[_Scored] = []
    vfit = _fit_vp(seg, "vertical", options)
    if vfit is not None:
        scored.append(_score(vfit, "vertical", h, options))
    if options.use_horizontal_fallback and not (scored and scored[0].confident):
        hfit = _fit_vp(seg, "horizontal", options)
        if hfit is not None:
            scored.append(_score(hfit, "horizontal", h, options))
    if not scored:
        return _no_reference(int(seg.mid.shape[0]), "no near-vertical or near-horizontal scene edges")

    confident = [s for s in scored if s.confident]
    best = confident[0] if confident else max(scored, key=lambda s: s.confidence)
    n_in = best.n_distinct

    vp = best.fit.vp
    scale = float(max(w, h))
    vp_xy: tuple[float, float] | None = None
    if abs(vp[2]) > 1e-12:
        px = vp[:2] / vp[2] * scale + np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        vp_xy = (float(px[0] / factor), float(px[1] / factor))
    source = "vertical vanishing point" if best.axis == "vertical" else "horizontal lines"
    noun = "vertical" if best.axis == "vertical" else "horizontal"
    if best.confident:
        reason = (
            f"level reference: {n_in} scene {noun} line(s) agree within "
            f"{best.rms_deg:.2f} deg (roll {best.fit.roll_deg:+.2f} +/- {best.roll_sd_deg:.2f} deg)"
        )
    else:
        reason = f"{NO_REFERENCE_REASON} (best {noun} lines: {best.failed})"
    return RollEstimate(
        roll_deg=float(best.fit.roll_deg),
        roll_sd_deg=float(best.roll_sd_deg) if math.isfinite(best.roll_sd_deg) else None,
        confidence=best.confidence,
        confident=best.confident,
        n_lines=n_in,
        n_segments=int(best.fit.inliers.sum()),
        n_candidates=best.fit.n_candidates,
        source=source,
        vanishing_point_xy=vp_xy,
        reason=reason,
    )
