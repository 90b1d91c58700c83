"""Engines for the media index: SQLite file (embedded default) or PostgreSQL."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from hb_clips_assets.storage.index.migrate import upgrade
from hb_clips_assets.storage.index.models import SCHEMA

_USERINFO = re.compile(r"(?<=://)[^/?#]*@")


def redact_url(url: object) -> str:
    """``url`` fit to show in a message or a repr: its password masked (``***``).

    A URL SQLAlchemy cannot parse (a typo, an unknown port) still gets its
    ``user:password@`` part masked, so an error about a bad URL never shows
    the password either.
    """
    text = str(url)
    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparsable: mask everything between :// and @
        return _USERINFO.sub("***@", text)


def redact_url_in(message: str, url: object) -> str:
    """``message`` (say, an error about ``url``) with the URL shown redacted and its password masked."""
    text = str(url)
    message = message.replace(text, redact_url(text))
    try:
        password = make_url(text).password
    except Exception:  # noqa: BLE001
        found = re.search(r"://[^:/?#@]*:([^/?#]*)@", text)
        password = found.group(1) if found else None
    if password:
        message = message.replace(str(password), "***")
    return message


def create_media_engine(url: str) -> Engine:
    """An engine on which the ``media`` schema resolves.

    SQLite has no schemas, so every connection opens an empty in-memory main
    database and attaches the file as ``media``: the file then holds plain
    ``clips``, ``clip_assets``, ``clip_tags`` tables and ``media.clips`` works
    in SQL, as the data contract asks.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database
    if not database or database == ":memory:":
        raise ValueError("the media index needs a SQLite file, e.g. sqlite:///var/media.db")
    path = Path(database).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", timeout=60, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(path),))
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    # pysqlite starts transactions lazily; take the write lock at BEGIN so two
    # writers queue instead of failing with "database is locked" mid-transaction.
    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_conn, _record):
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":  # reading(): no lock
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def reading(engine: Engine) -> Connection:
    """A connection for the read side: its statements run outside a transaction.

    On PostgreSQL that saves the BEGIN and ROLLBACK round trips of every
    request (under READ COMMITTED each statement had its own snapshot anyway);
    on SQLite a read no longer takes the write lock that BEGIN IMMEDIATE takes
    (WAL: readers see the last commit while a partition is written).
    """
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def create_schema(engine: Engine) -> None:
    """Bring the media schema to the newest migration (idempotent; safe when
    several processes do it at once). The embedded default needs no manual
    step: every ``MediaIndex`` upgrades on first use."""
    if engine.dialect.name == "sqlite":
        # WAL lets readers go on while a partition is written; it is a property of the
        # file, so set it once here (outside a transaction, as SQLite requires).
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute(f"PRAGMA {SCHEMA}.journal_mode=WAL")
        finally:
            raw.close()
    upgrade(engine)
