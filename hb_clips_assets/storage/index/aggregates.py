"""The counts kept per game (``media.clip_stats_*``) and across games (``media.clip_totals_*``,
both declared in :mod:`.models`): how they are computed.

A game's rows are recomputed from ``media.clips`` (and ``media.clip_assets``)
rather than adjusted by deltas: a partition write already holds the game's
lock and its clips are a few hundred rows, so the recount is cheap, and the
tables can never drift from a ``GROUP BY`` over the clips - whatever the write
replaced, removed or moved. The totals across games cannot be recounted per
write (they sum every game): the write adds what its games' per-game rows
changed by. :func:`refresh_games` runs inside the partition write's
transaction; :func:`rebuild` recounts everything (after a bulk load that
bypassed the repository, such as the query bench's COPY).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from hb_clips_assets.storage.index.models import AGGREGATES, TOTAL_GRAINS, TOTALS, Clip, ClipAsset, measures_of

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
    cols = [(source[d] if d in source else clips.c[d]).label(d) for d in dims]
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


def _summed(name: str, where=None):
    """The per-game table's rows summed as the totals table ``name`` keeps them ('' for NULL)."""
    source_name, dims = TOTAL_GRAINS[name]
    src = AGGREGATES[source_name]
    cols = [func.coalesce(src.c[d], "") if src.c[d].nullable else src.c[d] for d in dims]
    stmt = select(*cols, *(func.sum(src.c[m]) for m in measures_of(dims))).group_by(*cols)
    return stmt.where(where) if where is not None else stmt


def _contributions(conn: Connection, games: list[str]) -> dict[str, dict[tuple, tuple]]:
    """What these games add to each totals table, key by key."""
    out = {}
    for name in TOTALS:
        src = AGGREGATES[TOTAL_GRAINS[name][0]]
        out[name] = {tuple(r[:-2]): (r[-2], r[-1]) for r in conn.execute(_summed(name, src.c.game_id.in_(games)))}
    return out


def _add_to_totals(conn: Connection, before: dict, after: dict) -> None:
    """Add ``after`` - ``before`` to the totals, a key at a time in key order.

    Every writer takes the totals' row locks in that one order (tables, then keys), last in its
    transaction: two partition writes of different games wait for each other, never deadlock. A
    key whose count reaches 0 is deleted (only keys this write holds).
    """
    for name, table in TOTALS.items():
        dims = TOTAL_GRAINS[name][1]
        n, m = measures_of(dims)
        old, new = before[name], after[name]
        deltas = []
        for key in sorted(old.keys() | new.keys()):
            (n0, m0), (n1, m1) = old.get(key, (0, 0)), new.get(key, (0, 0))
            if (n1 - n0, m1 - m0) != (0, 0):
                deltas.append((key, n1 - n0, m1 - m0))
        if not deltas:
            continue
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(table)
        upsert = upsert.on_conflict_do_update(
            index_elements=list(dims), set_={n: table.c[n] + upsert.excluded[n], m: table.c[m] + upsert.excluded[m]})
        for chunk in chunks(deltas):
            conn.execute(upsert, [dict(zip(dims, key), **{n: dn, m: dm}) for key, dn, dm in chunk])
        gone = [dict(zip(dims, key)) for key, dn, _dm in deltas if dn < 0]
        if gone:
            empty = delete(table).where(*(table.c[d] == bindparam(f"k_{d}") for d in dims), table.c[n] <= 0)
            conn.execute(empty, [{f"k_{d}": v for d, v in key.items()} for key in gone])


def refresh_games(conn: Connection, game_ids: Iterable[str]) -> None:
    """Recompute every per-game row of these games from their clips, and add the difference to the
    totals across games (inside the caller's transaction)."""
    games = sorted(set(game_ids))
    before = _contributions(conn, games)
    for chunk in chunks(games):
        for table in AGGREGATES.values():
            conn.execute(delete(table).where(table.c.game_id.in_(chunk)))
            _fill(conn, table, Clip.game_id.in_(chunk))
    _add_to_totals(conn, before, _contributions(conn, games))


def rebuild(conn: Connection) -> None:
    """Recompute every per-game row and every total from all clips (inside the caller's transaction)."""
    for table in AGGREGATES.values():
        conn.execute(delete(table))
        _fill(conn, table)
    for name, table in TOTALS.items():
        conn.execute(delete(table))
        conn.execute(insert(table).from_select([c.name for c in table.c], _summed(name)))
