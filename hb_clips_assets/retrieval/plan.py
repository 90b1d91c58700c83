"""A query turned into SQL conditions on the clips table, and the games it keeps.

Game filters (ids, dates, "last N games") are resolved here against the
schedule, so a search reads only the games it needs; the visibility rule of
:mod:`.access` is one more condition. Game order (schedule date, then id;
games the schedule does not list come last) is defined here too, for pages
and stats alike.

A plan also says which per-game count table (``media.clip_stats_*``) can
answer it (:meth:`Plan.grain`): filters on player, team, opponent, event type,
strength (by event type only), games and a team key's visibility are columns
of those tables; a filter on period, zone or outcome is not, and such a plan
is counted from the clips themselves.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
import dataclasses
from dataclasses import dataclass, field

from sqlalchemy import Engine, String, Table, any_, bindparam, exists, false, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from hb_clips_assets.domain import vocabulary
from hb_clips_assets.retrieval.access import Visibility, visibility
from hb_clips_assets.retrieval.query import ClipQuery, QueryError, normalize_query, unknown_event_type_error
from hb_clips_assets.retrieval.references import References
from hb_clips_assets.retrieval.teams import known_team, normalize_team
from hb_clips_assets.storage.index.aggregates import dims_of
from hb_clips_assets.storage.index.db import reading
from hb_clips_assets.storage.index.models import AGGREGATES, TOTALS, Clip, ClipTag

GAME_STATS = AGGREGATES["clip_stats_game"]
TYPE_STATS = AGGREGATES["clip_stats_type"]


def engine_of(engine_or_index) -> Engine:
    return getattr(engine_or_index, "engine", engine_or_index)


def one_of(column, values, dialect: str):
    """``column IN values``. On PostgreSQL as ``= ANY(array)``: one parameter however many values,
    so a statement's text stays the same from one request to the next (psycopg caches its parse
    and prepares it on the server only then) and is not thousands of placeholders long."""
    values = list(values)
    if not values:
        return false()
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


@dataclass(frozen=True)
class Plan:
    query: ClipQuery  # normalized
    conditions: list  # on media.clips
    games: tuple[str, ...] | None  # None: no restriction by game
    # The filters on columns the per-game counts hold (player_id, team, opponent, event_type, strength
    # lower-cased): values by column.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    visibility: Visibility | None = None
    covered: bool = True  # no filter outside ``columns``, ``games`` and ``visibility``
    dialect: str = "sqlite"  # of the engine: how a list of values is bound (one_of)

    def one_of(self, column, values):
        return one_of(column, values, self.dialect)

    def grain(self, *output: str, part: bool = False) -> Table | None:
        """The smallest per-game count table holding the plan's filter columns and ``output``
        (columns to group by); None where the plan has to be answered from the clips.
        ``part``: the table for the filters it can hold even when the plan has others (an
        upper bound per game of what the whole plan matches)."""
        if not (self.covered or part):
            return None
        need = set(self.columns) | set(output)
        for table in AGGREGATES.values():  # fewest columns first
            if need <= set(dims_of(table)):
                return table
        return None

    def totals(self, *output: str) -> Table | None:
        """The table of totals across games (``media.clip_totals_*``) holding the plan's filter
        columns and ``output``; None where the plan names games (ids, dates, last N), is a team
        key's (visibility goes by game) or has a filter no totals table holds."""
        if self.games is not None or self.visibility is not None or not self.covered:
            return None
        need = set(self.columns) | set(output)
        for table in TOTALS.values():
            if need <= set(dims_of(table)):
                return table
        return None

    def count_grain(self) -> Table | None:
        """:meth:`grain` for counting a search's matches - except a strength without an event type
        (every 5v5 clip): its count table rows are a large share of the clips, and a capped count
        of the clips themselves is cheaper than summing them all."""
        if "strength" in self.columns and "event_type" not in self.columns:
            return None
        return self.grain()

    def within_games(self, games: Collection[str]) -> "Plan":
        """The same plan restricted to ``games`` as well (which must hold every game it matches in):
        count tables are then read a game's index range at a time."""
        games = set(games)
        kept = tuple(g for g in self.games if g in games) if self.games is not None else tuple(sorted(games))
        return dataclasses.replace(self, games=kept)

    def few_games(self) -> bool:
        """Whether the plan keeps a small share of the games (a team's, a player's, a key's, a
        short list): then every game's count is one short statement."""
        return bool({"team", "opponent", "player_id"} & set(self.columns)) or self.visibility is not None or (
            self.games is not None and len(self.games) <= 256)

    def conditions_on(self, table: Table) -> list:
        """The plan as conditions on one of its grains' tables (see :meth:`grain`)."""
        conditions = [self.one_of(table.c[column], values) for column, values in self.columns.items()]
        if self.games is not None:
            conditions.append(self.one_of(table.c.game_id, self.games))
        if self.visibility is not None:
            conditions.append(self.visibility.condition(table))
        return conditions


