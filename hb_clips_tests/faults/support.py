"""Helpers of the fault tests: settings, runs (in this process or in a child
OS process), and a snapshot of the index and the store."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.storage.index.models import Clip

REPO_ROOT = Path(__file__).resolve().parents[2]
GAME = "20031"
PERIOD = "1"
TEMP_PATTERNS = (".*.tmp", ".cut-*", ".thumb-*")
CLIP_COLUMNS = [c.name for c in Clip.__table__.columns if c.name != "created_at"]


def project_env(base: Path, data: Path, db_url: str | None = None) -> dict[str, str]:
    return {"HB_DATA_ROOT": str(data), "HB_STORE_URL": str(base / "store"), "HB_WORK_DIR": str(base / "work"),
            "HB_MEDIA_DB_URL": db_url or f"sqlite:///{base / 'media.db'}", "HB_CUT_WORKERS": "2"}


def run_in_process(env: dict[str, str], run_config: dict | None = None, selection: list[str] | None = None,
                   period: str = PERIOD):
    """Materialize GAME/``period`` (PERIOD by default) with the project's job (or ``selection`` of its
    assets) and settings from the environment, as `hb-clips run` does."""
    from dagster import AssetKey, instance_for_test

    from hb_clips_assets.definitions import clip_game_period_job, defs
    from hb_clips_assets.defs.partitions import game_partitions, game_period_key

    with pytest.MonkeyPatch.context() as mp, instance_for_test() as instance:
        for k, v in env.items():
            mp.setenv(k, v)
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        job = defs.resolve_job_def(clip_game_period_job.name)
        kwargs = {}
        if selection is not None:
            kwargs["asset_selection"] = [AssetKey(name) for name in selection]
        result = job.execute_in_process(
            partition_key=game_period_key(GAME, period), instance=instance, raise_on_error=False,
            run_config=run_config or {}, **kwargs)
        meta = {
            e.event_specific_data.materialization.asset_key.to_user_string(): {
                k: getattr(v, "value", v) for k, v in e.event_specific_data.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()
        }
        return result, meta


def sql(url: str, query: str, **params) -> list[tuple]:
    """``query`` on its own connection, bypassing the package (SQLite: the file attached as ``media``)."""
    if url.startswith("sqlite"):
        from hb_clips_assets.storage.index.db import create_media_engine

        engine = create_media_engine(url)
    else:
        engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            result = conn.execute(text(query), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def store_objects(store: Path) -> dict[str, tuple[int, str]]:
    """Objects under final names (not temporary): key -> (bytes, sha256)."""
    if not store.is_dir():
        return {}
    return {p.relative_to(store).as_posix(): (p.stat().st_size, sha256_file(p))
            for p in sorted(store.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def temp_leftovers(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted({p.relative_to(folder).as_posix() for pat in TEMP_PATTERNS for p in folder.rglob(pat)})


def snapshot(env: dict[str, str]) -> dict:
    """The index (every row, created_at left out, store paths made relative, sorted in Python so that
    the database's collation does not matter) and the store's objects."""
    url, store = env["HB_MEDIA_DB_URL"], Path(env["HB_STORE_URL"]).resolve()
    prefix = store.as_uri() + "/"
    # The model's column order, whatever order the backend's table has: SQLite and PostgreSQL dumps compare.
    dump = {
        "clips": sorted(sql(url, f"select {', '.join(CLIP_COLUMNS)} from media.clips")),
        "clip_assets": sorted((c, k, key, uri.removeprefix(prefix), n, sha, ct) for c, k, key, uri, n, sha, ct in sql(
            url, "select clip_id, kind, object_key, uri, bytes, sha256, content_type from media.clip_assets")),
        "clip_tags": sorted(sql(url, "select clip_id, tag, value from media.clip_tags")),
    }
    return {"dump": dump, "objects": store_objects(store), "temp": temp_leftovers(store)}


def check_consistent(env: dict[str, str]) -> dict:
    """What must hold at any moment, even right after a crash: no zero-byte
    object under a final name, every asset row's object there as recorded."""
    snap = snapshot(env)
    empty = [k for k, (n, _) in snap["objects"].items() if n == 0]
    assert not empty, f"zero-byte objects under final names: {empty}"
    dangling = [key for _, _, key, _, n, sha, _ in snap["dump"]["clip_assets"] if snap["objects"].get(key) != (n, sha)]
    assert not dangling, f"index rows pointing at missing or different objects: {dangling}"
    return snap


class Child:
    """The worker in its own OS process (killed and reaped on exit, whatever happens)."""

    def __init__(self, env: dict[str, str], out_dir: Path, name: str, period: str = PERIOD, **fault: str):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "tmp").mkdir(exist_ok=True)
        self.out_json = out_dir / f"{name}.json"
        self.log = open(out_dir / f"{name}.log", "wb")
        child_env = {**os.environ, **env, "TMPDIR": str(out_dir / "tmp"), **fault}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hb_clips_tests.faults.worker", GAME, period, str(self.out_json)],
            cwd=REPO_ROOT, env=child_env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}) before {what}: "
                                     + Path(self.log.name).read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.005)

    def result(self, timeout: float = 60.0) -> dict:
        """Wait for the worker to exit by itself; what it wrote to its JSON file."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker still running after {timeout} s: "
                                 + Path(self.log.name).read_text(errors="replace")[-3000:]) from None
        if not self.out_json.exists():
            raise AssertionError(f"worker exited ({self.proc.returncode}) without a result: "
                                 + Path(self.log.name).read_text(errors="replace")[-3000:])
        return json.loads(self.out_json.read_text())

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self.log.close()
