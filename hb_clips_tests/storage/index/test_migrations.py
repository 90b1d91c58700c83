"""Alembic migrations of the media schema on the embedded SQLite default, and `hb-clips db`."""
from __future__ import annotations

import sqlite3

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert

from hb_clips_assets.cli.main import main
from hb_clips_assets.storage.index import MediaIndex
from hb_clips_assets.storage.index.db import create_media_engine
from hb_clips_assets.storage.index.migrate import (
    alembic_config,
    current,
    head_revision,
    migration_context_options,
    upgrade,
)
from hb_clips_assets.storage.index.models import Base, Clip, ClipAsset, ClipTag
from hb_clips_assets.storage.index.repository import clip_row
from hb_clips_tests.storage.index.test_repository import asset, record


# What Base.metadata.create_all made before migrations existed (revision 0001_media_schema).
BASELINE_TABLES = [Clip.__table__, ClipAsset.__table__, ClipTag.__table__]
STATS_TABLES = {"clip_stats_game", "clip_stats_type", "clip_stats_player", "clip_stats_player_type", "clip_stats_assets"}
TOTALS_TABLES = {"clip_totals_type", "clip_totals_player", "clip_totals_assets"}
# SQLite names a primary key's index itself
TOTALS_INDEXES = {"ix_totals_type_event_type", "ix_totals_player_player", "ix_totals_assets_event_type"}
# Indexes of revision 0002 on media.clips (0003 replaces all but created_at's).
INDEXES_0002 = {"ix_clips_player_event_type", "ix_clips_game_period", "ix_clips_event_type", "ix_clips_team",
                "ix_clips_opponent", "ix_clips_created_at", "ix_pending_deletions_game_period"}
SQLITE_INDEXES = {
    "ix_clips_game_order", "ix_clips_type_strength_game", "ix_clips_type_game", "ix_clips_player_game_type",
    "ix_clips_team_game",
    "ix_clips_opponent_game", "ix_clips_created_at", "ix_pending_deletions_game_period",
    "ix_stats_game_by_game", "ix_stats_game_team_game", "ix_stats_game_opponent_game",
    "ix_stats_type_by_game", "ix_stats_type_event_type_game", "ix_stats_type_event_type_strength_game",
    "ix_stats_type_team_game", "ix_stats_type_opponent_game",
    "ix_stats_player_by_game", "ix_stats_player_player_game", "ix_stats_player_team_game",
    "ix_stats_player_opponent_game",
    "ix_stats_player_type_by_game", "ix_stats_player_type_player_event_type_game",
    "ix_stats_player_type_event_type_game",
    "ix_stats_assets_by_game", "ix_stats_assets_event_type_game", "ix_stats_assets_team_game",
    "ix_stats_assets_opponent_game",
}


