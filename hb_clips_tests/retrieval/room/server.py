"""A real ``hb-clips serve`` process over the cut sample, on a free port."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from hb_clips_tests.retrieval.api.server import free_port

ADMIN = "room-admin-key-0123456789"
CHI_COACH = "room-chi-coach-key-012345"
WSH_PLAYER = "room-wsh-player-key-01234"
KEYS = f"{ADMIN}=admin;{CHI_COACH}=coach:CHI;{WSH_PLAYER}=player:WSH:8471214"
MEDIA_SECRET = "room-test-media-secret"


def hb_clips_command() -> list[str]:
    script = Path(sys.executable).with_name("hb-clips")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hb_clips_assets.cli.main"]


@contextmanager
def serve_process(data: Path, store: Path, db_url: str, log: Path) -> Iterator[str]:
    """``hb-clips serve`` until the block ends; yields its base URL. Its output goes to ``log``."""
    port = free_port()
    env = {**os.environ, "HB_API_KEYS": KEYS, "HB_API_MEDIA_SECRET": MEDIA_SECRET, "HB_API_KEYS_FILE": ""}
    cmd = [*hb_clips_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--data-root", str(data), "--store-url", str(store), "--db-url", db_url]
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"hb-clips serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{base}/api/v2/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hb-clips serve did not answer in 60 s: {log.read_text()[-2000:]}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
