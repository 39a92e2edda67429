"""The photo check, before any finding: is this a clinical posture photo?

Posture photos are taken in a neutral stance: the whole body in the frame, arms hanging relaxed at the
sides, feet about hip-width apart and level with each other, the body square to the camera, the
declared view right, and a level reference in the scene (or a known camera roll). A fashion pose, a
client standing on one leg or holding a bag strap still gives numbers, but those numbers describe the
pose, not the client's posture: the findings that interpret them are held back until the therapist
confirms that the pose is the client's own habit (:attr:`Capture.holds_findings`).

Pure geometry on the anatomical landmarks (``(33, 4)`` x, y, visibility, presence; full-size photo
pixels, y down; rows named by :class:`posture.pose.Landmark` with LEFT/RIGHT the client's sides).
Every threshold is a named field of :class:`CaptureOptions`, set from the MediaPipe landmarks of
neutral front photos (the shipped ``sample_images/yogait_tada*.jpg``: elbows bent 5-14°, wrists
14-28° out from the shoulder's vertical, ankles 1.4-1.9 hip-joint widths apart, knees bent <= 4°,
shoulder width 0.65-0.70 of the torso length) with a wide margin, so that only a pose that clearly
departs from the neutral stance fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posture.pose import Landmark as L

SCHEMA_KEYS = ("whole_body", "arms_relaxed", "feet_stance", "facing_camera", "view_matches",
               "camera_level")

#: the checks whose failure means the measured pattern may be the pose, not the posture: findings
#: and exercises wait for the therapist's confirmation
STANCE_KEYS = frozenset({"arms_relaxed", "feet_stance", "facing_camera", "view_matches"})


@dataclass(frozen=True)
class CaptureOptions:
    """Every threshold of the photo check (see the module docstring for where they come from)."""

    # a landmark below this visibility cannot be judged
    min_visibility: float = 0.5
    # a landmark within this fraction of the long side from the border counts as cut off (the model
    # parks invisible points exactly on the border)
    edge_fraction: float = 0.01
    # the top of the head lies at least this many eye-to-mouth distances above MediaPipe's eye
    # points (1.2-1.3 on the shipped front photos, whose hair touches the top edge); a head whose
    # estimated top is above the photo's top edge is cut off
    head_top_eye_mouth: float = 1.2
    # arms: elbow bend (deg between upper arm and forearm) and how far the wrist is out from the
    # shoulder's vertical (deg); a wrist this many torso lengths above the hip joints is raised
    max_elbow_bend_deg: float = 40.0
    max_arm_out_deg: float = 40.0
    max_wrist_above_hip_torso: float = 0.3
    # feet: ankle spread in hip-joint widths (MediaPipe's hip joints sit ~0.4 torso lengths apart,
    # so hip-width feet read ~1.5), one ankle ahead of the other (front/back view: height difference
    # of the ankles in torso lengths), a knee bent (weight on one leg)
    min_feet_spread: float = 0.6
    max_feet_spread: float = 2.8
    max_foot_ahead_torso: float = 0.12
    max_knee_bend_deg: float = 15.0
    # facing: the shoulder width over the torso length of a body square to the camera, and the turn
    # (deg) from which the body counts as turned; the turn is read as acos(width / square width)
    square_shoulder_ratio: float = 0.67
    max_turn_deg: float = 30.0


@dataclass(frozen=True)
class CaptureCheck:
    key: str
    ok: bool
    message: str
    # the figure the check rests on, when there is one (e.g. {"turn_deg": 35.0})
    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # kept at the precision of the JSON, so that a saved check reads back equal
        object.__setattr__(self, "values", {k: round(float(v), 2) for k, v in self.values.items()})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "ok": self.ok, "message": self.message}
        if self.values:
            out["values"] = dict(self.values)
        return out


@dataclass(frozen=True)
class Capture:
    """The photo check: every check, and whether the stance was confirmed by the therapist."""

    checks: tuple[CaptureCheck, ...]
    # the therapist confirmed that the pose is the client's own habit (findings then released)
    confirmed: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[CaptureCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def stance_failed(self) -> tuple[CaptureCheck, ...]:
        return tuple(c for c in self.failed if c.key in STANCE_KEYS)

    @property
    def holds_findings(self) -> bool:
        """True while a stance or view check failed and the therapist has not confirmed the pose."""
        return bool(self.stance_failed) and not self.confirmed

    def hold_reason(self) -> str:
        if not self.holds_findings:
            return ""
        what = "; ".join(c.message for c in self.stance_failed)
        if self.view_only:
            return (f"Findings and exercises are held back: {what} Choose the right view, or confirm "
                    "that the declared view is right, to see them.")
        return (f"Findings and exercises are held back: {what} Confirm that this is how the client "
                "habitually stands to see them.")

    @property
    def view_only(self) -> bool:
        """Only the view check failed among the stance checks (the confirmation then vouches for the
        declared view, not for a habitual pose)."""
        return {c.key for c in self.stance_failed} == {"view_matches"}

    def check(self, key: str) -> CaptureCheck | None:
        return next((c for c in self.checks if c.key == key), None)

    def with_confirmation(self, confirmed: bool) -> Capture:
        return Capture(self.checks, confirmed)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "confirmed": self.confirmed,
                "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Capture:
        checks = tuple(
            CaptureCheck(str(c["key"]), bool(c["ok"]), str(c["message"]),
                         {k: float(v) for k, v in (c.get("values") or {}).items()})
            for c in d.get("checks", ())
        )
        return cls(checks, bool(d.get("confirmed", False)))


# -- the checks ----------------------------------------------------------------------------------


def _xy(pts: np.ndarray, lm: L) -> np.ndarray:
    return np.asarray(pts[lm, :2], dtype=float)


def _seen(pts: np.ndarray, opts: CaptureOptions, *lms: L) -> bool:
    return all(float(pts[lm, 2]) >= opts.min_visibility for lm in lms)


def _mid(pts: np.ndarray, a: L, b: L) -> np.ndarray:
    return np.asarray((_xy(pts, a) + _xy(pts, b)) / 2.0, dtype=float)


def _torso(pts: np.ndarray) -> float:
    return float(np.hypot(*(_mid(pts, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
                            - _mid(pts, L.LEFT_HIP, L.RIGHT_HIP))))


def _bend_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """How far the chain a-b-c departs from straight at b (0 = straight), in degrees."""
    u, v = b - a, c - b
    ang = math.degrees(math.atan2(float(v[1]), float(v[0])) - math.atan2(float(u[1]), float(u[0])))
    return abs((ang + 180.0) % 360.0 - 180.0)


def whole_body(pts: np.ndarray, width: int, height: int, opts: CaptureOptions) -> CaptureCheck:
    """The head top and both feet inside the frame."""
    edge = opts.edge_fraction * max(width, height)
    eyes_y = float(min(pts[L.LEFT_EYE, 1], pts[L.RIGHT_EYE, 1]))
    mouth_y = float((pts[L.MOUTH_LEFT, 1] + pts[L.MOUTH_RIGHT, 1]) / 2.0)
    head_top = eyes_y - opts.head_top_eye_mouth * max(mouth_y - eyes_y, 0.0)
    missing = []
    if head_top < 0 or not _seen(pts, opts, L.NOSE):
        missing.append("the top of the head")
    for side, lms in (("left", (L.LEFT_HEEL, L.LEFT_FOOT_INDEX, L.LEFT_ANKLE)),
                      ("right", (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX, L.RIGHT_ANKLE))):
        inside = all(edge <= float(pts[lm, 0]) <= width - edge and edge <= float(pts[lm, 1]) <= height - edge
                     for lm in lms)
        if not inside or not _seen(pts, opts, lms[2]):
            missing.append(f"the {side} foot")
    if missing:
        return CaptureCheck("whole_body", False,
                            f"{_join(missing).capitalize()} {'is' if len(missing) == 1 else 'are'} "
                            "not in the photo: step back so the whole body, head to feet, is in the "
                            "frame.")
    return CaptureCheck("whole_body", True, "The whole body is in the frame.")


def arms_relaxed(pts: np.ndarray, opts: CaptureOptions) -> CaptureCheck:
    """Arms hanging at the sides: elbows nearly straight, wrists near the thighs, not held out."""
    torso = _torso(pts)
    hip_y = float(_mid(pts, L.LEFT_HIP, L.RIGHT_HIP)[1])
    problems: list[str] = []
    values: dict[str, float] = {}
    for side, (s, e, w) in (("left", (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST)),
                            ("right", (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST))):
        if not _seen(pts, opts, s, e, w):
            continue
        S, E, W = _xy(pts, s), _xy(pts, e), _xy(pts, w)
        bend = _bend_deg(S, E, W)
        out = math.degrees(math.atan2(abs(float(W[0] - S[0])), max(float(W[1] - S[1]), 1e-9)))
        raised = (hip_y - float(W[1])) / torso if torso > 0 else 0.0
        values[f"{side}_elbow_bend_deg"] = bend
        values[f"{side}_arm_out_deg"] = out
        if W[1] <= S[1]:
            problems.append(f"the {side} hand is raised")
        elif out > opts.max_arm_out_deg:
            problems.append(f"the {side} arm is held out from the body ({out:.0f}°)")
        elif bend > opts.max_elbow_bend_deg:
            problems.append(f"the {side} elbow is bent ({bend:.0f}°: a hand on the hip or holding "
                            "something)")
        elif raised > opts.max_wrist_above_hip_torso:
            problems.append(f"the {side} hand is held up in front of the body")
    if not values:
        # neither arm was seen whole: held in front of the body (at work, seen from behind), hidden
        # or out of the frame; arms hanging at the sides are seen beside the trunk in every view
        return CaptureCheck("arms_relaxed", False,
                            "Neither arm can be seen from the shoulder to the wrist (in front of the "
                            "body, hidden or out of the frame): ask the client to let the arms hang "
                            "loosely at the sides, where the camera sees them.")
    if problems:
        return CaptureCheck("arms_relaxed", False,
                            f"The arms are not relaxed ({_join(problems)}): ask the client to let the "
                            "arms hang loosely at the sides, hands empty.", values)
    return CaptureCheck("arms_relaxed", True, "The arms hang relaxed at the sides.", values)


def feet_stance(pts: np.ndarray, toward_left: int, opts: CaptureOptions) -> CaptureCheck:
    """Feet roughly hip-width apart, not crossed, level with each other, both knees straight."""
    if not _seen(pts, opts, L.LEFT_ANKLE, L.RIGHT_ANKLE, L.LEFT_HIP, L.RIGHT_HIP):
        return CaptureCheck("feet_stance", True, "The feet could not be seen; not checked.")
    torso = _torso(pts)
    hip_w = float(np.hypot(*(_xy(pts, L.LEFT_HIP) - _xy(pts, L.RIGHT_HIP))))
    dx = float(pts[L.LEFT_ANKLE, 0] - pts[L.RIGHT_ANKLE, 0]) * toward_left  # > 0: left foot on the left
    spread = abs(dx) / hip_w if hip_w > 0 else 0.0
    ahead = abs(float(pts[L.LEFT_ANKLE, 1] - pts[L.RIGHT_ANKLE, 1])) / torso if torso > 0 else 0.0
    values = {"spread_hip_widths": spread, "ankle_height_difference_torso": ahead}
    problems: list[str] = []
    if dx < 0:
        problems.append("the feet are crossed")
    elif spread < opts.min_feet_spread:
        problems.append("the feet are close together")
    elif spread > opts.max_feet_spread:
        problems.append(f"the feet are wide apart ({spread:.1f} hip widths)")
    if ahead > opts.max_foot_ahead_torso:
        problems.append("one foot stands ahead of the other")
    for side, (h, k, a) in (("left", (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE)),
                            ("right", (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE))):
        if _seen(pts, opts, h, k, a):
            bend = _bend_deg(_xy(pts, h), _xy(pts, k), _xy(pts, a))
            values[f"{side}_knee_bend_deg"] = bend
            if bend > opts.max_knee_bend_deg:
                problems.append(f"the {side} knee is bent ({bend:.0f}°: weight on one leg)")
    if problems:
        return CaptureCheck("feet_stance", False,
                            f"The stance is not neutral ({_join(problems)}): ask the client to stand "
                            "on both feet, about hip-width apart, side by side, knees relaxed "
                            "straight.", values)
    return CaptureCheck("feet_stance", True, "The feet stand about hip-width apart.", values)


def facing_camera(pts: np.ndarray, opts: CaptureOptions) -> CaptureCheck:
    """The body square to the camera: a turned body shows a narrower shoulder line (cos of the turn)."""
    torso = _torso(pts)
    if torso <= 0 or not _seen(pts, opts, L.LEFT_SHOULDER, L.RIGHT_SHOULDER):
        return CaptureCheck("facing_camera", True, "The shoulders could not be seen; not checked.")
    sw = float(np.hypot(*(_xy(pts, L.LEFT_SHOULDER) - _xy(pts, L.RIGHT_SHOULDER))))
    ratio = min(1.0, sw / torso / opts.square_shoulder_ratio)
    turn = math.degrees(math.acos(ratio))
    values = {"turn_deg": turn}
    if turn > opts.max_turn_deg:
        return CaptureCheck("facing_camera", False,
                            f"The body looks turned away from the camera by about {turn:.0f}°: turn "
                            "the client to face the camera squarely.", values)
    return CaptureCheck("facing_camera", True, "The body faces the camera squarely.", values)


def view_matches(conflict: str | None) -> CaptureCheck:
    """``conflict``: the analysis's message when the face / the model contradict the declared view."""
    if conflict:
        return CaptureCheck("view_matches", False, conflict)
    return CaptureCheck("view_matches", True, "The declared view agrees with the photo.")


def camera_level(reference: str) -> CaptureCheck:
    """``reference``: the level's source ('scene verticals' = straight scene lines, vertical or, when
    the verticals do not suffice, level horizontals; 'manual'; or 'photo edges' = none)."""
    if reference == "photo edges":
        return CaptureCheck("camera_level", False,
                            "No level reference was found in the scene: include a door frame or a "
                            "wall corner in the photo, or enter the camera roll; until then the ± "
                            "includes a hand-held phone's tilt.")
    how = "set by hand" if reference == "manual" else "from straight lines in the scene"
    return CaptureCheck("camera_level", True, f"The camera's level is known ({how}).")


def check_capture(
    pts: np.ndarray,
    width: int,
    height: int,
    toward_left: int,
    *,
    view_conflict: str | None,
    level_reference: str,
    options: CaptureOptions | None = None,
) -> Capture:
    """Every check of a front or back photo (``toward_left``: image x direction of the client's left)."""
    opts = options or CaptureOptions()
    return Capture((
        whole_body(pts, width, height, opts),
        arms_relaxed(pts, opts),
        feet_stance(pts, toward_left, opts),
        facing_camera(pts, opts),
        view_matches(view_conflict),
        camera_level(level_reference),
    ))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
