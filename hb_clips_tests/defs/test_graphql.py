"""Runs launched the way Dagster's own clients launch them, against a real
`dagster dev` (webserver, daemon, code server) on the project's workspace.yaml:

- ``DagsterGraphQLClient.submit_job_execution`` with only the
  ``dagster/partition`` tag ("GAME|PERIOD"): the steps then get the partition key
  as plain text, not a MultiPartitionKey (this once failed at ``metrics`` with
  "'str' object has no attribute 'keys_by_dimension'");
- ``dagster asset materialize --partition GAME|PERIOD`` (the same plain key);
- the asset catalog through GraphQL: the latest materializations carry
  ``dagster/row_count`` and ``dagster/column_schema``.

Every process the tests start is stopped, whatever the outcome.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, DagsterInstance, DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from hb_clips_assets.defs.instance_config import seed_dagster_home
from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.domain.contract import read_metrics
from hb_clips_assets.sample import write_sample_data
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_tests.automation_support import FAST_DEQUEUE_YAML, log_tail, run_failure_messages, sigterm_raises
from hb_clips_tests.defs.webserver import ROOT, start_dagster_dev

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

GAME, PERIOD = "20031", "1"
PARTITION = f"{GAME}|{PERIOD}"
LOAD_TIMEOUT_S = 180
RUN_TIMEOUT_S = 240
CLIP_CHECKS = {"clip_coverage", "objects_match_index", "clip_frame_counts", "clip_first_frames", "rejected_row_ratio",
               "clips_all_cut"}

LATEST_METADATA_QUERY = """
query Latest($path: [String!]!, $partition: String!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset {
      assetMaterializations(partitions: [$partition], limit: 1) {
        runId
        partition
        metadataEntries {
          label
          __typename
          ... on IntMetadataEntry { intValue }
          ... on TableSchemaMetadataEntry { schema { columns { name type } } }
        }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`dagster dev` over a temp DAGSTER_HOME and a sample data root with the game's partition added."""
    base = tmp_path_factory.mktemp("graphql")
    home = base / "dagster_home"
    seed_dagster_home(home, extra=FAST_DEQUEUE_YAML)
    write_sample_data(base / "data", period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    env = {k: v for k, v in os.environ.items() if k != "HB_EXECUTOR"}  # the default, in-process executor
    env |= {
        "DAGSTER_HOME": str(home),
        "HB_DATA_ROOT": str(base / "data"),
        "HB_STORE_URL": str(base / "store"),
        "HB_MEDIA_DB_URL": f"sqlite:///{base / 'media.db'}",
        "HB_WORK_DIR": str(base / "work"),
        # Only this test launches runs: the sensor and the back-fill stay off.
        "HB_SENSOR_DEFAULT_STATUS": "stopped",
        "HB_BACKFILL_DEFAULT_STATUS": "stopped",
    }
    # The instance's SQLite storages exist before the servers start (two processes
    # creating them at once can both stamp alembic_version), and the game's partition too.
    instance = DagsterInstance.from_config(str(home))
    instance.get_runs(limit=1)
    instance.all_instigator_state()
    instance.add_dynamic_partitions(game_partitions.name, [GAME])
    # SIGTERM (a CI timeout) raises while the servers run, so the finally still stops them.
    with sigterm_raises():
        dev = start_dagster_dev(env, base / "dagster-dev.log")
        try:
            dev.wait_loaded(LOAD_TIMEOUT_S)
            yield dev, instance, env, base
        finally:
            leftover = dev.stop()
            instance.dispose()
    assert leftover == [], f"processes still running after the stop: {leftover}"


def wait_finished(instance: DagsterInstance, run_id: str, log: Path, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(1)
    raise AssertionError(f"run {run_id} not finished after {timeout_s} s:\n{log_tail(log)}")


def check_evaluations(instance: DagsterInstance, run_id: str) -> dict:
    found = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION":
            found[event.event_specific_data.check_name] = event.event_specific_data
    return found


@pytest.fixture(scope="module")
def graphql_run(server):
    """The clip job of GAME|PERIOD, submitted by the GraphQL client with only `dagster/partition`."""
    dev, instance, _env, _base = server
    client = DagsterGraphQLClient("127.0.0.1", port_number=dev.port, timeout=60)
    run_id = client.submit_job_execution("clip_game_period", tags={"dagster/partition": PARTITION})
    run = wait_finished(instance, run_id, dev.log, RUN_TIMEOUT_S)
    return run, client


def test_the_graphql_client_runs_a_partition_given_only_its_partition_tag(server, graphql_run):
    dev, instance, env, base = server
    run, client = graphql_run
    assert "dagster/partition/game" not in run.tags  # the case at stake: the plain "GAME|PERIOD" tag alone
    assert run.tags["dagster/partition"] == PARTITION
    assert run.status == DagsterRunStatus.SUCCESS, run_failure_messages(instance, run.run_id) + "\n" + log_tail(dev.log)
    assert client.get_run_status(run.run_id) == DagsterRunStatus.SUCCESS

    rows = MediaIndex(env["HB_MEDIA_DB_URL"]).clips(GAME, PERIOD)
    assert len(rows) >= 8
    assert all((base / "store" / "clips" / GAME / PERIOD / f"{r['clip_id']}.mp4").is_file() for r in rows)
    checks = check_evaluations(instance, run.run_id)
    assert set(checks) == CLIP_CHECKS
    failed = {name: e.metadata for name, e in checks.items() if not e.passed and e.severity != AssetCheckSeverity.WARN}
    assert failed == {}, failed
    # The sample's metrics file holds bad rows on purpose: set aside, and warned about (not failed). At least
    # the rows the contract reader refuses (independent of the pipeline), plus events past the end of the video.
    parsed = read_metrics(base / "data" / "metrics" / f"{GAME}.csv", GAME).for_period(PERIOD)
    ratio = checks["rejected_row_ratio"]
    assert ratio.severity == AssetCheckSeverity.WARN
    assert len(parsed.rejected) <= ratio.metadata["rejected_rows"].value <= len(parsed.rejected) + len(parsed.events)
    assert ratio.metadata["rejected_rows"].value > 0


def test_dagster_asset_materialize_takes_the_plain_partition_key(server, graphql_run):
    _dev, instance, env, _base = server
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "hb_clips_assets.definitions", "--select", "metrics",
         "--partition", PARTITION],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    runs = [r for r in instance.get_runs(limit=5) if r.run_id != graphql_run[0].run_id]
    assert runs and runs[0].status == DagsterRunStatus.SUCCESS, run_failure_messages(instance, runs[0].run_id)
    assert runs[0].tags["dagster/partition"] == PARTITION
    assert "ASSET_MATERIALIZATION" in {r.dagster_event.event_type_value for r in instance.all_logs(runs[0].run_id)
                                       if r.dagster_event is not None}


@pytest.mark.parametrize("asset", ["metrics", "event_segments", "clips"])
def test_the_catalog_shows_row_count_and_column_schema(server, graphql_run, asset):
    """The asset catalog (GraphQL, what the UI reads): the latest materialization of each table asset
    of the partition names its row count and its columns."""
    dev, _instance, _env, _base = server
    data = dev.graphql(LATEST_METADATA_QUERY, {"path": [asset], "partition": PARTITION})["assetOrError"]
    assert data["__typename"] == "Asset", data
    latest = data["assetMaterializations"]
    assert latest, f"no materialization of {asset} for {PARTITION}"
    entries = {e["label"]: e for e in latest[0]["metadataEntries"]}
    assert "dagster/row_count" in entries, sorted(entries)
    assert entries["dagster/row_count"]["__typename"] == "IntMetadataEntry"
    assert entries["dagster/row_count"]["intValue"] >= 1
    assert "dagster/column_schema" in entries, sorted(entries)
    assert entries["dagster/column_schema"]["__typename"] == "TableSchemaMetadataEntry"
    assert entries["dagster/column_schema"]["schema"]["columns"], entries["dagster/column_schema"]
