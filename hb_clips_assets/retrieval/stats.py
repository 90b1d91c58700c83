"""An overview of the clips a query matches: counts by game, event type and player, duration, bytes.

Each part is summed from the totals across games (``media.clip_totals_*``,
:meth:`Plan.totals`) where the query names no games and is no team key's: a
team's overview by event type, player and asset kind reads its opponents x
types, the same at one season or five; by game it reads the per-game table (a
row per game and side). Otherwise from the smallest per-game count table
(``media.clip_stats_*``, :meth:`Plan.grain`) that holds the query's filters and
the part's column, so it reads the games' rows of those tables, not their
clips. Where no table holds them - a filter on period, zone or outcome; a
player's clips by asset kind; a strength with players or asset kinds - that
part is computed from the clips, as before the tables existed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, cast, func, literal, null, select, union_all

from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame
from hb_clips_assets.retrieval.plan import GAME_STATS, Plan, engine_of, game_sort_key, plan
from hb_clips_assets.storage.index.db import reading
from hb_clips_assets.retrieval.query import ClipQuery
from hb_clips_assets.retrieval.references import References, as_references
from hb_clips_assets.storage.index.models import Clip, ClipAsset


PARTS = ("game_id", "event_type", "player_id", "kind")  # by game, by event type, by player, bytes by asset kind


def _part(planned: Plan, number: int, column: str):
    """One part as (part, key, clips or objects, seconds, bytes): from the smallest count table that
    holds the plan's filters and ``column``, else from the clips. Typed NULLs: PostgreSQL's UNION
    matches the columns' types."""
    kinds = column == "kind"
    no_seconds, no_bytes = cast(null(), Float), cast(null(), BigInteger)
    table = planned.totals(column) if column != "game_id" else None
    table = table if table is not None else planned.grain(column)
    if table is not None:
        key, conditions = table.c[column], planned.conditions_on(table)
        if kinds:
            measures = (func.sum(table.c.objects), no_seconds, cast(func.sum(table.c.bytes), BigInteger))
        else:
            measures = (func.sum(table.c.clips), func.sum(table.c.duration_s), no_bytes)
        return select(literal(number, Integer), key, *measures).where(*conditions).group_by(key)
    if kinds:
        key = ClipAsset.kind
        stmt = select(literal(number, Integer), key, func.count(), no_seconds,
                      cast(func.sum(ClipAsset.bytes), BigInteger)).join(Clip, Clip.clip_id == ClipAsset.clip_id)
    else:
        key = getattr(Clip, column)
        stmt = select(literal(number, Integer), key, func.count(), func.sum(Clip.duration_s), no_bytes)
    return stmt.where(*planned.conditions).group_by(key)


def _by_visible_games(conn, planned: Plan) -> Plan:
    """A team key's plan as a list of games: the count tables are then read a game's index range at
    a time rather than by the three legs of the visibility rule (team OR opponent OR scheduled game).

    The games come from the per-game table (a row per game and side). Every row of a game the
    schedule gives the key's team is visible, so where all of them are such games the rule itself
    is no longer needed; a game found only by a side (not in the schedule) keeps it.
    """
    only = dataclasses.replace(planned, columns={})  # the games and the rule: columns GAME_STATS has
    found = conn.execute(select(GAME_STATS.c.game_id).where(*only.conditions_on(GAME_STATS)).distinct())
    visible = set(found.scalars())
    narrowed = planned.within_games(visible)
    if visible <= planned.visibility.games:
        return dataclasses.replace(narrowed, visibility=None)
    return narrowed


def clip_stats(
    engine_or_index,
    query: ClipQuery = ClipQuery(),
    schedule: dict[str, ScheduledGame] | References | None = None,
    roster: dict[str, RosterPlayer] | None = None,
    *,
    visible_teams: Collection[str] | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """Counts of the matching clips by game, event type and player, their total
    duration, and the bytes of their stored objects (by kind). Ignores the page."""
    refs = as_references(schedule, roster)
    engine = engine_of(engine_or_index)
    planned = plan(engine, query, refs, visible_teams, as_of)
    rows: list[list[tuple]] = [[] for _ in PARTS]
    with reading(engine) as conn:
        if planned.visibility is not None and planned.covered:
            planned = _by_visible_games(conn, planned)
        parts = [_part(planned, i, column) for i, column in enumerate(PARTS)]  # in one statement: one round trip
        for part, key, n, duration, size in conn.execute(union_all(*parts)).all():
            rows[part].append((key, int(n), float(duration or 0) if PARTS[part] != "kind" else int(size or 0)))
    by_game, by_type, by_player, by_kind = rows
    games = sorted(by_game, key=lambda r: game_sort_key(r[0], refs))
    return {
        "clips": sum(r[1] for r in by_game),
        "duration_s": round(sum(float(r[2]) for r in by_game), 3),
        "bytes": sum(r[2] for r in by_kind),
        "bytes_by_kind": {k: {"objects": n, "bytes": b} for k, n, b in sorted(by_kind)},
        "by_game": [
            {"game_id": g, "date": refs.game_date(g), "clips": n, "duration_s": round(float(d), 3)}
            for g, n, d in games
        ],
        "by_event_type": [
            {"event_type": t, "clips": n, "duration_s": round(float(d), 3)}
            for t, n, d in sorted(by_type, key=lambda r: (-r[1], r[0]))
        ],
        "by_player": [
            {"player_id": p, "name": refs.name_of(p), "team": refs.team_of(p), "clips": n, "duration_s": round(float(d), 3)}
            for p, n, d in sorted(by_player, key=lambda r: (-r[1], r[0]))
        ],
        "query": planned.query.to_dict(),
    }
