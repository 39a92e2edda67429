"""Names and notes (issue 16 item 4): length limits where they are typed and in the library, control
and bidi characters stripped, nothing auto-linked - on every page (AppTest) and every PDF (pypdf)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from posture.analysis import Analysis, analyze
from posture.errors import PostureError
from posture.imaging import Photo, load_photo
from posture.pose import PoseModel
from posture.report.model import md_escape
from posture.settings import ClinicSettings, load_settings, save_settings
from posture.store import open_store
from posture.store.models import Client
from posture.text import (
    BIDI_CHARS,
    CLIENT_NAME_MAX,
    NOTES_MAX,
    PRACTICE_NAME_MAX,
    TextTooLongError,
    clean_text,
    client_name,
    notes,
    unlinked,
)
from tests.conftest import FRONT
from tests.test_app import APP, TIMEOUT, upload

RLO = "\u202e"
# what a person might paste: an override that flips the rest, an isolate, a mark, a NUL, a URL,
# a remote image in Markdown, an e-mail address
HOSTILE_NAME = f"Anna {RLO}reyeM\u2066 \u200fx\x00 https://evil.example/a.png"
HOSTILE_NOTES = ("sore right hip\n![p](https://evil.example/p.png) www.evil.example "
                 f"mail me@evil.example {RLO}dne\u2069")
# remark-gfm's autolink-literal triggers (it links them even when every character is escaped)
AUTOLINKABLE = re.compile(r"(?i)(https?:/|www\.|[\w.+-]@[\w-])")


def _analysis(model: PoseModel) -> tuple[Photo, Analysis]:
    photo = load_photo(FRONT.read_bytes())
    return photo, analyze(photo, "anterior", model=model)


@pytest.fixture(scope="module")
def front(model: PoseModel) -> tuple[Photo, Analysis]:
    return _analysis(model)


def _shown(text: str) -> str:
    """What a reader sees of Markdown-escaped text (the backslashes are not shown)."""
    return re.sub(r"\\(.)", r"\1", text)


def _rendered_texts(at: AppTest) -> list[str]:
    """Every Markdown-rendered text of the page (markdown, captions, headings, alerts)."""
    out: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "success", "info", "warning",
                 "error", "toast"):
        out.extend(str(e.value) for e in getattr(at, kind))
    return out


def _assert_clean_page(at: AppTest, must_show: str) -> None:
    """``must_show`` is on the page; no rendered text nor any picker's option carries a bidi or
    control character, no rendered text anything Markdown would link."""
    texts = _rendered_texts(at)
    options = [str(o) for sb in at.selectbox for o in sb.options]
    assert any(must_show in _shown(t) for t in texts + options), f"{must_show!r} not on the page"
    for o in options:
        assert not (set(o) & BIDI_CHARS) and "\x00" not in o, o
    for t in texts:
        assert not (set(t) & BIDI_CHARS) and "\x00" not in t, t
        assert not AUTOLINKABLE.search(_shown(t)), f"would be auto-linked: {t!r}"


def _pdf(data: bytes) -> tuple[str, int]:
    """(the PDF's text, how many link annotations it has)."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    links = sum(1 for p in reader.pages for a in (p.get("/Annots") or [])
                if a.get_object().get("/Subtype") == "/Link")
    return text, links


def _assert_clean_pdf(data: bytes, *expected: str) -> None:
    text, links = _pdf(data)
    flat = re.sub(r"\s+", " ", text)
    for e in expected:
        assert e in flat, e
    assert not (set(text) & BIDI_CHARS) and "\x00" not in text
    assert links == 0


# -- the library ----------------------------------------------------------------------------------


def test_typed_text_is_cleaned_and_refused_when_too_long() -> None:
    assert client_name(HOSTILE_NAME) == "Anna reyeM x https://evil.example/a.png"
    assert notes("a\r\nb\tc\u2028d" + RLO) == "a\nb\tc\nd"  # line breaks and tabs kept in notes
    assert client_name("a\nb\tc") == "a b c"  # one line in a name
    assert client_name("  " + "x" * CLIENT_NAME_MAX + RLO + " ") == "x" * CLIENT_NAME_MAX
    with pytest.raises(TextTooLongError, match=f"at most {CLIENT_NAME_MAX} characters .this one has 121"):
        client_name("x" * (CLIENT_NAME_MAX + 1))
    with pytest.raises(TextTooLongError, match=f"notes can be at most {NOTES_MAX}"):
        notes("n" * (NOTES_MAX + 1))
    assert issubclass(TextTooLongError, PostureError)
    assert clean_text("é", limit=1, what="x") == "\u00e9"  # NFC: one character
    # shown as typed, but a word joiner breaks every autolink trigger
    shown = unlinked("see https://a.example, WWW.b.example or c@d.example")
    assert shown.replace("\u2060", "") == "see https://a.example, WWW.b.example or c@d.example"
    assert not AUTOLINKABLE.search(shown)
    assert not AUTOLINKABLE.search(_shown(md_escape("x https://a.example y")))


