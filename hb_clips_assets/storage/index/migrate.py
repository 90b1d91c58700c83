"""Alembic migrations of the ``media`` schema, run programmatically.

The migration scripts live in the package (``migrations/``), so no
``alembic.ini`` is needed: :func:`alembic_config` points Alembic at them and
hands it an open connection. The same scripts serve PostgreSQL (a real
``media`` schema) and the embedded SQLite default (the file attached as
``media``, see ``db.py``). Alembic's own version table is ``media.alembic_version``,
so it never meets another tool's (Dagster's) ``alembic_version`` in a shared
database.

:func:`upgrade` is safe to call from any number of processes at once: on
PostgreSQL it holds a transaction-scoped advisory lock around the whole
upgrade (schema creation included); on SQLite the engine's ``BEGIN IMMEDIATE``
already serialises writers. SQLite and PostgreSQL both have transactional
DDL, so an upgrade that fails leaves the schema as it was.
"""
from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from hb_clips_assets.storage.index.models import SCHEMA

SCRIPT_LOCATION = "hb_clips_assets.storage.index:migrations"
VERSION_TABLE = "alembic_version"
VERSION_TABLE_SCHEMA = SCHEMA
# The first revision creates exactly what ``Base.metadata.create_all`` created
# before migrations existed; such databases are stamped with it, then upgraded.
BASELINE_REVISION = "0001_media_schema"
# PostgreSQL advisory locks take (class, key) as pg_advisory_xact_lock(int4, int4):
# classes of our own ("hb" + n); two-key locks never collide with one-bigint-key locks.
PG_LOCK_CLASS_MIGRATIONS = 0x6862_0001  # key 0: the one migration lock
PG_LOCK_CLASS_GAME = 0x6862_0002  # key hashtext(game_id): partition writes of one game (repository.py)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for the package's migrations (no alembic.ini).

    Pass an open ``connection`` (used as is, inside its transaction) or a
    SQLAlchemy ``url`` (env.py then opens the engine itself, with the same
    locking as :func:`upgrade`).
    """
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Autogenerate and compare look at the ``media`` schema only."""
    if type_ == "schema":
        return name == SCHEMA
    if type_ == "table":
        return name != VERSION_TABLE
    return True


def migration_context_options(dialect_name: str) -> dict:
    """``context.configure`` options shared by env.py and the schema tests."""
    return {
        "version_table": VERSION_TABLE,
        "version_table_schema": VERSION_TABLE_SCHEMA,
        "include_schemas": True,
        "include_name": include_name,
        "compare_type": True,
        # ALTERs on SQLite need "move and copy"; harmless elsewhere.
        "render_as_batch": dialect_name == "sqlite",
    }


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at; None for an empty database."""
    if conn.dialect.name == "postgresql" and conn.execute(
        text("select to_regclass(:t)"), {"t": f"{VERSION_TABLE_SCHEMA}.{VERSION_TABLE}"}
    ).scalar() is None:
        return None  # also when the schema itself does not exist yet
    ctx = MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA}
    )
    return ctx.get_current_revision()


def prepare_for_upgrade(conn: Connection) -> None:
    """Inside the upgrade's transaction: serialise upgraders and make sure the
    schema exists (PostgreSQL). Called by env.py for every online run."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("select pg_advisory_xact_lock(CAST(:cls AS integer), 0)"), {"cls": PG_LOCK_CLASS_MIGRATIONS})
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))


def _adopt_unversioned(conn: Connection, cfg: Config) -> None:
    """A database made by ``create_all`` before migrations existed has the
    tables but no version table: stamp it with the baseline it matches."""
    if current_revision(conn) is None and inspect(conn).has_table("clips", schema=SCHEMA):
        command.stamp(cfg, BASELINE_REVISION)


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the media schema to ``revision`` (idempotent, concurrency-safe).
    Returns the revision the database is at afterwards."""
    head = head_revision()
    if revision == "head":
        with engine.connect() as conn:
            if current_revision(conn) == head:  # the common case: nothing to lock
                return head
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        prepare_for_upgrade(conn)  # env.py does it again; the lock is re-entrant, the DDL idempotent
        _adopt_unversioned(conn, cfg)
        command.upgrade(cfg, revision)
        return current_revision(conn)


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)
