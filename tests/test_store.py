"""Client records: every field round-trips, a save lands whole or not at all, concurrent writers
lose nothing, and deleting a client leaves none of their bytes in the database file.

Runs against SQLite (a file in tmp_path) and, when ``POSTURE_TEST_PG_URL`` is set, PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from posture.analysis import correct_landmarks
from posture.cli import main
from posture.imaging import Photo as PosturePhoto
from posture.imaging import load_photo
from posture.store import (
    NotFoundError,
    Store,
    StoreError,
    StoreOptions,
    analysis_from_dict,
    open_store,
)
from posture.store import models as m
from tests.test_compare import synthetic_analysis

PG_ENV = "POSTURE_TEST_PG_URL"

ROOT = Path(__file__).resolve().parents[1]


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV)


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.begin() as c:
        for t in ("photos", "assessments", "visits", "clients", "alembic_version"):
            c.execute(text(f"DROP TABLE IF EXISTS {t} CASCADE"))
    eng.dispose()


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str | None]:
    """A database of this pytest run's own on the server at POSTURE_TEST_PG_URL (so that two test
    runs on one machine never drop each other's tables), dropped at the end; the URL's own database
    when the role may not create databases."""
    from sqlalchemy import create_engine

    url = _pg_url()
    if not url:
        yield None
        return
    name = f"posture_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:
        admin.dispose()
        yield url
        return
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_session_url: str | None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'posture.db'}"
    if not pg_session_url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://... (unset)")
    _reset_pg(pg_session_url)
    return pg_session_url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with open_store(db_url) as s:
        yield s


def _photo(seed: int = 0, size: tuple[int, int] = (160, 120)) -> PosturePhoto:
    rng = np.random.default_rng(seed)
    h, w = size
    base = np.linspace(0, 255, w, dtype=np.float64)[None, :, None].repeat(h, 0).repeat(3, 2)
    rgb = np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
    return PosturePhoto.from_array(rgb)


@dataclass(frozen=True)
class _Finding:
    code: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text}


def _count(store: Store, model: type[m.Base]) -> int:
    with store._tx() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# -- round trip ------------------------------------------------------------------------------------


def test_round_trip_every_field(store: Store) -> None:
    dob = dt.date(1980, 5, 17)
    cid = store.create_client("Anna Example", date_of_birth=dob, notes="desk job", consent_given=True)
    c = store.get_client(cid)
    assert (c.name, c.date_of_birth, c.notes, c.consent_given) == ("Anna Example", dob, "desk job", True)
    assert c.consent_at is not None and c.consent_at.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - c.created_at).total_seconds()) < 60

    an = synthetic_analysis(2.0, cm_per_px=0.11)
    an = correct_landmarks(an, {"right_shoulder": (401.5, 455.25)})
    an = _with_findings(an)
    photo = _photo(1)
    taken = dt.date(2025, 3, 4)
    aid = store.save_assessment(cid, photo, an, notes="intake, left hip sore", taken_at=taken)
    rec = store.get_assessment(aid)
    d = an.to_dict()
    assert rec.client_id == cid and rec.taken_at == taken and rec.view == "anterior"
    assert rec.height_cm == 175.0
    assert rec.landmarks == d["landmarks"] and rec.landmarks["right_shoulder"]["manual"] is True
    assert rec.measurements == d["measurements"]
    assert rec.measurements["trunk_shift"]["unit"] == "cm"
    assert rec.findings == [{"code": "f1", "text": "check the left hip"}]
    assert rec.analysis == json.loads(json.dumps(d))
    assert rec.notes == "intake, left hip sore"
    assert [r.id for r in store.list_assessments(cid)] == [aid]

    # the stored analysis comes back as an Analysis with the same contract (and manual marks)
    back = analysis_from_dict(rec.analysis)
    assert back.to_dict() == {k: v for k, v in d.items() if k != "findings"}
    assert back.manual == frozenset({"right_shoulder"})
    assert back.context.cm_per_px == pytest.approx(0.11)

    # the photo: metadata-free JPEG of the working copy, pixels close to the original
    data = store.get_photo_bytes(aid)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (120, 160)  # (w, h) of a 160x120 (h, w) array
        assert not im.getexif() and "icc_profile" not in im.info
        px = np.asarray(im.convert("RGB")).astype(int)
    # the test photo is per-pixel noise (JPEG's worst case); compare 8x8 block means
    blocks = (px - photo.rgb.astype(int)).reshape(20, 8, 15, 8, 3).mean(axis=(1, 3))
    assert np.abs(blocks).max() < 4
    restored = store.get_photo(aid)
    assert (restored.width, restored.height) == (an.image["width"], an.image["height"])

    # edits
    store.update_client(cid, name="Anna E.", notes="new notes")
    withdrawn = store.record_consent(cid, given=False)
    assert (withdrawn.name, withdrawn.notes, withdrawn.consent_given, withdrawn.consent_at) == (
        "Anna E.", "new notes", False, None)
    redone = store.update_assessment(aid, analysis=synthetic_analysis(0.0), notes="redone")
    assert redone.notes == "redone" and redone.landmarks["right_shoulder"].get("manual") is None


def _with_findings(an: Any) -> Any:
    from dataclasses import replace

    return replace(an, findings=(_Finding("f1", "check the left hip"),))


def test_png_photos_are_lossless(db_url: str) -> None:
    with open_store(db_url, StoreOptions(photo_format="PNG")) as store:
        cid = store.create_client("P", consent_given=True)
        photo = _photo(2)
        aid = store.save_assessment(cid, photo, synthetic_analysis())
        with Image.open(io.BytesIO(store.get_photo_bytes(aid))) as im:
            assert im.format == "PNG"
            assert np.array_equal(np.asarray(im.convert("RGB")), photo.rgb)


def test_exif_and_gps_never_reach_the_database(store: Store, tmp_path: Path) -> None:
    rgb = _photo(3).rgb
    exif = Image.Exif()
    exif[0x010F] = "SECRET-CAMERA-MAKER"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 30.0), 1: "N"}  # GPS IFD
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", exif=exif)
    assert b"SECRET-CAMERA-MAKER" in buf.getvalue()
    photo = load_photo(buf.getvalue())
    cid = store.create_client("Exif", consent_given=True)
    aid = store.save_assessment(cid, photo, synthetic_analysis())
    data = store.get_photo_bytes(aid)
    assert b"SECRET-CAMERA-MAKER" not in data and b"Exif" not in data


def test_find_resolve_and_errors(store: Store) -> None:
    a = store.create_client("Ben Miller")
    b = store.create_client("benedict 5%")
    store.create_client("Carla")
    assert [c.id for c in store.find_clients("BEN")] == [a, b]
    assert [c.name for c in store.find_clients("%")] == ["benedict 5%"]  # LIKE wildcards escaped
    assert [c.id for c in store.find_clients(str(a))] == [a]
    assert len(store.find_clients()) == 3
    assert store.resolve_client("carla").name == "Carla"
    assert store.resolve_client(str(b)).id == b
    store.create_client("carla")
    with pytest.raises(StoreError, match="2 clients"):
        store.resolve_client("Carla")
    with pytest.raises(NotFoundError):
        store.get_client(9999)
    with pytest.raises(NotFoundError):
        store.save_assessment(9999, _photo(), synthetic_analysis())
    with pytest.raises(StoreError):
        store.create_client("   ")


# -- atomicity -------------------------------------------------------------------------------------


def test_failure_after_photo_insert_leaves_nothing(store: Store) -> None:
    cid = store.create_client("Atomic", consent_given=True)
    calls = []

    def boom(mapper: Any, connection: Any, target: Any) -> None:
        calls.append(target.assessment_id)
        raise RuntimeError("disk full (injected)")

    event.listen(m.Photo, "after_insert", boom)
    try:
        with pytest.raises(RuntimeError, match="injected"):
            store.save_assessment(cid, _photo(), synthetic_analysis(), notes="half")
    finally:
        event.remove(m.Photo, "after_insert", boom)
    assert calls and calls[0] is not None  # the photo row WAS inserted (after its assessment)
    assert _count(store, m.Assessment) == 0
    assert _count(store, m.Photo) == 0
    assert store.list_assessments(cid) == []
    # the store still works afterwards
    aid = store.save_assessment(cid, _photo(), synthetic_analysis(), notes="whole")
    assert _count(store, m.Photo) == 1 and store.get_assessment(aid).notes == "whole"


# -- concurrency -----------------------------------------------------------------------------------


def _writer(url: str, client_id: int, worker: int, n: int) -> None:
    an = synthetic_analysis(float(worker))
    with open_store(url) as store:
        for i in range(n):
            store.save_assessment(client_id, _photo(worker * 100 + i), an, notes=f"w{worker}-{i}")


@pytest.mark.slow
def test_concurrent_saves_from_several_processes(db_url: str) -> None:
    with open_store(db_url) as store:
        cid = store.create_client("Busy", consent_given=True)
    # separate interpreters (not multiprocessing: AppTest elsewhere in the session replaces
    # __main__, which multiprocessing's spawn would re-import)
    code = (
        "import sys; from tests.test_store import _writer; "
        "_writer(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 10)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url, str(cid), str(w)], cwd=str(ROOT))
        for w in range(5)
    ]
    codes = [p.wait(timeout=180) for p in procs]
    assert codes == [0] * 5
    with open_store(db_url) as store:
        recs = store.list_assessments(cid)
        notes = [r.notes for r in recs]
        assert len(notes) == 50
        assert set(notes) == {f"w{w}-{i}" for w in range(5) for i in range(10)}
        assert _count(store, m.Photo) == 50
        assert len({store.get_photo_bytes(r.id) for r in recs}) == 50  # each its own photo


# -- deletion --------------------------------------------------------------------------------------


def _raw_bytes(db_file: Path) -> bytes:
    out = b""
    for suffix in ("", "-wal", "-journal"):
        p = Path(str(db_file) + suffix)
        if p.exists():
            out += p.read_bytes()
    return out


def test_delete_client_erases_every_byte(store: Store, db_url: str) -> None:
    marker = f"ZQX-{uuid.uuid4().hex}"
    keep = store.create_client("Keeper", consent_given=True)
    keep_aid = store.save_assessment(keep, _photo(7), synthetic_analysis(), notes="stays")
    gone = store.create_client(marker, notes=f"notes {marker}", consent_given=True)
    aids = [store.save_assessment(gone, _photo(10 + i, (200, 150)), synthetic_analysis(float(i)),
                                  notes=f"assessment {marker}") for i in range(3)]
    chunks = []
    for aid in aids:
        data = store.get_photo_bytes(aid)
        chunks.append(data[len(data) // 2: len(data) // 2 + 48])  # entropy-coded pixels, unique
    store.delete_client(gone)

    with pytest.raises(NotFoundError):
        store.get_client(gone)
    for aid in aids:
        with pytest.raises(NotFoundError):
            store.get_assessment(aid)
    assert _count(store, m.Assessment) == 1 and _count(store, m.Photo) == 1
    assert store.get_assessment(keep_aid).notes == "stays"
    keep_chunk = store.get_photo_bytes(keep_aid)[100:148]
    if store.is_sqlite:
        db_file = Path(db_url.removeprefix("sqlite:///"))
        raw = _raw_bytes(db_file)
        assert marker.encode() not in raw
        for chunk in chunks:
            assert chunk not in raw
        assert keep_chunk in raw  # the search itself finds photo bytes that are still there
    else:
        # no row anywhere mentions the client, no photo holds their bytes, no large object exists
        with store.engine.connect() as conn:
            for table in ("clients", "assessments", "photos"):
                hits = conn.exec_driver_sql(
                    f"SELECT count(*) FROM {table} t WHERE strpos(t::text, %(m)s) > 0", {"m": marker}
                ).scalar()
                assert hits == 0, table
            for chunk, want in [*((c, 0) for c in chunks), (keep_chunk, 1)]:
                n = conn.exec_driver_sql(
                    "SELECT count(*) FROM photos WHERE position(%(c)s::bytea IN data) > 0", {"c": chunk}
                ).scalar()
                assert n == want
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_largeobject_metadata").scalar() == 0


# -- PostgreSQL: the table files themselves ------------------------------------------------------


def _pg_data_dir(store: Store) -> Path | None:
    """The data directory of the test server started by tools/pg_test_server.sh, when this
    process can read it (POSTURE_PG_TEST_DIR or /tmp/posture-pg-test-UID, same port as the URL)."""
    base = Path(os.environ.get("POSTURE_PG_TEST_DIR") or f"/tmp/posture-pg-test-{os.getuid()}")
    conf = base / "data" / "postgresql.conf"
    try:
        text = conf.read_text()
    except OSError:
        return None
    if f"port = {store.engine.url.port}" not in text:
        return None
    return base / "data"


def _pg_table_bytes(store: Store, data_dir: Path) -> bytes:
    """Every byte of the three tables' heap and TOAST files (all 1 GB segments), after a CHECKPOINT
    has flushed the shared buffers to them."""
    out = b""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CHECKPOINT")
        rels = conn.exec_driver_sql(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname IN "
            "('clients', 'assessments', 'photos') UNION ALL "
            "SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c WHERE c.relname IN "
            "('clients', 'assessments', 'photos') AND c.reltoastrelid <> 0"
        ).scalars().all()
    for rel in rels:
        for seg in sorted((data_dir / rel).parent.glob(Path(rel).name + "*")):
            if seg.name == Path(rel).name or seg.name.removeprefix(Path(rel).name + ".").isdigit():
                out += seg.read_bytes()
    return out


def test_postgresql_delete_leaves_no_bytes_in_table_files(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL table files")
    with open_store(db_url) as store:
        data_dir = _pg_data_dir(store)
        if data_dir is None:
            pytest.skip("the server's data directory is not readable here (not tools/pg_test_server.sh)")
        marker = f"ZQX-{uuid.uuid4().hex}"
        keep = store.create_client("Keeper", consent_given=True)
        keep_aid = store.save_assessment(keep, _photo(21, (200, 150)), synthetic_analysis())
        gone = store.create_client(marker, consent_given=True)
        aid = store.save_assessment(gone, _photo(22, (200, 150)), synthetic_analysis(), notes=marker)
        data = store.get_photo_bytes(aid)
        # JPEG bytes are incompressible: TOAST stores them raw in ~2 kB chunks; sample the middle of
        # several chunks so no sample straddles a chunk boundary
        samples = [data[k * 1996 + 900: k * 1996 + 940] for k in range(1, 4)]
        keep_data = store.get_photo_bytes(keep_aid)
        try:
            before = _pg_table_bytes(store, data_dir)
        except Exception as exc:  # CHECKPOINT needs pg_checkpoint (PostgreSQL >= 15)
            pytest.skip(f"cannot flush the server's buffers ({type(exc).__name__})")
        assert marker.encode() in before and all(smp in before for smp in samples)
        store.delete_client(gone)
        after = _pg_table_bytes(store, data_dir)
    assert marker.encode() not in after
    assert not any(smp in after for smp in samples)
    assert keep_data[1996 + 900: 1996 + 940] in after  # the search still finds what is kept


def test_postgresql_without_vacuum_full_the_bytes_stay(db_url: str) -> None:
    """Why delete runs VACUUM FULL on PostgreSQL: without it the deleted photo is still in the
    file (this is the check above failing when the option is off)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL table files")
    with open_store(db_url, StoreOptions(pg_vacuum_full_on_delete=False)) as store:
        data_dir = _pg_data_dir(store)
        if data_dir is None:
            pytest.skip("the server's data directory is not readable here (not tools/pg_test_server.sh)")
        cid = store.create_client("Lingers", consent_given=True)
        aid = store.save_assessment(cid, _photo(23, (200, 150)), synthetic_analysis())
        data = store.get_photo_bytes(aid)
        store.delete_client(cid)
        assert _count(store, m.Photo) == 0
        try:
            after = _pg_table_bytes(store, data_dir)
        except Exception as exc:
            pytest.skip(f"cannot flush the server's buffers ({type(exc).__name__})")
    assert data[1996 + 900: 1996 + 940] in after


