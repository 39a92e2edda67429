"""The photo check (posture.capture): each check fails on the pose it names and passes on a neutral
one, on constructed landmark sets (front view, image pixels, y down) and on shipped photos."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posture.analysis import Analysis, AnalysisOptions, analyze, correct_landmarks
from posture.capture import SCHEMA_KEYS, STANCE_KEYS, Capture, check_capture
from posture.findings import attach_findings, derive_findings, findings_held
from posture.imaging import load_photo
from posture.pose import Landmark as L
from tests.conftest import SAMPLES

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


def test_arms_not_seen_fail_arms_relaxed() -> None:
    """Arms held in front of the body (a cook at the stove seen from behind) are not seen: that is no
    relaxed stance, and the findings wait for the therapist (it was passed as "not checked")."""
    p = neutral()
    for side in ("LEFT", "RIGHT"):
        p[L[f"{side}_ELBOW"], 2:] = 0.2
        p[L[f"{side}_WRIST"], 2:] = 0.1
    c = run(p)
    assert failed(c) == {"arms_relaxed"}
    assert "hang loosely at the sides" in c.check("arms_relaxed").message  # type: ignore[union-attr]
    assert c.holds_findings
    # one arm seen and hanging is enough (a side view sees the near arm only)
    p[L.RIGHT_ELBOW, 2:] = p[L.RIGHT_WRIST, 2:] = 1.0
    assert run(p).ok


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


# -- on shipped photos, through analyze() and the findings ---------------------------------------

ARMS_OUT = SAMPLES / "yogait_t4.jpg"  # standing, both arms held out sideways (a yoga pose)
NEUTRAL = SAMPLES / "yogait_tada1.jpg"  # standing, arms hanging, feet hip-width apart


def _analyse(path: Path, model: Any, **opts: Any) -> Analysis:
    return analyze(load_photo(path), "anterior", AnalysisOptions(**opts), model=model)


@pytest.fixture(scope="module")
def arms_out(model: Any) -> Analysis:
    return _analyse(ARMS_OUT, model)


def test_arms_held_out_hold_the_findings_back(arms_out: Analysis) -> None:
    c = arms_out.capture
    assert c is not None and not c.confirmed
    assert [x.key for x in c.stance_failed] == ["arms_relaxed"]
    msg = c.check("arms_relaxed").message  # type: ignore[union-attr]
    assert "held out" in msg and "let the arms hang" in msg
    for side in ("left", "right"):  # a yoga "T": both arms far from the body
        assert c.check("arms_relaxed").values[f"{side}_arm_out_deg"] > 45  # type: ignore[union-attr]
    got = attach_findings(arms_out)
    assert got.findings == ()
    reason = findings_held(got)
    assert reason == c.hold_reason() and "held back" in reason and "let the arms hang" in reason
    d = got.to_dict()
    assert "findings" not in d and d["findings_held"] == reason
    # the measurements are still all there
    assert d["measurements"].keys() == arms_out.to_dict()["measurements"].keys()
    assert any(m.available for m in got.measurements.values())


def test_capture_json_keys_and_round_trip(arms_out: Analysis) -> None:
    d = json.loads(json.dumps(arms_out.to_dict()))
    cap = d["capture"]
    assert set(cap) == {"ok", "confirmed", "checks"} and cap["ok"] is False and cap["confirmed"] is False
    assert [x["key"] for x in cap["checks"]] == list(SCHEMA_KEYS)
    for x in cap["checks"]:
        assert {"key", "ok", "message"} <= set(x) <= {"key", "ok", "message", "values"}
        assert isinstance(x["ok"], bool) and x["message"]
    back = Analysis.from_dict(d)
    assert back.capture == arms_out.capture
    assert back.to_dict()["capture"] == cap
    assert attach_findings(back).findings == ()  # still held after a save and reload


def test_json_saved_before_the_photo_check_loads_as_not_checked(arms_out: Analysis) -> None:
    d = {k: v for k, v in arms_out.to_dict().items() if k not in ("capture", "findings_held")}
    old = Analysis.from_dict(d)
    assert old.capture is None and "capture" not in old.to_dict()
    assert findings_held(old) == ""
    assert attach_findings(old).findings == derive_findings(old.measurements, old.view)


def test_confirmation_releases_the_findings_as_usual(arms_out: Analysis, model: Any) -> None:
    # the pose is not neutral, but the therapist confirms it is how the client stands
    confirmed = _analyse(ARMS_OUT, model, confirm_stance=True)
    assert confirmed.capture is not None and confirmed.capture.confirmed
    assert confirmed.capture.stance_failed  # the check still says what failed
    got = attach_findings(confirmed)
    assert got.findings and got.findings == derive_findings(got.measurements, got.view)
    d = got.to_dict()
    assert d["capture"]["confirmed"] is True and "findings_held" not in d and d["findings"]
    # the app's path: the same analysis confirmed afterwards (no model pass)
    later = attach_findings(dataclasses.replace(
        arms_out, capture=arms_out.capture.with_confirmation(True)))  # type: ignore[union-attr]
    assert later.findings == derive_findings(arms_out.measurements, arms_out.view)
    assert Analysis.from_dict(json.loads(json.dumps(later.to_dict()))).capture.confirmed  # type: ignore[union-attr]


def test_correcting_the_arms_by_hand_rechecks_and_keeps_the_confirmation(arms_out: Analysis) -> None:
    def hanging(a: Analysis) -> dict[str, tuple[float, float]]:
        out = {}
        for side in ("left", "right"):
            sx, sy = a.point_xy(f"{side}_shoulder")
            _hx, hy = a.point_xy(f"{side}_hip")
            out[f"{side}_elbow"] = (sx, (sy + hy) / 2)
            out[f"{side}_wrist"] = (sx, hy)
        return out

    fixed = correct_landmarks(arms_out, hanging(arms_out))
    assert fixed.capture is not None and fixed.capture.check("arms_relaxed").ok  # type: ignore[union-attr]
    assert not fixed.capture.holds_findings and attach_findings(fixed).findings
    # a confirmation given before a correction stays
    confirmed = dataclasses.replace(arms_out, capture=arms_out.capture.with_confirmation(True))  # type: ignore[union-attr]
    x, y = arms_out.point_xy("left_hip")
    moved = correct_landmarks(confirmed, {"left_hip": (x + 3.0, y)})
    assert moved.capture is not None and moved.capture.confirmed and moved.capture.stance_failed


def test_a_neutral_stance_passes_the_stance_checks(model: Any) -> None:
    a = _analyse(NEUTRAL, model)
    assert a.capture is not None
    assert not a.capture.stance_failed, [x.message for x in a.capture.stance_failed]
    assert a.capture.check("facing_camera").values["turn_deg"] < 20  # type: ignore[union-attr]
    got = attach_findings(a)
    assert got.findings and findings_held(got) == "" and "findings_held" not in got.to_dict()


def test_a_front_photo_declared_a_back_view_holds_the_findings(model: Any) -> None:
    photo = load_photo(NEUTRAL)  # a front photo, face visible
    a = analyze(photo, "posterior", AnalysisOptions(refine=False), model=model)
    assert a.capture is not None
    view = a.capture.check("view_matches")
    assert view is not None and not view.ok and view.message in a.warnings  # the warning stays
    assert a.capture.view_only and "Choose the right view" in a.capture.hold_reason()
    assert attach_findings(a).findings == ()
    confirmed = dataclasses.replace(a, capture=a.capture.with_confirmation(True))
    assert attach_findings(confirmed).findings
    # declared right, the same photo passes the view check
    right = analyze(photo, "anterior", AnalysisOptions(refine=False), model=model)
    assert right.capture is not None and right.capture.check("view_matches").ok  # type: ignore[union-attr]
