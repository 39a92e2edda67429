"""The Clients and Compare pages driven headless with streamlit's AppTest against a tmp database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from posture.imaging import Photo
from posture.store import open_store
from tests.test_compare import synthetic_analysis


def _clients_app() -> None:
    from ui.pages.clients import render

    render()


def _compare_app() -> None:
    from ui.pages.compare import render

    render()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    monkeypatch.setenv("POSTURE_DATABASE_URL", url)
    from ui.nav import clear_store_cache

    clear_store_cache()
    yield url
    clear_store_cache()


def _photo() -> Photo:
    rgb = np.full((1600, 1000, 3), 200, np.uint8)
    rgb[300:1550, 380:620] = 60  # a dark figure
    return Photo.from_array(rgb)


def test_clients_page_add_consent_and_erase(db: str) -> None:
    at = AppTest.from_function(_clients_app, default_timeout=30).run()
    assert not at.exception
    assert any("No clients yet" in i.value for i in at.info)
    at.text_input[0].input("AB-0042")
    at.checkbox[0].check()
    at.button[0].click().run()  # "Add client" (form submit)
    assert not at.exception
    with open_store(db) as store:
        (client,) = store.find_clients()
        assert client.name == "AB-0042" and client.consent_given
        store.save_assessment(client.id, _photo(), synthetic_analysis(), taken_at=dt.date(2025, 2, 1))
    at.run()
    assert any("Consent recorded" in s.value for s in at.success)
    assert "Assessments (1)" in [h.value for h in at.subheader]
    erase = next(b for b in at.button if b.key == "erase_btn")
    assert erase.disabled  # until the name is typed
    next(t for t in at.text_input if t.key == "erase_confirm").input("AB-0042").run()
    next(b for b in at.button if b.key == "erase_btn").click().run()
    assert not at.exception
    with open_store(db) as store:
        assert store.find_clients() == []


def _elements(node: Any, kind: str) -> list[Any]:
    """Every element of type ``kind`` anywhere below ``node`` (columns, expanders ...)."""
    out = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", "") == kind:
            out.append(child)
        out.extend(_elements(child, kind))
    return out


def _two_sessions(db: str, second_tilt: float = 6.0) -> int:
    with open_store(db) as store:
        cid = store.create_client("Cmp", consent_given=True)
        store.save_assessment(cid, _photo(), synthetic_analysis(0.0), taken_at=dt.date(2025, 1, 1))
        store.save_assessment(cid, _photo(), synthetic_analysis(second_tilt), taken_at=dt.date(2025, 3, 1),
                              notes="after 6 sessions")
    return cid


def test_compare_page_shows_changes(db: str) -> None:
    _two_sessions(db)
    at = AppTest.from_function(_compare_app, default_timeout=30).run()
    assert not at.exception and not at.error
    # before = the oldest, after = the newest, labelled by date
    before, after = at.selectbox(key="cmp_before"), at.selectbox(key="cmp_after")
    assert before.format_func(before.value).startswith("01 Jan 2025")
    assert "after 6 sessions" in after.format_func(after.value)
    table = at.dataframe[0].value
    assert "Shoulder line tilt" in list(table["measurement"])
    row = table[table["measurement"] == "Shoulder line tilt"].iloc[0]
    assert row["change"] == "-6.0°" and row["real change"] == "yes"
    assert row["before"] == "+0.0°" and row["after"] == "-6.0°"
    assert any("Real changes" in md.value and "Shoulder line tilt" in md.value for md in at.markdown)
    images = _elements(at.main, "image")
    assert len(images) == 2 and not at.info  # the aligned pair: before and after
    assert at.get("vega_lite_chart")  # the trend
    assert not at.get("download_button")  # the PDF is made on request, not on every rerun
    at.button(key="cmp_pdf_make").click().run()
    assert not at.exception and not at.error
    assert [b.label for b in at.get("download_button")] == ["Download comparison PDF"]
    # the overlay adds a third, blended picture
    at.toggle(key="cmp_overlay").set_value(True).run()
    assert not at.exception and len(_elements(at.main, "image")) == 3


def test_compare_page_small_change_is_noise_and_swapped_order_is_flagged(db: str) -> None:
    _two_sessions(db, second_tilt=1.0)  # 1 deg: below the 2.5 deg noise band
    at = AppTest.from_function(_compare_app, default_timeout=30).run()
    table = at.dataframe[0].value
    row = table[table["measurement"] == "Shoulder line tilt"].iloc[0]
    assert row["real change"] == "no" and row["change"] == "-1.0°"
    # not listed among the real changes (other measurements of the synthetic pair may be)
    assert not any("Real changes" in md.value and "Shoulder line tilt" in md.value for md in at.markdown)
    b, a = at.selectbox(key="cmp_before").value, at.selectbox(key="cmp_after").value
    at.selectbox(key="cmp_before").set_value(a)
    at.selectbox(key="cmp_after").set_value(b)
    at.run()
    assert any("run backwards in time" in w.value for w in at.warning)
    row = at.dataframe[0].value
    assert row[row["measurement"] == "Shoulder line tilt"].iloc[0]["change"] == "+1.0°"


def test_compare_page_with_one_assessment_explains(db: str) -> None:
    with open_store(db) as store:
        cid = store.create_client("Solo", consent_given=True)
        store.save_assessment(cid, _photo(), synthetic_analysis(0.0), taken_at=dt.date(2025, 1, 1))
    at = AppTest.from_function(_compare_app, default_timeout=30).run()
    assert not at.exception and not at.dataframe
    assert any("1 saved assessment" in i.value and "at least two" in i.value for i in at.info)


def test_comparison_pdf_has_both_photos_and_the_table() -> None:
    import io

    from pypdf import PdfReader

    from posture.compare import align_pair, compare
    from posture.report.compare_pdf import render_compare_pdf

    before, after = synthetic_analysis(0.0), synthetic_analysis(6.0)
    result = compare(before, after)
    a, b = align_pair(_photo(), before, _photo(), after)
    pdf = render_compare_pdf(result, a, b, before_label="Before: 01 Jan 2025",
                             after_label="After: 01 Mar 2025", client="Zoë 🙂 Test")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Posture comparison" in text and "Zoë ? Test" in text
    assert "Shoulder line tilt" in text and "-6.0°" in text
    assert "01 Jan 2025" in text and "01 Mar 2025" in text
    assert len(reader.pages[0].images) == 2


def test_client_names_with_markup_show_literally(db: str) -> None:
    name = "**Bold** [click](http://example.invalid) <b>x</b> $y$"
    at = AppTest.from_function(_clients_app, default_timeout=30).run()
    at.text_input[0].input(name)
    at.checkbox[0].check()
    at.button[0].click().run()
    assert not at.exception
    shown = [s.value for s in at.success] + [h.value for h in at.subheader]
    # every markdown-active character arrives escaped, so Streamlit prints the name as typed
    assert any(r"\*\*Bold\*\* \[click\]\(http" in v for v in shown), shown
    assert not any("**Bold**" in v for v in shown)


# -- the rules of saving (ui/saving.py), without a page -------------------------------------------

SAVE_DAY = dt.date(2025, 4, 1)


def test_saving_needs_consent_and_a_name(db: str) -> None:
    from posture.store import StoreError
    from ui import saving

    photo, analysis = _photo(), synthetic_analysis()
    with open_store(db) as store:
        with pytest.raises(StoreError, match="consent") as refused:
            saving.save_assessment(store, photo, analysis, client_id=None, new_name="MN-1",
                                   consent=False, notes="", taken_at=SAVE_DAY)
        assert saving.NOTHING_SAVED in str(refused.value)
        with pytest.raises(StoreError, match="name or a code"):
            saving.save_assessment(store, photo, analysis, client_id=None, new_name="  ",
                                   consent=True, notes="", taken_at=SAVE_DAY)
        assert store.find_clients() == []
        # an existing client without recorded consent: refused until it is given now
        cid = store.create_client("OP-2", consent_given=False)
        with pytest.raises(StoreError, match="consent"):
            saving.save_assessment(store, photo, analysis, client_id=cid, new_name="",
                                   consent=False, notes="", taken_at=SAVE_DAY)
        assert not store.get_client(cid).consent_given and store.list_assessments(cid) == []
        got, aid = saving.save_assessment(store, photo, analysis, client_id=cid, new_name="",
                                          consent=True, notes="intake", taken_at=SAVE_DAY)
        assert got == cid and store.get_client(cid).consent_given
        (rec,) = store.list_assessments(cid)
        assert rec.id == aid and rec.notes == "intake" and rec.taken_at == SAVE_DAY
        # a new client with consent: created, consent recorded, assessment saved
        new, _ = saving.save_assessment(store, photo, analysis, client_id=None, new_name="QR-3",
                                        consent=True, notes="", taken_at=SAVE_DAY)
        assert store.get_client(new).name == "QR-3" and store.get_client(new).consent_given
        assert len(store.list_assessments(new)) == 1


def test_a_failed_save_undoes_the_new_client_and_the_new_consent(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posture.store import Store
    from ui import saving

    def broken(self: Store, *a: Any, **k: Any) -> int:
        raise OSError("disk full")

    photo, analysis = _photo(), synthetic_analysis()
    with open_store(db) as store:
        unsure = store.create_client("ST-4", consent_given=False)
        agreed = store.create_client("UV-5", consent_given=True)
        monkeypatch.setattr(Store, "save_assessment", broken)
        with pytest.raises(OSError):
            saving.save_assessment(store, photo, analysis, client_id=None, new_name="WX-6",
                                   consent=True, notes="", taken_at=SAVE_DAY)
        assert sorted(c.name for c in store.find_clients()) == ["ST-4", "UV-5"]  # WX-6 taken back
        with pytest.raises(OSError):
            saving.save_assessment(store, photo, analysis, client_id=unsure, new_name="",
                                   consent=True, notes="", taken_at=SAVE_DAY)
        assert not store.get_client(unsure).consent_given  # the consent given for it, withdrawn
        with pytest.raises(OSError):
            saving.save_assessment(store, photo, analysis, client_id=agreed, new_name="",
                                   consent=False, notes="", taken_at=SAVE_DAY)
        assert store.get_client(agreed).consent_given  # consent recorded earlier stays
        assert all(store.list_assessments(c.id) == [] for c in store.find_clients())


def test_the_fingerprint_follows_what_would_be_saved() -> None:
    from posture.analysis import correct_landmarks
    from ui.saving import fingerprint

    base = synthetic_analysis()
    assert fingerprint(base) == fingerprint(synthetic_analysis())  # the same analysis again
    x, y = base.point_xy("right_shoulder")
    moved = correct_landmarks(base, {"right_shoulder": (x, y + 40.0)})
    again = correct_landmarks(base, {"right_shoulder": (x, y + 40.0)})
    other = correct_landmarks(base, {"right_shoulder": (x, y + 41.0)})
    assert fingerprint(moved) == fingerprint(again)
    assert len({fingerprint(base), fingerprint(moved), fingerprint(other)}) == 3