def test_markers_are_found_before_delete(store: Store, db_url: str) -> None:
    """The byte search above can fail: the same markers ARE in the file before the delete."""
    if not store.is_sqlite:
        pytest.skip("raw file search is for SQLite")
    marker = f"ZQX-{uuid.uuid4().hex}"
    cid = store.create_client(marker, consent_given=True)
    aid = store.save_assessment(cid, _photo(11, (200, 150)), synthetic_analysis())
    data = store.get_photo_bytes(aid)
    raw = _raw_bytes(Path(db_url.removeprefix("sqlite:///")))
    assert marker.encode() in raw and data[len(data) // 2: len(data) // 2 + 48] in raw


# -- files, export, backup, CLI ------------------------------------------------------------------


def test_default_location_is_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTURE_DATABASE_URL", raising=False)
    data_dir = tmp_path / "clinic" / "posture"
    monkeypatch.setenv("POSTURE_DATA_DIR", str(data_dir))
    with open_store() as store:
        store.create_client("X")
        assert store.url.endswith(str(data_dir / "posture.db"))
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "posture.db").stat().st_mode) == 0o600
    with sqlite3.connect(data_dir / "posture.db") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0002"


def test_migration_creates_the_schema_once(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from posture.store.engine import _alembic_config

    with open_store(db_url) as store:
        cid = store.create_client("Before re-open")
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0002"]
        insp = inspect(store.engine)
        assert {"clients", "assessments", "photos"} <= set(insp.get_table_names())
        cols = {c["name"]: c["type"] for c in insp.get_columns("photos")}
        fks = insp.get_foreign_keys("assessments")
        assert fks[0]["referred_table"] == "clients" and fks[0]["options"].get("ondelete") == "CASCADE"
        if not store.is_sqlite:
            assert type(cols["data"]).__name__ == "BYTEA"  # bytea, not a large-object oid
            acols = {c["name"]: type(c["type"]).__name__ for c in insp.get_columns("assessments")}
            assert acols["analysis"] == "JSON"
    with open_store(db_url) as store:  # re-opening migrates nothing and keeps the data
        assert store.get_client(cid).name == "Before re-open"
        # down to nothing and back up
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "base")
        assert not {"clients", "photos"} & set(inspect(store.engine).get_table_names())
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        assert store.find_clients() == []
        store.create_client("After")


