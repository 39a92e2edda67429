"""Photo display helpers: how wide a photo is shown, and the resized copy the browser receives.

Pure numpy/OpenCV (RGB in, RGB out), tested without Streamlit.
"""

from __future__ import annotations

import cv2
import numpy as np

# the largest photo shown next to the measurement cards on a laptop screen (CSS px)
MAX_DISPLAY_HEIGHT = 640
MAX_DISPLAY_WIDTH = 600


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
