"""The media index on a real PostgreSQL server (HB_MEDIA_DB_URL=postgresql+psycopg://...).

Migrations from an empty database, the schema against the models, indexes,
upserts, one transaction per partition, a full partition materialized through
the project's job, two OS processes materializing the same partition at once,
and re-runs that change nothing. Each module gets a fresh database; the tests
skip when no server is reachable, and fail instead under HB_REQUIRE_SERVERS=1.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy.exc
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, text
from sqlalchemy.pool import NullPool

from hb_clips_assets.cli.main import main
from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.storage.index import MediaIndex, PartitionWrite
from hb_clips_assets.storage.index.db import create_media_engine
from hb_clips_assets.storage.index.migrate import (
    PG_LOCK_CLASS_GAME,
    alembic_config,
    head_revision,
    migration_context_options,
    upgrade,
)
from hb_clips_assets.storage.index.models import Base, Clip, ClipAsset, ClipTag
from hb_clips_assets.storage.index.repository import clip_row
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.defs.assets.test_materialize import expected_events
from hb_clips_tests.storage.index.test_repository import asset, record
from hb_clips_tests.servers.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

REPO_ROOT = Path(__file__).resolve().parents[3]
GAME = "20031"
PERIOD = "1"
PERIOD_SECONDS = 6.0
FPS = Fraction(60000, 1001)
MEDIA_TABLES = {"clips", "clip_assets", "clip_tags", "pending_deletions", "alembic_version"}
# What Base.metadata.create_all made before migrations existed (revision 0001_media_schema).
BASELINE_TABLES = [Clip.__table__, ClipAsset.__table__, ClipTag.__table__]
MEDIA_TABLES = MEDIA_TABLES | {"clip_stats_game", "clip_stats_type", "clip_stats_player", "clip_stats_player_type",
                               "clip_stats_assets", "clip_totals_type", "clip_totals_player", "clip_totals_assets"}
MEDIA_INDEXES = {
    # name: the end of its pg_indexes.indexdef
    "clips_pkey": "USING btree (clip_id)",
    "uq_clips_game_event": "USING btree (game_id, event_id)",
    "ix_clips_game_order": "USING btree (game_id, period, event_frame, event_id, clip_id)",
    "ix_clips_type_strength_game": "USING btree (event_type, lower((strength)::text), game_id) INCLUDE (strength)",
    "ix_clips_player_game_type": "USING btree (player_id, game_id, event_type)",
    "ix_clips_team_game": "USING btree (team, game_id)",
    "ix_clips_opponent_game": "USING btree (opponent, game_id)",
    "ix_clips_created_at": "USING btree (created_at)",
    "clip_assets_pkey": "USING btree (clip_id, kind)",
    "clip_tags_pkey": "USING btree (clip_id, tag)",
    "pending_deletions_pkey": "USING btree (object_key)",
    "ix_pending_deletions_game_period": "USING btree (game_id, period)",
    "alembic_version_pkc": "USING btree (version_num)",
    "ix_clips_type_game": "USING btree (event_type, game_id)",
    "ix_stats_game_by_game": "USING btree (game_id, team, opponent) INCLUDE (clips, duration_s)",
    "ix_stats_game_team_game": "USING btree (team, game_id) INCLUDE (opponent, clips, duration_s)",
    "ix_stats_game_opponent_game": "USING btree (opponent, game_id) INCLUDE (team, clips, duration_s)",
    "ix_stats_type_by_game":
        "USING btree (game_id, team, opponent, event_type, strength) INCLUDE (clips, duration_s)",
    "ix_stats_type_event_type_game":
        "USING btree (event_type, game_id) INCLUDE (team, opponent, strength, clips, duration_s)",
    "ix_stats_type_event_type_strength_game":
        "USING btree (event_type, strength, game_id) INCLUDE (team, opponent, clips, duration_s)",
    "ix_stats_type_team_game":
        "USING btree (team, game_id) INCLUDE (opponent, event_type, strength, clips, duration_s)",
    "ix_stats_type_opponent_game":
        "USING btree (opponent, game_id) INCLUDE (team, event_type, strength, clips, duration_s)",
    "ix_stats_player_by_game": "USING btree (game_id, team, opponent, player_id) INCLUDE (clips, duration_s)",
    "ix_stats_player_player_game": "USING btree (player_id, game_id) INCLUDE (team, opponent, clips, duration_s)",
    "ix_stats_player_team_game": "USING btree (team, game_id) INCLUDE (opponent, player_id, clips, duration_s)",
    "ix_stats_player_opponent_game": "USING btree (opponent, game_id) INCLUDE (team, player_id, clips, duration_s)",
    "ix_stats_player_type_by_game":
        "USING btree (game_id, team, opponent, player_id, event_type) INCLUDE (clips, duration_s)",
    "ix_stats_player_type_player_event_type_game":
        "USING btree (player_id, event_type, game_id) INCLUDE (team, opponent, clips, duration_s)",
    "ix_stats_player_type_event_type_game":
        "USING btree (event_type, game_id) INCLUDE (team, opponent, player_id, clips, duration_s)",
    "ix_stats_assets_by_game": "USING btree (game_id, team, opponent, event_type, kind) INCLUDE (objects, bytes)",
    "ix_stats_assets_event_type_game":
        "USING btree (event_type, game_id) INCLUDE (team, opponent, kind, objects, bytes)",
    "ix_stats_assets_team_game": "USING btree (team, game_id) INCLUDE (opponent, event_type, kind, objects, bytes)",
    "ix_stats_assets_opponent_game":
        "USING btree (opponent, game_id) INCLUDE (team, event_type, kind, objects, bytes)",
    "clip_totals_type_pkey": "USING btree (team, opponent, event_type, strength)",
    "clip_totals_player_pkey": "USING btree (team, opponent, player_id)",
    "clip_totals_assets_pkey": "USING btree (team, opponent, event_type, kind)",
    "ix_totals_type_event_type": "USING btree (event_type) INCLUDE (team, opponent, strength, clips, duration_s)",
    "ix_totals_player_player": "USING btree (player_id) INCLUDE (team, opponent, clips, duration_s)",
    "ix_totals_assets_event_type": "USING btree (event_type) INCLUDE (team, opponent, kind, objects, bytes)",
}


# --------------------------------------------------------------------------- helpers


def sql(url: str, query: str, **params) -> list[tuple]:
    """Run ``query`` on its own connection, bypassing the package."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(query), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of the media tables, in key order."""
    return {
        "clips": sql(url, "select * from media.clips order by clip_id"),
        "clip_assets": sql(url, "select * from media.clip_assets order by clip_id, kind"),
        "clip_tags": sql(url, "select * from media.clip_tags order by clip_id, tag"),
    }