def test_schema_matches_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    assert diff == []


def test_export_zip(store: Store) -> None:
    cid = store.create_client("Zed", consent_given=True)
    aids = [store.save_assessment(cid, _photo(i), synthetic_analysis(float(i)),
                                  taken_at=dt.date(2025, 1, 1 + i)) for i in range(2)]
    with zipfile.ZipFile(io.BytesIO(store.export_client_zip(cid))) as z:
        names = z.namelist()
        assert json.loads(z.read("client.json"))["name"] == "Zed"
        manifest = json.loads(z.read("manifest.json"))
        assert set(manifest["files"]) <= set(names)
        recs = [n for n in names if n.endswith("assessment.json")]
        assert len(recs) == 2
        ids = [json.loads(z.read(n))["id"] for n in sorted(recs)]
        assert ids == aids
        photos = sorted(n for n in names if n.endswith("photo.jpg"))
        assert [z.read(p) for p in photos] == [store.get_photo_bytes(a) for a in aids]


def test_backup_is_a_working_copy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with open_store(url) as store:
        cid = store.create_client("Backed up", consent_given=True)
        aid = store.save_assessment(cid, _photo(), synthetic_analysis())
        out = store.backup(tmp_path / "bk" / "copy.db")
    with open_store(f"sqlite:///{out}") as copy:
        assert copy.get_client(cid).name == "Backed up"
        assert copy.get_photo_bytes(aid) == open_store(url).get_photo_bytes(aid)


