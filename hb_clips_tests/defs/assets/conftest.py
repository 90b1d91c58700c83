"""A sample game, and a fresh copy of it with its own store, index and Dagster instance per test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import instance_for_test

from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.resources import pipeline_resources, run_partition

GAME = "20031"
PERIOD_SECONDS = 8.0


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_sample_data(root, period_seconds=PERIOD_SECONDS, width=320, height=180, games=[GAME], progress=lambda _m: None)
    return root


@pytest.fixture
def env(tmp_path, sample_root):
    """A fresh data root copy, store, index and Dagster instance for each test."""
    data = tmp_path / "data"
    shutil.copytree(sample_root, data)
    resources = pipeline_resources(data, tmp_path / "work", tmp_path / "store", f"sqlite:///{tmp_path / 'media.db'}")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        yield {"data": data, "store": tmp_path / "store", "db": f"sqlite:///{tmp_path / 'media.db'}",
               "resources": resources, "instance": instance}


def run(env, period: str, run_config=None, assets=None):
    return run_partition(GAME, period, env["instance"], env["resources"], assets=assets, run_config=run_config)
