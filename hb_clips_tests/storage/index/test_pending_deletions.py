"""media.pending_deletions: the durable to-do list of objects to delete from the store, on the
embedded SQLite default and on PostgreSQL (skips when no server is reachable, fails under
HB_REQUIRE_SERVERS=1).

``write_partition`` queues the objects of the clips it removes in its own transaction and takes
off the list every key the partition names again; ``pending_deletions`` lists what is left
(never a key a ``media.clip_assets`` row names); ``mark_deleted`` takes keys off once the store
deleted them, except keys named again by then. The kill between the commit and the store
deletes is ``faults/test_crash.py::test_kill_after_the_index_commit_before_stale_objects_are_deleted_then_rerun_removes_them``.
"""
from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from hb_clips_assets.storage.index import MediaIndex
from hb_clips_tests.storage.index.test_repository import asset, record
from hb_clips_tests.servers.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'media.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    idx = MediaIndex(url)
    yield idx
    idx.dispose()


@pytest.fixture
def game() -> str:
    """A game of its own per test: the PostgreSQL database is shared by the module."""
    return f"PD{uuid.uuid4().hex[:10]}"


def keys_of(game: str, *clip_ids: str, period: str = "1") -> list[str]:
    return sorted(asset(c, k, game=game, period=period).object_key for c in clip_ids for k in ("mp4", "thumbnail"))


def queued(index: MediaIndex, game: str) -> list[tuple[str, str, str]]:
    """The game's rows of media.pending_deletions: (object_key, game_id, period), read with plain SQL."""
    with index.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text(
            "select object_key, game_id, period from media.pending_deletions where game_id = :g"), {"g": game}))


def named_keys(index: MediaIndex, keys: list[str]) -> set[str]:
    with index.engine.connect() as conn:
        rows = conn.execute(text("select object_key from media.clip_assets")).scalars()
        return set(rows) & set(keys)


def test_removed_objects_are_queued_by_the_write_itself(index, game):
    index.write_partition(game, "1", [record("A", "e1", game=game), record("B", "e2", game=game),
                                      record("C", "e3", game=game)])
    assert queued(index, game) == [] and index.pending_deletions(game, "1") == []

    result = index.write_partition(game, "1", [record("A", "e1", game=game)])
    assert sorted(result.removed_object_keys) == keys_of(game, "B", "C")
    # committed with the rows: no other call needed, so a kill right after the commit loses nothing
    assert queued(index, game) == [(k, game, "1") for k in keys_of(game, "B", "C")]
    assert sorted(index.pending_deletions(game, "1")) == keys_of(game, "B", "C")
    assert index.pending_deletions(game, "2") == [] and index.pending_deletions("no-such-game") == []
    assert set(keys_of(game, "B", "C")) <= set(index.pending_deletions())  # every game and period

    # The re-run after a kill removes no row (nothing stale any more), yet the keys are still listed.
    again = index.write_partition(game, "1", [record("A", "e1", game=game)])
    assert again.removed_object_keys == ()
    assert sorted(index.pending_deletions(game, "1")) == keys_of(game, "B", "C")

    assert index.mark_deleted(keys_of(game, "B", "C")) == 4
    assert queued(index, game) == [] and index.pending_deletions(game, "1") == []
    assert index.mark_deleted(keys_of(game, "B", "C")) == 0  # twice is fine
    assert index.mark_deleted([]) == 0


def test_queue_and_row_removal_commit_or_roll_back_together(index, game, monkeypatch):
    index.write_partition(game, "1", [record("A", "e1", game=game), record("B", "e2", game=game)])
    real = MediaIndex._queue_deletions

    def queue_then_fail(self, conn, *args):
        real(self, conn, *args)  # the keys are queued on the write's connection ...
        raise RuntimeError("killed after queueing, before the commit")  # ... and the commit never comes

    monkeypatch.setattr(MediaIndex, "_queue_deletions", queue_then_fail)
    with pytest.raises(RuntimeError, match="before the commit"):
        index.write_partition(game, "1", [record("A", "e1", game=game)])
    assert queued(index, game) == []  # rolled back with the row removal ...
    assert sorted(r["clip_id"] for r in index.clips(game)) == ["A", "B"]  # ... which rolled back too

    monkeypatch.undo()
    # a write failing on its own rows queues nothing either
    bad = [record("A", "e1", game=game), record("D", "e4", game=game,
                                                 assets=[replace(asset("D", game=game), bytes=None)])]
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        index.write_partition(game, "1", bad)
    assert queued(index, game) == []
    index.write_partition(game, "1", [record("A", "e1", game=game)])
    assert [k for k, _, _ in queued(index, game)] == keys_of(game, "B")