def test_the_store_and_the_settings_clean_and_refuse(tmp_path: Path, front: tuple[Photo, Analysis]) -> None:
    photo, analysis = front
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        cid = store.create_client(HOSTILE_NAME, notes=HOSTILE_NOTES, consent_given=True)
        c = store.get_client(cid)
        assert c.name == "Anna reyeM x https://evil.example/a.png"
        assert not (set(c.notes) & BIDI_CHARS) and c.notes.startswith("sore right hip\n")
        with pytest.raises(TextTooLongError):
            store.update_client(cid, name="y" * (CLIENT_NAME_MAX + 1))
        with pytest.raises(TextTooLongError):
            store.update_client(cid, notes="n" * (NOTES_MAX + 1))
        with pytest.raises(TextTooLongError):
            store.create_client("z" * 100_000)
        assert store.get_client(cid).name == c.name  # the refused rename changed nothing
        aid = store.save_assessment(cid, photo, analysis, notes=f"knee {RLO}pain")
        assert store.list_assessments(cid)[0].notes == "knee pain"
        with pytest.raises(TextTooLongError):
            store.update_assessment(aid, notes="n" * (NOTES_MAX + 1))
        # one transaction: a refused note leaves no new client behind
        with pytest.raises(TextTooLongError):
            store.save_for_client(photo, analysis, new_name="New One", consent=True,
                                  notes="n" * (NOTES_MAX + 1))
        assert [x.name for x in store.find_clients()] == [c.name]
    s = ClinicSettings(clinic=f"Praxis {RLO}Nord\u200e", therapist="Dana\x07 Okafor")
    assert (s.clinic, s.therapist) == ("Praxis Nord", "Dana Okafor")
    with pytest.raises(PostureError, match=f"at most {PRACTICE_NAME_MAX}"):
        ClinicSettings(clinic="c" * (PRACTICE_NAME_MAX + 1))


# -- the pages ------------------------------------------------------------------------------------


def _raw_client(data_dir: Path, name: str, client_notes: str) -> int:
    """A client row written past the library (as an older version or another tool could have):
    the pages must show it safely too."""
    with open_store(f"sqlite:///{data_dir / 'posture.db'}") as store, store._tx() as s:
        row = Client(name=name, notes=client_notes, consent_given=True, consent_at=dt.datetime.now(dt.UTC))
        s.add(row)
        s.flush()
        return int(row.id)


