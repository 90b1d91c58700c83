"""Dagster itself on PostgreSQL: the production instance config (deploy/dagster_home/dagster.yaml)
with its credentials from the environment, a run of the project's job whose run record, event log,
asset keys and partitions land in PostgreSQL - read back with plain SQL - and Dagster's tables kept
out of the `media` schema even when it shares the database with the media index.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from hb_clips_assets.storage.index.migrate import head_revision
from hb_clips_assets.storage.index.models import Base
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.servers.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_YAML = REPO_ROOT / "deploy" / "dagster_home" / "dagster.yaml"
GAME, PERIOD = "20031", "2"
# The media schema holds the index's tables (the models) and Alembic's version table, nothing of Dagster's.
MEDIA_TABLES = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}


def sql(url: str, query: str, **params) -> list[tuple]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query), params)]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def production_instance(postgres_url, tmp_path_factory):
    """A DAGSTER_HOME holding the deploy config verbatim, its env vars pointing at the test database."""
    from dagster import DagsterInstance

    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copyfile(DEPLOY_YAML, home / "dagster.yaml")
    url = make_url(postgres_url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HB_DAGSTER_PG_HOST", url.host or "127.0.0.1")
        mp.setenv("HB_DAGSTER_PG_PORT", str(url.port or 5432))
        mp.setenv("HB_DAGSTER_PG_USER", url.username or "postgres")
        mp.setenv("HB_DAGSTER_PG_PASSWORD", url.password or "")
        mp.setenv("HB_DAGSTER_PG_DB", url.database)
        instance = DagsterInstance.from_config(str(home))
        try:
            yield instance
        finally:
            instance.dispose()


def test_deploy_config_reads_credentials_from_env_only():
    body = DEPLOY_YAML.read_text()
    for var in ("HOST", "PORT", "USER", "PASSWORD", "DB"):
        assert f"{{env: HB_DAGSTER_PG_{var}}}" in body
    assert "scheme: postgresql+psycopg2" in body


def test_instance_storage_and_run_queue(production_instance, postgres_url):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    inst = production_instance
    assert isinstance(inst.run_storage, PostgresRunStorage)
    assert isinstance(inst.event_log_storage, PostgresEventLogStorage)
    assert isinstance(inst.schedule_storage, PostgresScheduleStorage)
    pg = make_url(inst.run_storage.postgres_url)
    assert pg.drivername == "postgresql+psycopg2" and pg.database == make_url(postgres_url).database
    config = inst.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 4
    queue = config.run_queue_config
    assert queue.max_concurrent_runs == 4
    assert [dict(limit) for limit in queue.tag_concurrency_limits] == [
        {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    tables = {r[0] for r in sql(postgres_url, "select table_name from information_schema.tables "
                                              "where table_schema = 'public'")}
    assert {"runs", "event_logs", "jobs", "job_ticks", "instigators", "asset_keys",
            "dynamic_partitions", "run_tags"} <= tables


def test_run_and_events_land_in_postgres(production_instance, postgres_url, tmp_path):
    """The project's job for one partition, with the media index in the same database."""
    from hb_clips_assets.definitions import clip_game_period_job, defs
    from hb_clips_assets.defs.partitions import game_partitions, game_period_key

    data = tmp_path / "data"
    write_sample_data(data, period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    inst = production_instance
    inst.add_dynamic_partitions(game_partitions.name, [GAME])
    with pytest.MonkeyPatch.context() as mp:
        for k, v in {"HB_DATA_ROOT": str(data), "HB_STORE_URL": str(tmp_path / "store"),
                     "HB_WORK_DIR": str(tmp_path / "work"), "HB_MEDIA_DB_URL": postgres_url,
                     "HB_CUT_WORKERS": "2"}.items():
            mp.setenv(k, v)
        result = defs.resolve_job_def(clip_game_period_job.name).execute_in_process(
            partition_key=game_period_key(GAME, PERIOD), instance=inst, raise_on_error=False)
    assert result.success
    run_id = result.run_id

    # The run record, straight from PostgreSQL.
    assert sql(postgres_url, "select run_id, status, pipeline_name from runs") == [
        (run_id, "SUCCESS", clip_game_period_job.name)]
    tags = dict(sql(postgres_url, "select key, value from run_tags where run_id = :r", r=run_id))
    assert tags["dagster/partition/game"] == GAME and tags["dagster/partition/period"] == PERIOD
    assert "dagster/partition" in tags  # the key the run queue limits per unique value

    # Its event log.
    events = sql(postgres_url, "select dagster_event_type, step_key, asset_key from event_logs "
                               "where run_id = :r order by id", r=run_id)
    kinds = [e[0] for e in events]
    # (run events keep their old names in storage: RUN_START is stored as PIPELINE_START)
    assert kinds.count("PIPELINE_START") == 1 and kinds[-1] == "PIPELINE_SUCCESS"
    materialized = sorted(e[2] for e in events if e[0] == "ASSET_MATERIALIZATION")
    assert materialized == sorted(f'["{a}"]' for a in ("clips", "event_segments", "media_index", "metrics"))
    assert {e[1] for e in events if e[0] == "STEP_SUCCESS"} >= {"clips", "event_segments", "media_index", "metrics"}
    assert not [e for e in events if e[0] == "STEP_FAILURE"]
    partitions = {r[0] for r in sql(postgres_url, "select partition from event_logs where run_id = :r "
                                                  "and dagster_event_type = 'ASSET_MATERIALIZATION'", r=run_id)}
    assert len(partitions) == 1 and GAME in partitions.pop()
    assert sql(postgres_url, "select partitions_def_name, partition from dynamic_partitions") == [("game", GAME)]
    assert {r[0] for r in sql(postgres_url, "select asset_key from asset_keys")} >= {'["media_index"]', '["clips"]'}
    # and the instance reads it back the same way
    assert inst.get_run_by_id(run_id).is_success

    # The media index wrote to the same database, in its own schema; Dagster's tables are elsewhere.
    n_clips = sql(postgres_url, "select count(*) from media.clips where game_id = :g and period = :p", g=GAME, p=PERIOD)
    assert n_clips[0][0] > 0
    by_schema: dict[str, set[str]] = {}
    for schema, table in sql(postgres_url, "select table_schema, table_name from information_schema.tables "
                                           "where table_schema not in ('pg_catalog', 'information_schema')"):
        by_schema.setdefault(schema, set()).add(table)
    assert by_schema["media"] == MEDIA_TABLES
    assert {"runs", "event_logs", "alembic_version"} <= by_schema["public"]
    assert set(by_schema) == {"media", "public"}
    # two alembic_version tables that never meet: Dagster's and the media index's
    assert sql(postgres_url, "select count(*) from public.alembic_version") == [(1,)]
    assert sql(postgres_url, "select version_num from media.alembic_version") == [(head_revision(),)]
