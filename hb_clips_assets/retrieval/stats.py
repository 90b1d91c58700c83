"""An overview of the clips a query matches: counts by game, event type and player, duration, bytes."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, func, select

from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame
from hb_clips_assets.retrieval.plan import engine_of, game_sort_key, plan
from hb_clips_assets.retrieval.query import ClipQuery
from hb_clips_assets.retrieval.references import References, as_references
from hb_clips_assets.storage.index.models import Clip, ClipAsset


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
    where = and_(*planned.conditions) if planned.conditions else None

    def grouped(conn, column):
        stmt = select(column, func.count(), func.coalesce(func.sum(Clip.duration_s), 0.0)).group_by(column)
        if where is not None:
            stmt = stmt.where(where)
        return conn.execute(stmt).all()

    with engine.connect() as conn:
        by_game = grouped(conn, Clip.game_id)
        by_type = grouped(conn, Clip.event_type)
        by_player = grouped(conn, Clip.player_id)
        bytes_stmt = (
            select(ClipAsset.kind, func.count(), func.coalesce(func.sum(ClipAsset.bytes), 0))
            .join(Clip, Clip.clip_id == ClipAsset.clip_id)
            .group_by(ClipAsset.kind)
        )
        if where is not None:
            bytes_stmt = bytes_stmt.where(where)
        by_kind = conn.execute(bytes_stmt).all()
    games = sorted(by_game, key=lambda r: game_sort_key(r[0], refs))
    return {
        "clips": sum(r[1] for r in by_game),
        "duration_s": round(sum(float(r[2]) for r in by_game), 3),
        "bytes": int(sum(int(r[2]) for r in by_kind)),
        "bytes_by_kind": {k: {"objects": n, "bytes": int(b)} for k, n, b in sorted(by_kind)},
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
