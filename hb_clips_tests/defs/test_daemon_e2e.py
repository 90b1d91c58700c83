"""End to end with the real Dagster daemon: a period video and its metrics are
dropped into the data root; the sensor (ticking in `dagster-daemon run`) adds
the game, the run queue launches the run, and its clips land in the media index.
Every process the test starts is stopped, whatever the outcome."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.instance_config import seed_dagster_home
from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.automation_support import FAST_DEQUEUE_YAML, log_tail, run_failure_messages, sigterm_raises, start_session, stop_session

ROOT = Path(__file__).resolve().parents[2]
GAME = "20031"
DEADLINE_S = 180


@pytest.fixture(autouse=True)
def _sigterm_stops_our_processes():
    with sigterm_raises():
        yield


def test_the_daemon_cuts_a_period_video_dropped_into_the_data_root(tmp_path):
    home = tmp_path / "dagster_home"
    seed_dagster_home(home, extra=FAST_DEQUEUE_YAML)
    data, staging = tmp_path / "data", tmp_path / "staging"
    data.mkdir()
    write_sample_data(staging, period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    db_url = f"sqlite:///{tmp_path / 'media.db'}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "HB_DATA_ROOT": str(data),
        "HB_STORE_URL": str(tmp_path / "store"),
        "HB_MEDIA_DB_URL": db_url,
        "HB_WORK_DIR": str(tmp_path / "work"),
        "HB_SENSOR_INTERVAL_S": "1",
        "HB_SENSOR_DEFAULT_STATUS": "running",
        "HB_BACKFILL_DEFAULT_STATUS": "stopped",
    }
    daemon_bin = Path(sys.executable).with_name("dagster-daemon")
    log = tmp_path / "daemon.log"
    # Create the instance's SQLite storages before the daemon and its code server
    # start: two processes creating them at once can both stamp Dagster's
    # alembic_version table ("more than one head"), seen on a loaded 2-core CI.
    instance = DagsterInstance.from_config(str(home))
    instance.get_runs(limit=1)
    instance.all_instigator_state()
    daemon = start_session([str(daemon_bin), "run", "-w", str(ROOT / "workspace.yaml")], log, env, ROOT)
    try:
        # The drop: what an uploader does, each file renamed into place.
        for rel in ("schedule.csv", f"metrics/{GAME}.csv", f"video/{GAME}/1.mp4"):
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, data / rel)
        dropped = time.monotonic()
        run = None
        while time.monotonic() - dropped < DEADLINE_S:
            assert daemon.poll() is None, f"the daemon exited with {daemon.returncode}:\n{log_tail(log)}"
            runs = instance.get_runs(RunsFilter(tags={"dagster/partition": f"{GAME}|1"}))
            done = [r for r in runs if r.is_finished]
            if done:
                run = done[0]
                break
            time.sleep(1)
        assert run is not None, f"no finished run after {DEADLINE_S} s; daemon log:\n{log_tail(log)}"
        took = time.monotonic() - dropped
        assert run.status == DagsterRunStatus.SUCCESS, run_failure_messages(instance, run.run_id) + "\n" + log_tail(log)
        assert run.tags["dagster/sensor_name"] == "video_arrivals"
        assert run.tags["dagster/run_key"].startswith(f"arrival|{GAME}|1|")
        assert instance.get_dynamic_partitions(game_partitions.name) == [GAME]

        # The clips are in the index, each with its objects, and the run checked them.
        index = MediaIndex(db_url)
        rows = index.clips(GAME, "1")
        assert len(rows) >= 8
        assets = index.assets_of([r["clip_id"] for r in rows])
        assert len(assets) == 4 * len(rows)  # MP4, thumbnail, HLS x2
        assert all((tmp_path / "store" / a.object_key).is_file() for a in assets.values())
        checks = {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.event_specific_data
                checks[evaluation.check_name] = evaluation
        assert {"clip_coverage", "objects_match_index", "clip_frame_counts", "clip_first_frames"} <= set(checks)
        assert all(checks[c].passed for c in ("clip_coverage", "objects_match_index", "clip_frame_counts",
                                               "clip_first_frames"))

        # The clips step went through the ffmpeg pool, limited to one slot per core, and gave its slot back.
        pools = {p.name: p for p in instance.event_log_storage.get_pool_limits()}
        assert pools["ffmpeg"].limit == os.cpu_count() and pools["ffmpeg"].from_default
        ffmpeg = instance.event_log_storage.get_concurrency_info("ffmpeg")
        assert ffmpeg.slot_count == os.cpu_count() and ffmpeg.active_slot_count == 0

        # More ticks over the same files request nothing more.
        time.sleep(12)
        assert len(instance.get_runs(RunsFilter(tags={"dagster/partition": f"{GAME}|1"}))) == 1
        print(f"drop to indexed clips: {took:.1f} s ({len(rows)} clips)")
    finally:
        leftover = stop_session(daemon)
        instance.dispose()
    assert leftover == [], f"processes still running after the stop: {leftover}"
