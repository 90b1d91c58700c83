"""A query turned into SQL conditions on the clips table, and the games it keeps.

Game filters (ids, dates, "last N games") are resolved here against the
schedule, so a search reads only the games it needs; the visibility rule of
:mod:`.access` is one more condition. Game order (schedule date, then id;
games the schedule does not list come last) is defined here too, for pages
and stats alike.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, exists, false, func, select

from hb_clips_assets.domain import vocabulary
from hb_clips_assets.retrieval.access import visibility_condition
from hb_clips_assets.retrieval.query import ClipQuery, QueryError, normalize_query, unknown_event_type_error
from hb_clips_assets.retrieval.references import References
from hb_clips_assets.retrieval.teams import known_team, normalize_team
from hb_clips_assets.storage.index.models import Clip, ClipTag


def engine_of(engine_or_index) -> Engine:
    return getattr(engine_or_index, "engine", engine_or_index)


@dataclass(frozen=True)
class Plan:
    query: ClipQuery  # normalized
    conditions: list
    games: tuple[str, ...] | None  # None: no restriction by game


def game_sort_key(game_id: str, refs: References) -> tuple:
    date = refs.game_date(game_id)
    return (date is None, date or "", game_id)


def _subject_team(query: ClipQuery, refs: References) -> str | None:
    """The team whose "last N games" are meant."""
    if query.last_games_of:
        code = known_team(query.last_games_of)
        if code is not None:
            return code
        teams = {refs.team_of(pid) for pid in refs.resolve_player(query.last_games_of)}
        if len(teams) == 1 and None not in teams:
            return teams.pop()
        try:  # a team code outside the NHL table
            return normalize_team(query.last_games_of)
        except ValueError:
            raise QueryError(
                f"last_games_of {query.last_games_of!r} is neither a team nor a player of roster.csv"
            ) from None
    if len(query.teams) == 1:
        return query.teams[0]
    if query.players:
        teams = {refs.team_of(pid) for pid in query.players}
        if len(teams) == 1 and None not in teams:
            return teams.pop()
    return None


def _indexed_games(engine: Engine, game_ids: Iterable[str]) -> set[str]:
    game_ids = list(game_ids)
    if not game_ids:
        return set()
    with engine.connect() as conn:
        return set(conn.execute(select(Clip.game_id).where(Clip.game_id.in_(game_ids)).distinct()).scalars())


def _last_games(engine: Engine, query: ClipQuery, refs: References, as_of: dt.date) -> list[str]:
    subject = _subject_team(query, refs)
    candidates = []
    for game in refs.schedule.values():
        sides = (game.home, game.away)
        if subject is not None:
            if subject not in sides:
                continue
            if query.opponents and game.opponent_of(subject) not in query.opponents:
                continue
        elif query.opponents and not set(sides) & set(query.opponents):
            continue
        if query.date_from and game.date < query.date_from.isoformat():
            continue
        if query.date_to and game.date > query.date_to.isoformat():
            continue
        candidates.append(game)
    future = [g.game_id for g in candidates if g.date > as_of.isoformat()]
    played_anyway = _indexed_games(engine, future) if future else set()
    played = [g for g in candidates if g.date <= as_of.isoformat() or g.game_id in played_anyway]
    played.sort(key=lambda g: (g.date, g.game_id), reverse=True)
    return [g.game_id for g in played[: query.last_games]]


def _check_event_types(engine: Engine, event_types: tuple[str, ...], visible) -> None:
    """Refuse an event type no clip has and the vocabulary does not know, rather than find nothing.

    Types outside the vocabulary stay valid where the index holds them (the
    CSVs may bring their own); the index is asked only when there is one,
    and only about what the caller may see.
    """
    unknown = [t for t in event_types if t not in vocabulary.EVENT_TYPES]
    if not unknown:
        return
    stmt = select(Clip.event_type).distinct()
    if visible is not None:
        stmt = stmt.where(visible)
    with engine.connect() as conn:
        indexed = set(conn.execute(stmt).scalars())
    for event_type in unknown:
        if event_type not in indexed:
            raise unknown_event_type_error(event_type, indexed)


def plan(engine: Engine, query: ClipQuery, refs: References, visible_teams: Collection[str] | None,
         as_of: dt.date | None) -> Plan:
    query, player_ids = normalize_query(query, refs)
    visible = visibility_condition(visible_teams, refs)
    _check_event_types(engine, query.event_types, visible)
    conditions = []
    if player_ids:
        conditions.append(Clip.player_id.in_(player_ids))
    if query.teams:
        conditions.append(Clip.team.in_(query.teams))
    if query.opponents:
        conditions.append(Clip.opponent.in_(query.opponents))
    if query.periods:
        conditions.append(Clip.period.in_(query.periods))
    if query.event_types:
        conditions.append(Clip.event_type.in_(query.event_types))
    if query.zones:
        conditions.append(Clip.zone.in_(query.zones))
    if query.strengths:
        conditions.append(func.lower(Clip.strength).in_([s.lower() for s in query.strengths]))
    if query.outcomes:
        conditions.append(
            exists().where(
                ClipTag.clip_id == Clip.clip_id, ClipTag.tag == "outcome", func.lower(ClipTag.value).in_(query.outcomes)
            )
        )
    if visible is not None:
        conditions.append(visible)

    games: set[str] | None = None
    if query.game_ids:
        games = set(query.game_ids)
    if query.date_from or query.date_to:
        lo = query.date_from.isoformat() if query.date_from else ""
        hi = query.date_to.isoformat() if query.date_to else "9999-12-31"
        dated = {g.game_id for g in refs.schedule.values() if lo <= g.date <= hi}
        games = dated if games is None else games & dated
    if query.last_games:
        recent = set(_last_games(engine, query, refs, as_of or dt.date.today()))
        games = recent if games is None else games & recent
    ordered = None
    if games is not None:
        ordered = tuple(sorted(games, key=lambda g: game_sort_key(g, refs)))
        conditions.append(Clip.game_id.in_(ordered) if ordered else false())
    return Plan(query, conditions, ordered)
