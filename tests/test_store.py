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
        for t in ("photos", "assessments", "clients", "alembic_version"):
            c.execute(text(f"DROP TABLE IF EXISTS {t} CASCADE"))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'posture.db'}"
    url = _pg_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://... (unset)")
    _reset_pg(url)
    return url


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
        cid = store.create_client("P")
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
    cid = store.create_client("Exif")
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
    cid = store.create_client("Atomic")
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
        cid = store.create_client("Busy")
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
    keep = store.create_client("Keeper")
    keep_aid = store.save_assessment(keep, _photo(7), synthetic_analysis(), notes="stays")
    gone = store.create_client(marker, notes=f"notes {marker}")
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
    if store.is_sqlite:
        db_file = Path(db_url.removeprefix("sqlite:///"))
        raw = _raw_bytes(db_file)
        assert marker.encode() not in raw
        for chunk in chunks:
            assert chunk not in raw
        keep_chunk = store.get_photo_bytes(keep_aid)[100:148]
        assert keep_chunk in raw  # the search itself finds photo bytes that are still there


def test_markers_are_found_before_delete(store: Store, db_url: str) -> None:
    """The byte search above can fail: the same markers ARE in the file before the delete."""
    if not store.is_sqlite:
        pytest.skip("raw file search is for SQLite")
    marker = f"ZQX-{uuid.uuid4().hex}"
    cid = store.create_client(marker)
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
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"


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
        cid = store.create_client("Backed up")
        aid = store.save_assessment(cid, _photo(), synthetic_analysis())
        out = store.backup(tmp_path / "bk" / "copy.db")
    with open_store(f"sqlite:///{out}") as copy:
        assert copy.get_client(cid).name == "Backed up"
        assert copy.get_photo_bytes(aid) == open_store(url).get_photo_bytes(aid)


def test_cli_export_and_backup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with open_store(url) as store:
        cid = store.create_client("Dora Client")
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
