import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, MultiPartitionKey

from hb_clips_assets.definitions import clip_game_period_job, defs
from hb_clips_assets.defs.partitions import game_period_key, game_period_partitions, split_game_period

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_with_the_four_assets_and_the_job():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"metrics", "event_segments", "clips", "media_index", "schedule", "roster"}
    assert graph.get(AssetKey("media_index")).parent_keys == {AssetKey("clips")}
    job = defs.resolve_job_def(clip_game_period_job.name)
    assert job.partitions_def == game_period_partitions
    assert set(game_period_partitions.partitions_defs[1].partitions_def.get_partition_keys()) == {"1", "2", "3", "OT"}


def test_the_defs_folder_is_autoloaded_into_the_one_definitions():
    """Jobs, sensor, schedule and checks come from modules under defs/ (load_from_defs_folder), and
    the helper modules there (runner, freshness, metadata, failures, instance_config) add nothing."""
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"clip_game_period", "verify_game_period",
                                                             "refresh_reference"}
    assert [s.name for s in defs.sensors] == ["video_arrivals"]
    assert [s.name for s in defs.schedules] == ["daily_backfill"]
    checks = {key.name for c in defs.asset_checks for key in c.check_keys}
    assert checks == {"clip_coverage", "objects_match_index", "clip_frame_counts", "clip_first_frames", "clips_all_cut",
                      "rejected_row_ratio"}
    assert len(defs.asset_checks) == len(checks)  # each once: no module re-binds the check list
    assert set(defs.resources) == {"data_root", "object_store", "media_index", "clip_settings", "check_settings",
                                   "table_io_manager"}
    assert all(defs.resolve_job_def(n).executor_def.name == "in_process"
               for n in ("clip_game_period", "verify_game_period", "refresh_reference"))


def test_resources_read_their_settings_when_used(monkeypatch, tmp_path):
    resource = defs.resources["object_store"]
    assert resource.url == ""  # nothing fixed when the definitions load: HB_STORE_URL counts
    monkeypatch.setenv("HB_STORE_URL", str(tmp_path / "elsewhere"))
    # A copy: get_store() caches its store on the resource, and the shared one must stay clean.
    assert resource.model_copy().get_store().root == (tmp_path / "elsewhere").resolve()


@pytest.mark.parametrize("key", [game_period_key("20031", "2"), "20031|2"])
def test_a_partition_key_splits_whether_multi_or_plain_text(key):
    """A run launched with only the `dagster/partition` tag (GraphQL client, `dagster asset
    materialize --partition`) hands the assets and the IO manager the plain "GAME|PERIOD" text."""
    assert split_game_period(key) == ("20031", "2")


def test_a_run_tagged_only_with_its_partition_materializes(monkeypatch, tmp_path):
    """In process, the GraphQL client's case (test_graphql.py runs it against a real server): the
    run's tags say `dagster/partition` = "GAME|PERIOD" and nothing per dimension, so the asset and
    the IO manager get the plain text key."""
    from dagster import instance_for_test

    from hb_clips_assets.sample import write_sample_data

    write_sample_data(tmp_path / "data", period_seconds=4, width=160, height=90, games=["20031"],
                      progress=lambda _m: None)
    for name, path in (("HB_DATA_ROOT", "data"), ("HB_WORK_DIR", "work"), ("HB_STORE_URL", "store")):
        monkeypatch.setenv(name, str(tmp_path / path))
    monkeypatch.setenv("HB_MEDIA_DB_URL", f"sqlite:///{tmp_path / 'media.db'}")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("game", ["20031"])
        result = defs.resolve_job_def(clip_game_period_job.name).execute_in_process(
            instance=instance, tags={"dagster/partition": "20031|1"}, asset_selection=[AssetKey("metrics")],
            raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.is_step_failure]
        assert (tmp_path / "work" / "metrics" / "20031" / "1.parquet").is_file()


@pytest.mark.parametrize("key", ["20031", "20031|2|x", "|2", "", None, MultiPartitionKey({"game": "g"})])
def test_a_key_that_is_not_game_x_period_is_refused(key):
    with pytest.raises((ValueError, KeyError)):
        split_game_period(key)


def test_workspace_loads_as_the_ui_loads_it(tmp_path):
    """`dagster definitions validate` loads workspace.yaml the way `dagster dev` does."""
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stderr + proc.stdout


def test_dg_sees_the_project_and_lists_its_defs(tmp_path):
    """[tool.dg] in pyproject.toml: `dg list defs` loads the same definitions module."""
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dg = Path(sys.executable).with_name("dg")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.run([str(dg), "list", "defs", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = yaml.safe_load(proc.stdout)  # JSON is YAML
    assert {j["name"] for j in listed["jobs"]} == {"clip_game_period", "verify_game_period", "refresh_reference"}
    assert [s["name"] for s in listed["sensors"]] == ["video_arrivals"]
    assert len(listed["asset_checks"]) == 6


def test_hb_executor_celery_puts_every_job_on_the_celery_executor(monkeypatch):
    """The choice is the setting, read when the definitions load; the default stays in-process."""
    from hb_clips_assets.defs.executors import CELERY_EXECUTOR_NAME, run_executor

    monkeypatch.setenv("HB_EXECUTOR", "celery")
    executor = run_executor()
    assert executor.name == CELERY_EXECUTOR_NAME
    # The broker settings are read when a run resolves the executor's config, not when it loads.
    monkeypatch.setenv("HB_CELERY_QUEUE", "elsewhere")
    resolved = executor.config_schema.resolve_config({}).value["config"]
    assert resolved["config_source"] == {"task_default_queue": "elsewhere",
                                         "task_create_missing_queue_exchange_type": "fanout"}
    monkeypatch.delenv("HB_EXECUTOR")
    assert run_executor().name == "in_process"
    # A separate process: the definitions module reads HB_EXECUTOR once, when it is imported.
    script = ("from hb_clips_assets.definitions import defs\n"
              "print(sorted({defs.resolve_job_def(n).executor_def.name for n in "
              "('clip_game_period', 'verify_game_period', 'refresh_reference')}))")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HB_EXECUTOR": "celery"}, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == f"['{CELERY_EXECUTOR_NAME}']"


def test_a_bad_hb_executor_is_refused_by_name(monkeypatch):
    from hb_clips_assets.defs.executors import run_executor
    from hb_clips_assets.settings import SettingError

    monkeypatch.setenv("HB_EXECUTOR", "k8s")
    with pytest.raises(SettingError, match="HB_EXECUTOR"):
        run_executor()


def test_worker_yaml_matches_the_executor_config_of_the_defaults(monkeypatch):
    """deploy/celery/worker.yaml must be the executor's config with the default settings."""
    from hb_clips_assets.defs.executors import celery_executor_config

    for name in ("HB_CELERY_BROKER", "HB_CELERY_BACKEND", "HB_CELERY_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    worker = yaml.safe_load((ROOT / "deploy" / "celery" / "worker.yaml").read_text())
    assert worker["execution"]["config"] == celery_executor_config()
