"""Finding clips in the media index: filters, order, pages, URLs.

SQLAlchemy Core over the models of :mod:`hb_clips_assets.storage.index.models`,
so the same code runs on the embedded SQLite file and on PostgreSQL. The
schedule and the roster (small CSVs) are held in memory: they turn player
names into ids, give each game its date (the order of results) and say which
games are a team's "last N".

Order: game date (schedule.csv; games it does not list come last, by id),
then period (1, 2, 3, OT), then the event's time in the period (its frame),
then event_id. Pages are cut in SQL: one grouped count per game finds the
games a page spans, then only those games' rows are read, so a page costs
the same on page 1 and page 1000 and needs no per-row date lookup.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, case, exists, false, func, or_, select

from hb_clips_assets.domain.contract import (
    ContractError,
    RosterPlayer,
    ScheduledGame,
    normalize_period,
    read_roster,
    read_schedule,
    snake_case,
    validate_game_id,
)
from hb_clips_assets.storage.index.models import Clip, ClipAsset, ClipTag
from hb_clips_assets.retrieval.teams import fold, known_team, normalize_team

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PERIOD_ORDER = {"1": 1, "2": 2, "3": 3, "OT": 4}

# Plural and everyday names of the contract's event types (explicit filters accept them too).
EVENT_SYNONYMS = {
    "exit": "zone_exit", "exits": "zone_exit", "zone_exits": "zone_exit", "breakout": "zone_exit",
    "breakouts": "zone_exit",
    "entry": "zone_entry", "entries": "zone_entry", "zone_entries": "zone_entry",
    "dump_ins": "dump_in", "dumpin": "dump_in", "dumpins": "dump_in",
    "dump_outs": "dump_out", "dumpout": "dump_out", "dumpouts": "dump_out", "clear": "dump_out", "clears": "dump_out",
    "shots": "shot", "goals": "goal", "saves": "save", "hits": "hit",
    "faceoffs": "faceoff", "face_off": "faceoff", "face_offs": "faceoff", "draw": "faceoff", "draws": "faceoff",
    "takeaways": "takeaway", "giveaways": "giveaway", "turnover": "giveaway", "turnovers": "giveaway",
    "blocked_shots": "blocked_shot", "blocks": "blocked_shot", "block": "blocked_shot",
    "missed_shots": "missed_shot", "penalties": "penalty", "passes": "pass",
    "puck_recoveries": "puck_recovery", "recovery": "puck_recovery", "recoveries": "puck_recovery",
    "shifts": "shift",
}
ZONE_SYNONYMS = {
    "o": "O", "oz": "O", "ozone": "O", "o_zone": "O", "offensive": "O", "offensive_zone": "O", "offense": "O",
    "d": "D", "dz": "D", "dzone": "D", "d_zone": "D", "defensive": "D", "defensive_zone": "D", "defense": "D",
    "n": "N", "nz": "N", "nzone": "N", "n_zone": "N", "neutral": "N", "neutral_zone": "N",
}
STRENGTH_SYNONYMS = {
    "5v5": "5v5", "5_on_5": "5v5", "even": "5v5", "even_strength": "5v5", "es": "5v5",
    "4v4": "4v4", "4_on_4": "4v4", "3v3": "3v3", "3_on_3": "3v3",
    "pp": "PP", "power_play": "PP", "powerplay": "PP",
    "pk": "PK", "penalty_kill": "PK", "shorthanded": "PK", "short_handed": "PK", "sh": "PK",
    "en": "EN", "empty_net": "EN", "emptynet": "EN",
}


class QueryError(ValueError):
    """A filter that cannot be applied (unknown team, bad period, bad date, bad page)."""


# --------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class ClipQuery:
    """What to find. Values within one field are alternatives (OR); fields combine (AND).

    ``players`` holds player ids, names or aliases (resolved with the roster).
    ``teams`` is the acting player's team, ``opponents`` the other team.
    ``last_games`` keeps the N most recent games (schedule.csv) of
    ``last_games_of`` (a team or a player), or, when that is not given, of
    the one team or one player's team the other filters name; with neither,
    the N most recent games overall. A game counts once it has been played:
    its date is today or earlier (``as_of``), or it already has clips.
    """

    players: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    opponents: tuple[str, ...] = ()
    game_ids: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    last_games: int | None = None
    last_games_of: str | None = None
    periods: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    strengths: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    newest_first: bool = False
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def merged(self, other: "ClipQuery") -> "ClipQuery":
        """This query with every field ``other`` sets (non-empty, or a non-default page) taken from it."""
        changes = {}
        for f in dataclasses.fields(self):
            value = getattr(other, f.name)
            default = f.default
            if value not in ((), None) and value != default:
                changes[f.name] = value
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def describe(self) -> str:
        """The non-default filters, as ``name=value`` pairs."""
        parts = []
        for key, value in self.to_dict().items():
            if key in ("limit", "offset"):
                continue
            if value not in ([], None, False):
                parts.append(f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}")
        return " ".join(parts) or "(no filters: every clip)"


def normalize_event_type(text: str) -> str:
    key = snake_case(text)
    if not key:
        raise QueryError(f"empty event type {text!r}")
    return EVENT_SYNONYMS.get(key, key)


def normalize_zone(text: str) -> str:
    zone = ZONE_SYNONYMS.get(snake_case(text))
    if zone is None:
        raise QueryError(f"unknown zone {text!r}: use O (offensive), D (defensive) or N (neutral)")
    return zone


def normalize_strength(text: str) -> str:
    key = snake_case(text)
    strength = STRENGTH_SYNONYMS.get(key)
    if strength is None:
        if not key:
            raise QueryError(f"empty strength {text!r}")
        return text.strip()  # unknown strengths are kept as written (compared without case)
    return strength


def _date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


# --------------------------------------------------------------------------- schedule and roster


@dataclass
class References:
    """schedule.csv and roster.csv, in memory (a few thousand rows at most)."""

    schedule: dict[str, ScheduledGame] = field(default_factory=dict)
    roster: dict[str, RosterPlayer] = field(default_factory=dict)

    def __post_init__(self):
        self._by_name: dict[str, list[str]] = {}
        for player in self.roster.values():
            for name in player.names:
                ids = self._by_name.setdefault(fold(name), [])
                if player.player_id not in ids:
                    ids.append(player.player_id)

    @classmethod
    def load(cls, data_root: Path | str) -> "References":
        """Read ``schedule.csv`` and ``roster.csv`` of a data root (either may be missing)."""
        root = Path(data_root)
        schedule = read_schedule(root / "schedule.csv") if (root / "schedule.csv").exists() else {}
        roster = read_roster(root / "roster.csv") if (root / "roster.csv").exists() else {}
        return cls(schedule, roster)

    def players_named(self, text: str) -> list[str]:
        """Ids of the players whose name or alias is ``text`` (case and accents ignored)."""
        return list(self._by_name.get(fold(text), []))

    def resolve_player(self, text: str) -> list[str]:
        """A player id, name or alias -> player ids. An id the roster does not list is kept as is."""
        text = text.strip()
        if not text:
            raise QueryError("empty player filter")
        if text in self.roster:
            return [text]
        return self.players_named(text) or [text]

    def team_of(self, player_id: str) -> str | None:
        player = self.roster.get(player_id)
        return player.team if player else None

    def game_date(self, game_id: str) -> str | None:
        game = self.schedule.get(game_id)
        return game.date if game else None

    def name_of(self, player_id: str) -> str | None:
        player = self.roster.get(player_id)
        return player.name if player else None


def _as_references(schedule, roster) -> References:
    if isinstance(schedule, References):
        return schedule
    return References(dict(schedule or {}), dict(roster or {}))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AssetLink:
    kind: str
    object_key: str
    url: str
    bytes: int
    sha256: str
    content_type: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ClipResult:
    clip_id: str
    game_id: str
    game_date: str | None
    period: str
    event_id: str
    event_type: str
    player_id: str
    player_name: str | None
    team: str
    opponent: str | None
    zone: str | None
    strength: str | None
    timecode: str | None
    event_frame: int
    start_frame: int
    end_frame: int
    fps_num: int
    fps_den: int
    start_s: float
    end_s: float
    duration_s: float
    source_uri: str
    created_at: str | None
    tags: dict[str, str]
    assets: dict[str, AssetLink]

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def event_s(self) -> float:
        """The event's time in the period video, in seconds."""
        return float(Fraction(self.event_frame) / self.fps)

    def url(self, kind: str = "mp4") -> str | None:
        asset = self.assets.get(kind)
        return asset.url if asset else None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "assets"}
        out["event_s"] = round(self.event_s, 6)
        out["assets"] = {kind: a.to_dict() for kind, a in sorted(self.assets.items())}
        return out


