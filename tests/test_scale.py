"""Tests for posture.scale: cm-per-pixel from the client's stature."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from posture.scale import (
    SCALE_METHOD_LANDMARK,
    SCALE_METHOD_MASK,
    ScaleEstimate,
    scale_from_stature,
)


def _standing_mask(h: int = 1000, w: int = 600, top: int = 100, heel: int = 900) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    cv2.circle(m, (300, top + 60), 60, 1.0, -1)  # head: top row = top
    m[top + 110 : heel, 230:370] = 1.0  # torso and legs
    m[top + 130 : top + 450, 190:230] = 1.0  # arms hanging down
    m[top + 130 : top + 450, 370:410] = 1.0
    return m


def test_scale_from_mask() -> None:
    mask = _standing_mask()
    est = scale_from_stature(
        mask, heel_y=900.0, head_top_fallback_y=110.0, stature_cm=170.0, image_height=1000
    )
    assert isinstance(est, ScaleEstimate)
    assert est.method == SCALE_METHOD_MASK
    assert est.top_y == pytest.approx(100.0, abs=1.0)
    assert est.pixel_height == pytest.approx(800.0, abs=1.0)
    assert est.cm_per_px == pytest.approx(170.0 / 800.0, rel=0.002)
    assert 0.01 <= est.relative_uncertainty <= 0.03
    assert json.loads(json.dumps(est.to_dict()))["method"] == SCALE_METHOD_MASK


def test_scale_mask_at_other_resolution_and_raised_hand() -> None:
    mask = _standing_mask()
    mask[20:300, 415:430] = 1.0  # a raised arm reaching above the head, beside the torso
    half = cv2.resize(mask, (300, 500), interpolation=cv2.INTER_NEAREST)
    est = scale_from_stature(
        half, heel_y=900.0, head_top_fallback_y=110.0, stature_cm=170.0, image_height=1000
    )
    assert est.method == SCALE_METHOD_MASK
    assert est.top_y == pytest.approx(100.0, abs=2.5)
    assert est.cm_per_px == pytest.approx(170.0 / 800.0, rel=0.005)


def test_scale_falls_back_to_landmarks() -> None:
    est = scale_from_stature(
        None, heel_y=900.0, head_top_fallback_y=100.0, stature_cm=160.0, image_height=1000
    )
    assert est.method == SCALE_METHOD_LANDMARK
    assert est.cm_per_px == pytest.approx(0.2)
    assert est.relative_uncertainty > 0.03
    # An empty mask, or one whose top disagrees wildly with the landmarks, is not trusted.
    empty = np.zeros((1000, 600), np.float32)
    assert scale_from_stature(empty, 900.0, 100.0, 160.0, 1000).method == SCALE_METHOD_LANDMARK
    wrong = _standing_mask(top=400)
    assert scale_from_stature(wrong, 900.0, 100.0, 160.0, 1000).method == SCALE_METHOD_LANDMARK


@pytest.mark.parametrize(
    ("heel_y", "top_y", "stature", "height", "match"),
    [
        (900.0, 100.0, 30.0, 1000, "stature"),
        (900.0, 100.0, 300.0, 1000, "stature"),
        (900.0, 100.0, float("nan"), 1000, "stature"),
        (100.0, 900.0, 170.0, 1000, "pixel height"),
        (500.0, 500.0, 170.0, 1000, "pixel height"),
        (900.0, 100.0, 170.0, 0, "image_height"),
        (float("nan"), 100.0, 170.0, 1000, "heel_y"),
        (900.0, float("inf"), 170.0, 1000, "head_top"),
    ],
)
def test_scale_invalid_inputs(heel_y: float, top_y: float, stature: float, height: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        scale_from_stature(None, heel_y, top_y, stature, height)
