"""The Clients and Compare pages driven headless with streamlit's AppTest against a tmp database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from posture.imaging import Photo
from posture.store import open_store
from tests.test_compare import synthetic_analysis


def _clients_app() -> None:
    from ui.clients_page import render

    render()


def _compare_app() -> None:
    from ui.compare_page import render

    render()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    monkeypatch.setenv("POSTURE_DATABASE_URL", url)
    from ui.clients_page import clear_store_cache

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


def test_compare_page_shows_changes(db: str) -> None:
    with open_store(db) as store:
        cid = store.create_client("Cmp", consent_given=True)
        store.save_assessment(cid, _photo(), synthetic_analysis(0.0), taken_at=dt.date(2025, 1, 1))
        store.save_assessment(cid, _photo(), synthetic_analysis(6.0), taken_at=dt.date(2025, 3, 1))
    at = AppTest.from_function(_compare_app, default_timeout=30).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "Shoulder line tilt" in list(table["measurement"])
    row = table[table["measurement"] == "Shoulder line tilt"].iloc[0]
    assert row["change"] == pytest.approx(-6.0, abs=0.01) and row["real change"] == "yes"
    assert any("real change" in md.value for md in at.markdown)
    images = [e for e in at.main.children.values() if getattr(e, "type", "") == "image"]
    assert len(images) == 1 and not at.info  # the aligned pair is shown
    assert at.get("vega_lite_chart")  # the trend
