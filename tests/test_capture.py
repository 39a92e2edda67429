"""The photo check (posture.capture): each check fails on the pose it names and passes on a neutral
one, on constructed landmark sets (front view, image pixels, y down) and on shipped photos."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture.capture import STANCE_KEYS, Capture, check_capture
from posture.pose import Landmark as L

W, H = 600, 1000
FRONT = 1  # anterior: the client's left is toward image +x


def neutral() -> np.ndarray:
    """A client standing square to the camera, arms hanging, feet hip-width apart (front view:
    the client's left on the image's right)."""
    p = np.zeros((33, 4))
    p[:, 2:] = 1.0

    def put(lm: L, x: float, y: float) -> None:
        p[lm, :2] = (x, y)

    for sign, side in ((1, "LEFT"), (-1, "RIGHT")):
        put(L[f"{side}_EYE"], 300 + sign * 15, 120)
        put(L[f"{side}_EYE_INNER"], 300 + sign * 8, 120)
        put(L[f"{side}_EYE_OUTER"], 300 + sign * 22, 120)
        put(L[f"{side}_EAR"], 300 + sign * 32, 128)
        put(L[f"MOUTH_{side}"], 300 + sign * 10, 150)
        put(L[f"{side}_SHOULDER"], 300 + sign * 80, 230)
        put(L[f"{side}_ELBOW"], 300 + sign * 95, 370)
        put(L[f"{side}_WRIST"], 300 + sign * 105, 480)
        for f in ("PINKY", "INDEX", "THUMB"):
            put(L[f"{side}_{f}"], 300 + sign * 107, 500)
        put(L[f"{side}_HIP"], 300 + sign * 48, 470)
        put(L[f"{side}_KNEE"], 300 + sign * 55, 700)
        put(L[f"{side}_ANKLE"], 300 + sign * 60, 920)
        put(L[f"{side}_HEEL"], 300 + sign * 60, 940)
        put(L[f"{side}_FOOT_INDEX"], 300 + sign * 65, 960)
    put(L.NOSE, 300, 138)
    return p


def run(p: np.ndarray, **kw: object) -> Capture:
    args: dict[str, object] = {"view_conflict": None, "level_reference": "scene verticals"}
    args.update(kw)
    return check_capture(p, W, H, FRONT, **args)  # type: ignore[arg-type]


def failed(c: Capture) -> set[str]:
    return {x.key for x in c.failed}


def test_neutral_pose_passes_every_check() -> None:
    c = run(neutral())
    assert c.ok, [x.message for x in c.failed]
    assert not c.holds_findings
    assert {x.key for x in c.checks} == {"whole_body", "arms_relaxed", "feet_stance", "facing_camera",
                                          "view_matches", "camera_level"}


def test_feet_cut_off_fails_whole_body_only() -> None:
    p = neutral()
    p[:, 1] += 80  # the whole body lower in the frame: the feet leave the photo
    c = run(p)
    assert failed(c) == {"whole_body"}
    assert "foot" in c.check("whole_body").message  # type: ignore[union-attr]
    assert not c.holds_findings  # framing does not hold the findings back


def test_head_cut_off_fails_whole_body() -> None:
    p = neutral()
    p[:, 1] -= 125  # eyes at y=-5
    assert "whole_body" in failed(run(p))


def test_hands_on_hips_fail_arms_relaxed() -> None:
    p = neutral()
    for sign, side in ((1, "LEFT"), (-1, "RIGHT")):
        p[L[f"{side}_ELBOW"], :2] = (300 + sign * 150, 360)
        p[L[f"{side}_WRIST"], :2] = (300 + sign * 60, 460)  # hand on the hip, elbow out
    c = run(p)
    assert failed(c) == {"arms_relaxed"}
    assert "let the arms hang" in c.check("arms_relaxed").message  # type: ignore[union-attr]
    assert c.holds_findings and "held back" in c.hold_reason()


def test_holding_straps_fails_arms_relaxed() -> None:
    p = neutral()
    for sign, side in ((1, "LEFT"), (-1, "RIGHT")):
        p[L[f"{side}_ELBOW"], :2] = (300 + sign * 90, 360)
        p[L[f"{side}_WRIST"], :2] = (300 + sign * 55, 250)  # hands up at the chest
    assert failed(run(p)) == {"arms_relaxed"}


def test_arms_out_fail_arms_relaxed() -> None:
    p = neutral()
    for sign, side in ((1, "LEFT"), (-1, "RIGHT")):
        p[L[f"{side}_ELBOW"], :2] = (300 + sign * 200, 300)
        p[L[f"{side}_WRIST"], :2] = (300 + sign * 300, 360)
    c = run(p)
    assert failed(c) == {"arms_relaxed"} and "held out" in c.check("arms_relaxed").message  # type: ignore[union-attr]


@pytest.mark.parametrize("pose", ["wide", "crossed", "together", "one_ahead", "one_knee_bent"])
def test_stance_faults_fail_feet_stance(pose: str) -> None:
    p = neutral()
    la, ra = L.LEFT_ANKLE, L.RIGHT_ANKLE
    if pose == "wide":
        for lm, s in ((la, 1), (ra, -1), (L.LEFT_HEEL, 1), (L.RIGHT_HEEL, -1),
                      (L.LEFT_FOOT_INDEX, 1), (L.RIGHT_FOOT_INDEX, -1)):
            p[lm, 0] = 300 + s * 180
        p[L.LEFT_KNEE, 0], p[L.RIGHT_KNEE, 0] = 300 + 115, 300 - 115
    elif pose == "crossed":
        p[la, 0], p[ra, 0] = 300 - 20, 300 + 20
        p[L.LEFT_KNEE, 0], p[L.RIGHT_KNEE, 0] = 300 + 14, 300 - 14
    elif pose == "together":
        p[la, 0], p[ra, 0] = 300 + 10, 300 - 10
        p[L.LEFT_KNEE, 0], p[L.RIGHT_KNEE, 0] = 300 + 29, 300 - 29
    elif pose == "one_ahead":
        p[la, 1] += 60  # the left foot a step toward the camera: lower in the photo
    else:  # contrapposto: the right knee bent, the right foot drawn in
        p[L.RIGHT_KNEE, :2] = (300 - 90, 690)
    c = run(p)
    assert "feet_stance" in failed(c), pose
    assert c.holds_findings


def test_turned_body_fails_facing_camera_and_says_by_how_much() -> None:
    p = neutral()
    turn = math.radians(45)
    for lm in (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP):
        p[lm, 0] = 300 + (p[lm, 0] - 300) * math.cos(turn)  # foreshortened by a 45° turn
    c = run(p)
    chk = c.check("facing_camera")
    assert chk is not None and not chk.ok
    assert 35 <= chk.values["turn_deg"] <= 55 and "face the camera" in chk.message


def test_view_conflict_and_no_level_reference() -> None:
    c = run(neutral(), view_conflict="A face is visible, but the photo was declared a posterior view.",
            level_reference="photo edges")
    assert failed(c) == {"view_matches", "camera_level"}
    assert c.holds_findings  # a wrong view swaps the sides: hold the findings
    assert "door frame" in c.check("camera_level").message  # type: ignore[union-attr]
    assert not run(neutral(), level_reference="manual").failed


def test_confirmation_releases_and_round_trips() -> None:
    p = neutral()
    p[L.RIGHT_KNEE, :2] = (300 - 90, 690)
    c = run(p)
    assert c.holds_findings
    confirmed = c.with_confirmation(True)
    assert not confirmed.holds_findings and confirmed.hold_reason() == ""
    assert Capture.from_dict(confirmed.to_dict()) == confirmed
    d = c.to_dict()
    assert d["ok"] is False and {"key", "ok", "message"} <= set(d["checks"][0])
    assert {x["key"] for x in d["checks"]} >= STANCE_KEYS
