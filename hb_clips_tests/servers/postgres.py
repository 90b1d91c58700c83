"""A real PostgreSQL server for the tests: a fresh, uniquely named database per
test module (``postgres_url``), or per test (``postgres_server.database()``),
dropped afterwards.

The server is reached through an admin URL, ``HB_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), whose role may
create databases. Where it cannot be reached, the tests skip saying what to
start - or fail, when ``HB_REQUIRE_SERVERS=1`` (CI), so that they can never be
skipped there.

Use in a test module: ``from hb_clips_tests.servers.postgres import postgres_server, postgres_url  # noqa: F401``.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest

from hb_clips_tests.servers import unavailable

ADMIN_URL_ENV = "HB_TEST_PG_URL"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

HOW_TO_START = (
    "Start PostgreSQL on 127.0.0.1:5432 with a role that may create databases, e.g. "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (Debian/Ubuntu packages, trust auth) or "
    "`docker run --rm -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`; "
    f"or point {ADMIN_URL_ENV} at one (e.g. postgresql+psycopg://user:pass@host:5432/postgres)."
)


class PostgresServer:
    def __init__(self, admin_url: str):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        self.admin_url = make_url(admin_url)
        self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                                    connect_args={"connect_timeout": 5})

    def check(self) -> str:
        from sqlalchemy import text

        with self._admin.connect() as conn:
            return conn.execute(text("show server_version")).scalar_one()

    def url(self, database: str, drivername: str = "postgresql+psycopg") -> str:
        """URL of ``database`` on this server, as a string with the password in it."""
        return self.admin_url.set(database=database, drivername=drivername).render_as_string(hide_password=False)

    def create_database(self, label: str = "db") -> str:
        from sqlalchemy import text

        name = f"hb_test_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}".lower()
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return name

    def drop_database(self, name: str) -> None:
        from sqlalchemy import text

        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @contextmanager
    def database(self, label: str = "db") -> Iterator[str]:
        """A fresh empty database for the block; yields its psycopg 3 URL."""
        name = self.create_database(label)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)

    def dispose(self) -> None:
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    admin_url = os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL
    try:
        import psycopg  # noqa: F401  (the media index's driver)
    except ImportError as exc:
        missing = str(exc)
    else:
        missing = None
    if missing:
        unavailable(f"PostgreSQL driver not installed ({missing}): .venv/bin/pip install 'psycopg[binary]'")
    error = None
    try:
        server = PostgresServer(admin_url)
        server.check()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not reachable"
        error = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if error is not None:  # outside the except block: the message alone, no chained traceback
        from sqlalchemy.engine import make_url

        shown = make_url(admin_url).render_as_string(hide_password=True)
        unavailable(f"PostgreSQL not reachable at {shown}: {error}. {HOW_TO_START}")
    yield server
    server.dispose()


@pytest.fixture(scope="module")
def postgres_url(postgres_server: PostgresServer, request) -> Iterator[str]:
    """A fresh database for the test module (psycopg 3 URL), dropped after it."""
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    with postgres_server.database(label) as url:
        yield url
