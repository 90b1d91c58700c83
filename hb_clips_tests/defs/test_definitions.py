import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from hb_clips_assets.definitions import clip_game_period_job, defs
from hb_clips_assets.defs.partitions import game_period_partitions


def test_definitions_load_with_the_four_assets_and_the_job():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"metrics", "event_segments", "clips", "media_index", "schedule", "roster"}
    assert graph.get(AssetKey("media_index")).parent_keys == {AssetKey("clips")}
    job = defs.resolve_job_def(clip_game_period_job.name)
    assert job.partitions_def == game_period_partitions
    assert set(game_period_partitions.partitions_defs[1].partitions_def.get_partition_keys()) == {"1", "2", "3", "OT"}


def test_resources_read_their_environment_variables_at_run_time(monkeypatch, tmp_path):
    monkeypatch.setenv("HB_STORE_URL", str(tmp_path / "elsewhere"))
    store = defs.resources["object_store"]
    assert store.url.env_var_name == "HB_STORE_URL"


def test_workspace_loads_as_the_ui_loads_it(tmp_path):
    """`dagster definitions validate` loads workspace.yaml the way `dagster dev` does."""
    root = Path(__file__).resolve().parents[2]
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=root, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stderr + proc.stdout
