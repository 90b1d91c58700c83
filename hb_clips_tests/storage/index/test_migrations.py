"""Alembic migrations of the media schema on the embedded SQLite default, and `hb-clips db`."""
from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert

from hb_clips_assets.cli.main import main
from hb_clips_assets.storage.index import MediaIndex
from hb_clips_assets.storage.index.db import create_media_engine
from hb_clips_assets.storage.index.migrate import current, head_revision, migration_context_options
from hb_clips_assets.storage.index.models import Base, Clip, ClipAsset, ClipTag
from hb_clips_assets.storage.index.repository import clip_row
from hb_clips_tests.storage.index.test_repository import record


# What Base.metadata.create_all made before migrations existed (revision 0001_media_schema).
BASELINE_TABLES = [Clip.__table__, ClipAsset.__table__, ClipTag.__table__]


def schema_diff(engine) -> list:
    """What alembic autogenerate would emit to make the database match the models."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=migration_context_options(conn.dialect.name))
        return compare_metadata(ctx, Base.metadata)


def test_head_is_the_pending_deletions_revision():
    assert head_revision() == "0002_pending_deletions"


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
        assert indexes == {"ix_clips_player_event_type", "ix_clips_game_period", "ix_clips_event_type",
                           "ix_clips_team", "ix_clips_opponent", "ix_clips_created_at",
                           "ix_pending_deletions_game_period"}
        # the comparison does see a difference when there is one
        conn.execute("drop index ix_clips_team")
        conn.commit()
    finally:
        conn.close()
    engine = create_media_engine(f"sqlite:///{db}")
    try:
        diff = schema_diff(engine)
    finally:
        engine.dispose()
    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_clips_team")]


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
        assert schema_diff(index.engine) == []  # pending_deletions added by 0002
        assert index.pending_deletions() == []
    finally:
        index.dispose()


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
