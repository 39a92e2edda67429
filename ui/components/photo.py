"""Photo display helpers: how wide a photo is shown, the resized copy the browser receives, the
magnified crop around a landmark (the zoom to correct it in), and the detected people drawn with
their numbers.

Pure numpy/OpenCV (RGB in, RGB out; coordinates in pixels, y down), tested without Streamlit.
"""

from __future__ import annotations

import cv2
import numpy as np

# the largest photo shown next to the measurement cards on a laptop screen (CSS px); the page
# shows it at most this wide and never wider than its column (the browser scales it down). The
# width fits the main area of a tablet held upright with the sidebar open (820 px: 488 px), so
# opening or closing the sidebar never resizes the photo (its click frame keeps the height it got
# when the image loaded: a photo that grew afterwards would be cut at the bottom).
MAX_DISPLAY_HEIGHT = 640
MAX_DISPLAY_WIDTH = 480
# The zoom: a square crop around the chosen landmark shown ZOOM_FACTOR times larger than the whole
# photo is shown, ZOOM_VIEW_PX CSS px wide (less when its column is narrower), at least
# MIN_ZOOM_SIDE_PX photo pixels across (a tiny photo is not magnified beyond one pixel per cell).
ZOOM_FACTOR = 4.0
ZOOM_VIEW_PX = 320
MIN_ZOOM_SIDE_PX = 24
# the cross marking the landmark in the zoom: colour (RGB) and arm length as a share of the view
ZOOM_MARK_RGB = (255, 64, 160)
ZOOM_MARK_ARM = 0.08
# the people picker: box colour (RGB), line width and number size as shares of the photo's height
PEOPLE_RGB = (255, 196, 0)
PEOPLE_LINE = 0.006
PEOPLE_TEXT = 0.0025


def display_width(
    width: int, height: int, max_height: int = MAX_DISPLAY_HEIGHT, max_width: int = MAX_DISPLAY_WIDTH
) -> int:
    """Width (CSS px) at which a photo fits a laptop screen next to the numbers."""
    if width <= 0 or height <= 0:
        return max_width
    return max(1, min(max_width, round(max_height * width / height)))


def resize_for_display(rgb: np.ndarray, width: int) -> np.ndarray:
    """The RGB photo scaled to ``width`` pixels (aspect ratio kept); the same array when it fits."""
    h, w = rgb.shape[:2]
    if w == width:
        return rgb
    new_h = max(1, round(h * width / w))
    interp = cv2.INTER_AREA if width < w else cv2.INTER_CUBIC
    resized: np.ndarray = cv2.resize(rgb, (width, new_h), interpolation=interp)
    return resized


Window = tuple[float, float, float, float]  # (x0, y0, x1, y1), full-size photo pixels


def zoom_window(
    point: tuple[float, float], full_width: int, full_height: int, shown_width: int,
    factor: float = ZOOM_FACTOR, view_px: int = ZOOM_VIEW_PX,
) -> Window:
    """The square of the photo around ``point`` that the zoom shows: ``view_px`` CSS px at
    ``factor`` times the magnification of the whole photo shown ``shown_width`` px wide; kept
    inside the photo (shifted, not cut, near an edge)."""
    scale = shown_width / max(1, full_width)  # CSS px per photo px of the whole photo
    side = max(float(MIN_ZOOM_SIDE_PX), view_px / (factor * scale))
    side = min(side, float(full_width), float(full_height))
    x0 = min(max(point[0] - side / 2, 0.0), full_width - side)
    y0 = min(max(point[1] - side / 2, 0.0), full_height - side)
    return (x0, y0, x0 + side, y0 + side)


def zoom_image(
    rgb: np.ndarray, to_rgb: float, window: Window, point: tuple[float, float],
    view_px: int = ZOOM_VIEW_PX,
) -> np.ndarray:
    """The crop of ``rgb`` (an image ``to_rgb`` times the full-size photo, e.g. the annotated working
    copy) inside ``window``, ``view_px`` pixels square, pixels kept sharp, with a cross at
    ``point`` (full-size pixels)."""
    x0, y0, x1, y1 = (v * to_rgb for v in window)
    m = np.array([[view_px / (x1 - x0), 0.0, -x0 * view_px / (x1 - x0)],
                  [0.0, view_px / (y1 - y0), -y0 * view_px / (y1 - y0)]])
    interp = cv2.INTER_NEAREST if view_px > (x1 - x0) else cv2.INTER_AREA
    out: np.ndarray = cv2.warpAffine(np.ascontiguousarray(rgb), m, (view_px, view_px), flags=interp,
                                     borderMode=cv2.BORDER_REPLICATE)
    px = (point[0] - window[0]) * view_px / (window[2] - window[0])
    py = (point[1] - window[1]) * view_px / (window[3] - window[1])
    arm, gap = max(4, round(ZOOM_MARK_ARM * view_px)), 3
    c = (round(px), round(py))
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        cv2.line(out, (c[0] + dx * gap, c[1] + dy * gap), (c[0] + dx * arm, c[1] + dy * arm),
                 ZOOM_MARK_RGB, 1, cv2.LINE_AA)
    return out


def draw_people(rgb: np.ndarray, boxes: tuple[Window, ...], to_rgb: float = 1.0) -> np.ndarray:
    """A copy of ``rgb`` with each box (full-size px, scaled by ``to_rgb``) drawn and numbered
    1, 2, ... in the given order (left to right)."""
    out = np.ascontiguousarray(rgb).copy()
    h = out.shape[0]
    thick = max(2, round(PEOPLE_LINE * h))
    size = max(0.6, PEOPLE_TEXT * h)
    for i, box in enumerate(boxes):
        x0, y0, x1, y1 = (round(v * to_rgb) for v in box)
        cv2.rectangle(out, (x0, y0), (x1, y1), PEOPLE_RGB, thick)
        label = str(i + 1)  # people count from 1 on screen
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, size, thick)
        ty = max(th + 2 * thick, y0)
        cv2.rectangle(out, (x0, ty - th - 2 * thick), (x0 + tw + 2 * thick, ty + base), PEOPLE_RGB, -1)
        cv2.putText(out, label, (x0 + thick, ty - thick), cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0),
                    thick, cv2.LINE_AA)
    return out
