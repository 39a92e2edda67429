"""Clinic settings: stored in the data dir atomically, the Settings page, and what reaches every PDF
(single report, comparison, the reports inside a client's export)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from posture.errors import PostureError
from posture.report.layout import Practice, clinic_practice
from posture.settings import (
    LOGO_FILENAME,
    MAX_NAME_CHARS,
    ClinicSettings,
    load_settings,
    logo_path,
    save_settings,
    settings_path,
    store_logo,
)
from posture.store import open_store
from tests.test_compare import synthetic_analysis
from tests.test_ui_records import _photo


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))


def test_settings_round_trip_atomic_and_owner_only(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == ClinicSettings()  # nothing saved: the defaults
    s = ClinicSettings(clinic="  Praxis Müller ", therapist="Ana Lima", blur_faces=True)
    path = save_settings(s, tmp_path)
    assert path == settings_path(tmp_path) and path.parent == tmp_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left
    back = load_settings(tmp_path)
    assert back == ClinicSettings(clinic="Praxis Müller", therapist="Ana Lima", blur_faces=True)
    assert json.loads(path.read_text(encoding="utf-8"))["clinic"] == "Praxis Müller"
    # a broken file gives the defaults, not a crash
    path.write_text("{not json", encoding="utf-8")
    assert load_settings(tmp_path) == ClinicSettings()


def test_settings_refuse_what_cannot_be_printed(tmp_path: Path) -> None:
    with pytest.raises(PostureError, match="at most"):
        ClinicSettings(clinic="x" * (MAX_NAME_CHARS + 1))
    with pytest.raises(PostureError, match="inside the data directory"):
        ClinicSettings(logo="../elsewhere.png")
    with pytest.raises(PostureError, match="not an image"):
        store_logo(b"not an image", ClinicSettings(), tmp_path)


def test_logo_is_copied_without_metadata(tmp_path: Path) -> None:
    im = Image.new("RGB", (1200, 300), (20, 90, 160))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera maker
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif)
    s = store_logo(buf.getvalue(), ClinicSettings(clinic="C"), tmp_path)
    assert s.logo == LOGO_FILENAME
    path = logo_path(s, tmp_path)
    assert path is not None and path.parent == tmp_path
    data = path.read_bytes()
    assert b"SecretCam" not in data
    with Image.open(path) as out:
        assert out.format == "PNG" and max(out.size) <= 400


def _settings_app() -> None:
    from ui.pages.settings import render

    render()


def test_settings_page_saves_and_reaches_every_pdf(app_data_dir: Path) -> None:
    at = AppTest.from_function(_settings_app, default_timeout=30).run()
    assert not at.exception
    at.text_input(key="set_clinic").input("Rückenwerk Praxis")
    at.text_input(key="set_therapist").input("Dana Okafor")
    at.checkbox(key="set_blur").check()
    at.button[0].click().run()  # the form's "Save settings"
    assert not at.exception and not at.error
    assert any("Settings saved" in s.value for s in at.success)
    assert load_settings() == ClinicSettings("Rückenwerk Praxis", "Dana Okafor", None, True)
    assert clinic_practice() == Practice("Rückenwerk Praxis", "Dana Okafor", None)

    # the reports inside a client's export: client, therapist, clinic, session date and notes
    with open_store() as store:
        cid = store.create_client("Jo Tanaka", consent_given=True)
        store.save_assessment(cid, _photo(), synthetic_analysis(4.0), taken_at=dt.date(2025, 4, 3),
                              notes="left knee pain since March")
        data = store.export_client_zip(cid)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        (pdf_name,) = [n for n in z.namelist() if n.endswith("report.pdf")]
        text = pdf_text(z.read(pdf_name))
    for expected in ("Rückenwerk Praxis", "Therapist: Dana Okafor", "Jo Tanaka", "03 Apr 2025",
                     "left knee pain since March"):
        assert expected in text, expected

    # the comparison PDF made on the Compare page
    with open_store() as store:
        store.save_assessment(cid, _photo(), synthetic_analysis(0.0), taken_at=dt.date(2025, 6, 1),
                              notes="after six sessions")

    def compare_app() -> None:
        from ui.pages.compare import render

        render()

    cmp_at = AppTest.from_function(compare_app, default_timeout=60).run()
    assert not cmp_at.exception and not cmp_at.error
    cmp_at.button(key="cmp_pdf_make").click().run()
    assert not cmp_at.exception and not cmp_at.error
    from ui.pages.compare import PDF_KEY

    text = pdf_text(cmp_at.session_state[PDF_KEY][1])
    for expected in ("Rückenwerk Praxis", "Therapist: Dana Okafor", "Jo Tanaka", "03 Apr 2025",
                     "01 Jun 2025", "left knee pain since March", "after six sessions"):
        assert expected in text, expected
    assert "(#" not in text  # no internal id


def test_a_logo_prints_on_the_pdf(tmp_path: Path) -> None:
    from posture.compare import align_pair, compare
    from posture.report.compare_pdf import render_compare_pdf

    s = store_logo(_png(np.full((100, 300, 3), (200, 40, 40), np.uint8)), ClinicSettings(clinic="C"),
                   tmp_path)
    before, after = synthetic_analysis(0.0), synthetic_analysis(6.0)
    a, b = align_pair(_photo(), before, _photo(), after)
    args = (compare(before, after), a, b)
    with_logo = render_compare_pdf(*args, practice=Practice("C", "T", logo_path(s, tmp_path)))
    without = render_compare_pdf(*args, practice=Practice("C", "T", None))
    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 3  # the logo + the two photos
    assert len(PdfReader(io.BytesIO(without)).pages[0].images) == 2


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_the_visit_pdf_carries_the_clinic_settings(app_data_dir: Path) -> None:
    from posture.exam import visit_of
    from posture.report.visit_pdf import visit_pdf

    save_settings(ClinicSettings(clinic="Haltung & Co", therapist="Lee Park"))
    visit = visit_of(synthetic_analysis(3.0), date="2026-11-02", notes="first visit, neck stiff")
    text = pdf_text(visit_pdf(visit, {"anterior": _photo()}, client="Mo Reyes"))
    for expected in ("Haltung & Co", "Therapist: Lee Park", "Client: Mo Reyes", "2026-11-02",
                     "first visit, neck stiff"):
        assert expected in text, expected
