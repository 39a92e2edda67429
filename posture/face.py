"""Is a face turned toward the camera? OpenCV's bundled Haar cascades, no download.

One job: find (and blur) faces. Used to check the declared view (a face clearly visible in a
"posterior" photo, or none in an "anterior" one) and to blur faces in reports. The pose model's
face visibilities cannot do this: it reports the nose as "visible" on the back of a head.

Its place in the layers: beside ``posture.pose`` at the bottom; it imports only numpy and OpenCV and
is used by ``posture.analysis`` (the view check) and the report layer above (blurring). RGB uint8 in,
pixels x right, y DOWN.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

# The head must span at least this many pixels for a missing face to mean anything.
MIN_HEAD_PX = 40
# Scale the head crop so that it is about this tall before running the cascade.
HEAD_TARGET_PX = 160
# The head box around the face landmarks: half its width is the largest of this fraction of the
# shoulder width, the landmarks' own spread times HEAD_SPREAD_FACTOR, and HEAD_MIN_HALF_PX ...
HEAD_HALF_SHOULDER_FRACTION = 0.45
HEAD_SPREAD_FACTOR = 1.2
HEAD_MIN_HALF_PX = 8.0
# ... and it reaches this many half-widths above the landmarks' centre (the crown and hair) and
# this many below (the chin).
HEAD_ABOVE_HALVES = 1.3
HEAD_BELOW_HALVES = 1.1
# A head box narrower than MIN_HEAD_PX divided by this is too small to judge (a head box is taller
# than wide, so its width gets half the height's minimum).
MIN_HEAD_WIDTH_DIVISOR = 2
# OpenCV's detectMultiScale: the step between the scales searched (1.1, OpenCV's default), the
# neighbouring hits needed to accept a face (4, one more than OpenCV's default of 3: fewer false
# faces in hair or clothing texture), and the smallest face in px of the HEAD_TARGET_PX crop.
CASCADE_SCALE_FACTOR = 1.1
CASCADE_MIN_NEIGHBORS = 4
CASCADE_MIN_FACE_PX = 30
# Blurring: boxes smaller than this (px) are skipped; the Gaussian kernel is a third of the box
# width (made odd), at least BLUR_MIN_KERNEL_PX.
BLUR_MIN_BOX_PX = 2
BLUR_KERNEL_DIVISOR = 3
BLUR_MIN_KERNEL_PX = 3


# A CascadeClassifier is not safe to share between threads (two sessions checking a view at once made
# detectMultiScale raise cv2.error in the app server), so each call borrows a set of its own from a
# free list and gives it back: as many sets as calls ever ran at once, loaded once each. (One set per
# thread reloaded the two XML files on every analysis in the app: Streamlit runs each script run in a
# new thread.)
_free: list[tuple[cv2.CascadeClassifier, ...]] = []
_free_lock = threading.Lock()


@contextmanager
def _cascades() -> Iterator[tuple[cv2.CascadeClassifier, ...]]:
    with _free_lock:
        borrowed = _free.pop() if _free else None
    if borrowed is None:
        borrowed = _load_cascades()
    try:
        yield borrowed
    finally:
        with _free_lock:
            _free.append(borrowed)


def _load_cascades() -> tuple[cv2.CascadeClassifier, ...]:
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
    half = max(
        HEAD_HALF_SHOULDER_FRACTION * shoulder_width,
        float(np.ptp(points_xy[:, 0])) * HEAD_SPREAD_FACTOR,
        HEAD_MIN_HALF_PX,
    )
    return (
        int(cx - half),
        int(cy - HEAD_ABOVE_HALVES * half),
        int(cx + half),
        int(cy + HEAD_BELOW_HALVES * half),
    )


def find_faces(rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[bool, bool]:
    """(judgeable, face_found) for the head in ``box`` of ``rgb``."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    if x1 - x0 < MIN_HEAD_PX // MIN_HEAD_WIDTH_DIVISOR or y1 - y0 < MIN_HEAD_PX:
        return False, False
    crop = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    s = HEAD_TARGET_PX / crop.shape[0]
    crop = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    crop = cv2.equalizeHist(crop)
    with _cascades() as cascades:
        for c in cascades:
            found = c.detectMultiScale(
                crop,
                scaleFactor=CASCADE_SCALE_FACTOR,
                minNeighbors=CASCADE_MIN_NEIGHBORS,
                minSize=(CASCADE_MIN_FACE_PX, CASCADE_MIN_FACE_PX),
            )
            if len(found):
                return True, True
    return True, False


def blur_faces(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A copy of ``rgb`` with each box strongly blurred (for reports shared outside the clinic)."""
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for x0, y0, x1, y1 in boxes:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < BLUR_MIN_BOX_PX or y1 - y0 < BLUR_MIN_BOX_PX:
            continue
        k = max(BLUR_MIN_KERNEL_PX, ((x1 - x0) // BLUR_KERNEL_DIVISOR) | 1)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (k, k), 0)
    return out
