"""Assigning the client's anatomical sides.

The pose model labels points "left"/"right" by its own guess of which way the person faces. We do not
trust that blindly: the caller declares the view, and in an anterior (front) view the client's right
must be on the image's left, in a posterior (back) view on the image's right. The torso (shoulders
and hips) decides; when the model's labels disagree with the declared view, every left/right pair is
swapped together (so limbs stay consistent) and the disagreement is reported.

One job: model labels -> the client's anatomical sides. Its place in the layers: just above
``posture.pose`` (whose landmark table it uses); called by ``posture.analysis``; never imports
findings, report, store, cli or ui.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from posture.pose import MIRROR_PERMUTATION
from posture.pose import Landmark as L


class View(StrEnum):
    ANTERIOR = "anterior"
    POSTERIOR = "posterior"
    LEFT = "left"  # side view: the client's left side toward the camera (faces the image's left)
    RIGHT = "right"  # side view: the client's right side toward the camera (faces the image's right)

    @property
    def is_side(self) -> bool:
        """A side (lateral) view, measured by ``posture.sideview``."""
        return self in (View.LEFT, View.RIGHT)

    @property
    def toward_left(self) -> int:
        """Image x direction that points to the client's left (front/back views; in a side view
        the client's left-right axis is the camera's depth axis: +1 is returned and not used)."""
        return -1 if self is View.POSTERIOR else 1

    @classmethod
    def parse(cls, value: str | View) -> View:
        if isinstance(value, View):
            return value
        v = str(value).strip().lower()
        aliases = {"front": "anterior", "back": "posterior", "a": "anterior", "p": "posterior",
                   "l": "left", "r": "right", "left-lateral": "left", "right-lateral": "right"}
        v = aliases.get(v, v)
        try:
            return cls(v)
        except ValueError:
            from posture.errors import InvalidOptionError

            raise InvalidOptionError(
                f"Unknown view {value!r}.",
                "Use --view anterior (front), posterior (back), left or right (side view: the "
                "client's left or right side toward the camera).",
            ) from None


TORSO_PAIRS = ((L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_HIP, L.RIGHT_HIP))
FACE_LANDMARKS = tuple(L(i) for i in range(L.NOSE, L.MOUTH_RIGHT + 1))


@dataclass(frozen=True)
class SideAssignment:
    points: np.ndarray  # anatomical (33, 4)
    swapped: bool  # True when the model's labels were reversed to match the view
    agreement: float  # -1..1: +1 the model's labels fully agree with the declared view


def label_agreement(points: np.ndarray, view: View) -> float:
    """+1 when the model's LEFT points lie toward the client's left for ``view``, -1 opposite."""
    votes = []
    weights = []
    for left, right in TORSO_PAIRS:
        dx = (points[left, 0] - points[right, 0]) * view.toward_left
        w = min(points[left, 2], points[right, 2])
        votes.append(np.sign(dx) * w)
        weights.append(w)
    total = float(sum(weights))
    return float(sum(votes)) / total if total > 0 else 0.0


def assign_sides(model_points: np.ndarray, view: View) -> SideAssignment:
    if view.is_side:  # the torso's left-right order means nothing in a profile: visibility decides
        from posture.sideview import assign_side_view_sides

        side = assign_side_view_sides(model_points, view.value)
        return SideAssignment(side.points, side.swapped, -1.0 if side.swapped else 1.0)
    agreement = label_agreement(model_points, view)
    if agreement < 0:
        return SideAssignment(model_points[MIRROR_PERMUTATION].copy(), True, agreement)
    return SideAssignment(model_points.copy(), False, agreement)