def test_cli_export_and_backup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with open_store(url) as store:
        cid = store.create_client("Dora Client", consent_given=True)
        store.save_assessment(cid, _photo(), synthetic_analysis())
    out = tmp_path / "dora.zip"
    assert main(["db", "--database-url", url, "export", "Dora Client", "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as z:
        assert "client.json" in z.namelist()
    assert main(["db", "--database-url", url, "export", str(cid), "-o", str(tmp_path / "b.zip")]) == 0
    assert main(["db", "--database-url", url, "backup", "-o", str(tmp_path / "b.db")]) == 0
    assert (tmp_path / "b.db").stat().st_size > 0
    capsys.readouterr()
    assert main(["db", "--database-url", url, "export", "Nobody", "-o", str(tmp_path / "n.zip")]) == 2
    err = capsys.readouterr().err
    assert "No client" in err and err.count("\n") == 1


def test_cli_on_postgresql(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL CLI messages")
    with open_store(db_url) as store:
        cid = store.create_client("Pia Postgres", consent_given=True)
        aid = store.save_assessment(cid, _photo(), synthetic_analysis())
        photo = store.get_photo_bytes(aid)
        shown = store.url
    assert "***" in shown or db_url.count(":") < 3  # the password is never printed
    out = tmp_path / "pia.zip"
    assert main(["db", "--database-url", db_url, "export", "Pia Postgres", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"exported client {cid}" in said and "postgresql" in said and str(out) in said
    password = make_url(db_url).password
    assert not password or str(password) not in said
    with zipfile.ZipFile(out) as z:
        assert json.loads(z.read("client.json"))["name"] == "Pia Postgres"
        assert [z.read(n) for n in z.namelist() if n.endswith("photo.jpg")] == [photo]
    bk = tmp_path / "pg.db"
    assert main(["db", "--database-url", db_url, "backup", "-o", str(bk)]) == 2
    err = capsys.readouterr().err
    assert "pg_dump" in err and "postgresql" in err and err.count("\n") == 1
    assert not password or str(password) not in err
    assert not bk.exists()  # nothing half-written


def test_analysis_from_dict_round_trips_a_real_analysis(model: Any) -> None:
    from posture.analysis import Analysis, AnalysisOptions, analyze
    from posture.errors import PostureError
    from tests.conftest import FRONT

    photo = load_photo(FRONT)
    a = analyze(photo, view="anterior", options=AnalysisOptions(stature_cm=170.0, refine=False), model=model)
    d = a.to_dict()
    back = Analysis.from_dict(json.loads(json.dumps(d)))  # as it comes out of the database
    assert back.to_dict() == d
    assert back.scale == a.scale and back.view == a.view
    assert back.context.cm_per_px == pytest.approx(a.context.cm_per_px, rel=1e-9)
    with pytest.raises(PostureError, match="schema"):
        Analysis.from_dict({**d, "schema": "posture.analysis/0"})
    with pytest.raises(StoreError, match="schema"):
        analysis_from_dict({**d, "schema": "posture.analysis/0"})


def test_the_stance_confirmation_survives_a_save_and_reload(store: Store, model: Any) -> None:
    """The photo check and the therapist's confirmation are saved with the assessment (inside the
    analysis JSON): a held analysis comes back held, a confirmed one confirmed, with its findings."""
    from posture.analysis import AnalysisOptions, analyze
    from posture.findings import attach_findings
    from tests.conftest import SAMPLES

    photo = load_photo(SAMPLES / "yogait_t4.jpg")  # arms held out: a stance check fails
    cid = store.create_client("MN-1", consent_given=True)
    saved = {}
    for confirm in (False, True):
        a = attach_findings(analyze(photo, "anterior", AnalysisOptions(refine=False, confirm_stance=confirm),
                                    model=model))
        assert a.capture is not None and a.capture.stance_failed
        saved[confirm] = store.get_assessment(store.save_assessment(cid, photo, a))
    held, confirmed = (analysis_from_dict(saved[k].analysis) for k in (False, True))
    assert held.capture is not None and not held.capture.confirmed and held.capture.holds_findings
    assert saved[False].findings == [] and attach_findings(held).findings == ()
    assert confirmed.capture is not None and confirmed.capture.confirmed
    assert saved[True].findings and attach_findings(confirmed).findings
    # the same findings again from the stored (rounded) measurements
    assert [f.key for f in attach_findings(confirmed).findings] == [f["key"] for f in saved[True].findings]
