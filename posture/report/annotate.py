"""Drawing an analysis on its photo: ``annotate(photo, analysis) -> RGB array`` (pure).

Draws on a copy of the working copy ``photo.rgb`` (full-size coordinates x ``photo.scale``):

* the body landmarks; points moved by hand (``analysis.manual``) as hollow squares in another colour;
* the shoulder and hip-joint lines, each with a dashed TRUE horizontal through its higher end. A true
  horizontal appears at image angle ``+roll_deg`` (``atan2(dy, dx)``, y down; ``analysis.level``);
* the plumb line: the true vertical through the ankle midpoint;
* the short side of the trunk (when ``side_shortening`` exceeds its uncertainty) as a bracket;
* "R"/"L" labels by the CLIENT's anatomical side.

A side view (``analysis.view.is_side``) is drawn as what it measures instead: the plumb line (the TRUE
vertical through the near-side ankle, i.e. at image angle ``roll_deg`` from the image vertical), the
ear, shoulder, hip and knee of the side the measurements used, each joined to the plumb line by a true
horizontal with its forward offset written beside it (``plumb_line``'s details, positive = toward the
client's front), and the ear-shoulder and shoulder-hip lines. No front-view R/L or tilt lines.

Sizes (line widths, dots, text) are relative to the image size, so a phone photo and a thumbnail
look alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image

from posture.constants import LEVEL_CUTOFF
from posture.findings import counts
from posture.pose import Landmark as L

if TYPE_CHECKING:
    from posture.analysis import Analysis
    from posture.imaging import Photo

Color = tuple[int, int, int]

# landmarks drawn as dots (anatomical sides)
BODY_POINTS: tuple[L, ...] = (
    L.NOSE, L.LEFT_EAR, L.RIGHT_EAR, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW,
    L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE,
    L.RIGHT_ANKLE,
)
SKELETON: tuple[tuple[L, L], ...] = (
    (L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST),
    (L.LEFT_SHOULDER, L.LEFT_HIP), (L.RIGHT_SHOULDER, L.RIGHT_HIP),
    (L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.RIGHT_HIP, L.RIGHT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE),
)


@dataclass(frozen=True)
class AnnotateOptions:
    # Line width as a fraction of the image diagonal (0.3 % gives 2-3 px on a 1000 px photo).
    line_fraction: float = 0.003
    # Landmark dot radius as a fraction of the diagonal.
    dot_fraction: float = 0.005
    # Text height as a fraction of the image height.
    text_fraction: float = 0.032
    # Points below this visibility are drawn faded (they are not trusted by the measurements).
    min_visibility: float = 0.5
    skeleton: Color = (235, 235, 235)
    shoulder: Color = (255, 140, 0)
    hip: Color = (0, 170, 255)
    reference: Color = (255, 255, 255)
    plumb: Color = (255, 60, 200)
    point: Color = (60, 220, 60)
    manual: Color = (255, 230, 0)
    short_side: Color = (255, 60, 60)
    side_line: Color = (255, 140, 0)
    # Extend the true-horizontal reference this far beyond each end (fraction of the line length).
    reference_overhang: float = 0.35


def annotate(photo: Photo, analysis: Analysis, options: AnnotateOptions | None = None) -> np.ndarray:
    """A new RGB uint8 image (working-copy size) with the analysis drawn on it."""
    o = options or AnnotateOptions()
    img = np.ascontiguousarray(photo.rgb.copy())
    h, w = img.shape[:2]
    diag = math.hypot(w, h)
    lw = max(1, round(o.line_fraction * diag))
    dot = max(2, round(o.dot_fraction * diag))
    s = photo.scale
    pts = analysis.landmarks[:, :2] * s
    vis = analysis.landmarks[:, 2]
    roll = math.radians(float(analysis.level.get("roll_deg") or 0.0))
    horiz = np.array([math.cos(roll), math.sin(roll)])  # true horizontal in the image
    vert = np.array([-math.sin(roll), math.cos(roll)])  # true vertical, pointing down
    ms = analysis.measurements

    def p(lm: L) -> np.ndarray:
        return np.asarray(pts[lm], dtype=np.float64)

    def ok(*lms: L) -> bool:
        return all(vis[lm] >= o.min_visibility or lm.name.lower() in analysis.manual for lm in lms)

    # skeleton (thin), under everything else
    for j0, j1 in SKELETON:
        if ok(j0, j1):
            _line(img, p(j0), p(j1), o.skeleton, max(1, lw // 2))

    if analysis.view.is_side:
        _draw_side(img, analysis, pts, vis, horiz, vert, lw, dot, o)
        return img

    # plumb line: true vertical through the ankle midpoint
    if ok(L.LEFT_ANKLE, L.RIGHT_ANKLE) and _available(ms, "pelvic_shift"):
        base = (p(L.LEFT_ANKLE) + p(L.RIGHT_ANKLE)) / 2
        top_y = min(float(pts[:, 1].min()), base[1]) - 0.03 * h
        length = (base[1] - top_y) / max(vert[1], 1e-6)
        _dashed(img, base, base - vert * length, o.plumb, lw)
        hip_mid = (p(L.LEFT_HIP) + p(L.RIGHT_HIP)) / 2
        _line(img, hip_mid, hip_mid + horiz * float(np.dot(base - hip_mid, horiz)), o.plumb, lw)

    # shoulder and hip lines against true horizontal
    for right, left, color, name in (
        (L.RIGHT_SHOULDER, L.LEFT_SHOULDER, o.shoulder, "shoulder_tilt"),
        (L.RIGHT_HIP, L.LEFT_HIP, o.hip, "hip_tilt"),
    ):
        if not ok(right, left):
            continue
        a, b = p(right), p(left)
        # "higher" = smaller coordinate along the true vertical
        hi = a if float(np.dot(a, vert)) <= float(np.dot(b, vert)) else b
        span = float(np.dot(b - a, horiz))
        ext = abs(span) * o.reference_overhang
        lo_end = min(float(np.dot(a - hi, horiz)), float(np.dot(b - hi, horiz))) - ext
        hi_end = max(float(np.dot(a - hi, horiz)), float(np.dot(b - hi, horiz))) + ext
        _dashed(img, hi + horiz * lo_end, hi + horiz * hi_end, o.reference, max(1, lw // 2 + 1))
        _line(img, a, b, color, lw + 1)
        m = ms.get(name)
        if m is not None and m.available and m.value is not None:
            label = "0.0°" if abs(m.value) < LEVEL_CUTOFF else f"{m.value:+.1f}°"
            end = hi + horiz * hi_end  # the reference line's end with the larger image x
            _text(img, label, end + np.array([0.01 * w, 0.0]), color, o.text_fraction * h * 0.8,
                  center=True)

    # short side bracket
    m = ms.get("side_shortening")
    if counts(m) and m is not None and m.value is not None and ok(
        L.RIGHT_SHOULDER, L.LEFT_SHOULDER, L.RIGHT_HIP, L.LEFT_HIP
    ):
        side_r = m.value > 0
        sh, hp = (p(L.RIGHT_SHOULDER), p(L.RIGHT_HIP)) if side_r else (p(L.LEFT_SHOULDER), p(L.LEFT_HIP))
        other = p(L.LEFT_SHOULDER) if side_r else p(L.RIGHT_SHOULDER)
        out_dir = horiz * (1.0 if float(np.dot(sh - other, horiz)) > 0 else -1.0)
        off = out_dir * 0.06 * math.hypot(*(sh - hp))
        tick = out_dir * 0.02 * diag
        a, b = sh + off, hp + off
        _line(img, a, b, o.short_side, lw + 1)
        _line(img, a, a - tick, o.short_side, lw + 1)
        _line(img, b, b - tick, o.short_side, lw + 1)
        mid = (a + b) / 2 + out_dir * 0.01 * w
        _text(img, "short", mid, o.short_side, o.text_fraction * h * 0.7, align_right=out_dir[0] < 0)

    # landmarks: manual ones as hollow squares
    for lm in BODY_POINTS:
        c = p(lm)
        key = lm.name.lower()
        if key in analysis.manual:
            r = dot + lw
            cv2.rectangle(img, _pt(c - r), _pt(c + r), o.manual, max(1, lw), cv2.LINE_AA)
            cv2.circle(img, _pt(c), max(1, dot // 3), o.manual, -1, cv2.LINE_AA)
        elif vis[lm] >= o.min_visibility:
            cv2.circle(img, _pt(c), dot, (0, 0, 0), -1, cv2.LINE_AA)
            cv2.circle(img, _pt(c), max(1, dot - max(1, lw // 2)), o.point, -1, cv2.LINE_AA)

    # R / L labels by the client's anatomical side, outside each shoulder
    if ok(L.RIGHT_SHOULDER, L.LEFT_SHOULDER):
        rs, ls = p(L.RIGHT_SHOULDER), p(L.LEFT_SHOULDER)
        gap = 0.12 * math.hypot(*(rs - ls)) + 0.01 * w
        for c, other_pt, label in ((rs, ls, "R"), (ls, rs, "L")):
            d = horiz * (1.0 if float(np.dot(c - other_pt, horiz)) > 0 else -1.0)
            _text(img, label, c + d * gap - vert * 0.04 * h, (255, 255, 255), o.text_fraction * h,
                  align_right=d[0] < 0, center=True)
    return img


#: the plumb-line offsets drawn in a side view, top to bottom
SIDE_PARTS: tuple[str, ...] = ("ear", "shoulder", "hip", "knee")


def side_used(analysis: Analysis) -> str:
    """The client's side ('left'/'right') whose landmarks the plumb line was measured on."""
    sv = analysis.method.get("side_view") or {}
    used = str((sv.get("sides_used") or {}).get("plumb_line") or "")
    return used if used in ("left", "right") else analysis.view.value


