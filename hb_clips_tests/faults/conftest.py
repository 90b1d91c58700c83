"""Shared by the fault tests: one small sample game and one uninterrupted
reference run of its period 1, made once per session."""
from __future__ import annotations

from pathlib import Path

import pytest

from hb_clips_assets.sample import write_sample_data

from hb_clips_tests.faults.support import GAME, PERIOD, project_env, run_in_process, snapshot


@pytest.fixture(scope="session")
def fault_sample(tmp_path_factory) -> Path:
    """Read-only sample data (6 s periods, 320x180). Runs that compare with the
    reference must use this same root: ``source_uri`` holds its path."""
    root = tmp_path_factory.mktemp("fault-data")
    write_sample_data(root, period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    return root


@pytest.fixture(scope="session")
def reference(fault_sample, tmp_path_factory) -> dict:
    """Index dump and objects of an uninterrupted run of game 20031 period 1."""
    base = tmp_path_factory.mktemp("fault-reference")
    env = project_env(base, fault_sample)
    result, meta = run_in_process(env)
    assert result.success, "the uninterrupted reference run failed"
    snap = snapshot(env)
    assert snap["objects"] and len(snap["objects"]) == 4 * len(snap["dump"]["clips"])  # MP4, thumbnail, HLS x2
    return snap | {"meta": meta}
