"""The Compare page per view, driven headless with streamlit's AppTest against a tmp database: the
trend keeps to the chosen pair's view and names every session it leaves out (another view, another
unit), and visits are compared view by view (front with front, side with side)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from posture.sides import View
from posture.store import open_store
from tests.test_compare import synthetic_analysis
from tests.test_ui_records import _photo

CM_PER_PX = 0.12  # the synthetic figure's scale when a height was entered


def _compare_app() -> None:
    from ui.pages.compare import render

    render()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cmp.db'}"
    monkeypatch.setenv("POSTURE_DATABASE_URL", url)
    from ui.nav import clear_store_cache

    clear_store_cache()
    yield url
    clear_store_cache()


def _front(tilt: float, cm: bool = True):  # type: ignore[no-untyped-def]
    return synthetic_analysis(tilt, cm_per_px=CM_PER_PX if cm else None)


def _back(tilt: float):  # type: ignore[no-untyped-def]
    return dataclasses.replace(_front(tilt), view=View.POSTERIOR)


def _sessions(db: str) -> dict[str, int]:
    """Front without a height (%), back, front, front: the ids by name."""
    with open_store(db) as store:
        cid = store.create_client("Trend", consent_given=True)
        plan = {"front_pct": (_front(0.0, cm=False), dt.date(2026, 1, 5)),
                "back": (_back(9.0), dt.date(2026, 2, 2)),
                "front_1": (_front(2.0), dt.date(2026, 3, 1)),
                "front_2": (_front(5.0), dt.date(2026, 4, 1))}
        return {k: store.save_assessment(cid, _photo(), an, taken_at=day) for k, (an, day) in plan.items()}


def _trend_sessions(at: AppTest) -> list[str]:
    """The sessions (x values) the trend chart plots."""
    import pyarrow as pa

    chart = at.get("vega_lite_chart")[0]
    return [str(r["session"]) for r in pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()]


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_the_trend_keeps_to_the_pairs_view_and_names_the_back_session(db: str) -> None:
    _sessions(db)
    at = AppTest.from_function(_compare_app, default_timeout=60).run()
    assert not at.exception and not at.error
    # the default pair: the oldest and the newest session, both front photos
    assert at.selectbox(key="cmp_after").value == 4
    assert "Trend over the anterior sessions" in [h.value for h in at.subheader]
    at.selectbox(key="trend_of").set_value("shoulder_tilt").run()
    assert _trend_sessions(at) == ["05 Jan 2026 #1", "01 Mar 2026 #3", "01 Apr 2026 #4"]
    assert "Other views, not in this anterior trend: 02 Feb 2026 #2 (posterior)." in _captions(at)
    # a back pair: its trend is the back session alone, the front ones named as other views
    at.selectbox(key="cmp_before").set_value(1)
    at.selectbox(key="cmp_after").set_value(2).run()
    assert not at.exception
    assert "Trend over the posterior sessions" in [h.value for h in at.subheader]
    assert _trend_sessions(at) == ["02 Feb 2026 #2"]
    assert any(c.startswith("Other views, not in this posterior trend: 05 Jan 2026 #1 (anterior)")
               for c in _captions(at))


def test_a_session_in_percent_is_named_not_dropped(db: str) -> None:
    _sessions(db)
    at = AppTest.from_function(_compare_app, default_timeout=60).run()
    at.selectbox(key="trend_of").set_value("trunk_shift").run()
    assert not at.exception and not at.error
    # the series is in cm (the newest session's unit): the January session, in %, is not plotted ...
    assert _trend_sessions(at) == ["01 Mar 2026 #3", "01 Apr 2026 #4"]
    # ... and is named with its unit
    assert ("05 Jan 2026 #1: in % of shoulder width (no height), not plotted with cm."
            in _captions(at)), _captions(at)
    # the y axis is titled with the unit alone (a long title was cut), the name above the chart
    import json

    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["layer"][2]["encoding"]["y"]["title"] == "cm"
    assert spec["title"]["text"] == "Trunk shift (shoulders over hips)"


def _two_visits(db: str) -> list[dict[str, int]]:
    """Visit 1: front + left side; visit 2: front + left side + back (the back view in one visit
    only). The back photo's tilt differs from the front's, so a front paired with a back would show."""
    from posture.exam import build_visit
    from posture.store import list_visits, save_visit
    from tests.test_exam import SWAY, UPRIGHT, side_analysis

    first = build_visit({"anterior": _front(0.0), "left": side_analysis(View.LEFT, **SWAY)},
                        date="2026-05-04")
    second = build_visit({"anterior": _front(6.0), "left": side_analysis(View.LEFT, **UPRIGHT),
                          "posterior": _back(-9.0)}, date="2026-06-01")
    with open_store(db) as store:
        cid = store.create_client("Visits", consent_given=True)
        for v in (first, second):
            save_visit(store, cid, v, {view: _photo() for view in v.view_names})
        return [dict(r.assessment_ids) for r in list_visits(store, cid)]  # view -> assessment id


def test_visits_are_compared_view_by_view(db: str) -> None:
    from posture.compare import compare
    from tests.test_exam import SWAY, UPRIGHT, side_analysis

    ids = _two_visits(db)
    at = AppTest.from_function(_compare_app, default_timeout=60).run()
    assert not at.exception and not at.error
    # the single-photo compare stays the default (the browser tests pick "Before" / "After")
    assert at.radio(key="cmp_mode").value == "Two photos" and at.selectbox(key="cmp_before")
    at.radio(key="cmp_mode").set_value("Compare visits").run()
    assert not at.exception and not at.error
    before, after = at.selectbox(key="cmpv_before"), at.selectbox(key="cmpv_after")
    assert before.format_func(before.value).startswith("04 May 2026 · anterior, left")
    assert after.format_func(after.value).startswith("01 Jun 2026 · anterior, posterior, left")
    titles = [h.value for h in at.subheader]
    assert [t for t in titles if t.startswith("What changed")] == [
        "What changed: Front (anterior)", "What changed: Left side (client's left toward the camera)"]
    # front with front: the shoulder line went from 0 to the second front photo's tilt (a front
    # paired with the back photo would read another change)
    front_table, side_table = at.dataframe[0].value, at.dataframe[1].value
    want_front = compare(_front(0.0), _front(6.0)).changes["shoulder_tilt"]
    assert want_front.delta != compare(_front(0.0), _back(-9.0)).changes["shoulder_tilt"].delta
    row = front_table[front_table["measurement"] == "Shoulder line tilt"].iloc[0]
    assert row["change"] == f"{want_front.delta:+.1f}°"
    # left side with left side: the trunk lean of the sway-back visit against the upright one
    want_side = compare(side_analysis(View.LEFT, **SWAY), side_analysis(View.LEFT, **UPRIGHT))
    lean = want_side.changes["trunk_lean"]
    assert lean.comparable and abs(lean.delta) > 1.0
    row = side_table[side_table["measurement"] == lean.label.split(" (")[0]].iloc[0]
    assert row["change"] == f"{lean.delta:+.1f}°"
    assert "Shoulder line tilt" not in list(side_table["measurement"])
    # the back view, in the later visit only, is named, not compared
    assert "Back (posterior): only in the later visit, not compared." in [i.value for i in at.info]
    # the trend of a chosen view: the left side's sessions only
    at.selectbox(key="cmpv_trend_view").set_value("left").run()
    assert not at.exception
    assert "Trend over the left sessions" in [h.value for h in at.subheader]
    assert _trend_sessions(at) == [f"04 May 2026 #{ids[0]['left']}", f"01 Jun 2026 #{ids[1]['left']}"]
