"""Precise correction and the people picker of the New assessment page.

Without Streamlit: the zoom's window and its clicks mapped back to full-photo pixels, the recorded
click precision, the person chosen per photo. With AppTest on shipped photos: a one-pixel nudge
moves the landmark by exactly one photo pixel (and only it), the precision handed to
``correct_landmarks`` follows the zoom, and a photo of four people is analysed for the person
picked (tests/people_photo.py: four shipped front views side by side)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from posture.analysis import AnalysisOptions
from posture.pose import PoseModel
from tests.conftest import FRONT
from tests.people_photo import write_four_people, x_range
from tests.test_app import APP, TIMEOUT, cards, upload
from ui import state
from ui.components.photo import (
    MIN_ZOOM_SIDE_PX,
    PEOPLE_RGB,
    ZOOM_FACTOR,
    ZOOM_MARK_RGB,
    ZOOM_VIEW_PX,
    draw_people,
    zoom_image,
    zoom_window,
)

SHA, VIEW = "ab" * 32, "anterior"


# --- the zoom, without Streamlit ----------------------------------------------------------------
def test_zoom_window_magnifies_around_the_point_and_stays_inside() -> None:
    # a 1000 x 2000 photo shown 400 px wide: 0.4 CSS px per photo px; the zoom 4x that
    win = zoom_window((500.0, 700.0), 1000, 2000, 400)
    side = ZOOM_VIEW_PX / (ZOOM_FACTOR * 0.4)
    assert win == pytest.approx((500 - side / 2, 700 - side / 2, 500 + side / 2, 700 + side / 2))
    assert ZOOM_VIEW_PX / (win[2] - win[0]) == pytest.approx(ZOOM_FACTOR * 0.4)
    # near a corner: shifted, not cut, so the point is still inside
    x0, y0, x1, y1 = zoom_window((3.0, 1998.0), 1000, 2000, 400)
    assert (x0, y1) == (0.0, 2000.0) and x1 - x0 == pytest.approx(side) == y1 - y0
    # a tiny photo shown large is not magnified beyond MIN_ZOOM_SIDE_PX photo pixels across
    x0, _, x1, _ = zoom_window((50.0, 50.0), 100, 100, 2000)
    assert x1 - x0 == MIN_ZOOM_SIDE_PX


def test_zoom_image_marks_the_point_where_a_click_maps_back() -> None:
    rgb = np.zeros((200, 100, 3), np.uint8)
    win = (20.0, 40.0, 60.0, 80.0)  # 40 photo px shown in ZOOM_VIEW_PX px
    point = (37.0, 61.0)
    out = zoom_image(rgb, 1.0, win, point)
    assert out.shape == (ZOOM_VIEW_PX, ZOOM_VIEW_PX, 3)
    k = ZOOM_VIEW_PX / 40.0
    cx, cy = round((point[0] - 20) * k), round((point[1] - 40) * k)
    arm = out[cy, cx + 5 : cx + 15]  # the cross's right arm, just off its centre
    assert (np.abs(arm.astype(int) - ZOOM_MARK_RGB).sum(axis=1) < 120).any()
    # a click on that spot of the zoom maps back to the point (within one zoom pixel)
    click = {"x": cx, "y": cy, "width": ZOOM_VIEW_PX, "height": ZOOM_VIEW_PX}
    fx, fy = state.click_to_full(click, 100, 200, win)  # type: ignore[misc]
    assert abs(fx - point[0]) <= 1 / k and abs(fy - point[1]) <= 1 / k
    assert state.click_precision(click, 100, win) == pytest.approx(1 / k)


def test_draw_people_boxes_each_person() -> None:
    rgb = np.zeros((100, 300, 3), np.uint8)
    out = draw_people(rgb, ((10.0, 20.0, 90.0, 95.0), (200.0, 10.0, 290.0, 90.0)))
    assert tuple(out[60, 10]) == PEOPLE_RGB and tuple(out[50, 290]) == PEOPLE_RGB
    assert tuple(out[60, 150]) == (0, 0, 0) and not rgb.any()  # between them untouched; a copy


# --- the session state, without Streamlit ---------------------------------------------------
def test_precision_is_the_coarsest_of_the_points_and_forgotten_with_them() -> None:
    s: dict[str, object] = {}
    state.set_correction(s, SHA, VIEW, "right_shoulder", (10.0, 20.0), 0.25)
    assert state.precision_for(s, SHA, VIEW) == 0.25
    state.set_correction(s, SHA, VIEW, "left_hip", (30.0, 40.0), 1.5)
    assert state.precision_for(s, SHA, VIEW) == 1.5
    state.set_correction(s, SHA, VIEW, "left_ear", (5.0, 6.0))  # placed with no known precision
    assert state.precision_for(s, SHA, VIEW) is None  # then the page's own default
    state.reset_corrections(s, SHA)
    assert state.corrections_for(s, SHA, VIEW) == {} and state.precision_for(s, SHA, VIEW) is None


def test_a_zoom_click_records_its_position_and_precision() -> None:
    s: dict[str, object] = {}
    win = (100.0, 200.0, 180.0, 280.0)
    click = {"x": 160, "y": 40, "width": 320, "height": 320, "unix_time": 1}
    assert state.apply_click(s, "zoom", click, sha256=SHA, view=VIEW, landmark="right_hip",
                             full_width=1000, full_height=1000, window=win)
    assert state.corrections_for(s, SHA, VIEW) == {"right_hip": (140.0, 210.0)}
    assert state.precision_for(s, SHA, VIEW) == pytest.approx(0.25)
    assert not state.apply_click(s, "zoom", click, sha256=SHA, view=VIEW, landmark="right_hip",
                                 full_width=1000, full_height=1000, window=win)  # same click


def test_the_person_is_per_photo_and_part_of_the_analysis_key() -> None:
    s: dict[str, object] = {}
    assert state.chosen_person(s, SHA) is None
    state.choose_person(s, SHA, 2)
    assert state.chosen_person(s, SHA) == 2 and state.chosen_person(s, "cd" * 32) is None
    assert state.analysis_key(SHA, VIEW, None, 2) != state.analysis_key(SHA, VIEW, None)
    state.choose_person(s, SHA, None)
    assert state.chosen_person(s, SHA) is None


# --- the page (AppTest) ---------------------------------------------------------------------
@pytest.fixture
def one_pass_page(monkeypatch: pytest.MonkeyPatch, model: PoseModel, app_data_dir: Path) -> None:
    """The page with the session's warm model and one model pass per analysis."""
    import ui.pages.assessment as page

    monkeypatch.setattr(page, "get_model", lambda: model)
    monkeypatch.setattr(page, "AnalysisOptions", functools.partial(AnalysisOptions, refine=False))


