"""Several people in one photo: refused with their boxes when nobody is chosen; the chosen person
(``AnalysisOptions.person``, 0 = leftmost; CLI ``--person N``, 1 = leftmost) is the one analysed.

The photo: four shipped front views side by side (tests/people_photo.py), so each person's strip of
the composite is known exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posture import errors
from posture.analysis import AnalysisOptions, analyze
from posture.cli import main
from posture.imaging import Photo, load_photo
from posture.pose import Landmark as L
from posture.pose import PoseModel
from tests.people_photo import SOURCES, write_four_people, x_range

FAST = AnalysisOptions(refine=False)


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_four_people(tmp_path_factory.mktemp("people") / "four.jpg")


@pytest.fixture(scope="module")
def photo(four: Path) -> Photo:
    return load_photo(four)


def _shoulders_x(a: object) -> tuple[float, float]:
    right = a.point(L.RIGHT_SHOULDER)  # type: ignore[attr-defined]
    left = a.point(L.LEFT_SHOULDER)  # type: ignore[attr-defined]
    return right[0], left[0]


def test_four_people_refused_with_their_boxes_left_to_right(photo: Photo, model: PoseModel) -> None:
    with pytest.raises(errors.MultiplePeopleError) as info:
        analyze(photo, "anterior", FAST, model=model)
    boxes = info.value.boxes
    assert len(boxes) == len(SOURCES) == 4
    assert "4 people" in str(info.value) and "--person" in str(info.value)
    for i, (x0, y0, x1, y1) in enumerate(boxes):  # full-size pixels, each inside its own strip
        lo, hi = x_range(i)
        assert lo <= x0 < x1 <= hi, (i, boxes[i], (lo, hi))
        assert 0 <= y0 < y1 <= photo.height


@pytest.mark.parametrize("refine", [False, True], ids=["one-pass", "refined"])
def test_each_pick_analyses_that_person(photo: Photo, model: PoseModel, refine: bool) -> None:
    picks = range(4) if not refine else (1, 2)  # the refined path follows the chosen box too
    seen = []
    for i in picks:
        a = analyze(photo, "anterior", AnalysisOptions(refine=refine, person=i), model=model)
        lo, hi = x_range(i)
        rx, lx = _shoulders_x(a)
        # front view: the client's right shoulder is on the image's left, both inside the strip
        assert lo < rx < lx < hi, (i, rx, lx, (lo, hi))
        assert a.method["person"] == i
        assert any("person" in w and "chosen" in w for w in a.warnings)
        seen.append(rx)
    assert seen == sorted(seen) and len(set(round(x) for x in seen)) == len(seen)


def test_a_pick_out_of_range_is_a_clear_error(photo: Photo, model: PoseModel) -> None:
    with pytest.raises(errors.InvalidOptionError, match="1 to 4, counted from the left"):
        analyze(photo, "anterior", AnalysisOptions(refine=False, person=4), model=model)


def test_one_person_photo_unchanged_by_person_zero(model: PoseModel) -> None:
    from tests.conftest import FRONT

    p = load_photo(FRONT)
    plain = analyze(p, "anterior", FAST, model=model)
    chosen = analyze(p, "anterior", AnalysisOptions(refine=False, person=0), model=model)
    assert chosen.point(L.RIGHT_SHOULDER) == plain.point(L.RIGHT_SHOULDER)
    assert "person" not in plain.method


def test_cli_person(four: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(four), "--fast", "--person", "0"]) == 2  # counted from 1
    assert "Person 0 was chosen" in capsys.readouterr().err
    assert main(["analyze", str(four), "--fast"]) == 2
    err = capsys.readouterr().err
    assert "people of similar size" in err and "person 4 at x" in err
    assert main(["analyze", str(four), "--fast", "--json", "--person", "3"]) == 0  # 1 = leftmost
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    lo, hi = x_range(2)
    assert doc["method"]["person"] == 2  # the library's index: 0 = leftmost
    assert lo < doc["landmarks"]["right_shoulder"]["x"] < doc["landmarks"]["left_shoulder"]["x"] < hi
