"""Alembic environment for posture's store.

``open_store()`` passes its own connection (already inside a write transaction) through
``config.attributes["connection"]``. From a shell, give the database with ``-x url=...`` or
``POSTURE_DATABASE_URL``; otherwise the default location is used.
"""

from __future__ import annotations

from alembic import context

from posture.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from posture.store.engine import default_url, make_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or default_url()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("posture's migrations run online only (open_store() or `alembic upgrade head`).")
run_migrations_online()
