"""Hardening of the Streamlit app: the bad-input corpus of ``tests/test_hardening.py`` through the
upload widget, with the clinic's store left untouched; the app with the network cut; hostile upload
file names.

The page is driven headless with AppTest (as in ``tests/test_app.py``). Each corpus case first gets a
client with consent and one good assessment in a private store, then the bad file is uploaded; the
page must show exactly one clear error (message + what to do) or the expected warning, raise
nothing, and leave the store exactly as it was.

Speed: the corpus tests hand the page the session ``model`` (no second model load) and the same
analysis options as the library corpus test (``QUICK``: no auto-levelling), so the expectations of
``CASES`` apply unchanged. The offline test uses the page as shipped (real model, full analysis).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from posture import errors
from posture.analysis import Analysis, AnalysisOptions, analyze
from posture.imaging import Photo, load_photo
from posture.pose import PoseModel
from posture.store import open_store
from tests.conftest import FRONT, encode, rgb_of
from tests.test_app import cards
from tests.test_hardening import CASES, QUICK, Case
from tests.test_privacy import no_network  # noqa: F401  (the socket guard, used by name below)
from ui.pages.assessment import GENERIC_ERROR

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120  # the offline test loads the app's own pose model on its first run


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def data_dir(app_data_dir: Path) -> Path:
    """Every test gets its own empty clinic store in a tmp dir (tests/conftest.py)."""
    return app_data_dir


@pytest.fixture
def fast_page(monkeypatch: pytest.MonkeyPatch, model: PoseModel) -> None:
    """The page uses the session's warm model and the corpus's quick options (the page itself
    offers no fast mode)."""
    import ui.pages.assessment as page

    monkeypatch.setattr(page, "get_model", lambda: model)
    quick = functools.partial(AnalysisOptions, auto_level=QUICK.auto_level)
    monkeypatch.setattr(page, "AnalysisOptions", quick)


@pytest.fixture(scope="module")
def good(model: PoseModel) -> tuple[Photo, Analysis]:
    photo = load_photo(FRONT.read_bytes())
    return photo, analyze(photo, "anterior", QUICK, model=model)


def _url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'posture.db'}"


def _seed(data_dir: Path, good: tuple[Photo, Analysis]) -> int:
    """A client with consent and one saved assessment; returns the assessment id."""
    photo, analysis = good
    with open_store(_url(data_dir)) as store:
        cid = store.create_client("KL-0815", consent_given=True)
        return int(store.save_assessment(cid, photo, analysis, notes="baseline"))


def _snapshot(data_dir: Path) -> dict[str, Any]:
    """Row counts of every table, and per assessment its stored analysis and photo hash."""
    con = sqlite3.connect(data_dir / "posture.db")
    try:
        counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("clients", "assessments", "photos")}
    finally:
        con.close()
    with open_store(_url(data_dir)) as store:
        clients = store.find_clients()
        records = [r for c in clients for r in store.list_assessments(c.id)]
        photos = {r.id: hashlib.sha256(store.get_photo_bytes(r.id)).hexdigest() for r in records}
        analyses = {r.id: r.analysis for r in records}
    return {"counts": counts, "clients": [(c.id, c.name, c.consent_given) for c in clients],
            "photos": photos, "analyses": analyses}


def _assert_still_loads(data_dir: Path, aid: int, good: tuple[Photo, Analysis]) -> None:
    """The seeded assessment loads back with its measurements, and its photo decodes."""
    _, analysis = good
    with open_store(_url(data_dir)) as store:
        loaded = store.get_assessment(aid).to_analysis()
        stored_photo = store.get_photo(aid)
    assert {k: m.value for k, m in loaded.measurements.items()} == pytest.approx(
        {k: m.value for k, m in analysis.measurements.items()}, abs=0.006  # stored to 0.01
    )
    assert stored_photo.rgb.shape[2] == 3 and stored_photo.width == analysis.image["width"]


def _name_and_mime(data: bytes) -> tuple[str, str]:
    """A file name the uploader accepts (jpg/png/heic/webp), matching the content where it can.
    Anything else is sent as ``.jpg`` - a wrongly named file, as a browser would pass it."""
    if data.startswith(b"\x89PNG"):
        return "upload.png", "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "upload.webp", "image/webp"
    if data[4:8] == b"ftyp":
        return "upload.heic", "image/heic"
    return "upload.jpg", "image/jpeg"


def _new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def _library_result(case: Case, data: bytes, model: PoseModel) -> Analysis | errors.PostureError:
    try:
        return analyze(load_photo(data), case.view, QUICK, model=model)
    except errors.PostureError as exc:
        return exc


# -- 1. the corpus through the upload widget -------------------------------------------------------

# The bomb cases are a few hundred bytes that CLAIM huge pixel counts; the 25 MB upload limit
# (.streamlit/config.toml server.maxUploadSize) never refuses them, so the app's decoder sees every
# case and none is skipped.
UPLOAD_LIMIT_BYTES = 25 * 1024 * 1024

# The page returns before analysing when the uploaded file is empty (`if not data: return None` in
# ui/pages/assessment.inputs_ui), so a 0-byte upload shows the first-visit intro instead of an error.
APP_XFAIL: dict[str, str] = {}


def _params() -> list[Any]:
    out: list[Any] = []
    for c in CASES:
        reason = c.xfail or APP_XFAIL.get(c.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


def test_no_corpus_case_is_over_the_upload_limit() -> None:
    """Why no bomb case is skipped: every one reaches the app's decoder."""
    sizes = {c.name: len(c.make()) for c in CASES if c.bomb}
    assert sizes and all(n < UPLOAD_LIMIT_BYTES for n in sizes.values()), sizes
    assert all(n < 100_000 for n in sizes.values())  # tiny files claiming huge sizes


