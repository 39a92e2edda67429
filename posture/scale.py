"""Image scale from the client's stature: centimetres per pixel at the person's distance.

One job: the person's mask, heel row and a landmark head-top estimate + the stated height ->
:class:`ScaleEstimate`. Its place in the layers: below ``posture.analysis`` (which turns the estimate
into the Analysis' ``scale``) and ``posture.metrics`` (which reports lengths in cm with it), beside
``posture.level``; it imports only numpy. No I/O, no mediapipe, nothing from findings, report, store,
cli or ui.

Coordinates are photo pixel rows, y DOWN; the mask may be any size (its rows are rescaled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SCALE_METHOD_LANDMARK",
    "SCALE_METHOD_MASK",
    "ScaleEstimate",
    "ScaleOptions",
    "scale_from_stature",
]

SCALE_METHOD_MASK = "segmentation mask top of head to heels"
SCALE_METHOD_LANDMARK = "landmark estimate of head top to heels"


@dataclass(frozen=True)
class ScaleOptions:
    """Thresholds of :func:`scale_from_stature`."""

    # Plausible adult/child standing height range (cm); outside it the number is a typo.
    min_stature_cm: float = 50.0
    max_stature_cm: float = 250.0
    # Mask value above which a pixel is the person.
    mask_threshold: float = 0.5
    # Column band of the person: columns holding at least this fraction of the fullest column's mask
    # pixels (the head-torso-legs axis), so a raised hand or a stray blob does not set the head top.
    band_column_frac: float = 0.5
    # The mask top is trusted only within this fraction of the landmark-based height of the
    # fallback: farther off, the mask has merged with something else (or lost the head).
    max_mask_fallback_disagreement: float = 0.15
    # Relative (1 sigma) uncertainty of cm_per_px with the mask top: mask edge +/-1-2 px, hair volume
    # (~0.5-1 cm), stature self-report (+/-1 cm of 170), heel landmark (+/-0.5%) -> ~2%.
    mask_relative_uncertainty: float = 0.02
    # With the landmark head-top estimate (extrapolated from eyes/ears, ~3-6 cm error) -> ~4%.
    landmark_relative_uncertainty: float = 0.04


@dataclass(frozen=True)
class ScaleEstimate:
    """cm per pixel at the person's distance, from their stated stature.

    cm_per_px: stature_cm / pixel_height. pixel_height: heel_y - top_y (photo pixels). top_y: head top
    row (photo pixels, y down). method: SCALE_METHOD_MASK or SCALE_METHOD_LANDMARK.
    relative_uncertainty: 1-sigma relative error of cm_per_px.
    """

    cm_per_px: float
    pixel_height: float
    top_y: float
    method: str
    relative_uncertainty: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "cm_per_px": float(self.cm_per_px),
            "pixel_height": float(self.pixel_height),
            "top_y": float(self.top_y),
            "method": self.method,
            "relative_uncertainty": float(self.relative_uncertainty),
        }


def _mask_top_y(mask: np.ndarray, image_height: int, heel_y: float, options: ScaleOptions) -> float | None:
    """Topmost person row within the person's column band, in photo pixels; None if unusable."""
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[..., 0]
    if m.ndim != 2 or m.size == 0:
        return None
    row_scale = image_height / float(m.shape[0])
    on = np.asarray(m, dtype=np.float32) > options.mask_threshold
    # Only the body above the heels counts (shadows/reflections below are not the head).
    last_row = int(min(m.shape[0], max(0, math.ceil(heel_y / row_scale))))
    on = on[:last_row]
    if not on.any():
        return None
    counts = on.sum(axis=0)
    band = counts >= options.band_column_frac * counts.max()
    rows = np.flatnonzero(on[:, band].any(axis=1))
    if rows.size == 0:
        return None
    return float(rows[0]) * row_scale


def scale_from_stature(
    person_mask: np.ndarray | None,
    heel_y: float,
    head_top_fallback_y: float,
    stature_cm: float,
    image_height: int,
    options: ScaleOptions = ScaleOptions(),
) -> ScaleEstimate:
    """cm per pixel from the client's stature.

    The head top is the topmost mask row (> ``options.mask_threshold``) in the person's column band if
    ``person_mask`` is given and agrees with ``head_top_fallback_y`` (a landmark estimate), else the
    fallback itself. ``person_mask`` may be any size; its rows are scaled to ``image_height``.
    ``heel_y`` and the returned ``top_y`` are photo pixel rows (y down).

    Raises ValueError for a stature outside [min_stature_cm, max_stature_cm], non-finite or
    non-positive inputs, or a head top that is not above the heels.
    """
    if not math.isfinite(stature_cm) or not (options.min_stature_cm <= stature_cm <= options.max_stature_cm):
        raise ValueError(
            f"stature must be between {options.min_stature_cm:g} and {options.max_stature_cm:g} cm, "
            f"got {stature_cm!r}"
        )
    if int(image_height) <= 0:
        raise ValueError(f"image_height must be positive, got {image_height!r}")
    if not math.isfinite(heel_y):
        raise ValueError(f"heel_y must be a finite pixel row, got {heel_y!r}")
    if not math.isfinite(head_top_fallback_y):
        raise ValueError(f"head_top_fallback_y must be a finite pixel row, got {head_top_fallback_y!r}")
    fallback_height = heel_y - head_top_fallback_y
    if fallback_height <= 0:
        raise ValueError(
            f"the head top (y={head_top_fallback_y:g}) must be above the heels (y={heel_y:g}): "
            "pixel height must be positive"
        )

    top_y = float(head_top_fallback_y)
    method = SCALE_METHOD_LANDMARK
    rel = options.landmark_relative_uncertainty
    if person_mask is not None:
        mask_top = _mask_top_y(person_mask, int(image_height), heel_y, options)
        if mask_top is not None and mask_top < heel_y:
            disagreement = abs(mask_top - head_top_fallback_y) / fallback_height
            if disagreement <= options.max_mask_fallback_disagreement:
                top_y = mask_top
                method = SCALE_METHOD_MASK
                rel = options.mask_relative_uncertainty

    pixel_height = float(heel_y) - top_y
    if pixel_height <= 0:
        raise ValueError(f"pixel height must be positive, got {pixel_height:g}")
    return ScaleEstimate(
        cm_per_px=float(stature_cm) / pixel_height,
        pixel_height=pixel_height,
        top_y=top_y,
        method=method,
        relative_uncertainty=rel,
    )