@dataclass(frozen=True)
class ClipPage:
    items: list[ClipResult]
    total: int
    limit: int
    offset: int
    query: ClipQuery
    games: tuple[str, ...] | None = None  # the games the game filters (ids, dates, last N) came to; None: any

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.items)
        return end if end < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.next_offset,
            "games": list(self.games) if self.games is not None else None,
            "query": self.query.to_dict(),
            "items": [c.to_dict() for c in self.items],
        }


UrlFor = Callable[[str, str, str], str]  # (kind, object_key, recorded uri) -> URL


def store_url_for(store, expires_s: int | None = None) -> UrlFor:
    """URLs from an object store: its ``signed_url(key, expires_s)`` where it has
    one (a V4 signed URL on GCS), else its ``uri(key)``."""
    signed = getattr(store, "signed_url", None)

    def url_for(_kind: str, key: str, recorded_uri: str) -> str:
        if signed is not None:
            try:
                return signed(key, expires_s)
            except Exception:  # noqa: BLE001 - no signing key configured: fall back to the plain URI
                pass
        uri = getattr(store, "uri", None)
        return uri(key) if uri is not None else recorded_uri

    return url_for


def _recorded_url(_kind: str, _key: str, uri: str) -> str:
    return uri


# --------------------------------------------------------------------------- the search