@pytest.mark.parametrize("case", _params())
@pytest.mark.usefixtures("fast_page")
def test_bad_upload_shows_one_clear_message_and_keeps_the_store(
    case: Case, model: PoseModel, good: tuple[Photo, Analysis], data_dir: Path
) -> None:
    aid = _seed(data_dir, good)
    before = _snapshot(data_dir)
    assert before["counts"] == {"clients": 1, "assessments": 1, "photos": 1}
    data = case.make()
    expected = _library_result(case, data, model)

    at = _new_app()
    if at.radio(key="view").value != case.view:
        at.radio(key="view").set_value(case.view)
    name, mime = _name_and_mime(data)
    at.file_uploader(key="upload").set_value((name, data, mime))
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]

    if isinstance(expected, errors.MultiplePeopleError):  # not an error box: the client picker
        assert isinstance(case.expect, type) and issubclass(case.expect, errors.MultiplePeopleError)
        assert not at.error, [e.value for e in at.error]
        assert any(f"{len(expected.boxes)} people are in this photo" in w.value for w in at.warning)
        picker = at.get("button_group")[0]  # st.segmented_control: one option per person
        assert len(picker.proto.options) == len(expected.boxes) >= 2
        assert cards(at) == {}  # nothing measured until the client is picked
    elif isinstance(expected, errors.PostureError):
        if isinstance(case.expect, type):
            assert isinstance(expected, case.expect), repr(expected)
        else:
            assert case.expect in (None, "error-or-warning"), f"expected {case.expect!r}: {expected!r}"
        assert len(at.error) == 1, [e.value for e in at.error]
        shown = at.error[0].value
        assert expected.message in shown, shown
        assert expected.hint in shown, shown  # says what to do
        assert shown != GENERIC_ERROR and "Traceback" not in shown
        assert cards(at) == {}  # nothing measured is shown
    else:
        assert not isinstance(case.expect, type), f"expected {case.expect}, library measured"
        assert not at.error, [e.value for e in at.error]
        shown_cards = cards(at)
        assert len(shown_cards) == len(expected.measurements) == 6
        warnings = [w.value for w in at.warning]
        if case.expect == "error-or-warning":
            greyed = [v for v in shown_cards.values() if v.startswith("unavailable")]
            assert warnings or greyed, "measured silently"
        elif isinstance(case.expect, str):
            assert any(case.expect in w for w in warnings), warnings

    assert _snapshot(data_dir) == before
    _assert_still_loads(data_dir, aid, good)


# -- 2. the app offline ----------------------------------------------------------------------------