def test_new_assessment_limits_cleans_and_shows_no_link(app_data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    upload(at, FRONT)
    assert not at.exception
    assert at.text_input(key="save_new_name").max_chars == CLIENT_NAME_MAX
    assert at.text_area(key="save_notes").max_chars == NOTES_MAX
    assert at.text_input(key="report_client").max_chars == CLIENT_NAME_MAX
    # too long: Streamlit itself drops a value over max_chars (a scripted client too), nothing saved
    at.text_input(key="save_new_name").input("x" * (CLIENT_NAME_MAX + 1))
    at.checkbox(key="save_consent").check()
    at.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not at.exception
    assert at.error and not at.success
    with open_store(f"sqlite:///{app_data_dir / 'posture.db'}") as store:
        assert store.find_clients() == []
    at.text_input(key="save_new_name").input(HOSTILE_NAME)
    at.text_area(key="save_notes").input(HOSTILE_NOTES)
    at.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    _assert_clean_page(at, "Anna reyeM x https")
    with open_store(f"sqlite:///{app_data_dir / 'posture.db'}") as store:
        (c,) = store.find_clients()
        assert c.name == "Anna reyeM x https://evil.example/a.png"
        (rec,) = store.list_assessments(c.id)
        assert RLO not in rec.notes and "www.evil.example" in rec.notes


def _clients_app() -> None:
    from ui.pages.clients import render

    render()


def _compare_app() -> None:
    from ui.pages.compare import render

    render()


def _settings_app() -> None:
    from ui.pages.settings import render

    render()


def test_clients_and_compare_show_names_and_notes_plainly_and_the_pdfs_are_clean(
        app_data_dir: Path, front: tuple[Photo, Analysis]) -> None:
    photo, analysis = front
    save_settings(ClinicSettings(clinic="Praxis Nord", therapist="Dana Okafor"))
    cid = _raw_client(app_data_dir, HOSTILE_NAME, HOSTILE_NOTES)  # U+202E and URLs as stored
    with open_store() as store:
        store.save_assessment(cid, photo, analysis, taken_at=dt.date(2026, 3, 2), notes=HOSTILE_NOTES)
        store.save_assessment(cid, photo, analysis, taken_at=dt.date(2026, 5, 4), notes="after")
        zipped = store.export_client_zip(cid)

    at = AppTest.from_function(_clients_app, default_timeout=60).run()
    assert not at.exception
    assert next(t for t in at.text_input if t.label == "Name or code").max_chars == CLIENT_NAME_MAX
    assert {t.max_chars for t in at.text_area if t.label == "Notes"} == {NOTES_MAX}  # add + edit
    _assert_clean_page(at, "Anna reyeM x https")
    # a note longer than max_chars is not taken by the widget (Streamlit drops it server-side),
    # and the stored notes stay as they were (the store would refuse it too: the library test)
    notes_box = next(t for t in at.text_area if str(t.key).startswith("notes_"))
    notes_box.input("n" * (NOTES_MAX + 1)).run()
    assert not at.exception
    assert len(next(t for t in at.text_area if str(t.key).startswith("notes_")).value) <= NOTES_MAX
    with open_store() as store:
        assert store.get_client(cid).notes == HOSTILE_NOTES

    cmp_at = AppTest.from_function(_compare_app, default_timeout=60).run()
    assert not cmp_at.exception and not cmp_at.error
    _assert_clean_page(cmp_at, "sore right hip")
    cmp_at.button(key="cmp_pdf_make").click().run()
    assert not cmp_at.exception and not cmp_at.error
    from ui.pages.compare import PDF_KEY

    _assert_clean_pdf(cmp_at.session_state[PDF_KEY][1], "Anna reyeM x https://evil.example/a.png",
                      "sore right hip", "Praxis Nord")

    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        pdfs = [n for n in z.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == 2
        for name in pdfs:
            _assert_clean_pdf(z.read(name), "Anna reyeM x https://evil.example/a.png", "Praxis Nord")


def test_the_visit_pdf_prints_names_and_notes_clean(app_data_dir: Path,
                                                    front: tuple[Photo, Analysis]) -> None:
    from posture.exam import visit_of
    from posture.report.visit_pdf import visit_pdf

    photo, analysis = front
    save_settings(ClinicSettings(clinic="Praxis Nord", therapist="Dana Okafor"))
    visit = visit_of(analysis, date="2026-11-02", notes=HOSTILE_NOTES)
    _assert_clean_pdf(visit_pdf(visit, {"anterior": photo}, client=HOSTILE_NAME),
                      "Anna reyeM x https://evil.example/a.png", "sore right hip")


def test_settings_page_limits_and_cleans(app_data_dir: Path) -> None:
    at = AppTest.from_function(_settings_app, default_timeout=30).run()
    assert not at.exception
    assert at.text_input(key="set_clinic").max_chars == PRACTICE_NAME_MAX
    assert at.text_input(key="set_therapist").max_chars == PRACTICE_NAME_MAX
    at.text_input(key="set_clinic").input(f"Praxis {RLO}Nord https://evil.example")
    at.text_input(key="set_therapist").input("Dana\u2067 Okafor")
    at.button[0].click().run()
    assert not at.exception and not at.error
    s: Any = load_settings()
    assert (s.clinic, s.therapist) == ("Praxis Nord https://evil.example", "Dana Okafor")
    _assert_clean_page(at, "Settings saved")
    at.text_input(key="set_clinic").input("c" * (PRACTICE_NAME_MAX + 1))
    at.button[0].click().run()
    assert not at.exception  # the widget drops a value over max_chars (the library refuses it too)
    assert load_settings().clinic == "Praxis Nord https://evil.example"  # not cut, not replaced


def test_a_visit_s_notes_are_cleaned_and_limited(tmp_path: Path, front: tuple[Photo, Analysis]) -> None:
    from posture.exam import visit_of
    from posture.store.visits import list_visits, save_visit

    photo, analysis = front
    with open_store(f"sqlite:///{tmp_path / 'v.db'}") as store:
        cid = store.create_client("Mo", consent_given=True)
        visit = visit_of(analysis, date="2026-11-02", notes=HOSTILE_NOTES)
        save_visit(store, cid, visit, {"anterior": photo})
        (v,) = list_visits(store, cid)
        assert not (set(v.notes) & BIDI_CHARS) and v.notes.startswith("sore right hip\n")
        with pytest.raises(TextTooLongError):
            save_visit(store, cid, visit_of(analysis, notes="n" * (NOTES_MAX + 1)), {"anterior": photo})
        assert len(list_visits(store, cid)) == 1  # the refused visit left nothing behind
