"""The counts kept per game (``media.clip_stats_*``, declared in :mod:`.models`): how they are computed.

A game's rows are recomputed from ``media.clips`` (and ``media.clip_assets``)
rather than adjusted by deltas: a partition write already holds the game's
lock and its clips are a few hundred rows, so the recount is cheap, and the
tables can never drift from a ``GROUP BY`` over the clips - whatever the write
replaced, removed or moved. :func:`refresh_games` runs inside the partition
write's transaction; :func:`rebuild` recounts everything (after a bulk load
that bypassed the repository, such as the query bench's COPY).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, Table, delete, func, insert, select

from hb_clips_assets.storage.index.models import AGGREGATES, Clip, ClipAsset

# Rows per statement for anything that binds one parameter per item: far below PostgreSQL's
# 65,535 bind parameters and SQLite's 32,766, for any table of ours.
CHUNK = 1000


def chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def dims_of(table: Table) -> tuple[str, ...]:
    """The grouping columns of an aggregate table (the measures are the rest)."""
    return tuple(c.name for c in table.c if c.name not in ("clips", "duration_s", "objects", "bytes"))


def source_of(table: Table):
    """The ``SELECT ... GROUP BY`` over the clips that an aggregate table stores (add a WHERE to narrow it)."""
    dims = dims_of(table)
    clips = Clip.__table__
    source = {"kind": ClipAsset.__table__.c.kind, "strength": func.lower(clips.c.strength)}  # see models.py
    cols = [source[d] if d in source else clips.c[d] for d in dims]
    if "kind" in dims:
        stmt = select(*cols, func.count(), func.coalesce(func.sum(ClipAsset.bytes), 0)).select_from(
            clips.join(ClipAsset.__table__, ClipAsset.clip_id == clips.c.clip_id)
        )
    else:
        stmt = select(*cols, func.count(), func.coalesce(func.sum(clips.c.duration_s), 0.0))
    return stmt.group_by(*cols)


def _fill(conn: Connection, table: Table, where=None) -> None:
    stmt = source_of(table)
    if where is not None:
        stmt = stmt.where(where)
    conn.execute(insert(table).from_select([c.name for c in table.c], stmt))


def refresh_games(conn: Connection, game_ids: Iterable[str]) -> None:
    """Recompute every aggregate row of these games from their clips (inside the caller's transaction)."""
    for chunk in chunks(sorted(set(game_ids))):
        for table in AGGREGATES.values():
            conn.execute(delete(table).where(table.c.game_id.in_(chunk)))
            _fill(conn, table, Clip.game_id.in_(chunk))


def rebuild(conn: Connection) -> None:
    """Recompute every aggregate row from all clips (inside the caller's transaction)."""
    for table in AGGREGATES.values():
        conn.execute(delete(table))
        _fill(conn, table)
