"""The media index on its embedded SQLite default (DATA_CONTRACT.md section 3)."""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from fractions import Fraction

import pytest
import sqlalchemy.exc

from hb_clips_assets.storage.index import MediaIndex, PartitionWrite
from hb_clips_assets.domain.records import AssetRecord, ClipRecord

GAME = "20031"

CLIPS_COLUMNS = {
    "clip_id", "game_id", "period", "event_id", "event_type", "player_id", "team", "opponent",
    "start_frame", "end_frame", "fps", "start_s", "end_s", "duration_s", "source_uri", "created_at",
}
ASSETS_COLUMNS = {"clip_id", "kind", "uri", "bytes", "sha256", "content_type"}
TAGS_COLUMNS = {"clip_id", "tag", "value"}


def asset(clip_id: str, kind: str = "mp4", game: str = GAME, period: str = "1", size: int = 1000) -> AssetRecord:
    ext = {"mp4": "mp4", "thumbnail": "jpg", "hls": "m3u8"}[kind]
    folder = "clips" if kind != "thumbnail" else "thumbnails"
    key = f"{folder}/{game}/{period}/{clip_id}.{ext}"
    ctype = {"mp4": "video/mp4", "thumbnail": "image/jpeg", "hls": "application/vnd.apple.mpegurl"}[kind]
    return AssetRecord(kind, key, f"file:///objects/{key}", size, clip_id[:1] * 64, ctype)


def record(clip_id: str, event_id: str, period: str = "1", game: str = GAME, start: int = 300, end: int = 780,
           fps: Fraction = Fraction(60000, 1001), tags: dict | None = None, assets=None, **kw) -> ClipRecord:
    if assets is None:
        assets = (asset(clip_id, "mp4", game, period), asset(clip_id, "thumbnail", game, period))
    fields = dict(
        clip_id=clip_id, game_id=game, period=period, event_id=event_id, event_type="shot", player_id="8480018",
        team="MTL", opponent="WSH", zone="O", strength="5v5", timecode="00:00:10:00", event_frame=start + 300,
        start_frame=start, end_frame=end, fps_num=fps.numerator, fps_den=fps.denominator,
        source_uri=f"file:///data/video/{game}/{period}.mp4", source_sha256="ab" * 32,
        tags={"outcome": "on_net", "x": "12"} if tags is None else tags, assets=tuple(assets),
    )
    fields.update(kw)
    return ClipRecord(**fields)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "media.db"


@pytest.fixture
def index(db_path):
    idx = MediaIndex(f"sqlite:///{db_path}")
    yield idx
    idx.dispose()


