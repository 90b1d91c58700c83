"""A private, throwaway PostgreSQL cluster for tests that stop and start the
server (the shared one on 127.0.0.1:5432 must never be restarted: other tests
use it).

``private_postgres`` runs ``initdb`` into a fresh folder, starts ``postgres``
on a free TCP port of 127.0.0.1 with trust authentication, its unix socket in
that folder and its log in ``server.log`` there, and stops it (``pg_ctl stop
-m immediate``) and removes the folder at teardown.

The binaries are looked up on ``PATH``, then in ``HB_TEST_PG_BINDIR``,
``/usr/local/bin`` and ``/usr/lib/postgresql/<newest>/bin``. PostgreSQL
refuses to run as root: under root the cluster is made and run as the user
``HB_TEST_PG_OS_USER`` (default ``postgres``), in a folder under the system
temporary folder (pytest's ``tmp_path`` is private to root). Where the
binaries or that user are missing, the tests skip saying so - or fail under
``HB_REQUIRE_SERVERS=1``.

Use in a test module: ``from hb_clips_tests.servers.private_postgres import private_postgres  # noqa: F401``.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from hb_clips_tests.servers import unavailable

BINDIR_ENV = "HB_TEST_PG_BINDIR"
OS_USER_ENV = "HB_TEST_PG_OS_USER"
SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    candidates = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)
    candidates.append(Path("/usr/local/bin"))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """One cluster: ``initdb`` at construction, then ``start``/``stop`` at will."""

    def __init__(self, bindir: Path, root: Path, os_user: pwd.struct_passwd | None):
        self.bindir, self.root, self.os_user = bindir, root, os_user
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log = root / "server.log"
        self.port = free_port()
        self.socket_dir.mkdir()
        self._as_user(self.socket_dir)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")

    def _as_user(self, path: Path) -> None:
        if self.os_user is not None:
            os.chown(path, self.os_user.pw_uid, self.os_user.pw_gid)

    def _run(self, program: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        kwargs = {}
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        if self.os_user is not None:
            kwargs = {"user": self.os_user.pw_uid, "group": self.os_user.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.root)
        done = subprocess.run([str(self.bindir / program), *args], cwd=self.root, env=env, capture_output=True,
                              text=True, timeout=timeout, **kwargs)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}): "
                               f"{done.stdout[-1000:]}{done.stderr[-1000:]}\n{log}")
        return done

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.socket_dir} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=30 -c shared_buffers=16MB")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are terminated and their transactions rolled back, then a clean
        shutdown; ``immediate``: every process is killed at once, crash recovery at the next start."""
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode)

    def is_running(self) -> bool:
        kwargs = {}
        if self.os_user is not None:
            kwargs = {"user": self.os_user.pw_uid, "group": self.os_user.pw_gid, "extra_groups": []}
        return subprocess.run([str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)], cwd=self.root,
                              capture_output=True, **kwargs).returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A started private cluster, stopped and removed after the test."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        unavailable(f"PostgreSQL driver not installed ({exc}): .venv/bin/pip install 'psycopg[binary]'")
    bindir = find_bindir()
    if bindir is None:
        unavailable("initdb, pg_ctl and postgres not found (PATH, $HB_TEST_PG_BINDIR, /usr/local/bin, "
                    "/usr/lib/postgresql/*/bin): install the PostgreSQL server package, e.g. "
                    "`apt-get install postgresql`, or set HB_TEST_PG_BINDIR")
    os_user = None
    if os.geteuid() == 0:
        name = os.environ.get(OS_USER_ENV) or "postgres"
        try:
            os_user = pwd.getpwnam(name)
        except KeyError:
            unavailable(f"running as root, and PostgreSQL refuses to run as root: no user {name!r} to run a "
                        f"private cluster as (create it, set {OS_USER_ENV}, or run the tests as a non-root user)")
        if os_user.pw_uid == 0:
            unavailable(f"{OS_USER_ENV}={name} is root, and PostgreSQL refuses to run as root")
    # Under root, pytest's tmp_path (0700 root) is out of the cluster user's reach: a folder of its own.
    root = Path(tempfile.mkdtemp(prefix="hb-private-pg-"))
    if os_user is not None:
        os.chown(root, os_user.pw_uid, os_user.pw_gid)
    cluster = None
    try:
        cluster = PrivateCluster(bindir, root, os_user)
        cluster.start()
        deadline = time.monotonic() + 30
        while True:  # pg_ctl -w returned; make sure TCP answers too
            try:
                socket.create_connection(("127.0.0.1", cluster.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield cluster
    finally:
        if cluster is not None and cluster.is_running():
            try:
                cluster.stop("immediate")
            except Exception:  # noqa: BLE001 - teardown: remove what we can
                pass
        shutil.rmtree(root, ignore_errors=True)
