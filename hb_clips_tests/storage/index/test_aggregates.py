"""The per-game counts (media.clip_stats_*) equal a GROUP BY over the clips after every kind of
partition write - inserts, rewrites that change a clip's columns, stale rows removed, an event
moved to another period, a clip moved to another game, an empty partition, a failed write - and a
10,000-clip partition write goes through in one transaction; on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from hb_clips_assets.storage.index import MediaIndex
from hb_clips_assets.storage.index.aggregates import dims_of, source_of
from hb_clips_assets.storage.index.models import AGGREGATES, TOTAL_GRAINS, TOTALS, Clip, ClipAsset, ClipTag
from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)
from hb_clips_tests.storage.index.test_repository import asset, record

GAME, OTHER = "20031", "20038"


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request, tmp_path):
    if request.param == "sqlite":
        idx = MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
        yield idx
        idx.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    with server.database("stats") as url:
        idx = MediaIndex(url)
        yield idx
        idx.dispose()


def _rows(conn, stmt) -> list[tuple]:
    out = []
    for row in conn.execute(stmt):
        *dims, n, measure = row
        out.append((*dims, int(n), round(float(measure), 6)))
    return sorted(out, key=repr)


def _totals_from_clips(name: str):
    """The totals table ``name`` as a GROUP BY over the clips themselves ('' for a missing value)."""
    source, dims = TOTAL_GRAINS[name]
    inner = source_of(AGGREGATES[source]).subquery()  # its GROUP BY has game_id: sum that away
    keys = [func.coalesce(inner.c[d], "") for d in dims]
    return select(*keys, *(func.sum(c) for c in list(inner.c)[-2:])).group_by(*keys)


def stats_equal_group_by(idx: MediaIndex) -> dict[str, int]:
    """Assert every count table (per game, and across games) equals its GROUP BY over media.clips;
    returns their row counts."""
    sizes = {}
    with idx.engine.connect() as conn:
        for name, table in AGGREGATES.items():
            kept = _rows(conn, select(*table.c))
            direct = _rows(conn, source_of(table))
            assert kept == direct, name
            sizes[name] = len(kept)
        for name, table in TOTALS.items():
            kept = _rows(conn, select(*table.c))
            direct = _rows(conn, _totals_from_clips(name))
            # kept by adding differences: the seconds carry float sums in another order
            assert [r[:-1] for r in kept] == [r[:-1] for r in direct], name
            assert [r[-1] for r in kept] == pytest.approx([r[-1] for r in direct], abs=1e-6), name
            sizes[name] = len(kept)
    return sizes


def test_counts_follow_every_write(index):
    assert stats_equal_group_by(index) == dict.fromkeys([*AGGREGATES, *TOTALS], 0)
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2", event_type="goal", strength="PP"),
                                      record("C", "e3", player_id="p2", team="WSH", opponent="MTL")])
    index.write_partition(GAME, "2", [record("D", "e4", period="2", strength="pp")])  # strength in any case
    index.write_partition(OTHER, "1", [record("E", "e1", game=OTHER, opponent=None, strength=None)])
    sizes = stats_equal_group_by(index)
    assert sizes["clip_stats_game"] == 3  # (20031, MTL), (20031, WSH), (20038, MTL)
    with index.engine.connect() as conn:
        pp = conn.execute(text("select sum(clips) from media.clip_stats_type where strength = 'pp'")).scalar()
    assert pp == 2  # PP and pp: one strength, lower-cased

    # a rewrite that changes a clip's type, player and asset sizes; B and C go stale
    index.write_partition(GAME, "1", [record("A", "e1", event_type="hit", player_id="p9",
                                             assets=[asset("A", size=5), asset("A", "thumbnail", size=7)])])
    stats_equal_group_by(index)
    # an event moved from period 2 to period 1 under a new clip id: the old row goes
    index.write_partition(GAME, "1", [record("A", "e1"), record("D2", "e4", period="1")])
    stats_equal_group_by(index)
    # a clip id that another game held moves to this one: both games recounted
    index.write_partition(GAME, "3", [record("E", "e9", period="3")])
    stats_equal_group_by(index)
    with index.engine.connect() as conn:
        assert conn.execute(text("select count(*) from media.clip_stats_game where game_id = :g"), {"g": OTHER}).scalar() == 0
    # emptied partitions leave no rows behind
    for period in ("1", "2", "3"):
        index.write_partition(GAME, period, [])
    assert stats_equal_group_by(index) == dict.fromkeys([*AGGREGATES, *TOTALS], 0)  # totals at 0 are deleted


def test_a_failed_write_leaves_the_counts_too(index):
    index.write_partition(GAME, "1", [record("A", "e1"), record("B", "e2")])
    with index.engine.connect() as conn:
        before = {name: _rows(conn, select(*t.c)) for name, t in {**AGGREGATES, **TOTALS}.items()}
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        index.write_partition(GAME, "1", [record("A", "e1", event_type="goal"), record("C", "e3", team=None)])
    with index.engine.connect() as conn:
        assert {name: _rows(conn, select(*t.c)) for name, t in {**AGGREGATES, **TOTALS}.items()} == before
    stats_equal_group_by(index)


def big_partition(n: int, prefix: str = "c") -> list:
    return [record(f"{prefix}{k:05d}", f"e{k:05d}", start=k, end=k + 60, event_type=("shot", "hit", "goal")[k % 3],
                   player_id=f"p{k % 40}", tags={"outcome": "won", "x": str(k)}) for k in range(n)]


def test_ten_thousand_clips_in_one_partition_write(index):
    """23 columns a clip: one INSERT of 10,000 would bind 230,000 parameters (PostgreSQL takes
    65,535). Written a chunk at a time inside the one transaction: all of it, or nothing."""
    records = big_partition(10_000)
    t = time.perf_counter()
    result = index.write_partition(GAME, "1", records)
    took = time.perf_counter() - t
    assert (result.clips, result.inserted, result.removed_object_keys) == (10_000, 10_000, ())
    with index.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Clip)).scalar_one() == 10_000
        assert conn.execute(select(func.count()).select_from(ClipAsset)).scalar_one() == 20_000
        assert conn.execute(select(func.count()).select_from(ClipTag)).scalar_one() == 20_000
    sizes = stats_equal_group_by(index)
    assert sizes["clip_stats_player_type"] == 120  # 40 players x 3 types
    assert took < 120, took
    # the same 10,000 again, half of them replaced: 5,000 new, 5,000 stale keys queued
    again = records[:5000] + big_partition(10_000, "n")[5000:]
    result = index.write_partition(GAME, "1", again)
    assert (result.clips, result.inserted, len(result.removed_object_keys)) == (10_000, 5_000, 10_000)
    assert len(index.pending_deletions(GAME, "1")) == 10_000
    stats_equal_group_by(index)
    # one transaction: a bad clip at the very end of 10,000 rolls every chunk back
    bad = big_partition(9_999, "z") + [record("zz", "e99999", team=None)]
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        index.write_partition(GAME, "1", bad)
    with index.engine.connect() as conn:
        ids = set(conn.execute(select(Clip.clip_id)).scalars())
    assert ids == {r.clip_id for r in again}
    stats_equal_group_by(index)


def test_every_grain_has_game_team_opponent():
    """The columns of the game filters and of a team key's visibility are in every count table."""
    for table in AGGREGATES.values():
        assert dims_of(table)[:3] == ("game_id", "team", "opponent")


def test_concurrent_writes_of_different_games_keep_the_totals(index):
    """Six games written at once, each twice (the second time some clips changed or gone): the
    totals across games, which every write adds to, equal the GROUP BY; no write fails (on
    PostgreSQL the writes take the totals' row locks in one order, so they wait, never deadlock)."""
    games = [f"300{g:02d}" for g in range(6)]

    def write(game: str) -> None:
        idx = MediaIndex(index.url)
        try:
            first = [record(f"{game}-{k}", f"e{k}", game=game, event_type=("shot", "hit")[k % 2], player_id=f"p{k % 3}",
                            team=("MTL", "WSH")[k % 2], opponent=("WSH", "MTL")[k % 2]) for k in range(30)]
            idx.write_partition(game, "1", first)
            idx.write_partition(game, "1", [replace(r, event_type="goal") if k % 3 else r
                                            for k, r in enumerate(first) if k % 5])
        finally:
            idx.dispose()

    errors: list[BaseException] = []

    def run(game: str) -> None:
        try:
            write(game)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in games]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    sizes = stats_equal_group_by(index)
    assert sizes["clip_stats_game"] == 12 and sizes["clip_totals_type"] > 0