def test_a_key_named_again_is_taken_off_the_list_and_never_deleted(index, game):
    both = [record("A", "e1", game=game), record("B", "e2", game=game)]
    index.write_partition(game, "1", both)
    index.write_partition(game, "1", [record("A", "e1", game=game)])  # B's objects queued (then: killed)
    assert sorted(index.pending_deletions(game, "1")) == keys_of(game, "B")

    # B comes back with the same content-addressed id, so the same keys: they are current again.
    result = index.write_partition(game, "1", both)
    assert result.removed_object_keys == () and result.inserted == 1
    assert queued(index, game) == []
    assert index.pending_deletions(game, "1") == []
    assert named_keys(index, keys_of(game, "B")) == set(keys_of(game, "B"))


def test_mark_deleted_keeps_keys_a_row_names_again(index, game):
    index.write_partition(game, "1", [record("A", "e1", game=game), record("B", "e2", game=game)])
    index.write_partition(game, "1", [record("A", "e1", game=game)])
    listed = index.pending_deletions(game, "1")
    assert sorted(listed) == keys_of(game, "B")
    # A's keys on the list as well, as a writer racing with the store deletes could leave them:
    # never listed for deletion, and not taken off by mark_deleted while a row names them.
    with index.engine.begin() as conn:
        for key in keys_of(game, "A"):
            conn.execute(text("insert into media.pending_deletions (object_key, game_id, period, queued_at) "
                              "values (:k, :g, '1', CURRENT_TIMESTAMP)"), {"k": key, "g": game})
    assert sorted(index.pending_deletions(game, "1")) == keys_of(game, "B")

    assert index.mark_deleted(keys_of(game, "A") + keys_of(game, "B")) == 2  # B's two; A's named
    assert [k for k, _, _ in queued(index, game)] == keys_of(game, "A")
    assert index.pending_deletions(game, "1") == []
    # once a write of the partition names A's keys again, they are off the list
    index.write_partition(game, "1", [record("A", "e1", game=game)])
    assert queued(index, game) == []


def test_keys_are_queued_under_the_write_that_removed_them(index, game):
    """An event moved to another period: its old clip (under period 1's keys) is removed by period 2's
    write, so period 2's run deletes it."""
    index.write_partition(game, "1", [record("OLD", "e1", game=game), record("B", "e2", game=game)])
    index.write_partition(game, "2", [record("NEW", "e1", game=game, period="2")])
    assert queued(index, game) == [(k, game, "2") for k in keys_of(game, "OLD")]
    assert sorted(index.pending_deletions(game, "2")) == keys_of(game, "OLD")
    assert index.pending_deletions(game, "1") == []


def test_a_key_queued_twice_keeps_its_first_row(index, game):
    index.write_partition(game, "1", [record("A", "e1", game=game), record("C", "e3", game=game)])
    with index.engine.begin() as conn:  # C's mp4 already queued (by an earlier write of period OT, say)
        conn.execute(text("insert into media.pending_deletions (object_key, game_id, period, queued_at) "
                          "values (:k, :g, 'OT', CURRENT_TIMESTAMP)"), {"k": asset("C", game=game).object_key, "g": game})
    result = index.write_partition(game, "1", [record("A", "e1", game=game)])  # no duplicate-key error
    assert sorted(result.removed_object_keys) == keys_of(game, "C")
    assert queued(index, game) == sorted([(asset("C", game=game).object_key, game, "OT"),
                                          (asset("C", "thumbnail", game=game).object_key, game, "1")])