def _engine(engine_or_index) -> Engine:
    return getattr(engine_or_index, "engine", engine_or_index)


@dataclass(frozen=True)
class _Plan:
    query: ClipQuery
    conditions: list
    games: tuple[str, ...] | None  # None: no restriction by game


def _normalized(query: ClipQuery, refs: References) -> tuple[ClipQuery, list[str]]:
    """Validated, canonical query and the player ids it names."""
    try:
        periods = tuple(dict.fromkeys(normalize_period(p) for p in query.periods))
        teams = tuple(dict.fromkeys(normalize_team(t) for t in query.teams))
        opponents = tuple(dict.fromkeys(normalize_team(t) for t in query.opponents))
        game_ids = tuple(dict.fromkeys(validate_game_id(g.strip()) for g in query.game_ids))
    except (ContractError, ValueError) as exc:
        raise QueryError(str(exc)) from None
    if not isinstance(query.limit, int) or not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be 1 to {MAX_LIMIT}, got {query.limit!r}")
    if not isinstance(query.offset, int) or query.offset < 0:
        raise QueryError(f"offset must be 0 or more, got {query.offset!r}")
    if query.last_games is not None and (not isinstance(query.last_games, int) or query.last_games < 1):
        raise QueryError(f"last_games must be 1 or more, got {query.last_games!r}")
    date_from, date_to = _date(query.date_from, "date_from"), _date(query.date_to, "date_to")
    if date_from and date_to and date_from > date_to:
        raise QueryError(f"date_from {date_from} is after date_to {date_to}")
    player_ids = list(dict.fromkeys(pid for p in query.players for pid in refs.resolve_player(p)))
    canonical = dataclasses.replace(
        query,
        players=tuple(player_ids),
        teams=teams,
        opponents=opponents,
        game_ids=game_ids,
        date_from=date_from,
        date_to=date_to,
        periods=periods,
        event_types=tuple(dict.fromkeys(normalize_event_type(e) for e in query.event_types)),
        zones=tuple(dict.fromkeys(normalize_zone(z) for z in query.zones)),
        strengths=tuple(dict.fromkeys(normalize_strength(s) for s in query.strengths)),
        outcomes=tuple(dict.fromkeys(o.strip().lower() for o in query.outcomes if o.strip())),
    )
    return canonical, player_ids


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


def _visibility(visible_teams: Collection[str] | None, refs: References):
    """Clips of games a team-limited caller may see: its team acts or is the
    opponent, or the schedule lists the game as the team's."""
    if visible_teams is None:
        return None
    teams = sorted({t.upper() for t in visible_teams})
    if not teams:
        return false()
    games = sorted(g.game_id for g in refs.schedule.values() if g.home in teams or g.away in teams)
    parts = [Clip.team.in_(teams), Clip.opponent.in_(teams)]
    if games:
        parts.append(Clip.game_id.in_(games))
    return or_(*parts)