def game_sort_key(game_id: str, refs: References) -> tuple:
    date = refs.game_date(game_id)
    return (date is None, date or "", game_id)


def scheduled_order(refs: References) -> tuple[str, ...]:
    """The schedule's games in game order (date, then id), computed once per References.

    Kept on the References object: the read side holds one until schedule.csv
    changes, and a league's five seasons are thousands of games to sort.
    """
    stamp = (id(refs.schedule), len(refs.schedule))
    cached = refs.__dict__.get("_hb_scheduled_order")
    if cached is None or cached[0] != stamp:
        cached = (stamp, tuple(sorted(refs.schedule, key=lambda g: (refs.schedule[g].date, g))))
        refs.__dict__["_hb_scheduled_order"] = cached
    return cached[1]


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
    with reading(engine) as conn:  # the per-game counts: a row per game and side, not per clip
        # a schedule's games still to play are thousands: one array parameter (one_of)
        played = one_of(GAME_STATS.c.game_id, game_ids, engine.dialect.name)
        stmt = select(GAME_STATS.c.game_id).where(played).distinct()
        return set(conn.execute(stmt).scalars())


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


def _check_event_types(engine: Engine, event_types: tuple[str, ...], rule: Visibility | None) -> None:
    """Refuse an event type no clip has and the vocabulary does not know, rather than find nothing.

    Types outside the vocabulary stay valid where the index holds them (the
    CSVs may bring their own); the index (its per-game counts by type) is
    asked only when there is one, and only about what the caller may see.
    """
    unknown = [t for t in event_types if t not in vocabulary.EVENT_TYPES]
    if not unknown:
        return
    visible = [rule.condition(TYPE_STATS)] if rule is not None else []
    with reading(engine) as conn:
        found = set(conn.execute(
            select(TYPE_STATS.c.event_type).where(TYPE_STATS.c.event_type.in_(unknown), *visible).distinct()
        ).scalars())
        if found == set(unknown):
            return
        indexed = set(conn.execute(select(TYPE_STATS.c.event_type).where(*visible).distinct()).scalars())
    for event_type in unknown:
        if event_type not in indexed:
            raise unknown_event_type_error(event_type, indexed)


def plan(engine: Engine, query: ClipQuery, refs: References, visible_teams: Collection[str] | None,
         as_of: dt.date | None) -> Plan:
    query, player_ids = normalize_query(query, refs)
    rule = visibility(visible_teams, refs)
    _check_event_types(engine, query.event_types, rule)
    columns: dict[str, tuple[str, ...]] = {}
    if player_ids:
        columns["player_id"] = tuple(player_ids)
    if query.teams:
        columns["team"] = query.teams
    if query.opponents:
        columns["opponent"] = query.opponents
    if query.event_types:
        columns["event_type"] = query.event_types
    dialect = engine.dialect.name
    conditions = [one_of(getattr(Clip, column), values, dialect) for column, values in columns.items()]
    if query.periods:
        conditions.append(Clip.period.in_(query.periods))
    if query.zones:
        conditions.append(Clip.zone.in_(query.zones))
    if query.strengths:  # compared without case; the count tables hold it lower-cased
        columns["strength"] = tuple(dict.fromkeys(s.lower() for s in query.strengths))
        conditions.append(one_of(func.lower(Clip.strength), columns["strength"], dialect))
    if query.outcomes:
        conditions.append(
            exists().where(
                ClipTag.clip_id == Clip.clip_id, ClipTag.tag == "outcome", func.lower(ClipTag.value).in_(query.outcomes)
            )
        )
    covered = not (query.periods or query.zones or query.outcomes)
    if rule is not None:
        conditions.append(rule.condition())

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
        conditions.append(one_of(Clip.game_id, ordered, dialect))
    return Plan(query, conditions, ordered, columns, rule, covered, dialect)