def _draw_side(
    img: np.ndarray,
    analysis: Analysis,
    pts: np.ndarray,
    vis: np.ndarray,
    horiz: np.ndarray,
    vert: np.ndarray,
    lw: int,
    dot: int,
    o: AnnotateOptions,
) -> None:
    """The side view's plumb line, its points and their offsets (see the module docstring)."""
    h, w = img.shape[:2]
    side = side_used(analysis)
    lms = {part: L[f"{side.upper()}_{part.upper()}"] for part in (*SIDE_PARTS, "ankle")}

    def p(lm: L) -> np.ndarray:
        return np.asarray(pts[lm], dtype=np.float64)

    def seen(lm: L) -> bool:
        return bool(vis[lm] >= o.min_visibility or lm.name.lower() in analysis.manual)

    m = analysis.measurements.get("plumb_line")
    ankle = p(lms["ankle"])
    if m is not None and m.available:
        top_y = min(float(pts[:, 1].min()), ankle[1]) - 0.03 * h
        length = (ankle[1] - top_y) / max(vert[1], 1e-6)
        _dashed(img, ankle, ankle - vert * length, o.plumb, lw)
        for part in SIDE_PARTS:
            c = p(lms[part])
            foot = ankle + vert * float(np.dot(c - ankle, vert))  # on the plumb line, same height
            _line(img, c, foot, o.plumb, max(1, lw // 2 + 1))
            q = m.details.get(part)
            if q is not None:
                label = f"{part} {q.value:+.1f} {_ascii_unit(q.unit)}"
                right = float(c[0]) >= float(foot[0])
                at = (c if right else foot) + np.array([0.015 * w, 0.0])
                _text(img, label, at, o.plumb, o.text_fraction * h * 0.6, center=True)
    for a, b in (("ear", "shoulder"), ("shoulder", "hip")):
        if seen(lms[a]) and seen(lms[b]):
            _line(img, p(lms[a]), p(lms[b]), o.side_line, lw + 1)
    for part in (*SIDE_PARTS, "ankle"):
        lm = lms[part]
        c = p(lm)
        if lm.name.lower() in analysis.manual:
            r = dot + lw
            cv2.rectangle(img, _pt(c - r), _pt(c + r), o.manual, max(1, lw), cv2.LINE_AA)
            cv2.circle(img, _pt(c), max(1, dot // 3), o.manual, -1, cv2.LINE_AA)
        else:
            cv2.circle(img, _pt(c), dot, (0, 0, 0), -1, cv2.LINE_AA)
            cv2.circle(img, _pt(c), max(1, dot - max(1, lw // 2)), o.point, -1, cv2.LINE_AA)


def _ascii_unit(unit: str) -> str:
    """A short ASCII unit for the photo (Hershey fonts are ASCII; the table names the % in full)."""
    if unit.startswith("%"):
        return "%"
    return unit if unit.isascii() else unit.encode("ascii", "ignore").decode() or "?"


def save_png(rgb: np.ndarray, path: str | Path) -> Path:
    """Write an RGB array as PNG (no metadata); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(rgb)).save(out, format="PNG")
    return out


# -- drawing helpers ---------------------------------------------------------------------------------


def _available(ms: object, name: str) -> bool:
    m = getattr(ms, "get", lambda _k: None)(name)
    return bool(m is not None and m.available)


def _pt(c: np.ndarray) -> tuple[int, int]:
    return round(float(c[0])), round(float(c[1]))


def _line(img: np.ndarray, a: np.ndarray, b: np.ndarray, color: Color, width: int) -> None:
    cv2.line(img, _pt(a), _pt(b), (0, 0, 0), width + 2, cv2.LINE_AA)
    cv2.line(img, _pt(a), _pt(b), color, width, cv2.LINE_AA)


def _dashed(img: np.ndarray, a: np.ndarray, b: np.ndarray, color: Color, width: int) -> None:
    length = float(np.hypot(*(b - a)))
    if length < 1:
        return
    dash = max(4.0, 0.012 * math.hypot(*img.shape[:2]))
    n = int(length // dash)
    d = (b - a) / length
    for i in range(0, n, 2):
        p0 = a + d * i * dash
        p1 = a + d * min((i + 1) * dash, length)
        cv2.line(img, _pt(p0), _pt(p1), (0, 0, 0), width + 2, cv2.LINE_AA)
        cv2.line(img, _pt(p0), _pt(p1), color, width, cv2.LINE_AA)


def _text(
    img: np.ndarray,
    text: str,
    at: np.ndarray,
    color: Color,
    height_px: float,
    align_right: bool = False,
    center: bool = False,
) -> None:
    """ASCII text on a translucent dark box; the degree sign is drawn as a small circle."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    base_h = cv2.getTextSize("Hg", font, 1.0, 1)[0][1]
    scale = max(0.3, height_px / max(base_h, 1))
    thick = max(1, round(scale * 1.6))
    deg = text.endswith("°")
    body = text.rstrip("°")
    (tw, th), _ = cv2.getTextSize(body, font, scale, thick)
    ring = max(2, round(th * 0.22)) if deg else 0
    total = tw + (3 * ring if deg else 0)
    x, y = float(at[0]), float(at[1])
    if align_right:
        x -= total
    if center:
        y += th / 2
    hh, ww = img.shape[:2]
    x = min(max(x, 2.0), ww - total - 2.0)
    y = min(max(y, th + 2.0), hh - 2.0)
    org = (round(x), round(y))
    # a translucent dark box behind the text keeps it readable on any background
    pad = max(2, round(0.25 * th))
    bx0, by0 = max(round(x) - pad, 0), max(round(y - th) - pad, 0)
    bx1, by1 = min(round(x + total) + pad, ww), min(round(y) + pad + thick, hh)
    if bx1 > bx0 and by1 > by0:
        region = img[by0:by1, bx0:bx1].astype(np.float32)
        img[by0:by1, bx0:bx1] = (region * 0.35).astype(np.uint8)
    cv2.putText(img, body, org, font, scale, color, thick, cv2.LINE_AA)
    if deg:
        c = (round(x + tw + 1.5 * ring), round(y - th + ring))
        cv2.circle(img, c, ring, color, max(1, thick - 1), cv2.LINE_AA)