def _plan(engine: Engine, query: ClipQuery, refs: References, visible_teams, as_of: dt.date | None) -> _Plan:
    query, player_ids = _normalized(query, refs)
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
    visible = _visibility(visible_teams, refs)
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
        ordered = tuple(sorted(games, key=lambda g: _game_sort_key(g, refs)))
        conditions.append(Clip.game_id.in_(ordered) if ordered else false())
    return _Plan(query, conditions, ordered)


def _game_sort_key(game_id: str, refs: References) -> tuple:
    date = refs.game_date(game_id)
    return (date is None, date or "", game_id)


def _ordered_games(counts: dict[str, int], refs: References, newest_first: bool) -> list[str]:
    games = sorted(counts, key=lambda g: _game_sort_key(g, refs))
    if newest_first:
        dated = [g for g in games if refs.game_date(g) is not None]
        games = dated[::-1] + [g for g in games if refs.game_date(g) is None]
    return games


def _assets_and_tags(conn, clip_ids: list[str]) -> tuple[dict[str, list[dict]], dict[str, dict[str, str]]]:
    assets: dict[str, list[dict]] = {}
    tags: dict[str, dict[str, str]] = {}
    if not clip_ids:
        return assets, tags
    for row in conn.execute(
        select(ClipAsset.__table__).where(ClipAsset.clip_id.in_(clip_ids)).order_by(ClipAsset.clip_id, ClipAsset.kind)
    ).mappings():
        assets.setdefault(row["clip_id"], []).append(dict(row))
    for row in conn.execute(
        select(ClipTag.__table__).where(ClipTag.clip_id.in_(clip_ids)).order_by(ClipTag.clip_id, ClipTag.tag)
    ).mappings():
        tags.setdefault(row["clip_id"], {})[row["tag"]] = row["value"]
    return assets, tags


def _result(row, refs: References, assets: list[dict], tags: dict[str, str], url_for: UrlFor) -> ClipResult:
    created = row["created_at"]
    return ClipResult(
        clip_id=row["clip_id"],
        game_id=row["game_id"],
        game_date=refs.game_date(row["game_id"]),
        period=row["period"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        player_id=row["player_id"],
        player_name=refs.name_of(row["player_id"]),
        team=row["team"],
        opponent=row["opponent"],
        zone=row["zone"],
        strength=row["strength"],
        timecode=row["timecode"],
        event_frame=row["event_frame"],
        start_frame=row["start_frame"],
        end_frame=row["end_frame"],
        fps_num=row["fps_num"],
        fps_den=row["fps_den"],
        start_s=row["start_s"],
        end_s=row["end_s"],
        duration_s=row["duration_s"],
        source_uri=row["source_uri"],
        created_at=created.isoformat() if created is not None else None,
        tags=dict(tags),
        assets={
            a["kind"]: AssetLink(
                a["kind"], a["object_key"], url_for(a["kind"], a["object_key"], a["uri"]), a["bytes"], a["sha256"],
                a["content_type"],
            )
            for a in assets
        },
    )


def _row_order(games: list[str]):
    rank = {g: i for i, g in enumerate(games)}
    order = []
    if len(games) > 1:
        order.append(case(rank, value=Clip.game_id, else_=len(games)))
    order += [
        case(PERIOD_ORDER, value=Clip.period, else_=len(PERIOD_ORDER) + 1),
        Clip.period,
        Clip.event_frame,
        Clip.event_id,
        Clip.clip_id,
    ]
    return order


def find_clips(
    engine_or_index,
    query: ClipQuery,
    schedule: dict[str, ScheduledGame] | References | None = None,
    roster: dict[str, RosterPlayer] | None = None,
    *,
    store=None,
    url_expires_s: int | None = None,
    url_for: UrlFor | None = None,
    visible_teams: Collection[str] | None = None,
    as_of: dt.date | None = None,
) -> ClipPage:
    """One page of the clips that match ``query``, in order, with their asset URLs.

    ``schedule``/``roster``: dicts from :func:`read_schedule`/:func:`read_roster`,
    or one :class:`References`. URLs come from ``url_for`` if given, else from
    ``store`` (see :func:`store_url_for`), else the URI the index recorded.
    ``visible_teams``: only clips of these teams' games (None: all).
    """
    refs = _as_references(schedule, roster)
    engine = _engine(engine_or_index)
    plan = _plan(engine, query, refs, visible_teams, as_of)
    query = plan.query
    url_for = url_for or (store_url_for(store, url_expires_s) if store is not None else _recorded_url)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(Clip.game_id, func.count()).where(*plan.conditions).group_by(Clip.game_id)).all()
        )
        total = sum(counts.values())
        games = _ordered_games(counts, refs, query.newest_first)
        # the games the page [offset, offset + limit) spans, and where it starts in the first
        page_games: list[str] = []
        skip = 0
        position = 0
        for game in games:
            n = counts[game]
            if position + n > query.offset and position < query.offset + query.limit:
                if not page_games:
                    skip = query.offset - position
                page_games.append(game)
            position += n
            if position >= query.offset + query.limit:
                break
        rows = []
        if page_games:
            stmt = (
                select(Clip.__table__)
                .where(*plan.conditions, Clip.game_id.in_(page_games))
                .order_by(*_row_order(page_games))
                .offset(skip)
                .limit(query.limit)
            )
            rows = conn.execute(stmt).mappings().all()
        assets, tags = _assets_and_tags(conn, [r["clip_id"] for r in rows])
    items = [_result(r, refs, assets.get(r["clip_id"], []), tags.get(r["clip_id"], {}), url_for) for r in rows]
    return ClipPage(items, total, query.limit, query.offset, query, plan.games)