def _analysis(at: AppTest) -> object:
    ((_photo, analysis),) = at.session_state[state.ANALYSES].values()
    return analysis


@pytest.mark.usefixtures("one_pass_page")
def test_a_nudge_moves_the_landmark_one_photo_pixel(monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.pages.assessment as page

    passed: list[float | None] = []
    real = page.correct_landmarks

    def spy(base, points, **kw):  # type: ignore[no-untyped-def]
        passed.append(kw.get("photo_px_per_display_px"))
        return real(base, points, **kw)

    monkeypatch.setattr(page, "correct_landmarks", spy)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    upload(at, FRONT)
    assert not at.exception and cards(at)
    base = _analysis(at)
    x, y = base.point_xy("right_shoulder")  # type: ignore[attr-defined]
    shoulder_before = cards(at)["Shoulder line tilt"]
    at.button(key="nudge_1_0").click().run()  # "→"
    at.button(key="nudge_0_1").click().run()  # "↓"
    sha = str(base.image["sha256"])  # type: ignore[attr-defined]
    assert state.corrections_for(at.session_state, sha, VIEW) == {
        "right_shoulder": (pytest.approx(x + 1.0), pytest.approx(y + 1.0))}
    assert any(f"At x {x + 1:.1f}, y {y + 1:.1f} px" in c.value for c in at.caption)
    assert any("uses hand-placed landmarks" in c.value for c in at.caption)
    assert cards(at)["Shoulder line tilt"] != shoulder_before  # the right shoulder 1 px lower
    # the precision handed on is the zoom's (photo px per zoom px), finer than the whole photo's
    zoom_precision = passed[-1]
    assert zoom_precision is not None and zoom_precision < 1.0
    at.button(key="reset_landmarks").click().run()
    assert state.corrections_for(at.session_state, sha, VIEW) == {}


@pytest.mark.usefixtures("one_pass_page")
def test_four_people_pick_the_client(tmp_path: Path) -> None:
    four = write_four_people(tmp_path / "four.jpg")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    upload(at, four)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("4 people are in this photo" in w.value for w in at.warning)
    assert cards(at) == {}  # nothing measured before the pick
    for i in (1, 3):  # two different picks: two different people analysed
        at.get("button_group")[0].set_value(i).run()
        assert not at.exception and cards(at)
        assert not at.get("button_group")  # the result replaced the picker
        analysis = next(a for k, (_p, a) in at.session_state[state.ANALYSES].items() if k[3] == i)
        lo, hi = x_range(i)
        assert lo < analysis.point_xy("right_shoulder")[0] < analysis.point_xy("left_shoulder")[0] < hi
        assert analysis.method["person"] == i
        at.button(key="other_person").click().run()  # back to the picker, no model pass
        assert any("4 people are in this photo" in w.value for w in at.warning)
