"""Test-time augmentation: more model passes on a canonical crop of the client, and their consensus.

One job: given the pose model, the working copy of the photo and the client's box, run the augmented
passes (mirror, crop margin, small rotations) on a crop of fixed height turned level by the camera
roll, map every pass back to working-copy pixels, pair each plain pass with a mirrored twin, and
reduce the pairs to one landmark set with a per-coordinate trimmed mean.

Its place in the layers: called by ``posture.analysis`` (the orchestration); imports ``posture.pose``
(the model and its landmark table) and ``posture.geometry``; never findings, report, store, cli or ui.

Conventions: RGB uint8 in, pixels of the working copy, x right, y DOWN; a rotation is in degrees,
clockwise on screen (the camera-roll convention of ``posture.level``). Landmark rows keep the MODEL's
labels here (mirrored passes have their left/right rows swapped back); anatomical sides are assigned
afterwards by ``posture.sides``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from posture.geometry import Box, box_iou
from posture.pose import MIRROR_PERMUTATION, PoseModel, RawPose

__all__ = [
    "DEFAULT_AUGMENTATIONS",
    "MAX_WAIST_BEND_DEG",
    "SIDE_AUGMENTATIONS",
    "WAIST_ABOVE_HIPS",
    "WAIST_BAND",
    "Augmentation",
    "BodyTurn",
    "crop_transform",
    "pair_mirrored",
    "refine_passes",
    "trimmed_mean",
    "turned_passes",
    "waist_pivot",
]

# A crop is never narrower than this fraction of its height: a thin standing body still gets room
# for its arms, and the model's input is never a sliver.
MIN_CROP_ASPECT = 0.5
# Below this crop scale the crop shrinks the photo: the region it reads is first downscaled with area
# averaging (no aliasing), and only a mild warp is left to cv2.warpAffine.
AREA_RESAMPLE_BELOW_SCALE = 0.7
# Margin (working-copy pixels) around the region a shrinking crop reads, so its bilinear warp has the
# neighbours of the edge pixels.
AREA_RESAMPLE_PAD_PX = 2
# Grey level outside the photo in a crop (mid grey: neither a dark nor a bright edge for the model).
CROP_BORDER_GREY = 127
# A pass counts only when the person it found overlaps the client's box at least this much
# (intersection over union): anything less is another person or a misdetection.
MIN_PASS_IOU = 0.3
# With at least this many passes the consensus drops the lowest and highest value per coordinate;
# below it, a trimmed mean would drop too large a share, and the median is used.
MIN_PASSES_TO_TRIM = 5


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

# A side view is not straightened (its lines are sagittal), so it gets its passes as more distinct
# augmentations instead: the default twelve and twelve more (other margins, rotations to ±5°). The
# ear-shoulder line is short (a neck's length), and its angle needs the extra passes to be steady.
SIDE_AUGMENTATIONS: tuple[Augmentation, ...] = (
    *DEFAULT_AUGMENTATIONS,
    Augmentation(False, 0.18, 1.0),
    Augmentation(True, 0.35, -1.0),
    Augmentation(False, 0.35, 3.0),
    Augmentation(True, 0.18, -3.0),
    Augmentation(False, 0.22, -5.0),
    Augmentation(True, 0.28, 5.0),
    Augmentation(False, 0.28, 5.0),
    Augmentation(True, 0.22, -5.0),
    Augmentation(False, 0.32, -1.0),
    Augmentation(True, 0.32, 1.0),
    Augmentation(False, 0.18, -3.0),
    Augmentation(True, 0.35, 3.0),
)


def crop_transform(
    bbox: Box, aug: Augmentation, out_h: int, level_deg: float = 0.0
) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine map (2x3) from working-copy pixels to the augmented canonical crop, and its size."""
    x0, y0, x1, y1 = bbox
    bh = max(y1 - y0, 1.0)
    bw = max(x1 - x0, 1.0)
    side_h = bh * (1.0 + 2.0 * aug.margin)
    side_w = max(bw + 2.0 * aug.margin * bh, side_h * MIN_CROP_ASPECT)
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


