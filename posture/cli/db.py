"""``posture db ...``: export a client's records, back up the database.

    posture db export CLIENT -o FILE.zip     CLIENT = id or exact name
    posture db backup -o FILE                SQLite online backup (safe while the app runs) into a
                                             temporary file moved over FILE when complete, so an
                                             old backup survives a failed one; on PostgreSQL it
                                             refuses (exit 2): use pg_dump
    posture db clients [QUERY]               list clients (id, name, consent)

The database is ``--database-url``, else ``POSTURE_DATABASE_URL``, else the embedded SQLite file in
``POSTURE_DATA_DIR`` (default ``~/.local/share/posture``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from posture.errors import PostureError


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="client records: export a client, back up the database")
    db.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: see POSTURE_DATA_DIR)")
    dbsub = db.add_subparsers(dest="db_command", required=True)

    ex = dbsub.add_parser("export", help="zip everything stored about one client")
    ex.add_argument("client", help="client id or exact name")
    ex.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    ex.set_defaults(handler=cmd_export)

    bk = dbsub.add_parser("backup", help="copy the SQLite database (PostgreSQL: use pg_dump)")
    bk.add_argument("-o", "--output", required=True, metavar="FILE")
    bk.set_defaults(handler=cmd_backup)

    ls = dbsub.add_parser("clients", help="list clients")
    ls.add_argument("query", nargs="?", default="")
    ls.set_defaults(handler=cmd_clients)


def _open(args: argparse.Namespace) -> Any:
    from posture.store import open_store

    return open_store(getattr(args, "database_url", None))


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.output)
    with _open(args) as store:
        client = store.resolve_client(args.client)
        data = store.export_client_zip(client.id)
        source = store.url
    try:
        _write_atomically(out, data)
    except OSError as exc:
        raise PostureError(f"Could not write {out} ({exc.strerror}).", "Choose a writable path.") from None
    print(f"exported client {client.id} ({client.name}) from {source} to {out} ({len(data) / 1024:.0f} KiB)")
    return 0


def _write_atomically(out: Path, data: bytes) -> None:
    """An owner-only temporary file beside ``out``, moved over it when complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cmd_backup(args: argparse.Namespace) -> int:
    with _open(args) as store:
        try:
            path = store.backup(args.output)
            source = store.url
        except (OSError, sqlite3.Error) as exc:
            raise PostureError(f"Could not write {args.output} ({exc}).", "Choose a writable path.") from None
    print(f"backed up the database {source} to {path}")
    return 0


def cmd_clients(args: argparse.Namespace) -> int:
    with _open(args) as store:
        for c in store.find_clients(args.query):
            consent = f"consent {c.consent_at:%Y-%m-%d}" if c.consent_given and c.consent_at else "no consent"
            print(f"{c.id:6d}  {c.name}  ({consent})")
    return 0
