"""Reads and writes of the media index. One transaction per partition; upserts
on natural keys, so a partition can be written any number of times.

Objects of removed clips are deleted from the store after the commit, so they
are queued in ``media.pending_deletions`` inside the partition's transaction:
a process killed between the commit and the deletes leaves the keys there for
the next run (:meth:`MediaIndex.pending_deletions`, :meth:`MediaIndex.mark_deleted`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from hb_clips_assets.domain.records import AssetRecord, ClipRecord
from hb_clips_assets.storage.index.aggregates import chunks, refresh_games
from hb_clips_assets.storage.index.db import create_media_engine, create_schema
from hb_clips_assets.storage.index.migrate import PG_LOCK_CLASS_GAME
from hb_clips_assets.storage.index.models import Clip, ClipAsset, ClipTag, PendingDeletion


def clip_row(record: ClipRecord) -> dict:
    """The ``media.clips`` row of a record: its columns, plus the seconds derived from its frames."""
    start_s = record.start_frame * record.fps_den / record.fps_num
    end_s = record.end_frame * record.fps_den / record.fps_num
    row = {k: getattr(record, k) for k in _CLIP_COLUMNS if k not in ("fps", "start_s", "end_s", "duration_s")}
    return row | {"fps": record.fps_num / record.fps_den, "start_s": start_s, "end_s": end_s, "duration_s": end_s - start_s}


_CLIP_COLUMNS = [c.name for c in Clip.__table__.columns if c.name != "created_at"]


@dataclass(frozen=True)
class PartitionWrite:
    clips: int  # rows in the partition after the write
    inserted: int
    # Objects of stale clips, queued in media.pending_deletions by the same transaction;
    # the caller deletes the partition's pending keys (these and any an earlier, killed run left).
    removed_object_keys: tuple[str, ...]


def _refuse_duplicates(records: list[ClipRecord]) -> None:
    """A batch must name each clip, event and asset once: the upsert would
    otherwise keep the last silently (SQLite) or fail (PostgreSQL)."""
    for what, keys in (
        ("clip_id", [r.clip_id for r in records]),
        ("event_id", [r.event_id for r in records]),
        ("(clip_id, kind)", [(r.clip_id, a.kind) for r in records for a in r.assets]),
    ):
        dupes = sorted(str(k) for k, n in Counter(keys).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate {what} in one partition write: {', '.join(dupes[:5])}")


class MediaIndex:
    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = create_media_engine(url)
        create_schema(self.engine)

    def _insert(self, table):
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _lock_game(self, conn: Connection, game_id: str) -> None:
        """Serialise the writes of one game until the transaction ends.

        A partition write reads, deletes and upserts rows that other writes of
        the same game may touch (an event that moved to another period, the
        unique (game_id, event_id)), so on PostgreSQL two writers of one game
        at once could see each other's rows half-way: both count a clip as
        new, or one fails on the unique constraint. A transaction-scoped
        advisory lock per game makes them queue; games are independent. On
        SQLite the engine's BEGIN IMMEDIATE already serialises every writer.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("select pg_advisory_xact_lock(CAST(:cls AS integer), hashtext(:game))"),
                {"cls": PG_LOCK_CLASS_GAME, "game": game_id},
            )

    def _queue_deletions(self, conn: Connection, game_id: str, period: str, keys: list[str],
                         current_keys: list[str]) -> None:
        """Inside a partition write: queue ``keys`` for deletion from the store (a key
        already queued keeps its row) and take the partition's ``current_keys`` off the
        list - with content-addressed ids a removed object can be named again."""
        queue = self._insert(PendingDeletion.__table__).on_conflict_do_nothing(index_elements=["object_key"])
        for chunk in chunks(keys):
            conn.execute(queue, [{"object_key": k, "game_id": game_id, "period": period} for k in chunk])  # queued_at: now
        for chunk in chunks(current_keys):
            conn.execute(delete(PendingDeletion).where(PendingDeletion.object_key.in_(chunk)))

    def assets_of(self, clip_ids: list[str]) -> dict[tuple[str, str], AssetRecord]:
        """Recorded assets by (clip_id, kind)."""
        if not clip_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(ClipAsset).where(ClipAsset.clip_id.in_(clip_ids))).mappings().all()
        return {
            (r["clip_id"], r["kind"]): AssetRecord(
                r["kind"], r["object_key"], r["uri"], r["bytes"], r["sha256"], r["content_type"]
            )
            for r in rows
        }

    def write_partition(self, game_id: str, period: str, records: list[ClipRecord]) -> PartitionWrite:
        """Make the index hold exactly ``records`` for this game and period, in one transaction.

        Rows of the partition that are not in ``records`` (a replaced video,
        a corrected timecode) are removed with their assets and tags; their
        object keys are queued in ``media.pending_deletions`` (in the same
        transaction) and returned, for the caller to delete the objects after
        the commit and then :meth:`mark_deleted` them. Keys the records name
        are taken off that list. The per-game counts (``media.clip_stats_*``)
        of every game the write touched are recomputed in the same transaction.

        Any number of records: every statement binds at most a chunk of them
        (PostgreSQL takes 65,535 parameters a statement, SQLite 32,766), all
        inside the one transaction.
        """
        ids = [r.clip_id for r in records]
        _refuse_duplicates(records)
        with self.engine.begin() as conn:
            self._lock_game(conn, game_id)  # first: every read below sees the previous writer's commit
            # The whole game's keys (a few hundred rows), filtered here: no NOT IN over the batch.
            wanted, events = set(ids), {r.event_id for r in records}
            stale = [
                clip_id for clip_id, event_id, row_period in conn.execute(
                    select(Clip.clip_id, Clip.event_id, Clip.period).where(Clip.game_id == game_id))
                if (row_period == period or event_id in events) and clip_id not in wanted
            ]
            # Clips the records name that another game holds move here: that game's counts change too.
            existing: dict[str, str] = {}
            for chunk in chunks(ids):
                existing.update(conn.execute(select(Clip.clip_id, Clip.game_id).where(Clip.clip_id.in_(chunk))).all())
            games = {game_id} | {r.game_id for r in records} | set(existing.values())
            for other in sorted(games - {game_id}):
                self._lock_game(conn, other)
            current_keys = list(dict.fromkeys(a.object_key for r in records for a in r.assets))
            stale_keys = self._remove(conn, stale, set(current_keys))
            self._upsert(conn, records)
            self._queue_deletions(conn, game_id, period, stale_keys, current_keys)
            refresh_games(conn, games)
        return PartitionWrite(len(records), len(wanted - existing.keys()), tuple(stale_keys))

    def _remove(self, conn: Connection, stale: list[str], current: set[str]) -> list[str]:
        """Delete the stale clips with their assets and tags; the object keys to delete from the store."""
        stale_keys: list[str] = []
        for chunk in chunks(stale):
            stale_keys += [  # never an object the new rows name
                k for k in conn.execute(select(ClipAsset.object_key).where(ClipAsset.clip_id.in_(chunk))).scalars()
                if k not in current
            ]
            # Children first: do not rely on ON DELETE CASCADE being enabled on every connection.
            conn.execute(delete(ClipTag).where(ClipTag.clip_id.in_(chunk)))
            conn.execute(delete(ClipAsset).where(ClipAsset.clip_id.in_(chunk)))
            conn.execute(delete(Clip).where(Clip.clip_id.in_(chunk)))
        return list(dict.fromkeys(stale_keys))

    def _upsert(self, conn: Connection, records: list[ClipRecord]) -> None:
        """Insert or update the records' clips and assets, and replace their tags.

        One statement each, executed for many rows (executemany): compiled once, bound a row at a
        time, so no partition size meets a parameter limit; a chunk at a time keeps memory flat.
        """
        clip = self._insert(Clip.__table__)
        clip = clip.on_conflict_do_update(
            index_elements=["clip_id"], set_={c: clip.excluded[c] for c in _CLIP_COLUMNS if c != "clip_id"})
        asset = self._insert(ClipAsset.__table__)
        asset = asset.on_conflict_do_update(
            index_elements=["clip_id", "kind"],
            set_={c: asset.excluded[c] for c in ("object_key", "uri", "bytes", "sha256", "content_type")})
        for chunk in chunks(records):
            conn.execute(clip, [clip_row(r) for r in chunk])
            conn.execute(delete(ClipTag).where(ClipTag.clip_id.in_([r.clip_id for r in chunk])))
            tags = [{"clip_id": r.clip_id, "tag": k, "value": v} for r in chunk for k, v in sorted(r.tags.items())]
            if tags:
                conn.execute(self._insert(ClipTag.__table__), tags)
            assets = [{"clip_id": r.clip_id, **a.__dict__} for r in chunk for a in r.assets]
            if assets:
                conn.execute(asset, assets)

    def pending_deletions(self, game_id: str | None = None, period: str | None = None) -> list[str]:
        """Keys queued for deletion from the store (by the writes of ``game_id`` and
        ``period`` when given), oldest first; never a key a ``media.clip_assets`` row names."""
        query = select(PendingDeletion.object_key).order_by(PendingDeletion.queued_at, PendingDeletion.object_key)
        if game_id is not None:
            query = query.where(PendingDeletion.game_id == game_id)
        if period is not None:
            query = query.where(PendingDeletion.period == period)
        with self.engine.connect() as conn:
            keys = list(conn.execute(query).scalars())
            named: set[str] = set()  # the common case, no keys: no clip_assets lookup at all
            for chunk in chunks(keys):
                named.update(conn.execute(select(ClipAsset.object_key).where(ClipAsset.object_key.in_(chunk))).scalars())
        return [k for k in keys if k not in named]

    def mark_deleted(self, keys: list[str] | tuple[str, ...]) -> int:
        """Take ``keys`` off the deletion list once their objects are deleted from the
        store - except a key a ``media.clip_assets`` row names again by now (checked in
        this transaction, under the games' locks on PostgreSQL). Returns how many rows went."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return 0
        with self.engine.begin() as conn:
            games: set[str] = set()
            for chunk in chunks(keys):
                games.update(conn.execute(
                    select(PendingDeletion.game_id).where(PendingDeletion.object_key.in_(chunk)).distinct()
                ).scalars())
            for game_id in sorted(games):  # one order for every caller: no lock cycle
                self._lock_game(conn, game_id)
            named = select(ClipAsset.object_key).where(ClipAsset.object_key == PendingDeletion.object_key)
            return sum(
                conn.execute(delete(PendingDeletion).where(PendingDeletion.object_key.in_(chunk), ~named.exists())).rowcount
                for chunk in chunks(keys)
            )

    def count_clips(self, game_id: str | None = None, period: str | None = None) -> int:
        query = select(func.count()).select_from(Clip)
        if game_id is not None:
            query = query.where(Clip.game_id == game_id)
        if period is not None:
            query = query.where(Clip.period == period)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def clips(self, game_id: str | None = None, period: str | None = None) -> list[dict]:
        query = select(Clip).order_by(Clip.game_id, Clip.period, Clip.start_frame, Clip.event_id)
        if game_id is not None:
            query = query.where(Clip.game_id == game_id)
        if period is not None:
            query = query.where(Clip.period == period)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def dispose(self) -> None:
        self.engine.dispose()