def refine_passes(
    net: PoseModel,
    rgb: np.ndarray,
    bbox: Box,
    augmentations: tuple[Augmentation, ...],
    canonical_height: int,
    level_deg: float = 0.0,
) -> list[tuple[np.ndarray, bool]]:
    """Run the augmented passes on crops ``canonical_height`` px tall around ``bbox``; return landmark
    sets mapped back to working-copy pixels (mirrored passes have their left/right rows swapped back),
    each with whether its pass was mirrored. A pass that finds nobody overlapping ``bbox`` is
    dropped."""
    results: list[tuple[np.ndarray, bool]] = []
    pad = AREA_RESAMPLE_PAD_PX
    jobs: list[tuple[Augmentation, np.ndarray, np.ndarray]] = []  # (augmentation, map, crop)
    for aug in augmentations:
        m, (ow, oh) = crop_transform(bbox, aug, canonical_height, level_deg)
        s = float(np.hypot(m[0, 0], m[1, 0]))
        src = rgb
        m_src = m
        if s < AREA_RESAMPLE_BELOW_SCALE:
            # shrink only the region the crop reads, with area averaging (avoids aliasing), then
            # apply a mild warp to it
            inv_full = cv2.invertAffineTransform(m)
            corners = np.array([[0, 0, 1], [ow, 0, 1], [0, oh, 1], [ow, oh, 1]], dtype=np.float64)
            xy = corners @ inv_full.T
            h, w = rgb.shape[:2]
            x0 = int(np.clip(np.floor(xy[:, 0].min()) - pad, 0, w - 1))
            x1 = int(np.clip(np.ceil(xy[:, 0].max()) + pad, x0 + 1, w))
            y0 = int(np.clip(np.floor(xy[:, 1].min()) - pad, 0, h - 1))
            y1 = int(np.clip(np.ceil(xy[:, 1].max()) + pad, y0 + 1, h))
            src = cv2.resize(rgb[y0:y1, x0:x1], None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            m_src = m.copy()
            m_src[:, :2] = m[:, :2] / s
            m_src[:, 2] = m[:, 2] + m[:, :2] @ np.array([x0, y0], dtype=np.float64)
        crop = cv2.warpAffine(
            src, m_src, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
            borderValue=(CROP_BORDER_GREY, CROP_BORDER_GREY, CROP_BORDER_GREY),
        )
        jobs.append((aug, m, crop))
    # the passes, spread over the model's landmarkers (the same results as one after the other)
    for (aug, m, _crop), found in zip(jobs, net.detect_many([c for _a, _m, c in jobs]), strict=True):
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
        ious = [box_iou(RawPose(p).bbox(level_deg=level_deg), bbox) for p in mapped]
        best = int(np.argmax(ious))
        if ious[best] >= MIN_PASS_IOU:
            results.append((mapped[best], aug.mirror))
    return results


def pair_mirrored(passes: np.ndarray, mirrored: list[bool]) -> np.ndarray:
    """Average each plain pass with a mirrored one.

    The model has a handedness bias: on a mirrored photo it places a joint a little differently
    (up to ~3° on a hip line), so plain and mirrored passes form two clusters and a consensus over
    single passes jumps between them. A plain+mirrored pair cancels the bias; the pairs are the
    passes that the consensus (:func:`trimmed_mean`) and the spread (uncertainty) are computed from.
    """
    plain = [p for p, m in zip(passes, mirrored, strict=True) if not m]
    mirror = [p for p, m in zip(passes, mirrored, strict=True) if m]
    if not plain or not mirror:
        return passes
    return np.stack([(a + b) / 2.0 for a, b in zip(plain, mirror, strict=False)])


def trimmed_mean(passes: np.ndarray) -> np.ndarray:
    """Per-coordinate mean after dropping the lowest and highest value (with
    :data:`MIN_PASSES_TO_TRIM`+ passes; the median with fewer): as robust to one wild pass as a
    median, and steadier than a median on a handful of values."""
    if len(passes) < MIN_PASSES_TO_TRIM:
        return np.asarray(np.median(passes, axis=0))
    ordered = np.sort(passes, axis=0)
    return np.asarray(ordered[1:-1].mean(axis=0))


# -- each line read from its own region --------------------------------------------------------------
#
# The model places every joint with the whole body as context: turn only the trunk of a photo and the
# hip line follows it (about +0.3° per degree), turn only the pelvis and the shoulder line follows
# (+0.1 to +0.2), and a line seen tilted reads only 0.6-0.9 of its tilt (benchmarks/validity.py). So
# the model is shown a neutral body instead: the region above the waist is turned so that the
# shoulder line as measured so far is level, the region below so that the hip line is level, and
# the passes read only the small residual tilts, where neither the pull of the other region nor the
# pull toward level has anything to act on. The turns are exact and known, so every landmark is
# turned back before it is used. On a straightened body the model still reads only part of a
# residual tilt, so plain iteration closes the gap slowly (about half of it per round); each round
# therefore turns by the fixed point estimated from the rounds so far, and crops the body as found
# straightened (``posture.analysis``: five rounds of 12 passes).

# The waist row about which the body is straightened: this many torso lengths above the hip
# midpoint, on the trunk axis (between the lowest ribs and the iliac crests).
WAIST_ABOVE_HIPS = 0.4
# The turn ramps smoothly from the upper region's angle to the lower region's across a band this
# many torso lengths tall, centred on the waist row: the waist bends instead of tearing.
WAIST_BAND = 0.15
# The two regions are never bent against each other by more than this at the waist: a larger bend
# no longer looks like a body. It was 6°, which left real photos half straightened: the model's own
# lines differ by up to ~19° on the shared photos (hands in pockets, a raised arm), and with the
# bend capped the hip line of a pelvis turn read 0.75-0.88 of it; with the crop re-framed on the
# straightened body and the fixed point estimated (``posture.analysis``), such bends converge. The
# turn both regions share (a leaning body, an unknown camera roll) is rigid and not limited.
MAX_WAIST_BEND_DEG = 30.0
# The straightened image is computed only in a window around the client's box (working-copy pixels
# beyond the widest crop margin), this many box heights on every side.
TURN_WINDOW_MARGIN = 0.5


@dataclass(frozen=True)
class BodyTurn:
    """A turn of the body about the waist: the region above the waist row turned clockwise on screen
    by ``upper_cw_deg``, the region below by ``lower_cw_deg``, both about ``pivot`` (working-copy
    pixels, y down), the angle ramping with a smoothstep across ``band_px``. Rows are measured along
    true vertical: ``level_deg`` is the camera roll (clockwise on screen), as in :func:`crop_transform`.
    """

    pivot: tuple[float, float]
    upper_cw_deg: float
    lower_cw_deg: float
    band_px: float
    level_deg: float = 0.0

    def _band_fraction(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """How far into the waist band (0 above it, 1 below) each point lies, from its offset from the
        pivot; rows are measured along true vertical."""
        r = math.radians(self.level_deg)
        v = -dx * math.sin(r) + dy * math.cos(r)  # height below the waist row, along true vertical
        return np.clip((v + self.band_px / 2.0) / max(self.band_px, 1.0), 0.0, 1.0)

    def _angle_at(self, t: np.ndarray) -> np.ndarray:
        """The turn (radians, clockwise on screen) at band fraction ``t`` (a smoothstep ramp)."""
        lower = t * t * (3.0 - 2.0 * t)
        return np.asarray(np.radians(self.upper_cw_deg + (self.lower_cw_deg - self.upper_cw_deg) * lower))

    def angles(self, xy: np.ndarray) -> np.ndarray:
        """The turn (radians, clockwise on screen) at each point (N, 2) of the TURNED image."""
        return self._angle_at(self._band_fraction(xy[:, 0] - self.pivot[0], xy[:, 1] - self.pivot[1]))

    def source_of(self, xy: np.ndarray) -> np.ndarray:
        """Where each point (N, 2) of the turned image comes from in the original (the backward map;
        it turns a landmark found on the turned image back onto the photo, exactly)."""
        ang = self.angles(xy)
        c, s = np.cos(ang), np.sin(ang)
        dx, dy = xy[:, 0] - self.pivot[0], xy[:, 1] - self.pivot[1]
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = self.pivot[0] + c * dx + s * dy  # R(-angle): y-down, clockwise turned back
        out[:, 1] = self.pivot[1] - s * dx + c * dy
        return out

    def apply(self, rgb: np.ndarray, window: Box) -> np.ndarray:
        """The photo with the body turned, inside ``window`` (x0, y0, x1, y1, working-copy pixels);
        outside it the photo is unchanged. Every output pixel samples the photo (reflected at its
        edges), so the background bends with the body and no hole or black wedge appears."""
        h, w = rgb.shape[:2]
        x0, y0 = max(int(window[0]), 0), max(int(window[1]), 0)
        x1, y1 = min(math.ceil(window[2]), w), min(math.ceil(window[3]), h)
        out = rgb.copy()
        if x1 <= x0 or y1 <= y0:
            return out
        map_x, map_y = self.source_map(x0, y0, x1, y1)
        out[y0:y1, x0:x1] = cv2.remap(rgb, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REFLECT_101)
        return out

    def source_map(self, x0: int, y0: int, x1: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`source_of` for every pixel of the rows y0..y1-1 and columns x0..x1-1 (the remap's
        two float32 maps), the same numbers computed for a whole window at once: the turn is constant
        above and below the waist band, so the trigonometry runs only inside the band (on a 2048 px
        photo this took ~1 s per straightening round pixel by pixel)."""
        dx = (np.arange(x0, x1, dtype=np.float64) - self.pivot[0])[None, :]
        dy = (np.arange(y0, y1, dtype=np.float64) - self.pivot[1])[:, None]
        t = self._band_fraction(dx, dy)  # broadcast over the window
        ramp = (t > 0.0) & (t < 1.0)
        above, below = (float(a) for a in self._angle_at(np.array([0.0, 1.0])))
        under = t >= 1.0
        c = np.where(under, math.cos(below), math.cos(above))
        s = np.where(under, math.sin(below), math.sin(above))
        inside = self._angle_at(t[ramp])
        c[ramp] = np.cos(inside)
        s[ramp] = np.sin(inside)
        map_x = (self.pivot[0] + c * dx + s * dy).astype(np.float32)
        map_y = (self.pivot[1] - s * dx + c * dy).astype(np.float32)
        return map_x, map_y


def waist_pivot(points: np.ndarray, shoulders: tuple[int, int], hips: tuple[int, int],
                above: float = WAIST_ABOVE_HIPS) -> tuple[tuple[float, float], float]:
    """The waist centre (``above`` torso lengths above the hip midpoint on the trunk axis, default
    :data:`WAIST_ABOVE_HIPS`) and the torso length, from landmark rows ``shoulders`` and ``hips`` of
    ``points``."""
    sh = (points[shoulders[0], :2] + points[shoulders[1], :2]) / 2.0
    hp = (points[hips[0], :2] + points[hips[1], :2]) / 2.0
    p = hp + above * (sh - hp)
    return (float(p[0]), float(p[1])), float(np.hypot(*(sh - hp)))


def turned_passes(
    net: PoseModel,
    rgb: np.ndarray,
    bbox: Box,
    augmentations: tuple[Augmentation, ...],
    canonical_height: int,
    turn: BodyTurn,
    level_deg: float = 0.0,
) -> tuple[list[tuple[np.ndarray, bool]], Box | None]:
    """:func:`refine_passes` on the photo with the body turned by ``turn``; every landmark is turned
    back onto the photo, so the result is in working-copy pixels of the untouched photo. Also returns
    the median box of the client as found on the TURNED photo (None when no pass found the client):
    the crop of the next round on a similarly turned photo, which frames the straightened body and
    not the bent one (a bent trunk widens and shifts the box, and the crop's frame moves the lines)."""
    x0, y0, x1, y1 = bbox
    pad = TURN_WINDOW_MARGIN * max(y1 - y0, x1 - x0)
    turned = turn.apply(rgb, (x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    found = refine_passes(net, turned, bbox, augmentations, canonical_height, level_deg)
    out = []
    for pts, mirrored in found:
        back = pts.copy()
        back[:, :2] = turn.source_of(pts[:, :2])
        out.append((back, mirrored))
    if not found:
        return out, None
    boxes = np.array([RawPose(p).bbox(level_deg=level_deg) for p, _m in found])
    med = np.median(boxes, axis=0)
    return out, (float(med[0]), float(med[1]), float(med[2]), float(med[3]))