def test_the_app_works_with_the_network_cut(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    attempts: list[Any] = request.getfixturevalue("no_network")
    # the PDF button's data is a callable Streamlit runs when the button is clicked; AppTest's
    # mock runtime does not outlive a run, so catch the callable as the page registers it
    deferred: list[tuple[str | None, Callable[[], Any]]] = []
    real_add = MediaFileManager.add_deferred

    def spy(self: MediaFileManager, data_callable: Callable[[], Any], *a: Any, **k: Any) -> str:
        deferred.append((k.get("file_name"), data_callable))
        return str(real_add(self, data_callable, *a, **k))

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)

    at = _new_app()
    at.file_uploader(key="upload").set_value((FRONT.name, FRONT.read_bytes(), "image/jpeg"))
    at.run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    shown = cards(at)
    assert "Shoulder line tilt" in shown and not shown["Shoulder line tilt"].startswith("unavailable")

    pdfs = [fn for name, fn in deferred if name and name.endswith(".pdf")]
    assert pdfs, "no PDF download offered"
    pdf = pdfs[-1]()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF") and len(pdf) > 10_000

    at.text_input(key="save_new_name").input("MN-77")
    at.checkbox(key="save_consent").check()
    at.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    assert any("Saved as assessment" in s.value for s in at.success)
    assert _snapshot(data_dir)["counts"] == {"clients": 1, "assessments": 1, "photos": 1}

    assert attempts == [], f"the app tried to reach the network: {attempts}"


# -- 3. hostile upload file names ------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd.jpg",
    "C:\\x\\..\\y.jpg",
    "..\\..\\..\\windows\\win.jpg",
    "/tmp/absolute-" + "z" * 20 + ".jpg",
    "n" * 296 + ".jpg",  # 300 characters, over most file systems' 255-byte name limit
    "line\nbreak.jpg",
    "~/.bashrc.jpg",
]


def _tree(root: Path) -> dict[str, int]:
    """Every file under ``root`` (relative path -> size), directories included with size -1."""
    out: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = -1
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = os.path.getsize(p) if "posture.db" not in f else 0
    return out


@pytest.mark.usefixtures("fast_page")
def test_uploaded_file_names_are_never_used_as_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path, good: tuple[Photo, Analysis]
) -> None:
    # cwd three levels below tmp_path: "../../x" resolves inside tmp_path, where it is watched
    cwd = tmp_path / "a" / "b" / "cwd"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    _seed(data_dir, good)
    at = _new_app()
    # one upload under a plain name first, so the page has opened the store (its files exist)
    at.file_uploader(key="upload").set_value(("plain.jpg", FRONT.read_bytes(), "image/jpeg"))
    at.run(timeout=TIMEOUT)
    assert not at.exception and not at.error and cards(at)
    tree_before = _tree(tmp_path)
    records_before = _snapshot(data_dir)
    assert any(k.startswith("posture-data") for k in tree_before)

    rgb = rgb_of(FRONT)
    for i, name in enumerate(HOSTILE_NAMES):
        data = encode(rgb, quality=95 - i)  # other bytes each time: a fresh analysis, not a cache hit
        at.file_uploader(key="upload").set_value((name, data, "image/jpeg"))
        at.run(timeout=TIMEOUT)
        assert not at.exception, (name, [e.value for e in at.exception])
        assert not at.error, (name, [e.value for e in at.error])
        shown = cards(at)
        assert "Shoulder line tilt" in shown and not shown["Shoulder line tilt"].startswith("unavailable")
        assert _tree(tmp_path) == tree_before, name
        assert list(cwd.iterdir()) == []
    assert _snapshot(data_dir) == records_before
    assert not Path("/etc/passwd.jpg").exists()
    assert not Path("/tmp/absolute-" + "z" * 20 + ".jpg").exists()


def test_a_nul_in_the_file_name_is_refused_before_the_page_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Streamlit's uploader rejects a NUL in a file name itself (it could hide the extension), as
    an app exception (its text redacted once the app's config, showErrorDetails = "none", is
    loaded); nothing is written and the page does not analyse the file."""
    import ui.pages.assessment as page

    monkeypatch.chdir(tmp_path)
    calls: list[int] = []
    monkeypatch.setattr(page, "load_photo", lambda *_a, **_k: calls.append(1))
    at = _new_app()
    before = _tree(tmp_path)
    at.file_uploader(key="upload").set_value(("x\x00.jpg", FRONT.read_bytes(), "image/jpeg"))
    at.run(timeout=TIMEOUT)
    assert len(at.exception) == 1
    assert "Filename cannot contain null bytes" in caplog.text
    assert calls == []
    assert cards(at) == {}
    assert _tree(tmp_path) == before