def schema_diff(url: str) -> list:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts=migration_context_options("postgresql"))
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def store_files(store: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under the store root: key -> (size, mtime_ns, sha256)."""
    return {
        p.relative_to(store).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns, sha256_file(p))
        for p in sorted(store.rglob("*")) if p.is_file()
    }


def run_threads(targets, timeout: float = 60) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            try:
                barrier.wait(timeout=10)
                fn()
            except BaseException as exc:  # noqa: BLE001 - returned to the test
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a writer hung (deadlock?)"
    return errors


@pytest.fixture(scope="module")
def index(postgres_url):
    idx = MediaIndex(postgres_url)
    yield idx
    idx.dispose()


# --------------------------------------------------------------------------- schema


def test_migrations_from_an_empty_database(postgres_server, capsys):
    with postgres_server.database("empty") as url:
        assert sql(url, "select count(*) from information_schema.schemata where schema_name = 'media'") == [(0,)]
        assert main(["db", "current", "--url", url]) == 1
        assert "none (empty)" in capsys.readouterr().out
        assert main(["db", "upgrade", "--url", url]) == 0
        out = capsys.readouterr().out
        assert f"upgraded from empty to {head_revision()}" in out and "postgresql+psycopg://" in out

        tables = {r[0] for r in sql(url, "select table_name from information_schema.tables where table_schema = 'media'")}
        assert tables == MEDIA_TABLES
        assert sql(url, "select table_name from information_schema.tables where table_schema = 'public'") == []
        assert sql(url, "select version_num from media.alembic_version") == [(head_revision(),)]
        # types, keys and constraints as the models define them
        types = dict(
            ((t, c), (dt, ml)) for t, c, dt, ml in sql(
                url, "select table_name, column_name, data_type, character_maximum_length "
                     "from information_schema.columns where table_schema = 'media'")
        )
        assert types[("clips", "clip_id")] == ("character varying", 64)
        assert types[("clips", "created_at")] == ("timestamp with time zone", None)
        assert types[("clips", "fps")] == ("double precision", None)
        assert types[("clips", "start_frame")] == ("integer", None)
        assert types[("clip_assets", "bytes")] == ("bigint", None)
        assert types[("clip_tags", "value")] == ("text", None)
        assert types[("pending_deletions", "object_key")] == ("text", None)
        assert types[("pending_deletions", "queued_at")] == ("timestamp with time zone", None)
        constraints = set(sql(
            url,
            "select c.conrelid::regclass::text, c.conname, c.contype, c.confdeltype, "
            "       pg_get_constraintdef(c.oid) "
            "from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = 'media'"))
        assert constraints == {
            ("media.clips", "clips_pkey", "p", " ", "PRIMARY KEY (clip_id)"),
            ("media.clips", "uq_clips_game_event", "u", " ", "UNIQUE (game_id, event_id)"),
            ("media.clip_assets", "clip_assets_pkey", "p", " ", "PRIMARY KEY (clip_id, kind)"),
            ("media.clip_assets", "clip_assets_clip_id_fkey", "f", "c",
             "FOREIGN KEY (clip_id) REFERENCES media.clips(clip_id) ON DELETE CASCADE"),
            ("media.clip_tags", "clip_tags_pkey", "p", " ", "PRIMARY KEY (clip_id, tag)"),
            ("media.clip_tags", "clip_tags_clip_id_fkey", "f", "c",
             "FOREIGN KEY (clip_id) REFERENCES media.clips(clip_id) ON DELETE CASCADE"),
            ("media.pending_deletions", "pending_deletions_pkey", "p", " ", "PRIMARY KEY (object_key)"),
            ("media.alembic_version", "alembic_version_pkc", "p", " ", "PRIMARY KEY (version_num)"),
            ("media.clip_totals_type", "clip_totals_type_pkey", "p", " ", "PRIMARY KEY (team, opponent, event_type, strength)"),
            ("media.clip_totals_player", "clip_totals_player_pkey", "p", " ", "PRIMARY KEY (team, opponent, player_id)"),
            ("media.clip_totals_assets", "clip_totals_assets_pkey", "p", " ", "PRIMARY KEY (team, opponent, event_type, kind)"),
        }
        # alembic autogenerate finds nothing to do: the migrated schema is the models
        assert schema_diff(url) == []

        assert main(["db", "upgrade", "--url", url]) == 0
        assert "already at" in capsys.readouterr().out
        assert main(["db", "current", "--url", url]) == 0

        # and the comparison does report a difference when there is one
        sql(url, "drop index media.ix_clips_opponent_game")
        assert [(d[0], d[1].name) for d in schema_diff(url)] == [("add_index", "ix_clips_opponent_game")]


def test_database_made_before_migrations_is_adopted(postgres_server):
    """Tables made by the old create_all (schema and tables, no version table): stamped, kept, upgraded."""
    with postgres_server.database("legacy") as url:
        sql(url, "create schema media")
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            Base.metadata.create_all(conn, tables=BASELINE_TABLES)  # the tables there were then
        engine.dispose()
        sql(url, "insert into media.clips select 'OLD', 'G', '1', 'e1', 'shot', 'p', 'MTL', null, null, null, null, "
                 "1, 0, 2, 25.0, 25, 1, 0.0, 0.08, 0.08, 'file:///v.mp4', 'ab', now()")
        assert main(["db", "current", "--url", url]) == 1
        assert main(["db", "upgrade", "--url", url]) == 0
        assert sql(url, "select version_num from media.alembic_version") == [(head_revision(),)]
        assert sql(url, "select clip_id from media.clips") == [("OLD",)]
        assert schema_diff(url) == []  # pending_deletions added by 0002, the counts by 0003 and 0004
        assert sql(url, "select count(*) from media.pending_deletions") == [(0,)]
        assert sql(url, "select game_id, event_type, clips from media.clip_stats_type") == [("G", "shot", 1)]
        assert sql(url, "select team, opponent, clips from media.clip_totals_type") == [("MTL", "", 1)]


INDEXES_0002 = {"ix_clips_player_event_type": "USING btree (player_id, event_type)",
                "ix_clips_game_period": "USING btree (game_id, period)", "ix_clips_event_type": "USING btree (event_type)",
                "ix_clips_team": "USING btree (team)", "ix_clips_opponent": "USING btree (opponent)"}


def test_query_revisions_up_down_up(postgres_server):
    """0003 and 0004 on a database with clips from 0002: the one-column indexes replaced, the counts
    filled from the clips and summed across games; down restores 0002's indexes and drops them."""
    with postgres_server.database("updown") as url:
        engine = create_media_engine(url)
        try:
            assert upgrade(engine, "0002_pending_deletions") == "0002_pending_deletions"
            with engine.begin() as conn:
                conn.execute(insert(Clip), [clip_row(record("A", "e1")), clip_row(record("B", "e2", strength="PP")),
                                            clip_row(record("C", "e3", game="20038", event_type="hit"))])
                conn.execute(insert(ClipAsset), [{"clip_id": "A", **asset("A").__dict__}])
            found = dict(sql(url, "select indexname, indexdef from pg_indexes where schemaname = 'media'"))
            assert all(found[n].endswith(d) for n, d in INDEXES_0002.items()) and "clip_stats_game" not in str(found)

            assert upgrade(engine) == head_revision()
            found = dict(sql(url, "select indexname, indexdef from pg_indexes where schemaname = 'media'"))
            assert set(found) == set(MEDIA_INDEXES) and schema_diff(url) == []
            assert sorted(sql(url, "select team, opponent, event_type, strength, clips from media.clip_totals_type")) == [
                ("MTL", "WSH", "hit", "5v5", 1), ("MTL", "WSH", "shot", "5v5", 1), ("MTL", "WSH", "shot", "pp", 1)]
            assert sorted(sql(url, "select game_id, event_type, strength, clips from media.clip_stats_type")) == [
                ("20031", "shot", "5v5", 1), ("20031", "shot", "pp", 1), ("20038", "hit", "5v5", 1)]
            assert sql(url, "select kind, objects, bytes from media.clip_stats_assets") == [("mp4", 1, 1000)]

            with engine.begin() as conn:
                command.downgrade(alembic_config(conn), "0002_pending_deletions")
            found = dict(sql(url, "select indexname, indexdef from pg_indexes where schemaname = 'media'"))
            assert all(found[n].endswith(d) for n, d in INDEXES_0002.items())
            assert not [n for n in found if n.startswith(("ix_stats_", "ix_totals_", "ix_clips_game_order", "ix_clips_type"))]
            tables = {r[0] for r in sql(url, "select table_name from information_schema.tables where table_schema = 'media'")}
            assert tables == {"clips", "clip_assets", "clip_tags", "pending_deletions", "alembic_version"}
            assert sql(url, "select count(*) from media.clips") == [(3,)]

            assert upgrade(engine) == head_revision() and schema_diff(url) == []  # and up again
        finally:
            engine.dispose()


def test_indexes_present(index, postgres_url):
    found = dict(sql(postgres_url, "select indexname, indexdef from pg_indexes where schemaname = 'media'"))
    assert set(found) == set(MEDIA_INDEXES)
    for name, ending in MEDIA_INDEXES.items():
        assert found[name].endswith(ending), (name, found[name])
    unique = {n for n, d in found.items() if d.startswith("CREATE UNIQUE INDEX")}
    assert unique == {"clips_pkey", "uq_clips_game_event", "clip_assets_pkey", "clip_tags_pkey",
                      "pending_deletions_pkey", "alembic_version_pkc", "clip_totals_type_pkey",
                      "clip_totals_player_pkey", "clip_totals_assets_pkey"}


def test_concurrent_upgrades_from_empty(postgres_server):
    """Six writers open the index on an empty database at once: one migrates, the others wait and find it done."""
    with postgres_server.database("race") as url:
        def open_index():
            MediaIndex(url).dispose()

        errors = run_threads([open_index] * 6)
        assert errors == []
        assert sql(url, "select version_num from media.alembic_version") == [(head_revision(),)]
        assert schema_diff(url) == []


# --------------------------------------------------------------------------- repository on PostgreSQL


def test_upserts_rewrites_and_stale_rows(index, postgres_url):
    game = "PGUPS"
    records = [record("U-A", "e1", game=game), record("U-B", "e2", game=game, start=1000, end=1480),
               record("U-C", "e3", game=game, tags={})]
    assert index.write_partition(game, "1", records) == PartitionWrite(3, 3, ())
    before = dump(postgres_url)
    assert len([r for r in before["clips"] if r[1] == game]) == 3
    assert index.write_partition(game, "1", records) == PartitionWrite(3, 0, ())
    assert dump(postgres_url) == before  # created_at included: the upsert leaves it alone

    changed = record("U-A", "e1", game=game, player_id="8471214", tags={"outcome": "blocked"},
                     assets=[replace(asset("U-A", game=game), bytes=2222)])
    result = index.write_partition(game, "1", [changed, record("U-D", "e4", game=game)])
    assert result.clips == 2 and result.inserted == 1
    assert sorted(result.removed_object_keys) == sorted(
        asset(c, k, game=game).object_key for c in ("U-B", "U-C") for k in ("mp4", "thumbnail"))
    rows = {r["clip_id"]: r for r in index.clips(game)}
    assert set(rows) == {"U-A", "U-D"}
    assert rows["U-A"]["player_id"] == "8471214"
    assert rows["U-A"]["created_at"] == next(r for r in before["clips"] if r[0] == "U-A")[-1]
    assert sql(postgres_url, "select kind, bytes from media.clip_assets where clip_id = 'U-A' order by kind") == [
        ("mp4", 2222), ("thumbnail", 1000)]  # upserted by (clip_id, kind), as on SQLite
    assert sql(postgres_url, "select tag, value from media.clip_tags where clip_id = 'U-A'") == [("outcome", "blocked")]
    assert sql(postgres_url, "select count(*) from media.clip_assets where clip_id in ('U-B', 'U-C')") == [(0,)]


def test_failed_write_changes_nothing(index, postgres_url):
    game = "PGFAIL"
    index.write_partition(game, "1", [record("F-A", "e1", game=game), record("F-B", "e2", game=game)])
    before = dump(postgres_url)
    bad = [record("F-A", "e1", game=game, team="NYR"),
           record("F-D", "e4", game=game, assets=[replace(asset("F-D", game=game), bytes=None)])]
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        index.write_partition(game, "1", bad)  # F-B stale, F-A updated, F-D inserted: all rolled back
    assert dump(postgres_url) == before
    assert index.write_partition(game, "1", [record("F-A", "e1", game=game)]).clips == 1


def test_two_writers_same_partition_insert_each_clip_once(postgres_url):
    game = "PGSAME"
    records = [record(f"S{i:02d}", f"e{i}", game=game, start=100 * i, end=100 * i + 480, tags={"n": str(i)})
               for i in range(20)]
    results: list[PartitionWrite] = []

    def writer():
        idx = MediaIndex(postgres_url)
        try:
            for _ in range(5):
                results.append(idx.write_partition(game, "1", records))
        finally:
            idx.dispose()

    assert run_threads([writer, writer]) == []
    assert len(results) == 10 and all(r.clips == 20 for r in results)
    assert sum(r.inserted for r in results) == 20  # each clip counted new exactly once
    assert sql(postgres_url, "select count(*), count(distinct clip_id) from media.clips where game_id = :g", g=game) == [
        (20, 20)]
    assert sql(postgres_url, "select count(*) from media.clip_assets a join media.clips c using (clip_id) "
                             "where c.game_id = :g", g=game) == [(40,)]
    assert sql(postgres_url, "select count(*) from media.clip_tags t join media.clips c using (clip_id) "
                             "where c.game_id = :g", g=game) == [(20,)]


def test_two_writers_different_record_sets_end_in_one_of_them(postgres_url):
    """Overlapping events with other clip_ids: without the per-game lock PostgreSQL raises a
    unique violation on (game_id, event_id) here; with it, the last writer wins whole."""
    game = "PGDIFF"
    set_a = [record(f"DA{i}", f"e{i}", game=game) for i in range(10)]
    set_b = [record(f"DB{i}", f"e{i}", game=game) for i in range(5, 15)]

    def writer(records):
        def run():
            idx = MediaIndex(postgres_url)
            try:
                for _ in range(6):
                    idx.write_partition(game, "1", records)
            finally:
                idx.dispose()
        return run

    assert run_threads([writer(set_a), writer(set_b)]) == []
    ids = sorted(r[0] for r in sql(postgres_url, "select clip_id from media.clips where game_id = :g", g=game))
    assert ids in (sorted(r.clip_id for r in set_a), sorted(r.clip_id for r in set_b))
    asset_ids = {r[0] for r in sql(postgres_url, "select distinct a.clip_id from media.clip_assets a "
                                                 "join media.clips c using (clip_id) where c.game_id = :g", g=game)}
    assert asset_ids == set(ids)
    assert sql(postgres_url, "select count(*) from media.clip_assets where clip_id like 'D%'") == [(2 * len(ids),)]


def test_partition_writes_of_one_game_queue_on_its_lock(index, postgres_url):
    engine = create_engine(postgres_url, poolclass=NullPool)
    done = threading.Event()
    try:
        with engine.connect() as holder:
            tx = holder.begin()
            holder.execute(text("select pg_advisory_xact_lock(CAST(:c AS integer), hashtext(:g))"),
                           {"c": PG_LOCK_CLASS_GAME, "g": "PGLOCK"})
            writer = threading.Thread(
                target=lambda: (index.write_partition("PGLOCK", "2", [record("L-A", "e1", game="PGLOCK", period="2")]),
                                done.set()))
            writer.start()
            # another game is not held up
            assert index.write_partition("PGFREE", "2", [record("L-F", "e1", game="PGFREE", period="2")]).inserted == 1
            time.sleep(0.5)
            assert not done.is_set() and index.count_clips("PGLOCK") == 0
            tx.commit()  # releases the lock
            writer.join(timeout=20)
        assert done.is_set() and index.count_clips("PGLOCK") == 1
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the pipeline on PostgreSQL


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pg-data")
    write_sample_data(root, period_seconds=PERIOD_SECONDS, width=320, height=180, games=[GAME], progress=lambda _m: None)
    return root


def project_env(data: Path, store: Path, work: Path, db_url: str) -> dict[str, str]:
    return {"HB_DATA_ROOT": str(data), "HB_STORE_URL": str(store), "HB_WORK_DIR": str(work),
            "HB_MEDIA_DB_URL": db_url, "HB_CUT_WORKERS": "2"}


def run_project_job(env: dict[str, str], game: str = GAME, period: str = PERIOD):
    """Materialize one partition with the project's job and settings from the environment, as `hb-clips run` does."""
    from dagster import instance_for_test

    from hb_clips_assets.definitions import clip_game_period_job, defs
    from hb_clips_assets.defs.partitions import game_partitions, game_period_key

    with pytest.MonkeyPatch.context() as mp, instance_for_test() as instance:
        for k, v in env.items():
            mp.setenv(k, v)
        instance.add_dynamic_partitions(game_partitions.name, [game])
        result = defs.resolve_job_def(clip_game_period_job.name).execute_in_process(
            partition_key=game_period_key(game, period), instance=instance, raise_on_error=False)
        meta = {
            e.event_specific_data.materialization.asset_key.to_user_string(): {
                k: getattr(v, "value", v) for k, v in e.event_specific_data.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()
        }
        return result.success, meta


def check_rows_and_objects(url: str, store: Path, data: Path) -> int:
    """Exactly one row per expected clip, one row and one object per asset, objects as recorded."""
    expected = expected_events(data, PERIOD, FPS, round(PERIOD_SECONDS * FPS))
    assert expected
    clips = sql(url, "select event_id, event_frame, clip_id, event_type from media.clips "
                     "where game_id = :g and period = :p", g=GAME, p=PERIOD)
    assert len({e for e, *_ in clips}) == len({c for _, _, c, _ in clips}) == len(clips)
    # every accepted metric event has its clip (shift clips, event_type 'shift', come on top)
    assert {e: f for e, f, _, t in clips if t != "shift"} == expected
    assets = sql(url, "select a.clip_id, a.kind, a.object_key, a.bytes, a.sha256 from media.clip_assets a "
                      "join media.clips c using (clip_id) where c.game_id = :g", g=GAME)
    assert sorted((c, k) for c, k, *_ in assets) == sorted((c, k) for _, _, c, _ in clips for k in ("mp4", "thumbnail", "hls", "hls_fmp4"))
    files = store_files(store)
    assert set(files) == {key for _, _, key, _, _ in assets}  # one object per asset, nothing else (no temp files)
    for _, _, key, size, sha in assets:
        assert files[key][0] == size and files[key][2] == sha
    return len(clips)


@pytest.fixture(scope="module")
def materialized(postgres_url, sample_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("pg-run")
    env = project_env(sample_root, base / "store", base / "work", postgres_url)
    success, meta = run_project_job(env)
    return {"env": env, "success": success, "meta": meta, "store": base / "store"}


def test_full_partition_materialization(materialized, postgres_url, sample_root):
    assert materialized["success"], materialized["meta"]
    n = check_rows_and_objects(postgres_url, materialized["store"], sample_root)
    meta = materialized["meta"]["media_index"]
    assert meta["clips"] == n == meta["rows_inserted"] == materialized["meta"]["clips"]["clips_cut"]
    assert meta["database"].startswith("postgresql+psycopg://")
    tags = dict(sql(postgres_url, "select tag, count(*) from media.clip_tags t join media.clips c using (clip_id) "
                                  "where c.game_id = :g group by tag", g=GAME))
    assert tags.get("outcome", 0) >= 1 and tags.get("detail", 0) >= 1


def test_rerun_changes_nothing(materialized, postgres_url):
    assert materialized["success"]
    before, files = dump(postgres_url), store_files(materialized["store"])
    success, meta = run_project_job(materialized["env"])
    assert success
    assert meta["clips"]["clips_cut"] == 0 and meta["media_index"]["rows_inserted"] == 0
    assert dump(postgres_url) == before
    assert store_files(materialized["store"]) == files  # not even rewritten (mtimes equal)


def test_two_processes_materialize_the_same_partition_at_once(postgres_server, sample_root, tmp_path):
    """Two OS processes, on an empty database and store, run the partition at the same time: both
    migrate, cut and write the index at once (they meet at barriers before the run and before the
    index write). Both succeed; one row per clip, one object per asset; a re-run changes nothing."""
    with postgres_server.database("twoproc") as url:
        env = {**os.environ, **project_env(sample_root, tmp_path / "store", tmp_path / "work", url),
               "PYTHONPATH": str(REPO_ROOT)}
        sync = tmp_path / "sync"
        sync.mkdir()
        procs = []
        for i in range(2):
            log = open(tmp_path / f"worker{i}.log", "wb")
            procs.append((subprocess.Popen(
                [sys.executable, "-m", "hb_clips_tests.storage.index.materialize_worker", GAME, PERIOD,
                 str(tmp_path / f"worker{i}.json"), str(sync), "2"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
        outs = []
        for i, (proc, log) in enumerate(procs):
            try:
                rc = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                for p, _ in procs:
                    p.kill()
                pytest.fail(f"worker {i} hung:\n" + (tmp_path / f"worker{i}.log").read_text()[-3000:])
            finally:
                log.close()
            out = json.loads((tmp_path / f"worker{i}.json").read_text())
            assert rc == 0 and out["success"], (out, (tmp_path / f"worker{i}.log").read_text()[-3000:])
            outs.append(out)
        assert all(o["start_barrier_met"] for o in outs)
        assert all(len(o["writes"]) == 1 and o["writes"][0]["barrier_met"] for o in outs)

        n = check_rows_and_objects(url, tmp_path / "store", sample_root)
        assert sql(url, "select count(*) from media.clips") == [(n,)]
        assert sum(o["metadata"]["media_index"]["rows_inserted"] for o in outs) == n  # inserted once, updated once
        assert all(o["metadata"]["media_index"]["clips"] == n for o in outs)
        assert sql(url, "select version_num from media.alembic_version") == [(head_revision(),)]

        before, files = dump(url), store_files(tmp_path / "store")
        success, meta = run_project_job(project_env(sample_root, tmp_path / "store", tmp_path / "work", url))
        assert success and meta["clips"]["clips_cut"] == 0 and meta["media_index"]["rows_inserted"] == 0
        assert dump(url) == before
        assert store_files(tmp_path / "store") == files
