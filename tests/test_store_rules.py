"""The store guards its own rules (issue 14 item 4): consent checked in the library, a new client +
consent + assessment in ONE transaction, the atomic backup, and exports that carry no fingerprint
of the original upload. SQLite always; PostgreSQL too with POSTURE_TEST_PG_URL (tests/test_store.py)."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event

from posture.cli import main
from posture.imaging import Photo, load_photo
from posture.store import ConsentError, Store, StoreError, open_store
from posture.store import models as m
from posture.text import CLIENT_NAME_MAX, TextTooLongError
from tests.conftest import FRONT
from tests.test_compare import synthetic_analysis
from tests.test_store import _count, db_url, pg_session_url  # noqa: F401 (fixtures)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 (db_url is the imported fixture)
    with open_store(db_url) as s:
        yield s


def _front_with_gps() -> tuple[bytes, Photo]:
    """The shipped front-view sample re-saved with camera and GPS metadata, as a phone would."""
    with Image.open(FRONT) as im:
        rgb = im.convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "SECRET-CAMERA-MAKER"
    exif[0x8825] = {2: (48.0, 51.0, 30.0), 1: "N"}
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG", exif=exif, quality=95)
    data = buf.getvalue()
    return data, load_photo(data)


# -- consent, in the library ------------------------------------------------------------------------


def test_save_assessment_refuses_a_client_without_consent(store: Store) -> None:
    _, photo = _front_with_gps()
    cid = store.create_client("No-Consent")
    with pytest.raises(ConsentError, match="no recorded consent") as refused:
        store.save_assessment(cid, photo, synthetic_analysis())
    assert isinstance(refused.value, StoreError)
    assert "Record the client's consent" in str(refused.value)  # says what to do
    assert store.list_assessments(cid) == [] and _count(store, m.Photo) == 0
    store.record_consent(cid, True)
    aid = store.save_assessment(cid, photo, synthetic_analysis())
    assert [r.id for r in store.list_assessments(cid)] == [aid]
    # withdrawn consent: refused again, the earlier assessment stays (erasing is a separate act)
    store.record_consent(cid, False)
    with pytest.raises(ConsentError):
        store.save_assessment(cid, photo, synthetic_analysis())
    assert [r.id for r in store.list_assessments(cid)] == [aid]


def test_save_for_client_creates_consents_and_saves(store: Store) -> None:
    _, photo = _front_with_gps()
    with pytest.raises(ConsentError):
        store.save_for_client(photo, synthetic_analysis(), new_name="AB-1", consent=False)
    with pytest.raises(StoreError, match="name or a code"):
        store.save_for_client(photo, synthetic_analysis(), new_name="  ", consent=True)
    assert store.find_clients() == []
    cid, aid = store.save_for_client(photo, synthetic_analysis(), new_name=" AB-1 ", consent=True,
                                     notes="intake")
    client = store.get_client(cid)
    assert client.name == "AB-1" and client.consent_given and client.consent_at is not None
    assert store.get_assessment(aid).notes == "intake"
    # an existing client without consent: consent given now is recorded with the save
    other = store.create_client("CD-2")
    with pytest.raises(ConsentError):
        store.save_for_client(photo, synthetic_analysis(), client_id=other, consent=False)
    got, _ = store.save_for_client(photo, synthetic_analysis(), client_id=other, consent=True)
    assert got == other and store.get_client(other).consent_given


def _fail_on_photo_insert(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError("disk full (injected)")


def test_a_failure_in_the_save_leaves_no_client_and_no_consent(store: Store) -> None:
    """The photo row fails AFTER the client row, the consent and the assessment row were written
    in the same transaction: all of them are rolled back."""
    _, photo = _front_with_gps()
    unsure = store.create_client("EF-3")
    event.listen(m.Photo, "after_insert", _fail_on_photo_insert)
    try:
        with pytest.raises(RuntimeError, match="injected"):
            store.save_for_client(photo, synthetic_analysis(), new_name="GH-4", consent=True)
        with pytest.raises(RuntimeError, match="injected"):
            store.save_for_client(photo, synthetic_analysis(), client_id=unsure, consent=True)
    finally:
        event.remove(m.Photo, "after_insert", _fail_on_photo_insert)
    assert [c.name for c in store.find_clients()] == ["EF-3"]
    assert not store.get_client(unsure).consent_given
    assert _count(store, m.Assessment) == 0 and _count(store, m.Photo) == 0
    # the store works on afterwards
    cid, _ = store.save_for_client(photo, synthetic_analysis(), new_name="GH-4", consent=True)
    assert len(store.list_assessments(cid)) == 1


def test_transaction_joins_calls_and_defers_the_vacuum(store: Store) -> None:
    _, photo = _front_with_gps()
    keep = store.create_client("Keep", consent_given=True)
    with pytest.raises(ValueError, match="changed my mind"), store.transaction():
        cid = store.create_client("Temp", consent_given=True)
        store.save_assessment(cid, photo, synthetic_analysis())
        store.delete_client(keep)  # the VACUUM must wait for the commit (and never comes here)
        raise ValueError("changed my mind")
    assert [c.name for c in store.find_clients()] == ["Keep"]
    with store.transaction():
        store.delete_client(keep)
    assert store.find_clients() == []


# -- the atomic backup --------------------------------------------------------------------------------


def _stored_names(path: Path) -> list[str]:
    con = sqlite3.connect(str(path))
    try:
        return [r[0] for r in con.execute("SELECT name FROM clients ORDER BY name")]
    finally:
        con.close()


def test_backup_failing_mid_copy_keeps_the_old_backup(tmp_path: Path) -> None:
    _, photo = _front_with_gps()
    target = tmp_path / "bk" / "posture-backup.db"
    with open_store(f"sqlite:///{tmp_path / 'live.db'}") as live:
        live.save_for_client(photo, synthetic_analysis(), new_name="First", consent=True)
        live.backup(target)
        old = target.read_bytes()
        assert _stored_names(target) == ["First"]
        for i in range(3):  # enough photo pages for a copy of several steps
            live.save_for_client(photo, synthetic_analysis(float(i)), new_name=f"Later-{i}", consent=True)
        steps: list[int] = []

        def fail_midway(status: int, remaining: int, total: int) -> None:
            steps.append(remaining)
            if len(steps) == 2:
                raise OSError("no space left on device (injected)")

        with pytest.raises(OSError, match="injected"):
            from posture.store import engine

            engine.backup_sqlite(live.engine, target, pages_per_step=8, progress=fail_midway)
        assert len(steps) == 2 and steps[-1] > 0  # it really stopped part-way
        assert target.read_bytes() == old  # the old backup is whole
        assert _stored_names(target) == ["First"]
        assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp left
        # a backup that completes replaces it, owner-only
        live.backup(target)
        assert _stored_names(target) == ["First", "Later-0", "Later-1", "Later-2"]
        assert target.stat().st_mode & 0o077 == 0
        assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_cli_backup_failing_keeps_the_old_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _, photo = _front_with_gps()
    with open_store(url) as live:
        live.save_for_client(photo, synthetic_analysis(), new_name="Only", consent=True)
    out = tmp_path / "b.db"
    assert main(["db", "--database-url", url, "backup", "-o", str(out)]) == 0
    old = out.read_bytes()
    with open_store(url) as live:
        live.save_for_client(photo, synthetic_analysis(1.0), new_name="Second", consent=True)
    from posture.store import engine, repository

    def disk_full(status: int, remaining: int, total: int) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def backup_that_fills_the_disk(eng: Any, path: Any, **k: Any) -> Path:
        return engine.backup_sqlite(eng, path, pages_per_step=4, progress=disk_full)

    monkeypatch.setattr(repository, "backup_sqlite", backup_that_fills_the_disk)
    capsys.readouterr()
    assert main(["db", "--database-url", url, "backup", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and err.count("\n") == 1  # one clear line, no traceback
    assert out.read_bytes() == old and _stored_names(out) == ["Only"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".b.db")) == []


# -- exports carry no fingerprint of the upload ----------------------------------------------------


def test_export_drops_the_uploads_sha256(store: Store) -> None:
    data, photo = _front_with_gps()
    upload_sha = hashlib.sha256(data).hexdigest()
    assert photo.sha256 == upload_sha  # what the analysis records about the upload
    analysis = synthetic_analysis()
    analysis = type(analysis).from_dict({**analysis.to_dict(), "image": photo.image_info()})
    cid, aid = store.save_for_client(photo, analysis, new_name="Export-Me", consent=True)
    # inside the store the upload's hash stays (the app's cache and save fingerprint use it)
    assert store.get_assessment(aid).analysis["image"]["sha256"] == upload_sha
    blob = store.export_client_zip(cid)
    assert upload_sha.encode() not in blob
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for name in z.namelist():
            assert upload_sha.encode() not in z.read(name), name
        (doc_name,) = [n for n in z.namelist() if n.endswith("assessment.json")]
        doc = json.loads(z.read(doc_name))
        (photo_name,) = [n for n in z.namelist() if "/photo." in n]
        stored = z.read(photo_name)
    assert "sha256" not in doc["analysis"]["image"]
    assert doc["analysis"]["image"]["width"] == photo.width
    assert doc["photo_sha256"] == hashlib.sha256(stored).hexdigest()
    assert b"SECRET-CAMERA-MAKER" not in stored and b"GPS" not in stored


def test_names_longer_than_the_column_are_refused_clearly(store: Store) -> None:
    # the library's limit (posture.text.CLIENT_NAME_MAX, 120) is below the column's 200
    longest = "N" * CLIENT_NAME_MAX
    cid = store.create_client(longest, consent_given=True)
    assert store.get_client(cid).name == longest
    with pytest.raises(TextTooLongError, match=f"at most {CLIENT_NAME_MAX} characters"):
        store.create_client("N" * 201)
    with pytest.raises(TextTooLongError, match=f"at most {CLIENT_NAME_MAX} characters"):
        store.update_client(cid, name="N" * (CLIENT_NAME_MAX + 1))
    assert store.get_client(cid).name == longest


# -- hostile names on every page that renders them ---------------------------------------------------

# markdown, a link, HTML, LaTeX, a Streamlit icon shortcode, and long (the library allows 120)
HOSTILE = "**Bold** [click](http://example.invalid) <b>x</b> $y$ :material/error: _it_ `c` # h"
HOSTILE_LONG = (HOSTILE + " " + "Z" * 200)[:CLIENT_NAME_MAX]


def _clients_app() -> None:
    from ui.pages.clients import render

    render()


def _compare_app() -> None:
    from ui.pages.compare import render

    render()


@pytest.fixture
def page_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from ui.nav import clear_store_cache

    url = f"sqlite:///{tmp_path / 'pages.db'}"
    monkeypatch.setenv("POSTURE_DATABASE_URL", url)
    clear_store_cache()
    yield url
    clear_store_cache()


def _shown(at: Any) -> list[str]:
    """Every text Streamlit renders as markdown on the page."""
    kinds = ("markdown", "subheader", "info", "success", "warning", "error", "caption", "title")
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def _assert_literal(shown: list[str], name: str) -> None:
    from posture.report.model import md_escape

    assert any(md_escape(name) in v for v in shown), shown  # escaped: shown as typed
    for raw in ("**Bold**", "[click](http", "<b>x</b>", "$y$", ":material/error:"):
        assert not any(raw in v for v in shown), (raw, shown)


def _save_two(url: str, name: str) -> int:
    import datetime as dt

    _, photo = _front_with_gps()
    with open_store(url) as s:
        cid, _ = s.save_for_client(photo, synthetic_analysis(0.0), new_name=name, consent=True,
                                   notes=HOSTILE, taken_at=dt.date(2025, 1, 1))
        s.save_for_client(photo, synthetic_analysis(6.0), client_id=cid, notes=HOSTILE,
                          taken_at=dt.date(2025, 3, 1))
    return cid


@pytest.mark.parametrize("name", [HOSTILE, HOSTILE_LONG], ids=["markup", "long"])
def test_clients_page_shows_hostile_names_literally(page_db: str, name: str) -> None:
    from streamlit.testing.v1 import AppTest

    cid = _save_two(page_db, name)
    at = AppTest.from_function(_clients_app, default_timeout=60).run()
    assert not at.exception and not at.error
    _assert_literal(_shown(at), name)
    assert at.text_area(key=f"notes_{cid}").value == ""  # the client's notes (none), plain text
    # the export is built on request only, and carries the name as typed
    assert not at.get("download_button")
    at.button(key="export_prepare").click().run()
    assert not at.exception and not at.error
    (button,) = at.get("download_button")
    with open_store(page_db) as s, zipfile.ZipFile(io.BytesIO(s.export_client_zip(cid))) as z:
        assert json.loads(z.read("client.json"))["name"] == name
    at.run()  # a rerun does not rebuild it, the prepared export stays offered
    assert len(at.get("download_button")) == 1 and button.proto.label == "Download the export (zip)"


def test_clients_page_builds_no_zip_on_reruns(page_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    _save_two(page_db, "Rerun-Client")
    built: list[int] = []
    real = Store.export_client_zip

    def counting(self: Store, client_id: int) -> bytes:
        built.append(client_id)
        return real(self, client_id)

    monkeypatch.setattr(Store, "export_client_zip", counting)
    at = AppTest.from_function(_clients_app, default_timeout=60).run()
    for _ in range(3):
        at.run()
    assert built == []
    at.button(key="export_prepare").click().run()
    at.run()
    assert len(built) == 1


def test_compare_page_shows_hostile_names_literally(page_db: str) -> None:
    import datetime as dt

    from streamlit.testing.v1 import AppTest

    _, photo = _front_with_gps()
    with open_store(page_db) as s:
        s.save_for_client(photo, synthetic_analysis(0.0), new_name=HOSTILE, consent=True,
                          taken_at=dt.date(2025, 1, 1))
    at = AppTest.from_function(_compare_app, default_timeout=60).run()  # one assessment: explains
    assert not at.exception and not at.error
    _assert_literal(_shown(at), HOSTILE)
    # two assessments of a client with a long hostile name: the page and its PDF
    cid = _save_two(page_db, HOSTILE_LONG)
    at.run()
    at.selectbox(key="compare_client").set_value(cid).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.dataframe
    at.button(key="cmp_pdf_make").click().run()
    assert not at.exception and not at.error
    assert [b.proto.label for b in at.get("download_button")] == ["Download comparison PDF"]


@pytest.mark.parametrize("failure", ["store", "unexpected"])
def test_store_errors_become_one_clear_message(page_db: str, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture, failure: str) -> None:
    from sqlalchemy.exc import OperationalError
    from streamlit.testing.v1 import AppTest

    _save_two(page_db, "Err-Client")

    def broken(self: Store, *a: Any, **k: Any) -> Any:
        if failure == "store":
            raise StoreError("The database is read-only.", "Ask the administrator.")
        raise OperationalError("SELECT name FROM clients WHERE name = ?", ("Err-Client",),
                               Exception("disk I/O error"), hide_parameters=True)

    monkeypatch.setattr(Store, "list_assessments", broken)
    for app in (_clients_app, _compare_app):
        at = AppTest.from_function(app, default_timeout=60).run()
        assert not at.exception  # no traceback on the page
        assert len(at.error) == 1, [e.value for e in at.error]
        text = at.error[0].value
        if failure == "store":
            assert "read\\-only" in text or "read-only" in text
        else:
            assert "could not be read or written" in text and "disk I/O" not in text
    if failure == "unexpected":
        assert "OperationalError" in caplog.text and "Traceback" in caplog.text
        assert "Err-Client" not in caplog.text  # hide_parameters: no name in the log


def test_a_failing_comparison_pdf_is_one_clear_message(page_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from ui.pages import compare

    _save_two(page_db, "Pdf-Client")

    def broken(*_a: Any, **_k: Any) -> bytes:
        raise RuntimeError("fpdf: character 'Pdf-Client' outside the font")

    monkeypatch.setattr(compare, "render_compare_pdf", broken)
    at = AppTest.from_function(_compare_app, default_timeout=60).run()
    at.button(key="cmp_pdf_make").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [compare.PDF_FAILED]
    assert not at.get("download_button") and at.dataframe  # the comparison itself stays


def test_exercise_library_errors_quoting_the_file_are_shown_literally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streamlit.testing.v1 import AppTest

    from ui.components import report_bridge

    def failing(found: Any) -> tuple[list[Any], str | None]:
        return [], "exercise 3: kind '$x$ **y**' is not one of ['mobility']."

    monkeypatch.setattr(report_bridge, "prescriptions", failing)

    def script() -> None:
        from ui.components.findings import exercises_ui

        exercises_ui(("a finding",))

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    (info,) = at.info
    assert "\\$x\\$ \\*\\*y\\*\\*" in info.value and "$x$" not in info.value


def test_database_errors_never_quote_a_name(store: Store) -> None:
    """A database error's text reaches the log with its traceback: it must not carry the row."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    cid = store.create_client("Existing", consent_given=True)
    with pytest.raises(IntegrityError) as failed, store._tx() as s:
        s.execute(text("INSERT INTO clients (id, name, notes, consent_given, created_at) "
                       "VALUES (:i, :n, :o, :c, CURRENT_TIMESTAMP)"),
                  {"i": cid, "n": "Secret Name", "o": "secret note", "c": True})
    assert "Secret Name" not in str(failed.value) and "secret note" not in str(failed.value)


def test_new_assessment_save_flow_with_a_hostile_name(app_data_dir: Path) -> None:
    """The whole save flow of the New-assessment page (a shipped photo, a new client with a hostile
    name, consent): saved under the name as typed, and the page shows it literally."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=240)
    at.run()
    at.file_uploader(key="upload").set_value((FRONT.name, FRONT.read_bytes(), "image/jpeg"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.text_input(key="save_new_name").input(HOSTILE)
    at.checkbox(key="save_consent").check()
    at.text_area(key="save_notes").input("$x$ **note**")
    at.button(key="save_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    saved = [s.value for s in at.success if "Saved as assessment" in s.value]
    assert saved
    _assert_literal(saved, HOSTILE)
    with open_store(f"sqlite:///{app_data_dir / 'posture.db'}") as s:
        (client,) = s.find_clients()
        assert client.name == HOSTILE and client.consent_given
        (rec,) = s.list_assessments(client.id)
        assert rec.notes == "$x$ **note**"
    # the form now offers the client just created, by the name as typed (a selectbox: plain text)
    box = at.selectbox(key="save_client")
    assert box.format_func(box.value).startswith(HOSTILE)
