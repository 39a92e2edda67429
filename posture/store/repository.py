"""The repository API the CLI and the app call: :func:`open_store` -> :class:`Store`.

Where the data lives
    ``POSTURE_DATABASE_URL`` (any SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/posture``)
    wins. Otherwise an embedded SQLite file ``posture.db`` in the data directory:
    ``POSTURE_DATA_DIR`` if set, else ``$XDG_DATA_HOME/posture`` (``~/.local/share/posture``). The
    directory is created owner-only (0o700) and the database file is made owner-only (0o600):
    photos are health data and stay on the clinic's machine, readable by the therapist's account
    only.

SQLite settings (set on every connection)
    WAL journal (readers never block the writer), foreign keys ON (``ON DELETE CASCADE`` works),
    ``busy_timeout`` (a second process waits for the lock instead of failing), ``secure_delete``
    (deleted rows are overwritten with zeros). Every transaction starts with ``BEGIN IMMEDIATE``
    so that a read-then-write transaction can never hit SQLite's "database is locked" upgrade
    deadlock when several processes (app + CLI) write at once.

Atomicity
    An assessment and its photo row are written in ONE transaction: a save lands whole or not at
    all. Deleting a client erases every assessment and photo (cascade), then runs ``VACUUM`` and a
    WAL checkpoint on SQLite so the bytes leave the file too.

PostgreSQL
    None of the SQLite settings apply (row locks and MVCC instead; migrations are serialised with an
    advisory lock). Photos are ``bytea`` (no large objects, so a cascade delete removes them).
    After a delete, ``VACUUM FULL`` rewrites the tables (``StoreOptions.pg_vacuum_full_on_delete``);
    the server's WAL and its backups still hold old bytes until they are recycled. Backup: pg_dump.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import sqlite3
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import Engine, create_engine, event, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from posture.errors import PostureError
from posture.store.models import Assessment, Client, Photo

DATABASE_URL_ENV = "POSTURE_DATABASE_URL"
DATA_DIR_ENV = "POSTURE_DATA_DIR"
DB_FILENAME = "posture.db"
EXPORT_SCHEMA = "posture.client_export/1"

_log = logging.getLogger(__name__)


class StoreError(PostureError):
    code = "store_error"
    default_hint = "Check the database location (POSTURE_DATA_DIR / POSTURE_DATABASE_URL)."


class NotFoundError(StoreError):
    code = "not_found"
    default_hint = "List the clients with the app, or check the id or exact name."


@dataclass(frozen=True)
class StoreOptions:
    # How long a writer waits for another process's lock before giving up (ms). Saves take a few
    # ms each; 30 s covers a burst of saves from the app and a CLI export at the same time.
    busy_timeout_ms: int = 30_000
    # The stored photo: JPEG at quality 92 keeps landmark-relevant detail (edges move < 1 px) at a
    # fraction of PNG's size; "PNG" stores it losslessly.
    photo_format: str = "JPEG"
    jpeg_quality: int = 92
    # PostgreSQL: after a client or assessment is deleted, VACUUM FULL rewrites the three tables so
    # the deleted rows and photo bytes leave the table files (a DELETE alone only marks them dead
    # until the space is reused). It locks the tables briefly; a clinic's few thousand photos
    # rewrite in about a second. False leaves reclaiming to autovacuum.
    pg_vacuum_full_on_delete: bool = True


# -- locations ------------------------------------------------------------------------------------


def default_data_dir() -> Path:
    """``POSTURE_DATA_DIR``, else ``$XDG_DATA_HOME/posture``, else ``~/.local/share/posture``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "posture"


def default_url() -> str:
    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    return f"sqlite:///{default_data_dir() / DB_FILENAME}"


def _prepare_sqlite_file(url: str) -> Path | None:
    """Create the SQLite file's directory owner-only; return the file path (None for :memory:)."""
    db = make_url(url).database
    if not db or db == ":memory:":
        return None
    path = Path(db).expanduser()
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    return path


