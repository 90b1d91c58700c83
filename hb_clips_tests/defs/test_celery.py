"""The scale-out path: with HB_EXECUTOR=celery, a partition of the project's one
clip job (the same definitions, hb_clips_assets.definitions) runs with every
step on a real `dagster-celery` worker, over RabbitMQ on 127.0.0.1:5672.

Without RabbitMQ the test is skipped (it fails instead when HB_REQUIRE_SERVERS=1).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus

from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.instance_config import seed_dagster_home
from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.automation_support import (
    log_tail,
    partition_tags,
    run_failure_messages,
    sigterm_raises,
    start_session,
    stop_session,
)
from hb_clips_tests.servers import unavailable

ROOT = Path(__file__).resolve().parents[2]
BROKER_HOST, BROKER_PORT = "127.0.0.1", 5672
GAME = "20031"
RUN_TIMEOUT_S = 150


@pytest.fixture(autouse=True)
def _sigterm_stops_our_processes():
    with sigterm_raises():
        yield


def broker_reachable() -> bool:
    try:
        with socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def rabbitmq():
    if not broker_reachable():
        unavailable(f"RabbitMQ is not reachable on {BROKER_HOST}:{BROKER_PORT}: start it with "
                    "`rabbitmq-server -detached` (user guest/guest)")


def wait_for_line(log: Path, text: str, proc, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in log_tail(log, 200_000):
            return
        assert proc.poll() is None, f"the worker exited with {proc.returncode}:\n{log_tail(log)}"
        time.sleep(0.5)
    raise AssertionError(f"no {text!r} after {timeout_s} s:\n{log_tail(log)}")


def test_a_partition_runs_on_a_celery_worker(rabbitmq, tmp_path):
    home = tmp_path / "dagster_home"
    seed_dagster_home(home)
    write_sample_data(tmp_path / "data", period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    queue = f"hb-clips-test-{uuid.uuid4().hex[:8]}"  # this test's own queue on a shared broker
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery runs `celery` from the PATH
        "DAGSTER_HOME": str(home),
        "HB_DATA_ROOT": str(tmp_path / "data"),
        "HB_STORE_URL": str(tmp_path / "store"),
        "HB_MEDIA_DB_URL": f"sqlite:///{tmp_path / 'media.db'}",
        "HB_WORK_DIR": str(tmp_path / "work"),
        "HB_CELERY_BROKER": f"pyamqp://guest@{BROKER_HOST}:{BROKER_PORT}//",
        "HB_CELERY_QUEUE": queue,
        # Both the run worker and the Celery worker load the definitions: the same executor choice on both.
        "HB_EXECUTOR": "celery",
    }
    # The worker's config is the project's deploy/celery/worker.yaml with this test's queue.
    config = yaml.safe_load((ROOT / "deploy" / "celery" / "worker.yaml").read_text())
    config["execution"]["config"]["config_source"]["task_default_queue"] = queue
    (tmp_path / "worker.yaml").write_text(yaml.safe_dump(config))
    instance = DagsterInstance.from_config(str(home))
    instance.add_dynamic_partitions(game_partitions.name, [GAME])
    worker_log, run_log = tmp_path / "worker.log", tmp_path / "run.log"
    worker_name = f"hb-test-{uuid.uuid4().hex[:6]}"
    worker = start_session(
        [str(bin_dir / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(tmp_path / "worker.yaml"),
         "-q", queue, "-n", worker_name, "--", "--concurrency=1"],
        worker_log, env, tmp_path,
    )
    runner = None
    try:
        wait_for_line(worker_log, " ready.", worker, 90)
        # The run worker: `dagster job execute` runs the job in its process, which hands every step to Celery.
        started = time.monotonic()
        runner = start_session(
            [str(bin_dir / "dagster"), "job", "execute", "-m", "hb_clips_assets.definitions", "-a", "defs",
             "-j", "clip_game_period", "--tags", json.dumps(partition_tags(GAME, "1"))],
            run_log, env, ROOT,
        )
        try:
            runner.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the run did not finish in {RUN_TIMEOUT_S} s\n{log_tail(run_log)}\n{log_tail(worker_log)}")
        took = time.monotonic() - started
        runs = instance.get_runs()
        assert len(runs) == 1, f"{len(runs)} runs:\n{log_tail(run_log)}"
        run = runs[0]
        assert run.status == DagsterRunStatus.SUCCESS, (
            f"{run_failure_messages(instance, run.run_id)}\n{log_tail(run_log)}\n{log_tail(worker_log)}"
        )
        engine = [r.dagster_event for r in instance.all_logs(run.run_id)
                  if r.dagster_event is not None and r.dagster_event.event_type_value == "ENGINE_EVENT"]
        on_worker = {}  # step -> the Celery worker that executed it
        for event in engine:
            found = re.search(r"Executing steps (\S+) in celery worker", event.message or "")
            if found:
                on_worker[found[1]] = event.engine_event_data.metadata["Celery worker"].value
        assert set(on_worker) >= {"metrics", "event_segments", "clips", "media_index", "media_index_clip_coverage"}
        assert set(on_worker.values()) == {f"{worker_name}@{socket.gethostname()}"}
        engine = [e.message for e in engine]
        assert any(f'to queue "{queue}"' in m for m in engine)
        rows = MediaIndex(env["HB_MEDIA_DB_URL"]).clips(GAME, "1")
        assert len(rows) >= 8
        assert all((tmp_path / "store" / "clips" / GAME / "1" / f"{r['clip_id']}.mp4").is_file() for r in rows)
        print(f"partition through Celery in {took:.1f} s ({len(rows)} clips)")
    finally:
        leftover = stop_session(worker) + (stop_session(runner) if runner is not None else [])
        instance.dispose()
    assert leftover == [], f"processes still running after the stop: {leftover}"



def test_the_scale_out_workspace_loads_from_a_celery_code_server(tmp_path):
    """deploy/celery/workspace.yaml: the webserver and daemon load the location from a code server
    started with HB_EXECUTOR=celery (here on a free port instead of 4266)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workspace = yaml.safe_load((ROOT / "deploy" / "celery" / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    assert (grpc["port"], grpc["location_name"]) == (4266, "hb_clips")
    grpc["port"] = port
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "HB_EXECUTOR": "celery"}
    log = tmp_path / "code-server.log"
    server = start_session(
        [str(bin_dir / "dagster"), "code-server", "start", "-m", "hb_clips_assets.definitions", "-h", "127.0.0.1",
         "-p", str(port), "--location-name", "hb_clips"], log, env, ROOT)
    try:
        wait_for_line(log, "Started Dagster code server", server, 120)
        proc = subprocess.run([str(bin_dir / "dagster"), "definitions", "validate", "-w", str(tmp_path / "workspace.yaml")],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
        assert "All code locations passed validation" in proc.stdout + proc.stderr
    finally:
        leftover = stop_session(server)
    assert leftover == [], f"processes still running after the stop: {leftover}"
