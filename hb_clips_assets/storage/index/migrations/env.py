"""Alembic environment of the media schema.

Run through ``hb_clips_assets.storage.index.migrate`` (no alembic.ini). Online,
it uses the connection handed over in ``config.attributes["connection"]``
(inside that connection's transaction), or opens an engine on
``sqlalchemy.url`` with ``create_media_engine`` so that SQLite gets its file
attached as ``media``. Either way the upgrade runs in one transaction that
first takes the migration lock and creates the schema (PostgreSQL).
"""
from __future__ import annotations

from alembic import context

from hb_clips_assets.storage.index.db import create_media_engine
from hb_clips_assets.storage.index.migrate import migration_context_options, prepare_for_upgrade
from hb_clips_assets.storage.index.models import SCHEMA, Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **migration_context_options(connection.dialect.name),
    )
    with context.begin_transaction():  # a no-op inside the caller's transaction
        prepare_for_upgrade(connection)
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("media migrations need a connection or sqlalchemy.url (see migrate.alembic_config)")
    engine = create_media_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """``--sql`` mode: write the DDL instead of running it (for a DBA to review)."""
    url = config.get_main_option("sqlalchemy.url")
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        **migration_context_options(dialect),
    )
    with context.begin_transaction():
        if dialect == "postgresql":
            context.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