def iter_clips(engine_or_index, query: ClipQuery, schedule=None, roster=None, **kwargs) -> Iterable[ClipResult]:
    """Every clip that matches ``query`` from its offset on (page after page), for exports."""
    page_size = MAX_LIMIT
    offset = query.offset
    while True:
        page = find_clips(
            engine_or_index, dataclasses.replace(query, offset=offset, limit=page_size), schedule, roster, **kwargs
        )
        yield from page.items
        if page.next_offset is None or not page.items:
            return
        offset = page.next_offset


def get_clip(
    engine_or_index,
    clip_id: str,
    schedule: dict[str, ScheduledGame] | References | None = None,
    roster: dict[str, RosterPlayer] | None = None,
    *,
    store=None,
    url_expires_s: int | None = None,
    url_for: UrlFor | None = None,
    visible_teams: Collection[str] | None = None,
) -> ClipResult | None:
    """One clip with its tags and asset URLs; None if there is none (or the caller may not see it)."""
    refs = _as_references(schedule, roster)
    engine = _engine(engine_or_index)
    url_for = url_for or (store_url_for(store, url_expires_s) if store is not None else _recorded_url)
    conditions = [Clip.clip_id == clip_id]
    visible = _visibility(visible_teams, refs)
    if visible is not None:
        conditions.append(visible)
    with engine.connect() as conn:
        row = conn.execute(select(Clip.__table__).where(*conditions)).mappings().first()
        if row is None:
            return None
        assets, tags = _assets_and_tags(conn, [clip_id])
    return _result(row, refs, assets.get(clip_id, []), tags.get(clip_id, {}), url_for)


def asset_by_key(engine_or_index, object_key: str) -> tuple[dict, dict] | None:
    """(asset row, clip row) of the object stored under ``object_key``, or None."""
    engine = _engine(engine_or_index)
    with engine.connect() as conn:
        asset = conn.execute(select(ClipAsset.__table__).where(ClipAsset.object_key == object_key)).mappings().first()
        if asset is None:
            return None
        clip = conn.execute(select(Clip.__table__).where(Clip.clip_id == asset["clip_id"])).mappings().first()
    return (dict(asset), dict(clip)) if clip is not None else None


def clip_visible(clip_row: dict, visible_teams: Collection[str] | None, refs: References) -> bool:
    """The same rule as the SQL visibility filter, for one clip row in hand."""
    if visible_teams is None:
        return True
    teams = {t.upper() for t in visible_teams}
    game = refs.schedule.get(clip_row["game_id"])
    return bool(
        clip_row["team"] in teams or clip_row["opponent"] in teams or (game and {game.home, game.away} & teams)
    )


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
    refs = _as_references(schedule, roster)
    engine = _engine(engine_or_index)
    plan = _plan(engine, query, refs, visible_teams, as_of)
    where = and_(*plan.conditions) if plan.conditions else None

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
    games = sorted(by_game, key=lambda r: _game_sort_key(r[0], refs))
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
        "query": plan.query.to_dict(),
    }