# -- photo encoding -------------------------------------------------------------------------------


def encode_photo(rgb: np.ndarray, options: StoreOptions | None = None) -> tuple[bytes, str]:
    """Re-encode an RGB uint8 array with Pillow, writing NO metadata (no EXIF, GPS, ICC, XMP).

    Returns (bytes, mime type). Re-encoding from pixels (not copying the upload) is what guarantees
    that nothing from the original file survives."""
    opts = options or StoreOptions()
    im = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    buf = io.BytesIO()
    if opts.photo_format.upper() == "PNG":
        im.save(buf, format="PNG", optimize=False)
        return buf.getvalue(), "image/png"
    im.save(buf, format="JPEG", quality=opts.jpeg_quality, optimize=True)
    return buf.getvalue(), "image/jpeg"


# -- records handed to callers --------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRecord:
    id: int
    name: str
    date_of_birth: dt.date | None
    notes: str
    consent_given: bool
    consent_at: dt.datetime | None
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "notes": self.notes,
            "consent_given": self.consent_given,
            "consent_at": self.consent_at.isoformat() if self.consent_at else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class AssessmentRecord:
    """One stored assessment (without the photo bytes: see :meth:`Store.get_photo_bytes`)."""

    id: int
    client_id: int
    taken_at: dt.date
    view: str
    height_cm: float | None
    landmarks: Mapping[str, Any]
    measurements: Mapping[str, Any]
    findings: Sequence[Any]
    analysis: Mapping[str, Any]  # the full Analysis.to_dict()
    notes: str
    created_at: dt.datetime
    photo_mime: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "taken_at": self.taken_at.isoformat(),
            "view": self.view,
            "height_cm": self.height_cm,
            "landmarks": dict(self.landmarks),
            "measurements": dict(self.measurements),
            "findings": list(self.findings),
            "analysis": dict(self.analysis),
            "notes": self.notes,
            "created_at": self.created_at.isoformat(),
            "photo_mime": self.photo_mime,
        }

    def to_analysis(self) -> Any:
        """The stored analysis as a :class:`posture.analysis.Analysis` (see
        :func:`analysis_from_dict`)."""
        return analysis_from_dict(self.analysis)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=dt.UTC)


def _client_record(c: Client) -> ClientRecord:
    created = _aware(c.created_at)
    assert created is not None
    return ClientRecord(
        c.id, c.name, c.date_of_birth, c.notes or "", bool(c.consent_given), _aware(c.consent_at), created
    )


def _assessment_record(a: Assessment, photo_mime: str | None) -> AssessmentRecord:
    created = _aware(a.created_at)
    assert created is not None
    return AssessmentRecord(
        id=a.id,
        client_id=a.client_id,
        taken_at=a.taken_at,
        view=a.view,
        height_cm=a.height_cm,
        landmarks=a.landmarks,
        measurements=a.measurements,
        findings=a.findings,
        analysis=a.analysis,
        notes=a.notes or "",
        created_at=created,
        photo_mime=photo_mime,
    )


# -- the store ------------------------------------------------------------------------------------