def schema_diff(engine) -> list:
    """What alembic autogenerate would emit to make the database match the models."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=migration_context_options(conn.dialect.name))
        return compare_metadata(ctx, Base.metadata)


def test_head_is_the_totals_revision():
    assert head_revision() == "0004_totals_across_games"


def test_migrated_sqlite_schema_equals_models(tmp_path):
    db = tmp_path / "media.db"
    index = MediaIndex(f"sqlite:///{db}")  # upgrades on first use, no manual step
    try:
        assert current(index.engine) == head_revision()
        assert schema_diff(index.engine) == []
    finally:
        index.dispose()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("select version_num from alembic_version").fetchall() == [(head_revision(),)]
        indexes = {r[0] for r in conn.execute("select name from sqlite_master where type = 'index' and sql is not null")}
        assert indexes == SQLITE_INDEXES | TOTALS_INDEXES
        # the comparison does see a difference when there is one
        conn.execute("drop index ix_clips_team_game")
        conn.commit()
    finally:
        conn.close()
    engine = create_media_engine(f"sqlite:///{db}")
    try:
        diff = schema_diff(engine)
    finally:
        engine.dispose()
    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_clips_team_game")]


def test_database_made_before_migrations_is_adopted(tmp_path):
    """A file made by the old create_all has the tables but no version: stamped, kept, upgraded."""
    url = f"sqlite:///{tmp_path / 'media.db'}"
    engine = create_media_engine(url)
    with engine.begin() as conn:
        Base.metadata.create_all(conn, tables=BASELINE_TABLES)  # the tables there were then
        conn.execute(insert(Clip), [clip_row(record("A", "e1"))])  # a row, without the migrations
    engine.dispose()
    assert current(create_media_engine(url)) is None

    index = MediaIndex(url)
    try:
        assert current(index.engine) == head_revision()
        assert [r["clip_id"] for r in index.clips()] == ["A"]
        assert schema_diff(index.engine) == []  # pending_deletions added by 0002, the counts by 0003
        assert index.pending_deletions() == []
        # 0003 counted the row that was already there
        with index.engine.connect() as conn:
            assert conn.exec_driver_sql("select game_id, team, clips from media.clip_stats_game").all() == [
                ("20031", "MTL", 1)]
    finally:
        index.dispose()


def _sqlite_schema(db) -> tuple[set, set]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("select type, name from sqlite_master where sql is not null").fetchall()
    finally:
        conn.close()
    return {n for t, n in rows if t == "table"}, {n for t, n in rows if t == "index"}


def test_query_revisions_up_down_up(tmp_path):
    """0003 on a file with clips from 0002: indexes replaced, counts filled from the clips; 0004 sums
    them across games; down to 0003, then to 0002, restores each."""
    db = tmp_path / "media.db"
    url = f"sqlite:///{db}"
    engine = create_media_engine(url)
    try:
        assert upgrade(engine, "0002_pending_deletions") == "0002_pending_deletions"
        with engine.begin() as conn:
            conn.execute(insert(Clip), [clip_row(record("A", "e1")), clip_row(record("B", "e2", player_id="p2")),
                                        clip_row(record("C", "e3", game="20038", event_type="hit"))])
            conn.execute(insert(ClipAsset), [{"clip_id": "A", **asset("A").__dict__}])
        tables, indexes = _sqlite_schema(db)
        assert not tables & STATS_TABLES and indexes == INDEXES_0002

        assert upgrade(engine, "0003_query_indexes_and_stats") == "0003_query_indexes_and_stats"
        tables, indexes = _sqlite_schema(db)
        assert STATS_TABLES <= tables and not tables & TOTALS_TABLES and indexes == SQLITE_INDEXES
        assert upgrade(engine) == head_revision()  # 0004: the totals, summed from 0003's counts
        tables, indexes = _sqlite_schema(db)
        assert TOTALS_TABLES <= tables and indexes == SQLITE_INDEXES | TOTALS_INDEXES
        assert schema_diff(engine) == []
        with engine.connect() as conn:
            rows = lambda sql: sorted(conn.exec_driver_sql(sql).all())  # noqa: E731
            assert rows("select game_id, event_type, clips from media.clip_stats_type") == [
                ("20031", "shot", 2), ("20038", "hit", 1)]
            assert rows("select player_id, clips from media.clip_stats_player") == [
                ("8480018", 1), ("8480018", 1), ("p2", 1)]
            assert rows("select game_id, kind, objects, bytes from media.clip_stats_assets") == [
                ("20031", "mp4", 1, 1000)]
            assert rows("select team, opponent, event_type, strength, clips from media.clip_totals_type") == [
                ("MTL", "WSH", "hit", "5v5", 1), ("MTL", "WSH", "shot", "5v5", 2)]
            assert rows("select player_id, clips from media.clip_totals_player") == [("8480018", 2), ("p2", 1)]

        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003_query_indexes_and_stats")
        tables, indexes = _sqlite_schema(db)
        assert STATS_TABLES <= tables and not tables & TOTALS_TABLES and indexes == SQLITE_INDEXES

        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0002_pending_deletions")
        assert current(engine) == "0002_pending_deletions"
        tables, indexes = _sqlite_schema(db)
        assert not tables & STATS_TABLES and indexes == INDEXES_0002
        with engine.connect() as conn:
            assert conn.exec_driver_sql("select count(*) from media.clips").scalar_one() == 3

        assert upgrade(engine) == head_revision()  # and up again
        assert _sqlite_schema(db)[1] == SQLITE_INDEXES | TOTALS_INDEXES
    finally:
        engine.dispose()


def test_cli_db_current_and_upgrade(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HB_MEDIA_DB_URL", "sqlite:///var/media.db")
    assert main(["db", "current"]) == 1
    assert "none (empty)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"upgraded from empty to {head_revision()}" in capsys.readouterr().out
    assert (tmp_path / "var" / "media.db").is_file()
    assert main(["db", "current"]) == 0
    assert f"{head_revision()} (head)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at" in capsys.readouterr().out
    # --url wins over the environment
    other = tmp_path / "other.db"
    assert main(["db", "upgrade", "--url", f"sqlite:///{other}"]) == 0
    assert sqlite3.connect(other).execute("select version_num from alembic_version").fetchall() == [(head_revision(),)]


def test_cli_db_bad_url_exits_2(tmp_path, capsys):
    assert main(["db", "upgrade", "--url", "nosuchdialect://x"]) == 2
    assert main(["db", "current", "--url", "sqlite:///:memory:"]) == 2
    err = capsys.readouterr().err
    assert "nosuchdialect" in err and "SQLite file" in err
