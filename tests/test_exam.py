"""The visit (posture.exam): findings across views, the posture.exam/1 round trip, the CLI, the store,
the visit PDF and compare view by view.

Side views are CONSTRUCTED profiles measured by posture.sideview (real geometry, exact truth), so the
cross-view rules are checked against values whose truth is known; the CLI runs on shipped photos.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from posture.analysis import Analysis
from posture.exam import SCHEMA, Visit, build_visit, visit_of
from posture.findings import load_exercises, select_exercises
from posture.findings.across import derive_across
from posture.metrics import SPEC_BY_NAME, MeasureContext, Measurement
from posture.pose import Landmark as L
from posture.sides import View
from posture.sideview import SideContext, measure_side

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"

# a constructed profile: 1000 x 2000 px photo, 0.1 cm per px (forward offsets in px / 10 = cm)
W, H = 1000, 2000
CM_PER_PX = 0.1
ANKLE_X = 500.0
Y = {"EAR": 250.0, "SHOULDER": 420.0, "HIP": 900.0, "KNEE": 1350.0, "ANKLE": 1800.0}


def profile(view: View, ear: float, shoulder: float, hip: float, knee: float | None = None) -> np.ndarray:
    """Anatomical landmarks of a side view: each part's offset ahead of the ankle in px (positive =
    toward the client's front); the near side seen well, the far side behind it (visibility 0.6).
    ``knee`` None = on the hip-ankle line (straight)."""
    fx = -1 if view is View.LEFT else 1
    if knee is None:
        knee = hip * (Y["ANKLE"] - Y["KNEE"]) / (Y["ANKLE"] - Y["HIP"])
    fwd = {"EAR": ear, "SHOULDER": shoulder, "HIP": hip, "KNEE": knee, "ANKLE": 0.0,
           "HEEL": -40.0, "FOOT_INDEX": 160.0, "ELBOW": shoulder - 10, "WRIST": shoulder - 5}
    ys = {**Y, "HEEL": 1830.0, "FOOT_INDEX": 1840.0, "ELBOW": 700.0, "WRIST": 950.0}
    p = np.zeros((len(L), 4))
    p[:, 2:] = 0.9
    near = view.value
    for side in ("left", "right"):
        for part, f in fwd.items():
            lm = L[f"{side.upper()}_{part}"]
            p[lm] = (ANKLE_X + fx * f, ys[part], 0.95 if side == near else 0.6, 1.0)
    for lm in (L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EYE_INNER, L.RIGHT_EYE_INNER, L.LEFT_EYE_OUTER,
               L.RIGHT_EYE_OUTER, L.MOUTH_LEFT, L.MOUTH_RIGHT):
        p[lm] = (ANKLE_X + fx * (ear + 80.0), Y["EAR"] + 10.0, 0.95, 1.0)
    return p


def side_analysis(view: View, ear: float, shoulder: float, hip: float, knee: float | None = None) -> Analysis:
    """A side-view Analysis of a constructed profile, measured by posture.sideview."""
    pts = profile(view, ear, shoulder, hip, knee)
    ctx = SideContext(view=view.value, width=W, height=H, cm_per_px=CM_PER_PX)
    res = measure_side(pts, None, ctx)
    mctx = MeasureContext(toward_left=1, width=W, height=H, cm_per_px=CM_PER_PX)
    return Analysis(
        image={"width": W, "height": H}, view=view, landmarks=pts, passes=pts[None],
        measurements=dict(res.measurements), warnings=res.warnings, context=mctx,
        level={"roll_deg": 0.0, "roll_sd_deg": 0.0}, scale={"cm_per_px": CM_PER_PX, "relative_sd": 0.0},
        method={"landmark_sigma_px": 2.0, "side_view": res.summary()},
    )


def front_meas(name: str, value: float, unc: float = 0.4) -> Measurement:
    spec = SPEC_BY_NAME[name]
    pos, neg, zero = spec.words
    side = zero if value == 0 else (pos if value > 0 else neg)
    unit = "deg" if name.endswith("tilt") else "cm"
    return Measurement(name, spec.label, value, unit, side, unc, ())


def front(**values: float) -> dict[str, Measurement]:
    names = ("shoulder_tilt", "hip_tilt", "head_tilt", "side_shortening", "trunk_shift", "pelvic_shift")
    return {n: front_meas(n, values.get(n, 0.0)) for n in names}


def tan(deg: float) -> float:
    return math.tan(math.radians(deg))


# sway-back: hips 10 cm ahead of the ankle (Woodhull average 6.2), trunk 6 deg back, ear 8 cm ahead of
# the shoulder (average 2.1)
SWAY = {"hip": 100.0, "shoulder": 100.0 - 480.0 * tan(6.0)}
SWAY["ear"] = SWAY["shoulder"] + 80.0
# upright: the shoulder over the hip, the hip and the ear at their published average offsets
UPRIGHT = {"ear": 83.0, "shoulder": 62.0, "hip": 62.0}


def keys(fs: object) -> list[str]:
    return [f.key for f in fs]  # type: ignore[attr-defined]


# -- findings across views ------------------------------------------------------------------------


def test_constructed_profile_measures_its_truth() -> None:
    a = side_analysis(View.LEFT, **SWAY)
    m = a.measurements
    assert m["trunk_lean"].value == pytest.approx(-6.0, abs=0.01)
    assert m["hip_forward"].value == pytest.approx(10.0, abs=0.01)
    assert m["head_forward"].value == pytest.approx(8.0, abs=0.01)
    assert m["knee_extension"].value == pytest.approx(0.0, abs=0.01)
    assert not a.warnings  # facing and near side as declared


@pytest.mark.parametrize("view", [View.LEFT, View.RIGHT])
def test_sway_back_with_forward_head_rests_on_the_side_view(view: View) -> None:
    a = side_analysis(view, **SWAY)
    fs = derive_across({view.value: a.measurements})
    assert keys(fs) == ["sway_back"]
    f = fs[0]
    assert f.views == (view.value,)
    d = f.to_dict()
    assert d["schema"] == "posture.finding_across/1" and d["views"] == [view.value]
    assert "with forward head" in f.finding.title
    assert "hypothesis" in d["hypothesis"].lower() and "hypothesis" in f.finding.text.lower()
    assert {e.name for e in f.finding.evidence} == {"head_forward", "trunk_lean", "hip_forward"}
    assert f.finding.severity == "marked"  # 6 deg back = the marked cut-off; hips 3.8 cm past average


def test_sway_back_needs_both_the_lean_back_and_the_forward_hips() -> None:
    # trunk back, hips at the published average: no sway-back, the forward head alone
    lean_only = side_analysis(View.LEFT, ear=62.0 - 480 * tan(6) + 80, shoulder=62.0 - 480 * tan(6), hip=62.0)
    assert keys(derive_across({"left": lean_only.measurements})) == ["forward_head"]
    upright = side_analysis(View.LEFT, **UPRIGHT)
    assert derive_across({"left": upright.measurements}) == ()


def test_a_value_within_its_uncertainty_is_not_a_finding() -> None:
    # the same forward head, its ± made wider than the excess over the published average
    a = side_analysis(View.LEFT, ear=62.0 + 21.0 + 30.0, shoulder=62.0, hip=62.0)
    assert keys(derive_across({"left": a.measurements})) == ["forward_head"]
    m = dict(a.measurements)
    hf = m["head_forward"]
    m["head_forward"] = Measurement(hf.name, hf.label, hf.value, hf.unit, hf.side, 3.5, hf.landmarks)
    assert derive_across({"left": m}) == ()


def test_both_side_views_agreeing_is_said_and_one_alone_too() -> None:
    left, right = side_analysis(View.LEFT, **SWAY), side_analysis(View.RIGHT, **SWAY)
    both = derive_across({"left": left.measurements, "right": right.measurements})
    assert keys(both) == ["sway_back"] and both[0].views == ("left", "right")
    assert any("both side views" in n for n in both[0].notes)
    one = derive_across({"left": left.measurements,
                         "right": side_analysis(View.RIGHT, **UPRIGHT).measurements})
    assert one[0].views == ("left",) and any("Not seen in the right side view" in n for n in one[0].notes)


def test_hyper_extended_knee_on_the_side_of_the_hitched_hip() -> None:
    # left knee 12.5 deg behind the hip-ankle line (hip 100 px ahead, knee over the ankle)
    knee = side_analysis(View.LEFT, ear=83.0, shoulder=62.0, hip=62.0, knee=62.0 * 450 / 900 - 100.0)
    assert knee.measurements["knee_extension"].value > 5.0
    # hip_tilt +3 deg: the client's right side lower -> the LEFT hip is high (hitched)
    fs = derive_across({"anterior": front(hip_tilt=3.0), "left": knee.measurements})
    k = next(f for f in fs if f.key.startswith("knee"))
    assert k.key == "knee_hyperextension_hitched_hip"
    assert k.finding.sides == {"hyperextended_knee": "left", "high_hip": "left"}
    assert k.views == ("left", "anterior")
    # the right hip high instead: the knee stands alone
    fs = derive_across({"anterior": front(hip_tilt=-3.0), "left": knee.measurements})
    k = next(f for f in fs if f.key.startswith("knee"))
    assert k.key == "knee_hyperextension" and k.views == ("left",)
    # a hip tilt inside its noise band does not hitch anything
    fs = derive_across({"anterior": front(hip_tilt=0.8), "left": knee.measurements})
    assert "knee_hyperextension" in keys(fs)


def test_frontal_side_bend_confirmed_or_not_by_the_other_views() -> None:
    bend = front(shoulder_tilt=3.5, hip_tilt=-2.0)  # right shoulder low, right hip high: short side right
    upright = side_analysis(View.LEFT, **UPRIGHT)
    fs = derive_across({"anterior": bend, "posterior": bend, "left": upright.measurements})
    f = next(f for f in fs if f.key == "side_bend_across_views")
    assert f.finding.sides["short_side"] == "right"
    assert f.views == ("anterior", "posterior", "left")
    assert "(confirmed)" in f.finding.title
    assert any("trunk upright" in n for n in f.notes)
    # the back view says the opposite: contradicted, never 'confirmed'
    opposite = front(shoulder_tilt=-3.5, hip_tilt=2.0)
    f = next(f for f in derive_across({"anterior": bend, "posterior": opposite})
             if f.key == "side_bend_across_views")
    assert "confirmed" not in f.finding.title and any("Contradicted" in n for n in f.notes)
    # a leaning trunk in the side view is named as a possible source of the frontal tilt
    leaning = side_analysis(View.LEFT, **SWAY)
    f = next(f for f in derive_across({"anterior": bend, "left": leaning.measurements})
             if f.key == "side_bend_across_views")
    assert any("leaning back" in n for n in f.notes)


def test_trunk_turn_from_the_two_side_views() -> None:
    bend = front(shoulder_tilt=3.5, hip_tilt=-2.0)
    left = side_analysis(View.LEFT, **UPRIGHT)
    # the right shoulder 4 deg further ahead of its hip than the left
    right = side_analysis(View.RIGHT, ear=83.0 + 480 * tan(4), shoulder=62.0 + 480 * tan(4), hip=62.0)
    lr = left.measurements["trunk_lean"].value
    rr = right.measurements["trunk_lean"].value
    assert rr - lr == pytest.approx(4.0, abs=0.01)
    f = next(f for f in derive_across({"anterior": bend, "left": left.measurements,
                                         "right": right.measurements})
             if f.key == "side_bend_across_views")
    assert any("right shoulder is further ahead" in n for n in f.notes)


def test_every_cross_view_pattern_is_served_by_the_exercise_library() -> None:
    lib = load_exercises()
    served = {t.pattern for ex in lib for t in ex.targets}
    assert {"forward_head", "sway_back", "knee_hyperextension", "knee_hyperextension_hitched_hip",
            "side_bend_across_views"} <= served
    knee = side_analysis(View.LEFT, ear=83.0, shoulder=62.0, hip=62.0, knee=-69.0)
    fs = derive_across({"anterior": front(hip_tilt=3.0), "left": knee.measurements})
    rx = select_exercises([f.finding for f in fs], lib)
    assert any(p.exercise.id == "soft_knee_stance" and p.side_words == "left knee" for p in rx)


# -- the visit ------------------------------------------------------------------------------------


def _round_trip_dict(a: Analysis) -> Analysis:
    return Analysis.from_dict(json.loads(json.dumps(a.to_dict())))


def test_visit_dict_round_trip_keeps_every_view_and_the_findings_across() -> None:
    left = side_analysis(View.LEFT, **SWAY)
    right = side_analysis(View.RIGHT, **UPRIGHT)
    v = build_visit({"right": right, "left": left}, height_cm=170.0, date="2026-12-01", notes="intake")
    assert v.view_names == ("left", "right")  # the visit's own order
    d = json.loads(json.dumps(v.to_dict()))
    assert d["schema"] == SCHEMA
    assert set(d["views"]) == {"left", "right"}
    assert all(a["schema"] == "posture.analysis/1" for a in d["views"].values())
    assert d["views"]["left"]["measurements"]["trunk_lean"]["value"] == pytest.approx(-6.0, abs=0.01)
    assert [f["key"] for f in d["findings_across"]] == ["sway_back"]
    back = Visit.from_dict(d)
    assert back.view_names == v.view_names and back.date == "2026-12-01" and back.notes == "intake"
    assert keys(back.across) == ["sway_back"]
    assert back.to_dict()["views"] == d["views"]


def test_hand_corrections_are_kept_per_photo() -> None:
    left = side_analysis(View.LEFT, **SWAY)
    right = side_analysis(View.RIGHT, **SWAY)
    left = Analysis(**{**left.__dict__, "manual": frozenset({"left_ear"})})
    d = build_visit({"left": left, "right": right}).to_dict()
    assert d["views"]["left"]["landmarks"]["left_ear"].get("manual") is True
    assert "manual" not in d["views"]["right"]["landmarks"]["left_ear"]
    back = Visit.from_dict(d)
    assert back.views[View.LEFT].manual == frozenset({"left_ear"})
    assert back.views[View.RIGHT].manual == frozenset()


def test_a_wrong_schema_and_a_mislabelled_view_are_refused() -> None:
    from posture.errors import PostureError

    with pytest.raises(PostureError):
        Visit.from_dict({"schema": "posture.analysis/1"})
    with pytest.raises(PostureError):
        Visit({View.RIGHT: side_analysis(View.LEFT, **SWAY)})


def test_a_single_photo_assessment_is_a_visit_of_one_view() -> None:
    a = _round_trip_dict(side_analysis(View.LEFT, **SWAY))
    v = visit_of(a, date="2026-11-01")
    assert v.view_names == ("left",) and keys(v.across) == ["sway_back"]


# -- compare view by view, the trend per view -----------------------------------------------------


def _front_analysis(view: View, shoulder_tilt: float) -> Analysis:
    """A front/back analysis on constructed measurements (its landmarks unused by compare)."""
    pts = np.zeros((len(L), 4))
    ms = front(shoulder_tilt=shoulder_tilt)
    return Analysis(
        image={"width": W, "height": H}, view=view, landmarks=pts, passes=pts[None], measurements=ms,
        warnings=(), context=MeasureContext(toward_left=view.toward_left, width=W, height=H),
        level={"roll_deg": 0.0}, scale=None, method={},
    )


def test_compare_pairs_views_and_never_front_with_back() -> None:
    from posture.compare_visits import compare_visits

    before = build_visit({"anterior": _front_analysis(View.ANTERIOR, 4.0),
                          "left": side_analysis(View.LEFT, **SWAY)}, date="2026-10-01")
    # the later visit: a BACK photo with a very different shoulder line, the same left side upright
    after = build_visit({"posterior": _front_analysis(View.POSTERIOR, -4.0),
                         "left": side_analysis(View.LEFT, **UPRIGHT)}, date="2026-12-01")
    c = compare_visits(before, after)
    assert list(c.pairs) == [View.LEFT]  # front and back are not paired
    assert c.only_before == (View.ANTERIOR,) and c.only_after == (View.POSTERIOR,)
    assert all(p.before.view is p.after.view for p in c.pairs.values())
    lean = c.pairs[View.LEFT].changes["trunk_lean"]
    assert lean.delta == pytest.approx(6.0, abs=0.02) and lean.real_change
    d = c.to_dict()
    assert d["schema"] == "posture.visit_comparison/1" and set(d["views"]) == {"left"}
    assert any("Front (anterior): only in the earlier visit" in n for n in d["notes"])
    # the same front view in both: paired, its change read by the one rule
    later = build_visit({"anterior": _front_analysis(View.ANTERIOR, 1.0)})
    fc = compare_visits(before, later).pairs[View.ANTERIOR].changes["shoulder_tilt"]
    assert fc.delta == pytest.approx(-3.0) and fc.real_change


def test_trend_per_view_says_which_sessions_lack_the_view() -> None:
    from posture.compare_visits import trend_by_view

    v1 = build_visit({"anterior": _front_analysis(View.ANTERIOR, 4.0),
                      "left": side_analysis(View.LEFT, **SWAY)}, date="2026-10-01")
    v2 = build_visit({"anterior": _front_analysis(View.ANTERIOR, 2.0)}, date="2026-11-01")
    v3 = build_visit({"anterior": _front_analysis(View.ANTERIOR, 1.0),
                      "left": side_analysis(View.LEFT, **UPRIGHT)}, date="2026-12-01")
    t = trend_by_view([v1, v2, v3])
    assert list(t) == [View.ANTERIOR, View.LEFT]
    assert [p.value for p in t[View.ANTERIOR].series["shoulder_tilt"]] == [4.0, 2.0, 1.0]
    assert t[View.ANTERIOR].missing == ()
    lean = t[View.LEFT].series["trunk_lean"]
    assert [p.x for p in lean] == ["2026-10-01", "2026-12-01"]
    assert [round(p.value, 2) for p in lean] == [-6.0, 0.0]
    assert t[View.LEFT].missing == ("2026-11-01",)
    assert "2026-11-01" in t[View.LEFT].note and "Left side" in t[View.LEFT].note


# -- the visit PDF --------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(p.extract_text() for p in reader.pages)


def test_visit_pdf_opens_and_names_every_view() -> None:
    from posture.imaging import load_photo
    from posture.report.visit_pdf import visit_pdf

    photo = load_photo(SAMPLES / "yogait_tada3.jpg")
    v = build_visit({"anterior": _front_analysis(View.ANTERIOR, 3.5),
                     "left": side_analysis(View.LEFT, **SWAY),
                     "right": side_analysis(View.RIGHT, **SWAY)}, date="2026-12-01", notes="first visit")
    data = visit_pdf(v, {"anterior": photo})
    assert data.startswith(b"%PDF")
    text = " ".join(_pdf_text(data).split())
    for title in ("Front (anterior)", "Left side", "Right side", "Findings across views"):
        assert title in text
    assert "Back (posterior)" not in text
    assert "Sway-back pattern" in text and "Rests on: left side view and right side view" in text
    assert "(photo not available)" in text  # the side views were given no photo
    assert "first visit" in text


def test_annotate_side_draws_the_plumb_line_through_the_ankle() -> None:
    from posture.imaging import load_photo
    from posture.report.visit_pdf import annotate_side

    photo = load_photo(SAMPLES / "yogait_tada3.jpg")
    h, w = photo.rgb.shape[:2]
    a = side_analysis(View.LEFT, **SWAY)
    # put the constructed profile on this photo: ankle at 40 % of the width, 90 % of the height
    pts = a.landmarks.copy()
    k = np.array([0.4 * w / ANKLE_X, 0.9 * h / Y["ANKLE"]]) / photo.scale
    pts[:, 0] *= k[0]
    pts[:, 1] *= k[1]
    a = Analysis(**{**a.__dict__, "landmarks": pts})
    img = annotate_side(photo, a)
    assert img.shape == photo.rgb.shape
    col = round(0.4 * w)
    diff = np.abs(img.astype(int) - photo.rgb.astype(int)).sum(axis=2)
    # the vertical above the ankle is drawn (dashed: at least a third of its rows change)
    rows = range(round(0.3 * h), round(0.85 * h))
    assert np.mean([diff[r, col - 1:col + 2].max() > 60 for r in rows]) > 0.33
    # and far from the body nothing is drawn
    assert diff[:, round(0.9 * w):].max() == 0


# -- the store ------------------------------------------------------------------------------------

# the store's own fixtures: a SQLite file and, with POSTURE_TEST_PG_URL, a PostgreSQL database
from posture.store import Store  # noqa: E402
from tests.test_store import _photo, _raw_bytes, db_url, pg_session_url, store  # noqa: E402, F401


def test_store_round_trip_of_a_visit_and_its_erase(store: Store, db_url: str) -> None:  # noqa: F811
    import uuid

    from posture.store import NotFoundError, delete_visit, list_visits, load_visit, save_visit
    from posture.store import models as m

    cid = store.create_client("Visit Client", consent_given=True)
    lone = store.save_assessment(cid, _photo(3), _round_trip_dict(side_analysis(View.RIGHT, **UPRIGHT)),
                                 taken_at=__import__("datetime").date(2025, 1, 2))
    marker = f"ZQV-{uuid.uuid4().hex}"
    left, right = side_analysis(View.LEFT, **SWAY), side_analysis(View.RIGHT, **SWAY)
    left = Analysis(**{**left.__dict__, "manual": frozenset({"left_hip"})})
    v = build_visit({"left": left, "right": right}, height_cm=170.0, date="2026-11-30", notes=marker)
    photos = {"left": _photo(11, (200, 150)), "right": _photo(12, (200, 150))}
    vid = save_visit(store, cid, v, photos)
    keep = build_visit({"left": side_analysis(View.LEFT, **UPRIGHT)}, date="2026-12-01")
    keep_id = save_visit(store, cid, keep, {"left": _photo(13)})

    recs = list_visits(store, cid)
    assert [(r.id, r.views) for r in recs] == [(None, ("right",)), (vid, ("left", "right")),
                                              (keep_id, ("left",))]
    assert recs[0].assessment_ids == {"right": lone}  # an old single assessment = a visit of one view
    assert recs[1].notes == marker and [f["key"] for f in recs[1].findings_across] == ["sway_back"]

    # the client's export holds the visits (their notes and findings across views) beside the assessments
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(store.export_client_zip(cid))) as z:
        exported = json.loads(z.read("visits.json"))
    assert [(e["id"], e["notes"]) for e in exported] == [(vid, marker), (keep_id, "")]
    assert exported[0]["assessment_ids"] == dict(recs[1].assessment_ids)
    back, back_photos = load_visit(store, vid)
    assert back.view_names == ("left", "right") and back.date == "2026-11-30" and back.height_cm == 170.0
    assert keys(back.across) == ["sway_back"]
    assert back.views[View.LEFT].manual == frozenset({"left_hip"})  # corrections kept per photo
    assert back.views[View.RIGHT].manual == frozenset()
    assert back.to_dict()["views"] == json.loads(json.dumps(v.to_dict()))["views"]
    assert set(back_photos) == {"left", "right"} and back_photos["left"].rgb.shape == (200, 150, 3)

    ids = recs[1].assessment_ids
    chunks = [(d := store.get_photo_bytes(i))[len(d) // 2: len(d) // 2 + 48] for i in ids.values()]
    delete_visit(store, vid)
    with pytest.raises(NotFoundError):
        load_visit(store, vid)
    for i in ids.values():
        with pytest.raises(NotFoundError):
            store.get_assessment(i)
    assert [r.id for r in list_visits(store, cid)] == [None, keep_id]
    assert store.get_assessment(lone).view == "right"
    with store._tx() as s:
        from sqlalchemy import func, select

        assert s.scalar(select(func.count()).select_from(m.Photo)) == 2
    if store.is_sqlite:
        raw = _raw_bytes(Path(db_url.removeprefix("sqlite:///")))
        assert marker.encode() not in raw
        assert all(c not in raw for c in chunks)
        assert store.get_photo_bytes(lone)[100:148] in raw  # the search finds bytes still there
    # the client erase takes the remaining visit with it
    store.delete_client(cid)
    with store._tx() as s:
        assert s.scalar(select(func.count()).select_from(m.Visit)) == 0


def test_store_refuses_a_visit_without_consent_or_a_photo(store: Store) -> None:  # noqa: F811
    from posture.store import ConsentError, StoreError, list_visits, save_visit

    v = build_visit({"left": side_analysis(View.LEFT, **SWAY), "right": side_analysis(View.RIGHT, **SWAY)})
    cid = store.create_client("No consent")
    with pytest.raises(ConsentError):
        save_visit(store, cid, v, {"left": _photo(1), "right": _photo(2)})
    store.record_consent(cid, True)
    with pytest.raises(StoreError):
        save_visit(store, cid, v, {"left": _photo(1)})
    assert list_visits(store, cid) == []
    with store._tx() as s:  # nothing half-written
        from sqlalchemy import func, select

        from posture.store import models as m

        assert s.scalar(select(func.count()).select_from(m.Assessment)) == 0


def test_migration_keeps_assessments_saved_before_visits(store: Store) -> None:  # noqa: F811
    """An assessment of schema 0001 survives 0002 (its photo too) and lists as a visit of one view;
    down to 0001 and up again keeps it."""
    from alembic import command

    from posture.store import list_visits, save_visit
    from posture.store.engine import _alembic_config

    cid = store.create_client("Old", consent_given=True)
    aid = store.save_assessment(cid, _photo(5), _round_trip_dict(side_analysis(View.LEFT, **UPRIGHT)))
    data = store.get_photo_bytes(aid)
    save_visit(store, cid, build_visit({"left": side_analysis(View.LEFT, **SWAY)}), {"left": _photo(6)})
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0001")
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert store.get_photo_bytes(aid) == data  # the downgrade dropped the visit's photo, not this one
    recs = list_visits(store, cid)
    assert [(r.id, r.views, dict(r.assessment_ids)) for r in recs] == [(None, ("left",), {"left": aid})]
    assert store.get_assessment(aid).to_analysis().view is View.LEFT


# -- posture exam on shipped photos ---------------------------------------------------------------

FRONT_PHOTO = SAMPLES / "yogait_tada1.jpg"
SIDE_PHOTO = SAMPLES / "coco_000000234748.jpg"  # a man seen from his right (three-quarter)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from posture.cli import main

    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_exam_front_and_side_prints_both_views_and_the_findings_across(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from posture.metrics import SPEC_BY_NAME as FRONT_SPECS
    from posture.sideview import SIDE_SPEC_BY_NAME

    code, out, err = _run(["exam", "--anterior", str(FRONT_PHOTO), "--right", str(SIDE_PHOTO),
                           "--height-cm", "175", "--fast", "--json", "--date", "2026-12-01"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["schema"] == SCHEMA and d["date"] == "2026-12-01" and d["height_cm"] == 175.0
    assert list(d["views"]) == ["anterior", "right"]
    front_d, side_d = d["views"]["anterior"], d["views"]["right"]
    assert front_d["schema"] == side_d["schema"] == "posture.analysis/1"
    assert front_d["view"] == "anterior" and side_d["view"] == "right"
    assert set(front_d["measurements"]) == set(FRONT_SPECS)
    assert set(side_d["measurements"]) == set(SIDE_SPEC_BY_NAME)
    assert side_d["measurements"]["trunk_lean"]["unit"] == "deg"
    assert isinstance(d["findings_across"], list)
    for f in d["findings_across"]:
        assert f["views"] and set(f["views"]) <= {"anterior", "right"} and f["hypothesis"]
    # each photo analysed on its own: the same measurements as `posture analyze` of that photo alone
    code, one, err = _run(["analyze", str(SIDE_PHOTO), "--view", "right", "--height-cm", "175", "--fast",
                           "--json"], capsys)
    assert code == 0, err
    assert json.loads(one)["measurements"] == side_d["measurements"]
    # the visit comes back from its JSON with the same findings across views
    assert [f.to_dict() for f in Visit.from_dict(d).across] == d["findings_across"]


def test_cli_exam_text_and_pdf(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_pdf = tmp_path / "visit.pdf"
    code, out, err = _run(["exam", "--front", str(FRONT_PHOTO), "--right", str(SIDE_PHOTO), "--fast",
                           "-o", str(out_pdf)], capsys)
    assert code == 0, err
    assert "Front (anterior): yogait_tada1.jpg" in out
    assert "Right side (client's right toward the camera): coco_000000234748.jpg" in out
    assert "Trunk lean" in out and "Shoulder line tilt" in out and "Findings across views:" in out
    text = " ".join(_pdf_text(out_pdf.read_bytes()).split())
    assert "Front (anterior)" in text and "Right side" in text and "Findings across views" in text


@pytest.mark.parametrize("argv", [
    ["exam"],
    ["exam", "--anterior", "no/such/photo.jpg"],
    ["exam", "--anterior", str(FRONT_PHOTO), "--date", "yesterday"],
])
def test_cli_exam_errors_are_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("posture: ") and err.count("\n") == 1


def test_a_side_view_offset_in_percent_uses_its_own_noise_band() -> None:
    from posture.compare import CompareOptions

    opts = CompareOptions()
    # 1 cm: 2.5 % of a shoulder width, ~0.7 % of an ear-to-ankle height
    assert opts.band("% ear-ankle height") == pytest.approx(0.7)
    assert opts.band("% shoulder width") == pytest.approx(2.5)
