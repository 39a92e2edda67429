"""Records that fit a practice: the session date edited after saving, ONE assessment deleted (its
photo's bytes gone from the database file), a saved assessment reopened (its report, its hand-placed
landmarks on the New assessment page), the New assessment page's state kept across pages, and the
comparison PDF without internal ids or split paragraphs."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from posture.analysis import correct_landmarks
from posture.store import open_store
from tests.conftest import FRONT
from tests.test_compare import synthetic_analysis
from ui import nav, state
from ui.components.cards import HAND_PLACED

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120  # the first run of the whole app loads the pose model


def _clients_app() -> None:
    from ui.pages.clients import render

    render()


def _photo_rgb(shade: int) -> np.ndarray:
    """A photo with a recognisable run of pixel values (found again in the raw database file)."""
    rng = np.random.default_rng(shade)
    rgb = rng.integers(0, 255, (200, 150, 3), dtype=np.uint8)  # small: few database pages
    rgb[40:190, 60:90] = shade
    return rgb


def _three_sessions(store: Any) -> tuple[int, list[int]]:
    cid = store.create_client("Rita Gomes", consent_given=True)
    ids = [store.save_assessment(cid, _photo_rgb(40 + 30 * i), synthetic_analysis(2.0 * i),
                                 taken_at=dt.date(2025, 1 + 2 * i, 10), notes=f"session {i + 1}")
           for i in range(3)]
    return cid, ids


def test_store_date_edit_and_delete_one_assessment_leaving_no_byte(app_data_dir: Path) -> None:
    with open_store() as store:
        cid, (a1, a2, a3) = _three_sessions(store)
        rec = store.update_assessment(a2, taken_at=dt.date(2025, 2, 20))
        assert rec.taken_at == dt.date(2025, 2, 20) and rec.notes == "session 2"
        with pytest.raises(Exception, match="future"):
            store.update_assessment(a2, taken_at=dt.date.today() + dt.timedelta(days=1))
        gone = store.get_photo_bytes(a2)
        kept = store.get_photo_bytes(a3)
        store.delete_assessment(a2)
        assert [r.id for r in store.list_assessments(cid)] == [a1, a3]
        assert store.get_client(cid).name == "Rita Gomes"
    raw = b"".join(p.read_bytes() for p in app_data_dir.iterdir() if p.name.startswith("posture.db"))
    def pixels(data: bytes) -> bytes:  # entropy-coded pixels, unique to the photo
        return data[len(data) // 2: len(data) // 2 + 48]

    assert pixels(gone) not in raw  # the deleted photo's bytes are gone from the file
    assert b"session 2" not in raw  # and its notes
    assert pixels(kept) in raw  # (the search does find the bytes of a photo that stays)


def test_clients_page_history_date_edit_delete_and_report(app_data_dir: Path) -> None:
    from posture.findings import attach_findings

    with open_store() as store:
        cid, ids = _three_sessions(store)
        store.update_assessment(ids[2], analysis=attach_findings(
            synthetic_analysis(right_shoulder_drop_px=60.0)))
    at = AppTest.from_function(_clients_app, default_timeout=60).run()
    assert not at.exception and not at.error
    history = at.dataframe[0].value
    assert list(history["date"]) == [dt.date(2025, 5, 10), dt.date(2025, 3, 10), dt.date(2025, 1, 10)]
    assert all(str(p).startswith("data:image/jpeg;base64,") for p in history["photo"])
    newest = history.iloc[0]
    assert "Trunk shortened on the right side (marked)" in newest["findings"]
    assert re.fullmatch(r"\+\d+\.\d° right lower", newest["shoulders"]), newest["shoulders"]
    assert history.iloc[2]["findings"] == "no clear asymmetry"
    trends = at.dataframe[1].value
    row = trends[trends["measurement"] == "Shoulder line tilt (front)"].iloc[0]
    assert len(row["trend"]) == 3

    # the session date, edited after saving
    at.selectbox(key="history_open").set_value(ids[1]).run()
    at.date_input(key=f"date_of_{ids[1]}").set_value(dt.date(2025, 3, 14)).run()
    at.button(key="save_session_date").click().run()
    assert not at.exception and not at.error
    assert any("now dated 14 Mar 2025" in s.value for s in at.success)
    with open_store() as store:
        assert store.get_assessment(ids[1]).taken_at == dt.date(2025, 3, 14)
    assert at.selectbox(key="history_open").value == ids[1]  # the same assessment stays open

    # the report of an old session, on request: client, date, notes
    at.selectbox(key="history_open").set_value(ids[0]).run()
    at.button(key="reopen_report").click().run()
    assert not at.exception and not at.error
    from ui.pages.clients import REPORT_KEY

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(at.session_state[REPORT_KEY][1])).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Rita Gomes" in text and "10 Jan 2025" in text and "session 1" in text
    labels = [b.label for b in at.get("download_button") if "report" in b.label]
    assert labels == ["Download the report (PDF)"]

    # delete ONE assessment: asks first, then says what it did; the others stay
    at.selectbox(key="history_open").set_value(ids[1]).run()
    at.button(key="delete_btn").click().run()
    assert not at.exception
    with open_store() as store:
        assert len(store.list_assessments(cid)) == 3  # nothing deleted before the confirmation
    at.button(key="delete_confirm").click().run()
    assert not at.exception and not at.error
    assert any("Deleted the assessment of 14 Mar 2025" in s.value for s in at.success)
    with open_store() as store:
        assert [r.id for r in store.list_assessments(cid)] == [ids[0], ids[2]]
    assert "Assessments (2)" in [h.value for h in at.subheader]


def test_erasing_a_client_says_what_it_did(app_data_dir: Path) -> None:
    with open_store() as store:
        _three_sessions(store)
    at = AppTest.from_function(_clients_app, default_timeout=60).run()
    at.text_input(key="erase_confirm").input("Rita Gomes").run()
    at.button(key="erase_btn").click().run()
    assert not at.exception
    assert any("Rita Gomes was erased" in s.value and "3 assessments" in s.value for s in at.success)


def _goto(at: AppTest, spec: nav.PageSpec) -> AppTest:
    """Switch the whole app's navigation to another page, as the sidebar link does."""
    at._page_hash = calc_hash(spec.url_path)
    return at.run(timeout=TIMEOUT)


