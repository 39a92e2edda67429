"""Where the database lives, the engine, migrations and the maintenance the store runs on it.

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

PostgreSQL
    None of the SQLite settings apply (row locks and MVCC instead; migrations are serialised with an
    advisory lock). After a delete, ``VACUUM FULL`` rewrites the tables
    (``StoreOptions.pg_vacuum_full_on_delete``); the server's WAL and its backups still hold old
    bytes until they are recycled. Backup: pg_dump.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from posture.errors import PostureError

DATABASE_URL_ENV = "POSTURE_DATABASE_URL"
DATA_DIR_ENV = "POSTURE_DATA_DIR"
DB_FILENAME = "posture.db"
# SQLite's online backup copies this many pages (4 KiB each) per step, releasing its read lock in
# between so that writers are never held up for the whole copy.
BACKUP_PAGES_PER_STEP = 1024

_log = logging.getLogger(__name__)


class StoreError(PostureError):
    code = "store_error"
    default_hint = "Check the database location (POSTURE_DATA_DIR / POSTURE_DATABASE_URL)."


class ConsentError(StoreError):
    """A save for a client whose consent to storing their photo and measurements is not recorded."""

    code = "no_consent"
    default_hint = (
        "Record the client's consent first (Clients page, or Store.record_consent); nothing was saved."
    )


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


# -- engine + migrations --------------------------------------------------------------------------


def make_engine(url: str, options: StoreOptions | None = None) -> Engine:
    """The engine for ``url``. ``hide_parameters``: a database error's text (which reaches the
    logs with its traceback) never carries the bound values, i.e. a client's name or notes."""
    opts = options or StoreOptions()
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    _prepare_sqlite_file(url)
    engine = create_engine(url, connect_args={"timeout": opts.busy_timeout_ms / 1000.0},
                           hide_parameters=True)

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



# -- maintenance ----------------------------------------------------------------------------------


BackupProgress = Callable[[int, int, int], object]


def backup_sqlite(
    engine: Engine,
    path: str | Path,
    *,
    pages_per_step: int = BACKUP_PAGES_PER_STEP,
    progress: BackupProgress | None = None,
) -> Path:
    """Copy the whole SQLite database to ``path`` with SQLite's online backup API (safe while other
    processes write). PostgreSQL: use ``pg_dump``.

    The copy is written to a temporary owner-only file beside ``path`` and then moved over it with
    ``os.replace`` (atomic on one file system): an existing backup at ``path`` stays whole until
    the new one is complete, and a failure part-way (disk full, the process killed) leaves it
    untouched and removes the temporary file. ``progress(status, remaining, total)`` is SQLite's
    per-step callback (``pages_per_step`` pages a step); an exception raised in it aborts the copy."""
    if engine.dialect.name != "sqlite":
        url = engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"Backup copies the embedded SQLite database only; this store is {engine.dialect.name} "
            f"({url}) and nothing was written.",
            "Use pg_dump instead, e.g. pg_dump -Fc -f posture.dump DATABASE.",
        )
    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(fd)  # mkstemp creates the file 0o600
    tmp = Path(tmp_name)
    try:
        raw = engine.raw_connection()
        try:
            src = raw.driver_connection
            assert isinstance(src, sqlite3.Connection)
            dst = sqlite3.connect(str(tmp))
            try:
                src.backup(dst, pages=max(1, int(pages_per_step)), progress=progress)
            finally:
                dst.close()
        finally:
            raw.close()
        os.replace(tmp, out)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise
    return out


def vacuum(engine: Engine, options: StoreOptions) -> None:
    """After a delete: SQLite VACUUM + WAL checkpoint (TRUNCATE); PostgreSQL VACUUM FULL when
    ``options.pg_vacuum_full_on_delete``."""
    if engine.dialect.name == "postgresql":
        if options.pg_vacuum_full_on_delete:
            _vacuum_postgresql(engine)
        return
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        assert isinstance(con, sqlite3.Connection)
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def _vacuum_postgresql(engine: Engine) -> None:
    # VACUUM cannot run inside a transaction block. The delete itself is already committed, so
    # a failure here (e.g. the role does not own the tables) is logged, not raised.
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM FULL photos, assessments, visits, clients")
    except SQLAlchemyError as exc:
        # with its traceback: the statement holds no data and hide_parameters keeps rows out
        _log.warning("VACUUM FULL after a delete failed (%s): the freed space is reclaimed later",
                     type(exc).__name__, exc_info=True)
