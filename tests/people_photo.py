"""A photo with four people, built at test time from shipped sample photos (sample_images/): four
whole-body front views side by side at one height. Person i (left to right) comes from
:data:`SOURCES`\\[i]; ``x_range(i)`` is its strip of the composite in pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posture.imaging import load_photo

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
# narrow front views: four of them side by side stay a normal photo shape (about 2:1)
SOURCES = ("yogait_tada1.jpg", "yogait_tada4.jpg", "yogait_tada3.jpg", "yogait_tada1.jpg")
HEIGHT = 611  # px, the composite's height (yogait_tada1's own)


def _strips() -> list[np.ndarray]:
    out = []
    for i, name in enumerate(SOURCES):
        rgb = load_photo(SAMPLES / name).rgb
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * HEIGHT / rgb.shape[0]), HEIGHT),
                         interpolation=cv2.INTER_AREA)
        out.append(rgb[:, ::-1] if i == len(SOURCES) - 1 else rgb)  # the last one mirrored
    return out


def four_people_rgb() -> np.ndarray:
    """The composite, RGB uint8."""
    return np.ascontiguousarray(np.concatenate(_strips(), axis=1))


def x_range(i: int) -> tuple[int, int]:
    """Person i's strip of the composite: [x0, x1) in pixels."""
    widths = [s.shape[1] for s in _strips()]
    return sum(widths[:i]), sum(widths[: i + 1])


def write_four_people(path: Path) -> Path:
    """The composite as a JPEG at ``path`` (for an upload)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(four_people_rgb(), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    path.write_bytes(buf.tobytes())
    return path