def test_new_assessment_keeps_photo_height_and_corrections_across_pages(app_data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.file_uploader(key="upload").set_value((FRONT.name, FRONT.read_bytes(), "image/jpeg"))
    at.run(timeout=TIMEOUT)
    at.number_input(key="height").set_value(176.0).run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    sha = next(iter(at.session_state[state.ANALYSES]))[0]
    state.set_correction(at.session_state, sha, "anterior", "right_shoulder", (301.0, 402.0))
    at.run(timeout=TIMEOUT)
    before = {str(m.label): str(m.value) for m in at.metric}
    assert before

    _goto(at, nav.CLIENTS)
    assert [t.value for t in at.title] == ["Clients"]
    _goto(at, nav.ASSESSMENT)
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["New assessment"]
    assert at.number_input(key="height").value == 176.0
    assert state.corrections_for(at.session_state, sha, "anterior") == {"right_shoulder": (301.0, 402.0)}
    assert {str(m.label): str(m.value) for m in at.metric} == before  # the same photo, measured alike
    assert any("photo from before" in c.value for c in at.caption)
    # removing the photo is the only way to drop it
    at.button(key="forget_photo").click().run(timeout=TIMEOUT)
    assert not at.metric and state.kept_photo(at.session_state) is None


def test_a_saved_assessment_reopens_with_its_hand_placed_landmarks(app_data_dir: Path, model: Any) -> None:
    from posture.analysis import analyze
    from posture.imaging import load_photo

    photo = load_photo(FRONT)
    base = analyze(photo, "anterior", model=model)
    shoulder = base.to_dict()["landmarks"]["right_shoulder"]
    x, y = float(shoulder["x"]), float(shoulder["y"])
    corrected = correct_landmarks(base, {"right_shoulder": (x, y + 12.0)})
    with open_store() as store:
        cid = store.create_client("Reo", consent_given=True)
        aid = store.save_assessment(cid, photo, corrected, taken_at=dt.date(2025, 2, 2))
        stored = store.get_photo_bytes(aid)
        d = store.get_assessment(aid).analysis
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _goto(at, nav.CLIENTS)
    at.button(key="reopen_btn").click().run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["New assessment"]
    assert any("saved assessment, reopened" in c.value for c in at.caption)
    sha = state.kept_photo(at.session_state)
    assert sha is not None and sha[0] == stored
    with Image.open(io.BytesIO(stored)) as im:
        f = im.width / float(d["image"]["width"])
    import hashlib

    placed = state.corrections_for(at.session_state, hashlib.sha256(stored).hexdigest(), "anterior")
    assert set(placed) == {"right_shoulder"}
    assert placed["right_shoulder"][1] == pytest.approx((y + 12.0) * f, abs=0.01)
    assert any(HAND_PLACED in c.value for c in at.caption)  # the cards say so again


def test_comparison_pdf_has_no_internal_id_and_no_split_paragraph() -> None:
    from posture.compare import align_pair, compare
    from posture.report.compare_pdf import DISCLAIMER, render_compare_pdf
    from posture.report.layout import Practice
    from tests.test_ui_records import _photo

    before, after = synthetic_analysis(0.0), synthetic_analysis(6.0)
    a, b = align_pair(_photo(), before, _photo(), after)
    result = compare(before, after)
    # longer and longer notes push the closing paragraphs down to the bottom of a page, where a
    # split sentence or a lone heading would happen
    last = DISCLAIMER.split(". ")[-1]
    checked_two_pages = False
    for n in range(0, 60, 2):
        pdf = render_compare_pdf(result, a, b, before_label="Before: 01 Jan 2025",
                                 after_label="After: 01 Mar 2025", client="Ola Berg",
                                 before_notes="Stiff neck in the mornings. " * n,
                                 after_notes="Better after the exercises. " * n,
                                 practice=Practice("Clinic", "Thera Pist"))
        pages = [re.sub(r"\s+", " ", p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]
        checked_two_pages |= len(pages) > 1
        assert not any("(#" in p for p in pages), n  # no internal id
        assert sum(last in p for p in pages) == 1, n  # the last sentence whole, on one page
        for p in pages:  # no heading ends a page (the footer aside)
            body = p.split(" Clinic · Therapist")[0].rstrip()
            assert not body.endswith(("About this comparison", "Therapist notes", "In words",
                                      "Warnings", "Before: 01 Jan 2025", "After: 01 Mar 2025")), n
    assert checked_two_pages


def _compare_app() -> None:
    from ui.pages.compare import render

    render()


def test_compare_table_units_empty_cells_and_hand_placed_points(app_data_dir: Path) -> None:
    import dataclasses

    from posture.compare import FEET_HIDDEN_WARNING
    from tests.test_ui_records import _photo

    # before: a height was entered but the feet were hidden (lengths in %), the head tilt missing;
    # after: lengths in cm, the right shoulder placed by hand
    feet = f"The {FEET_HIDDEN_WARNING}, so centimetres could not be derived."
    first = synthetic_analysis(0.0)
    before = dataclasses.replace(first, warnings=(feet,), measurements={
        k: v for k, v in first.measurements.items() if k != "head_tilt"})
    after = dataclasses.replace(synthetic_analysis(8.0, cm_per_px=0.15),
                                manual=frozenset({"right_shoulder"}))
    with open_store() as store:
        cid = store.create_client("Units", consent_given=True)
        store.save_assessment(cid, _photo(), before, taken_at=dt.date(2025, 1, 5))
        store.save_assessment(cid, _photo(), after, taken_at=dt.date(2025, 2, 5))
    at = AppTest.from_function(_compare_app, default_timeout=60).run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    rows = {r["measurement"]: r for _i, r in table.iterrows()}
    shift = rows["Trunk shift"]
    assert shift["before"].endswith(" %") and shift["after"].endswith(" cm")  # each its own unit
    assert shift["change"] == "–" and shift["real change"] == "not compared"
    head = rows["Head tilt"]
    assert head["before"] == "–" and head["after"].endswith("°") and head["change"] == "–"
    assert "None" not in table.to_string()
    shoulder = rows["Shoulder line tilt"]
    assert shoulder["real change"] == "yes ✋"  # rests on the hand-placed right shoulder
    assert any("placed by hand" in c.value for c in at.caption)
    # the advice names what is really missing: the feet, not the height
    (units,) = [w.value for w in at.warning if "% of shoulder width" in w.value]
    assert "feet are hidden" in units and "before photo" in units and "after photo" not in units