def raw(db_path, sql: str, *args) -> list[tuple]:
    """Read the database file with the sqlite3 module, bypassing the package."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def snapshot(db_path) -> dict:
    return {
        t: sorted(raw(db_path, f"select * from {t}"), key=repr)
        for t in ("clips", "clip_assets", "clip_tags")
    }


# --------------------------------------------------------------------------- schema


def test_file_holds_contract_tables(index, db_path):
    tables = {r[0] for r in raw(db_path, "select name from sqlite_master where type = 'table'")}
    assert tables == {"clips", "clip_assets", "clip_tags", "pending_deletions", "alembic_version", "clip_stats_game",
                      "clip_stats_type", "clip_stats_player", "clip_stats_player_type", "clip_stats_assets",
                      "clip_totals_type", "clip_totals_player", "clip_totals_assets"}
    for table, cols in (("clips", CLIPS_COLUMNS), ("clip_assets", ASSETS_COLUMNS), ("clip_tags", TAGS_COLUMNS)):
        found = {r[1] for r in raw(db_path, f"pragma table_info({table})")}
        assert cols <= found, f"{table} lacks {cols - found}"
    pk = [r[1] for r in raw(db_path, "pragma table_info(clips)") if r[5]]
    assert pk == ["clip_id"]


def test_media_schema_resolves_through_engine(index):
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2")])
    with index.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from media.clips").scalar_one() == 2
        assert conn.exec_driver_sql("select count(*) from media.clip_assets").scalar_one() == 4
        assert conn.exec_driver_sql("select count(*) from media.clip_tags").scalar_one() == 4
        ids = conn.exec_driver_sql("select clip_id from media.clips order by clip_id").scalars().all()
    assert ids == ["A", "B"]


def test_sqlite_memory_url_refused(tmp_path):
    with pytest.raises(ValueError, match="SQLite file"):
        MediaIndex("sqlite:///:memory:")


def test_reopen_keeps_rows(index, db_path):
    index.write_partition(GAME, "1", [record("A", "e1")])
    other = MediaIndex(f"sqlite:///{db_path}")
    try:
        assert other.count_clips() == 1
        assert other.clips()[0]["clip_id"] == "A"
    finally:
        other.dispose()


# --------------------------------------------------------------------------- rows


def test_row_values_and_derived_times(index, db_path):
    fps = Fraction(60000, 1001)
    rec = record("A", "e1", start=125700, end=126180, fps=fps)
    result = index.write_partition(GAME, "1", [rec])
    assert result == PartitionWrite(clips=1, inserted=1, removed_object_keys=())
    (row,) = index.clips()
    assert row["clip_id"] == "A" and row["game_id"] == GAME and row["period"] == "1" and row["event_id"] == "e1"
    assert (row["event_type"], row["player_id"], row["team"], row["opponent"]) == ("shot", "8480018", "MTL", "WSH")
    assert (row["start_frame"], row["end_frame"]) == (125700, 126180)
    assert row["source_uri"] == "file:///data/video/20031/1.mp4"
    assert row["fps"] == pytest.approx(float(fps), rel=1e-15)
    assert row["start_s"] == pytest.approx(float(Fraction(125700) / fps), rel=1e-15)
    assert row["end_s"] == pytest.approx(float(Fraction(126180) / fps), rel=1e-15)
    assert row["duration_s"] == pytest.approx(float(Fraction(480) / fps), rel=1e-12)
    assert row["duration_s"] == pytest.approx(8.008, rel=1e-12)
    assert row["created_at"] is not None
    # the same through the file itself
    ((start_s, end_s, duration_s, fps_col),) = raw(db_path, "select start_s, end_s, duration_s, fps from clips")
    assert start_s == pytest.approx(2097.0950, abs=1e-9)
    assert end_s == pytest.approx(2105.103, abs=1e-9)
    assert duration_s == pytest.approx(8.008, abs=1e-9)
    assert fps_col == pytest.approx(59.94005994, abs=1e-8)


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(30000, 1001), Fraction(50), Fraction(60000, 1001)])
def test_derived_times_per_rate(index, fps):
    index.write_partition(GAME, "1", [record("A", "e1", start=1234, end=1234 + 200, fps=fps)])
    (row,) = index.clips()
    assert row["start_s"] == pytest.approx(float(1234 / fps), rel=1e-15)
    assert row["end_s"] == pytest.approx(float(1434 / fps), rel=1e-15)
    assert row["duration_s"] == pytest.approx(float(200 / fps), rel=1e-12)


def test_assets_and_tags_written(index, db_path):
    index.write_partition(GAME, "1", [record("A", "e1", tags={"outcome": "goal", "detail": "slot"})])
    assert sorted(raw(db_path, "select clip_id, tag, value from clip_tags")) == [
        ("A", "detail", "slot"), ("A", "outcome", "goal")]
    rows = sorted(raw(db_path, "select clip_id, kind, uri, bytes, sha256, content_type from clip_assets"))
    assert rows == [
        ("A", "mp4", "file:///objects/clips/20031/1/A.mp4", 1000, "A" * 64, "video/mp4"),
        ("A", "thumbnail", "file:///objects/thumbnails/20031/1/A.jpg", 1000, "A" * 64, "image/jpeg"),
    ]
    assets = index.assets_of(["A", "missing"])
    assert set(assets) == {("A", "mp4"), ("A", "thumbnail")}
    assert assets[("A", "mp4")] == asset("A", "mp4")
    assert index.assets_of([]) == {}


def test_write_twice_is_idempotent(index, db_path):
    records = [record("A", "e1"), record("B", "e2", start=1000, end=1480), record("C", "e3", tags={})]
    first = index.write_partition(GAME, "1", records)
    assert first == PartitionWrite(3, 3, ())
    before = snapshot(db_path)
    created = {r["clip_id"]: r["created_at"] for r in index.clips()}
    second = index.write_partition(GAME, "1", records)
    assert second == PartitionWrite(3, 0, ())
    assert snapshot(db_path) == before
    assert {r["clip_id"]: r["created_at"] for r in index.clips()} == created
    assert index.count_clips() == 3


def test_rewrite_updates_values_keeps_created_at(index):
    index.write_partition(GAME, "1", [record("A", "e1")])
    (before,) = index.clips()
    changed = record("A", "e1", player_id="8471214", tags={"outcome": "blocked"},
                     assets=[replace(asset("A"), bytes=2222)])
    result = index.write_partition(GAME, "1", [changed])
    assert result.inserted == 0
    assert result.removed_object_keys == ()
    (after,) = index.clips()
    assert after["player_id"] == "8471214"
    assert after["created_at"] == before["created_at"]
    # tags are replaced; assets upserted by (clip_id, kind)
    assets = index.assets_of(["A"])
    assert assets[("A", "mp4")].bytes == 2222
    with index.engine.connect() as conn:
        tags = conn.exec_driver_sql("select tag, value from media.clip_tags").all()
    assert [tuple(t) for t in tags] == [("outcome", "blocked")]


def test_stale_rows_removed_with_assets_and_tags(index, db_path):
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2"), record("C", "e3")])
    index.write_partition(GAME, "2", [record("P2", "e10", period="2")])
    index.write_partition("20032", "1", [record("G2", "e1", game="20032")])
    other_before = [r for r in snapshot(db_path)["clips"] if r[0] in ("P2", "G2")]

    result = index.write_partition(GAME, "1", [record("A", "e1"), record("D", "e4")])
    assert result.clips == 2
    assert result.inserted == 1
    assert sorted(result.removed_object_keys) == sorted(
        [asset(c, k).object_key for c in ("B", "C") for k in ("mp4", "thumbnail")])
    assert [r["clip_id"] for r in index.clips(GAME, "1")] == ["A", "D"]
    for table in ("clip_assets", "clip_tags"):
        ids = {r[0] for r in raw(db_path, f"select clip_id from {table}")}
        assert ids == {"A", "D", "P2", "G2"}, table
    # other partitions untouched
    assert [r for r in snapshot(db_path)["clips"] if r[0] in ("P2", "G2")] == other_before
    assert index.count_clips(GAME, "2") == 1
    assert index.count_clips("20032") == 1
    assert index.count_clips() == 4


def test_empty_record_set_clears_only_its_partition(index):
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2")])
    index.write_partition(GAME, "OT", [record("O", "e9", period="OT")])
    result = index.write_partition(GAME, "1", [])
    assert result.clips == 0 and result.inserted == 0
    assert len(result.removed_object_keys) == 4
    assert index.count_clips(GAME, "1") == 0
    assert [r["clip_id"] for r in index.clips()] == ["O"]
    assert index.assets_of(["A", "B"]) == {}


def test_event_moved_to_new_clip_id_in_same_partition(index, db_path):
    index.write_partition(GAME, "1", [record("OLD", "e1"), record("B", "e2")])
    result = index.write_partition(GAME, "1", [record("NEW", "e1", start=900, end=1380), record("B", "e2")])
    assert result.inserted == 1
    assert sorted(result.removed_object_keys) == sorted([asset("OLD").object_key, asset("OLD", "thumbnail").object_key])
    rows = raw(db_path, "select clip_id, start_frame from clips where event_id = 'e1'")
    assert rows == [("NEW", 900)]
    assert {r[0] for r in raw(db_path, "select clip_id from clip_assets")} == {"NEW", "B"}


def test_event_moved_to_another_period_replaces_old_row(index, db_path):
    index.write_partition(GAME, "1", [record("OLD", "e1"), record("B", "e2")])
    result = index.write_partition(GAME, "2", [record("NEW", "e1", period="2")])
    assert result.inserted == 1
    assert set(result.removed_object_keys) == {asset("OLD").object_key, asset("OLD", "thumbnail").object_key}
    assert raw(db_path, "select clip_id, period from clips where game_id = ? and event_id = 'e1'", GAME) == [
        ("NEW", "2")]
    assert index.count_clips(GAME, "1") == 1
    # the same event_id in another game is another event
    index.write_partition("20032", "1", [record("G2", "e1", game="20032")])
    assert index.count_clips() == 3


def test_unique_game_event_enforced_by_the_table(index, db_path):
    index.write_partition(GAME, "1", [record("A", "e1")])
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "insert into clips select 'Z', game_id, period, event_id, event_type, player_id, team, opponent, zone,"
                " strength, timecode, event_frame, start_frame, end_frame, fps, fps_num, fps_den, start_s, end_s,"
                " duration_s, source_uri, source_sha256, created_at from clips where clip_id = 'A'"
            )
    finally:
        conn.close()


# --------------------------------------------------------------------------- atomicity


FAILING_BATCHES = {
    "asset with NULL bytes": lambda: [
        record("A", "e1"), record("D", "e4", assets=[replace(asset("D"), bytes=None)])],
    "asset with NULL content_type": lambda: [
        record("D", "e4", assets=[asset("D"), replace(asset("D", "thumbnail"), content_type=None)])],
    "tag with NULL value": lambda: [record("A", "e1"), record("D", "e4", tags={"outcome": None})],
    "NULL required clip column": lambda: [record("A", "e1"), record("D", "e4", team=None)],
}


@pytest.mark.parametrize("make_batch", FAILING_BATCHES.values(), ids=FAILING_BATCHES.keys())
def test_failed_write_changes_nothing(index, db_path, make_batch):
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2"), record("C", "e3")])
    index.write_partition(GAME, "2", [record("P2", "e10", period="2")])
    before = snapshot(db_path)
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        # B and C would be stale and A updated: all of it must roll back
        index.write_partition(GAME, "1", make_batch())
    assert snapshot(db_path) == before
    # and the index still works afterwards
    assert index.write_partition(GAME, "1", [record("A", "e1")]).clips == 1
    assert index.count_clips(GAME, "1") == 1


DUPLICATE_BATCHES = {
    "two assets of one kind": lambda: [
        record("A", "e1"),
        record("D", "e4", assets=[asset("D"), replace(asset("D"), object_key="clips/20031/1/D-other.mp4")]),
    ],
    "two clips with one event_id": lambda: [record("A", "e1"), record("D", "e1")],
    "one clip twice": lambda: [record("A", "e1"), record("A", "e1")],
}


@pytest.mark.parametrize("make_batch", DUPLICATE_BATCHES.values(), ids=DUPLICATE_BATCHES.keys())
def test_duplicates_in_one_batch_refused(index, db_path, make_batch):
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2")])
    before = snapshot(db_path)
    with pytest.raises(ValueError, match="duplicate"):
        index.write_partition(GAME, "1", make_batch())
    assert snapshot(db_path) == before


# --------------------------------------------------------------------------- concurrency


def _run_threads(targets):
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            try:
                barrier.wait(timeout=10)
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "writer hung"
    assert errors == []


def test_two_indexes_two_threads_same_partition(db_path):
    records = [record(f"C{i:02d}", f"e{i}", start=100 * i, end=100 * i + 480, tags={"n": str(i)}) for i in range(20)]
    results: list[PartitionWrite] = []

    def writer():
        idx = MediaIndex(f"sqlite:///{db_path}")  # both create the schema at once too
        try:
            for _ in range(5):
                results.append(idx.write_partition(GAME, "1", records))
        finally:
            idx.dispose()

    _run_threads([writer, writer])
    assert len(results) == 10
    assert all(r.clips == 20 for r in results)
    assert sum(r.inserted for r in results) == 20  # each clip inserted exactly once
    ids = [r[0] for r in raw(db_path, "select clip_id from clips order by clip_id")]
    assert ids == [r.clip_id for r in records]
    assert raw(db_path, "select count(*), count(distinct clip_id || kind) from clip_assets") == [(40, 40)]
    assert raw(db_path, "select count(*) from clip_tags") == [(20,)]


def test_concurrent_different_record_sets_end_in_one_of_them(db_path):
    MediaIndex(f"sqlite:///{db_path}").dispose()
    set_a = [record(f"A{i}", f"e{i}") for i in range(10)]
    set_b = [record(f"B{i}", f"e{i}") for i in range(5, 15)]

    def writer(records):
        def run():
            idx = MediaIndex(f"sqlite:///{db_path}")
            try:
                for _ in range(4):
                    idx.write_partition(GAME, "1", records)
            finally:
                idx.dispose()
        return run

    _run_threads([writer(set_a), writer(set_b)])
    ids = sorted(r[0] for r in raw(db_path, "select clip_id from clips"))
    assert ids in (sorted(r.clip_id for r in set_a), sorted(r.clip_id for r in set_b))
    asset_ids = {r[0] for r in raw(db_path, "select clip_id from clip_assets")}
    tag_ids = {r[0] for r in raw(db_path, "select clip_id from clip_tags")}
    assert asset_ids == set(ids) and tag_ids == set(ids)
