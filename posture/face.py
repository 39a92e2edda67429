"""Is a face turned toward the camera? OpenCV's bundled Haar cascades, no download.

Used to check the declared view (a face clearly visible in a "posterior" photo, or none in an
"anterior" one) and to blur faces in reports. The pose model's face visibilities cannot do this: it
reports the nose as "visible" on the back of a head.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

# The head must span at least this many pixels for a missing face to mean anything.
MIN_HEAD_PX = 40
# Scale the head crop so that it is about this tall before running the cascade.
HEAD_TARGET_PX = 160


@functools.cache
def _cascades() -> tuple[cv2.CascadeClassifier, ...]:
    root = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
    out = []
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml"):
        c = cv2.CascadeClassifier(str(root / name))
        if not c.empty():
            out.append(c)
    return tuple(out)


def head_box(points_xy: np.ndarray, shoulder_width: float) -> tuple[int, int, int, int]:
    """A box around the head from face landmark positions (x0, y0, x1, y1)."""
    cx, cy = np.median(points_xy, axis=0)
    half = max(0.45 * shoulder_width, float(np.ptp(points_xy[:, 0])) * 1.2, 8.0)
    return int(cx - half), int(cy - 1.3 * half), int(cx + half), int(cy + 1.1 * half)


def find_faces(rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[bool, bool]:
    """(judgeable, face_found) for the head in ``box`` of ``rgb``."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    if x1 - x0 < MIN_HEAD_PX // 2 or y1 - y0 < MIN_HEAD_PX:
        return False, False
    crop = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    s = HEAD_TARGET_PX / crop.shape[0]
    crop = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    crop = cv2.equalizeHist(crop)
    for c in _cascades():
        found = c.detectMultiScale(crop, scaleFactor=1.1, minNeighbors=4, minSize=(30, 30))
        if len(found):
            return True, True
    return True, False


def blur_faces(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A copy of ``rgb`` with each box strongly blurred (for reports shared outside the clinic)."""
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for x0, y0, x1, y1 in boxes:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        k = max(3, ((x1 - x0) // 3) | 1)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (k, k), 0)
    return out
