"""One rule for "clear" in a side view too: the card, the report's table, the visit PDF's reading
and the cross-view findings judge a side-view value by the same bands, counted from the published
average where there is one (a cm offset), never by the front view's % band."""

from __future__ import annotations

import pytest

from posture.constants import UNIT_CM, UNIT_DEG
from posture.findings import AcrossOptions, band, counts, noise_band
from posture.findings.across import side_clear
from posture.metrics import Measurement
from posture.report.model import measurement_rows
from posture.report.visit_pdf import _reading
from posture.sides import View
from posture.significance import WITHIN_NOISE
from ui.components.cards import card_html


def _m(name: str, value: float, unc: float, unit: str) -> Measurement:
    words = "toward the front" if value > 0 else "toward the back"
    return Measurement(name, name.replace("_", " "), value, unit, words, unc, ())


class _Analysis:
    """Just what measurement_rows reads."""

    def __init__(self, m: Measurement) -> None:
        self.measurements = {m.name: m}


AVERAGE_HEAD = AcrossOptions().offset_reference_cm("head_forward")  # ear ahead of shoulder, 2.1 cm


@pytest.mark.parametrize(
    ("m", "clear"),
    [
        # a 1.8° lean: beyond its ± and the 1° band (the front view's % band of 2.5 called it noise)
        (_m("trunk_lean", 1.8, 1.2, UNIT_DEG), True),
        (_m("trunk_lean", 0.8, 0.5, UNIT_DEG), False),
        # 2.5 cm ear-over-shoulder is only 0.4 cm past the average: within the 1 cm band (counted from
        # 0 it would have read clear)
        (_m("head_forward", AVERAGE_HEAD + 0.4, 0.3, UNIT_CM), False),
        (_m("head_forward", AVERAGE_HEAD + 1.6, 0.3, UNIT_CM), True),
        # knee hyper-extension: its own 5° band
        (_m("knee_extension", 4.0, 1.0, UNIT_DEG), False),
        (_m("knee_extension", 8.0, 1.0, UNIT_DEG), True),
    ],
)
def test_card_table_visit_pdf_and_findings_agree_on_side_values(m: Measurement, clear: bool) -> None:
    assert counts(m) is clear
    assert side_clear(m) is clear  # the cross-view findings' reading
    card = card_html(m)
    assert (WITHIN_NOISE in card) is (not clear), card
    row = measurement_rows(_Analysis(m))[0]  # type: ignore[arg-type]
    assert (row.reading == WITHIN_NOISE) is (not clear), row
    if clear:
        assert row.reading == band(m)
    assert (_reading(View.LEFT, _Analysis(m), m.name) == "clear") is clear  # type: ignore[arg-type]


def test_the_card_of_a_cm_offset_names_the_average_it_is_counted_from() -> None:
    m = _m("head_forward", 3.0, 0.3, UNIT_CM)
    assert noise_band(m) == pytest.approx(1.0)
    assert "around the published average +2.1 cm" in card_html(m)
    lean = _m("trunk_lean", 2.0, 0.5, UNIT_DEG)
    assert noise_band(lean) == pytest.approx(1.0)
    assert "published average" not in card_html(lean)
