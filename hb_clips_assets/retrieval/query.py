"""What to find: :class:`ClipQuery`, its errors, and the normalizers of its fields.

Every field value goes through the vocabulary (:mod:`.vocabulary`) the
plain-language parser reads too, so a flag means what the same words mean in
a request. Only the event-type check against the index is left to the plan
(:mod:`.plan`): it needs the index.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hb_clips_assets.domain.contract import ContractError, normalize_period, snake_case, validate_game_id
from hb_clips_assets.domain import vocabulary
from hb_clips_assets.retrieval.teams import normalize_team

if TYPE_CHECKING:  # references.py raises QueryError: a runtime import would be circular
    from hb_clips_assets.retrieval.references import References

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PAGE_FIELDS = ("limit", "offset", "after")  # which page of the results, not which results


class QueryError(ValueError):
    """A filter that cannot be applied (unknown team, bad period, bad date, bad page)."""


@dataclass(frozen=True)
class ClipQuery:
    """What to find. Values within one field are alternatives (OR); fields combine (AND).

    ``players`` holds player ids, names or aliases (resolved with the roster).
    ``teams`` is the acting player's team, ``opponents`` the other team.
    ``event_types`` holds event types or any of their names; one name may
    stand for several stored types ("turnovers": giveaway and takeaway).
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
    # The page after this one: the opaque cursor of a page's ``next_after`` (keyset paging; see
    # retrieval.pages). It costs the same on page 1 and page 10,000; ``offset`` costs more the deeper.
    after: str | None = None

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
            if key in PAGE_FIELDS:
                continue
            if value not in ([], None, False):
                parts.append(f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}")
        return " ".join(parts) or "(no filters: every clip)"


# --------------------------------------------------------------------------- one field value


def event_types_of(text: str) -> tuple[str, ...]:
    """An event type or any name of one -> the stored types it means.

    A name the vocabulary does not know is kept in the CSVs' snake_case form:
    the data may hold types of its own, which the plan checks against the index.
    """
    types = vocabulary.lookup("event", text)
    if types is not None:
        return types
    key = snake_case(text)
    if not key:
        raise QueryError(f"empty event type {text!r}")
    return (key,)


def unknown_event_type_error(event_type: str, indexed: set[str]) -> QueryError:
    known = sorted(vocabulary.EVENT_TYPES | indexed)
    return QueryError(
        f"no clip has event type {event_type!r}: known types are {', '.join(known)} "
        "(plurals and other names of these work too)"
    )


def normalize_zone(text: str) -> str:
    zone = vocabulary.lookup("zone", text)
    if zone is None:
        raise QueryError(f"unknown zone {text!r}: use O (offensive), D (defensive) or N (neutral)")
    return zone[0]


def normalize_strength(text: str) -> str:
    strength = vocabulary.lookup("strength", text)
    if strength is None:
        if not snake_case(text):
            raise QueryError(f"empty strength {text!r}")
        return text.strip()  # unknown strengths are kept as written (compared without case)
    return strength[0]


def normalize_outcome(text: str) -> str | None:
    """An outcome tag (lower case; the vocabulary's name where it has one); None for blank text."""
    outcome = vocabulary.lookup("outcome", text)
    if outcome is not None:
        return outcome[0]
    return text.strip().lower() or None  # outcome tags are free text in the CSVs: kept as written


def normalize_period_filter(text: str) -> str:
    code = vocabulary.period_code(text or "")
    return code if code is not None else normalize_period(text)  # the contract's error names the period


def _date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _unique(values) -> tuple:
    return tuple(dict.fromkeys(v for v in values if v is not None))


# --------------------------------------------------------------------------- the whole query


def normalize_query(query: ClipQuery, refs: "References") -> tuple[ClipQuery, list[str]]:
    """Validated, canonical query and the player ids it names."""
    try:
        periods = _unique(normalize_period_filter(p) for p in query.periods)
        teams = _unique(normalize_team(t) for t in query.teams)
        opponents = _unique(normalize_team(t) for t in query.opponents)
        game_ids = _unique(validate_game_id(g.strip()) for g in query.game_ids)
    except (ContractError, ValueError) as exc:
        raise QueryError(str(exc)) from None
    if not isinstance(query.limit, int) or not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be 1 to {MAX_LIMIT}, got {query.limit!r}")
    if not isinstance(query.offset, int) or query.offset < 0:
        raise QueryError(f"offset must be 0 or more, got {query.offset!r}")
    if query.after is not None and query.offset:
        raise QueryError("give either after (the cursor of the page before) or offset, not both")
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
        event_types=_unique(t for e in query.event_types for t in event_types_of(e)),
        zones=_unique(normalize_zone(z) for z in query.zones),
        strengths=_unique(normalize_strength(s) for s in query.strengths),
        outcomes=_unique(normalize_outcome(o) for o in query.outcomes),
    )
    return canonical, player_ids