class Store:
    """Clients, assessments and photos. Every method is one transaction.

    Create with :func:`open_store` (which migrates the schema); close with :meth:`close` or use it as
    a context manager."""

    def __init__(self, engine: Engine, options: StoreOptions | None = None) -> None:
        self.engine = engine
        self.options = options or StoreOptions()
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # context management
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    # clients
    def create_client(
        self,
        name: str,
        date_of_birth: dt.date | None = None,
        notes: str = "",
        consent_given: bool = False,
        consent_at: dt.datetime | None = None,
    ) -> int:
        name = (name or "").strip()
        if not name:
            raise StoreError("A client needs a name or a code.", "Enter a name or a pseudonymous code.")
        if consent_given and consent_at is None:
            consent_at = dt.datetime.now(dt.UTC)
        with self._tx() as s:
            c = Client(
                name=name,
                date_of_birth=date_of_birth,
                notes=notes,
                consent_given=consent_given,
                consent_at=consent_at,
            )
            s.add(c)
            s.flush()
            return c.id

    def update_client(
        self,
        client_id: int,
        *,
        name: str | None = None,
        date_of_birth: dt.date | None = None,
        notes: str | None = None,
    ) -> ClientRecord:
        with self._tx() as s:
            c = self._client(s, client_id)
            if name is not None:
                if not name.strip():
                    raise StoreError("A client needs a name or a code.", "Enter a name or a code.")
                c.name = name.strip()
            if date_of_birth is not None:
                c.date_of_birth = date_of_birth
            if notes is not None:
                c.notes = notes
            return _client_record(c)

    def record_consent(
        self, client_id: int, given: bool = True, at: dt.datetime | None = None
    ) -> ClientRecord:
        """Record (or withdraw) the client's consent to store photos; stamps the time."""
        with self._tx() as s:
            c = self._client(s, client_id)
            c.consent_given = given
            c.consent_at = (at or dt.datetime.now(dt.UTC)) if given else None
            return _client_record(c)

    def get_client(self, client_id: int) -> ClientRecord:
        with self._tx() as s:
            return _client_record(self._client(s, client_id))

    def find_clients(self, query: str = "") -> list[ClientRecord]:
        """Clients whose name or code contains ``query`` (case-insensitive), or whose id equals it;
        all clients for an empty query. Ordered by name."""
        q = (query or "").strip()
        with self._tx() as s:
            stmt = select(Client).order_by(func.lower(Client.name), Client.id)
            if q:
                like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                cond = func.lower(Client.name).like(like, escape="\\")
                stmt = stmt.where(or_(cond, Client.id == int(q)) if q.isdigit() else cond)
            return [_client_record(c) for c in s.scalars(stmt)]

    def resolve_client(self, ref: str | int) -> ClientRecord:
        """A client by id or by exact name (case-insensitive); an ambiguous name is an error."""
        text = str(ref).strip()
        with self._tx() as s:
            if text.isdigit():
                c = s.get(Client, int(text))
                if c is not None:
                    return _client_record(c)
            found = list(s.scalars(select(Client).where(func.lower(Client.name) == text.lower())))
            if len(found) == 1:
                return _client_record(found[0])
            if len(found) > 1:
                ids = ", ".join(str(c.id) for c in found)
                raise StoreError(
                    f"{len(found)} clients are called {text!r} (ids {ids}).", "Give the client's id instead."
                )
        raise NotFoundError(f"No client with id or name {text!r}.")

    def delete_client(self, client_id: int) -> None:
        """Erase the client, every assessment and every photo byte of theirs.

        On SQLite the file is then VACUUMed and the WAL checkpointed and truncated, so the deleted
        bytes are gone from disk, not just unlinked from the tables (``secure_delete`` zeroes the
        freed pages as well)."""
        with self._tx() as s:
            c = self._client(s, client_id)
            s.delete(c)
        self._vacuum()

    # assessments
    def save_assessment(
        self,
        client_id: int,
        photo: Any,
        analysis: Any,
        notes: str = "",
        taken_at: dt.date | None = None,
    ) -> int:
        """Store one analysed photo for a client; returns the new assessment id.

        ``photo`` is a :class:`posture.imaging.Photo` (its working copy is re-encoded without
        metadata) or an RGB uint8 array; ``analysis`` a :class:`posture.analysis.Analysis` (with any
        manual corrections and findings already applied). The assessment row and its photo row are
        written in one transaction."""
        rgb = np.asarray(getattr(photo, "rgb", photo))
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise StoreError("The photo must be an RGB uint8 image.", "Pass the Photo that was analysed.")
        data, mime = encode_photo(rgb, self.options)
        d = analysis.to_dict()
        scale = d.get("scale") or {}
        with self._tx() as s:
            self._client(s, client_id)
            a = Assessment(
                client_id=client_id,
                taken_at=taken_at or dt.date.today(),
                view=str(d["view"]),
                height_cm=scale.get("stature_cm"),
                landmarks=d["landmarks"],
                measurements=d["measurements"],
                findings=list(d.get("findings") or []),
                analysis=d,
                notes=notes or "",
            )
            a.photo = Photo(
                mime_type=mime,
                width=int(rgb.shape[1]),
                height=int(rgb.shape[0]),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
            s.add(a)
            s.flush()
            return a.id

    def update_assessment(
        self, assessment_id: int, *, analysis: Any | None = None, notes: str | None = None
    ) -> AssessmentRecord:
        """Replace the stored analysis (e.g. after manual landmark corrections) and/or the notes."""
        with self._tx() as s:
            a = self._assessment(s, assessment_id)
            if analysis is not None:
                d = analysis.to_dict()
                a.analysis = d
                a.landmarks = d["landmarks"]
                a.measurements = d["measurements"]
                a.findings = list(d.get("findings") or [])
            if notes is not None:
                a.notes = notes
            s.flush()
            return _assessment_record(a, a.photo.mime_type if a.photo else None)

    def list_assessments(self, client_id: int) -> list[AssessmentRecord]:
        """The client's assessments, oldest first (by date taken, then by id)."""
        with self._tx() as s:
            self._client(s, client_id)
            rows = s.execute(
                select(Assessment, Photo.mime_type)
                .outerjoin(Photo, Photo.assessment_id == Assessment.id)
                .where(Assessment.client_id == client_id)
                .order_by(Assessment.taken_at, Assessment.id)
            ).all()
            return [_assessment_record(a, mime) for a, mime in rows]

    def get_assessment(self, assessment_id: int) -> AssessmentRecord:
        with self._tx() as s:
            a = self._assessment(s, assessment_id)
            mime = s.scalar(select(Photo.mime_type).where(Photo.assessment_id == assessment_id))
            return _assessment_record(a, mime)

    def delete_assessment(self, assessment_id: int) -> None:
        with self._tx() as s:
            s.delete(self._assessment(s, assessment_id))
        self._vacuum()

    def get_photo_bytes(self, assessment_id: int) -> bytes:
        """The stored (metadata-free) photo file bytes of an assessment."""
        with self._tx() as s:
            data = s.scalar(select(Photo.data).where(Photo.assessment_id == assessment_id))
        if data is None:
            raise NotFoundError(f"Assessment {assessment_id} has no stored photo.")
        return bytes(data)

    def get_photo(self, assessment_id: int) -> Any:
        """The stored photo as a :class:`posture.imaging.Photo` whose ``width``/``height`` are the
        ORIGINAL full size, so that the stored analysis's full-size landmark pixels line up with it
        (``Photo.scale`` converts, as for a freshly loaded photo)."""
        from posture.imaging import Photo as PosturePhoto

        rec = self.get_assessment(assessment_id)
        data = self.get_photo_bytes(assessment_id)
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        image = rec.analysis.get("image") or {}
        return PosturePhoto(
            rgb=np.ascontiguousarray(rgb),
            width=int(image.get("width") or rgb.shape[1]),
            height=int(image.get("height") or rgb.shape[0]),
            sha256=str(image.get("sha256") or hashlib.sha256(data).hexdigest()),
            source_format="stored",
        )

    # export / backup
    def export_client_zip(self, client_id: int) -> bytes:
        """A zip of everything stored about a client: ``client.json``, and per assessment a
        folder with ``assessment.json`` (incl. the full analysis), the photo, and ``report.pdf`` when
        the report module is installed. ``manifest.json`` lists the contents."""
        client = self.get_client(client_id)
        records = self.list_assessments(client_id)
        manifest: dict[str, Any] = {
            "schema": EXPORT_SCHEMA,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(),
            "client_id": client.id,
            "files": [],
            "notes": [],
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:

            def put(name: str, data: bytes | str) -> None:
                z.writestr(name, data)
                manifest["files"].append(name)

            put("client.json", json.dumps(client.to_dict(), indent=2, ensure_ascii=False))
            for n, rec in enumerate(records, start=1):
                folder = f"assessments/{n:03d}_{rec.taken_at.isoformat()}_id{rec.id}"
                put(f"{folder}/assessment.json", json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
                if rec.photo_mime is None:
                    continue
                ext = "png" if rec.photo_mime == "image/png" else "jpg"
                put(f"{folder}/photo.{ext}", self.get_photo_bytes(rec.id))
                pdf, why = self._report_pdf(rec)
                if pdf is not None:
                    put(f"{folder}/report.pdf", pdf)
                elif why:
                    manifest["notes"].append(f"{folder}: no PDF ({why})")
            z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        return buf.getvalue()

    def _report_pdf(self, rec: AssessmentRecord) -> tuple[bytes | None, str | None]:
        from posture.report import annotate, build_report
        from posture.report.pdf import render_pdf

        try:
            photo = self.get_photo(rec.id)
            analysis = rec.to_analysis()
            report = build_report(photo, analysis, when=rec.taken_at)
            pdf = render_pdf(report, annotate(photo, analysis))
        except Exception as exc:  # an export must not fail because one PDF did
            return None, f"{type(exc).__name__}: {exc}"
        return (bytes(pdf) if pdf is not None else None), None

    def backup(self, path: str | Path) -> Path:
        """Copy the whole database to ``path`` with SQLite's online backup API (safe while other
        processes write). PostgreSQL: use ``pg_dump``."""
        if not self.is_sqlite:
            raise StoreError(
                f"Backup copies the embedded SQLite database only; this store is {self.engine.dialect.name} "
                f"({self.url}) and nothing was written.",
                "Use pg_dump instead, e.g. pg_dump -Fc -f posture.dump DATABASE.",
            )
        out = Path(path).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        fd = os.open(out, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        raw = self.engine.raw_connection()
        try:
            src = raw.driver_connection
            assert isinstance(src, sqlite3.Connection)
            dst = sqlite3.connect(str(out))
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            raw.close()
        return out

    # helpers
    def _client(self, s: Session, client_id: int) -> Client:
        c = s.get(Client, client_id)
        if c is None:
            raise NotFoundError(f"No client with id {client_id}.")
        return c

    def _assessment(self, s: Session, assessment_id: int) -> Assessment:
        a = s.get(Assessment, assessment_id)
        if a is None:
            raise NotFoundError(f"No assessment with id {assessment_id}.")
        return a

    def _vacuum(self) -> None:
        if self.engine.dialect.name == "postgresql":
            if self.options.pg_vacuum_full_on_delete:
                self._vacuum_postgresql()
            return
        if not self.is_sqlite:
            return
        raw = self.engine.raw_connection()
        try:
            con = raw.driver_connection
            assert isinstance(con, sqlite3.Connection)
            con.execute("VACUUM")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    def _vacuum_postgresql(self) -> None:
        # VACUUM cannot run inside a transaction block. The delete itself is already committed, so
        # a failure here (e.g. the role does not own the tables) is logged, not raised.
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM FULL photos, assessments, clients")
        except SQLAlchemyError as exc:
            _log.warning("VACUUM FULL after a delete failed (%s): the freed space is reclaimed later",
                         type(exc).__name__)


# -- engine + migrations --------------------------------------------------------------------------


def make_engine(url: str, options: StoreOptions | None = None) -> Engine:
    opts = options or StoreOptions()
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    _prepare_sqlite_file(url)
    engine = create_engine(url, connect_args={"timeout": opts.busy_timeout_ms / 1000.0})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_con.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(opts.busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA secure_delete = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    here = Path(__file__).resolve().parent
    cfg = Config(str(here / "alembic.ini"))
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent; safe from several processes:
    the migration runs inside one write transaction, so a second process waits and then finds the
    schema already at head)."""
    from alembic import command

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(728374)")  # serialise migrations
        command.upgrade(_alembic_config(conn), "head")


def open_store(url: str | None = None, options: StoreOptions | None = None) -> Store:
    """Open (and create or migrate) the store at ``url`` or the default location."""
    target = url or default_url()
    try:
        engine = make_engine(target, options)
        migrate(engine)
    except PostureError:
        raise
    except Exception as exc:
        raise StoreError(f"The database at {make_url(target).render_as_string()} could not be opened "
                         f"({type(exc).__name__}: {exc}).") from exc
    return Store(engine, options)


# -- stored analysis -> Analysis ------------------------------------------------------------------


def analysis_from_dict(d: Mapping[str, Any]) -> Any:
    """Rebuild a :class:`posture.analysis.Analysis` from its ``to_dict()`` (schema
    ``posture.analysis/1``), e.g. from a stored assessment, for comparison, re-annotation or more
    manual corrections.

    What cannot come back: the per-pass landmark sets (the consensus is used as the only pass, so
    re-measuring after :func:`~posture.analysis.correct_landmarks` drops the pass-spread part of the
    ±), the segmentation mask, and findings as objects (their dicts are in the assessment's
    ``findings``). Values were rounded by ``to_dict`` (0.1 px, 0.01 units)."""
    from posture.analysis import SCHEMA, Analysis
    from posture.metrics import MeasureContext, Measurement, Quantity, landmark_key
    from posture.pose import Landmark
    from posture.sides import View

    if d.get("schema") != SCHEMA:
        raise StoreError(f"Stored analysis has schema {d.get('schema')!r}, expected {SCHEMA!r}.")
    view = View.parse(str(d["view"]))
    lms = np.zeros((len(Landmark), 4), dtype=np.float64)
    manual: set[str] = set()
    stored = d.get("landmarks") or {}
    for lm in Landmark:
        e = stored.get(landmark_key(lm)) or {}
        lms[lm] = (float(e.get("x", 0.0)), float(e.get("y", 0.0)), float(e.get("visibility", 0.0)), 1.0)
        if e.get("manual"):
            manual.add(landmark_key(lm))
    measurements = {}
    for name, m in (d.get("measurements") or {}).items():
        details = {
            k: Quantity(float(q["value"]) if q.get("value") is not None else float("nan"), str(q["unit"]),
                        q.get("uncertainty"))
            for k, q in (m.get("details") or {}).items()
        }
        measurements[name] = Measurement(
            name=name,
            label=str(m["label"]),
            value=m.get("value"),
            unit=str(m.get("unit") or ""),
            side=str(m.get("side") or ""),
            uncertainty=m.get("uncertainty"),
            landmarks=tuple(m.get("landmarks") or ()),
            available=bool(m.get("available", True)),
            reason=m.get("reason"),
            details=details,
        )
    image = dict(d.get("image") or {})
    level = dict(d.get("level") or {})
    scale = d.get("scale")
    method = dict(d.get("method") or {})
    ctx = MeasureContext(
        toward_left=view.toward_left,
        width=int(image.get("width") or 0),
        height=int(image.get("height") or 0),
        roll_deg=float(level.get("roll_deg") or 0.0),
        roll_sd_deg=float(level.get("roll_sd_deg") or 0.0),
        cm_per_px=None if not scale else float(scale["cm_per_px"]),
        scale_rel_sd=0.0 if not scale else float(scale.get("relative_sd") or 0.0),
        sigma_px=float(method.get("landmark_sigma_px") or 2.0),
        manual=frozenset(manual),
    )
    return Analysis(
        image=image,
        view=view,
        landmarks=lms,
        passes=lms[None].copy(),
        measurements=measurements,
        warnings=tuple(d.get("warnings") or ()),
        context=ctx,
        level=level,
        scale=dict(scale) if scale else None,
        method=method,
        manual=frozenset(manual),
    )
