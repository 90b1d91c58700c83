"""Plain hockey language -> :class:`ClipQuery`, with no model and no network.

Long module: the parser is one state machine, ``_Parser``, whose grammar
handlers share its tokens and results; split up, one grammar would be read
across files.

"Show me d-zone exits from WSH vs NYR" becomes ``zones=D, event_types=zone_exit,
teams=WSH, opponents=NYR``. The parser reads the request word by word,
longest phrase first, and sorts every word into one of three lists:

- ``understood``: the words it turned into a filter, with what they mean;
- ``filler``: words that mean nothing to a search ("show", "me", "all", "the");
- ``ignored``: every other word - ones it does not know, and ones it knows
  but cannot apply ("not", "home"), so nothing that may change the meaning is
  ever dropped silently. ``notes`` says why where it can.

Vocabulary (:mod:`hb_clips_assets.domain.vocabulary`, shared with the explicit filters): zones
(d-zone / defensive zone / DZ, o-zone / ozone / OZ, neutral zone), event
types (zone exits / breakouts, zone entries, dump-ins, shots, goals, faceoffs, takeaways, giveaways, hits, saves, blocked and missed
shots, penalties, passes, recoveries, shifts), strengths (5v5, power play / PP,
penalty kill / PK, 4v4, 3v3, empty net), outcomes (controlled, failed, won,
lost, ...), the 32 NHL teams by tricode, city, club name and nickname
(:mod:`.teams`), "vs" / "against" for the opponent, players by name, last
name or alias (roster.csv), "my" for the configured user's player
(``HB_USER_PLAYER_ID``), periods ("second period", "P2", "OT"), games
("game 20038"), "last game", "last five games", dates (ISO: "since
2026-11-01", "before ...", "between ... and ..."), "first 10" (a page size).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import Any

from hb_clips_assets.domain import vocabulary
from hb_clips_assets.retrieval.query import MAX_LIMIT, ClipQuery
from hb_clips_assets.retrieval.references import References
from hb_clips_assets.retrieval.teams import NHL_TEAMS, TEAM_NAMES, TEAM_NAMES_CAPITALS, fold
from hb_clips_assets.domain.vocabulary import PERIOD_CODES, PERIOD_NUMBERS, PERIOD_ORDINALS, ZONE_NAMES, phrase_key

USER_PLAYER_ENV = "HB_USER_PLAYER_ID"

# Event types, zones, strengths, outcomes and period names come from the vocabulary
# the explicit filters use too; below are only the words of the grammar.
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "couple": 2, "few": 3,
}
_GAME_WORDS = {"game", "games", "match", "matches", "outing", "outings", "contest", "contests"}
_LAST_WORDS = {"last", "past", "previous", "recent", "latest", "prior"}
_VERSUS = {"vs", "versus", "v", "against", "facing", "at", "agains", "vrs", "@"}
_NEGATIONS = {"not", "no", "except", "without", "excluding", "exclude", "but", "non", "never", "minus", "nor"}
_FILLER = set("""
show me us all the from of clips clip video videos in with and or for please find get give pull up i want to
see can you some any every each a an on by during what where which is are was were that this those these his
her their them who let look watch list display highlights highlight plays play moments moment instances events
event sequences footage film tape times did does do have has had there here just also only like would could
should need needs made make making team teams period periods game games when while then so it its be been being
into onto about over through within s thanks thank hey hi ok okay at
""".split())
_FILLER -= {"our", "my", "not", "no"}

_TOKEN = re.compile(r"\d{4}-\d{2}-\d{2}|@|[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Understood:
    text: str  # the request's words
    meaning: str  # what they became

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "meaning": self.meaning}


@dataclass
class ParsedRequest:
    request: str
    query: ClipQuery
    understood: list[Understood] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    filler: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "understood": [u.to_dict() for u in self.understood],
            "ignored": list(self.ignored),
            "filler": list(self.filler),
            "notes": list(self.notes),
            "query": self.query.to_dict(),
        }

    def summary(self) -> str:
        lines = ["understood: " + ("; ".join(f"{u.text!r} -> {u.meaning}" for u in self.understood) or "nothing")]
        lines.append("ignored: " + (", ".join(repr(w) for w in self.ignored) or "nothing"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Entry:
    kind: str  # zone, event, strength, outcome, period, team, player
    value: tuple
    rank: int  # on phrases of equal length, the lower rank wins


@dataclass
class _Token:
    text: str  # as written
    folded: str
    start: int  # where it is in the request
    end: int


def _vocabulary(refs: References) -> dict[tuple[str, ...], list[_Entry]]:
    table: dict[tuple[str, ...], list[_Entry]] = {}

    def add(phrase: str, entry: _Entry) -> None:
        key = phrase_key(phrase)
        if key and entry not in table.setdefault(key, []):
            table[key].append(entry)

    for key, term in vocabulary.TERMS.items():
        table[key] = [_Entry(term.kind, term.values, 0)]
    for name, code in TEAM_NAMES.items():
        add(name, _Entry("team", (code,), 1))
    last_names: dict[str, set[str]] = {}
    for player in refs.roster.values():
        for name in player.names:
            add(name, _Entry("player", (player.player_id,), 2))
        last_names.setdefault(fold(player.name).split()[-1], set()).add(player.player_id)
    for last, ids in last_names.items():
        if len(ids) == 1:  # a last name is a name only where one player has it
            add(last, _Entry("player", tuple(ids), 2))
    # an alias several players share stands for all of them
    for key, entries in table.items():
        players = [e for e in entries if e.kind == "player"]
        if len(players) > 1:
            merged = _Entry("player", tuple(dict.fromkeys(pid for e in players for pid in e.value)), 2)
            table[key] = [e for e in entries if e.kind != "player"] + [merged]
    return table


def _cached_vocabulary(refs: References) -> dict[tuple[str, ...], list[_Entry]]:
    """:func:`_vocabulary`, built once per References and roster: a league's roster is thousands of
    names, some 15 ms of folding, which every request would otherwise pay again."""
    stamp = (id(refs.roster), len(refs.roster))
    cached = refs.__dict__.get("_hb_vocabulary")
    if cached is None or cached[0] != stamp:
        cached = (stamp, _vocabulary(refs))
        refs.__dict__["_hb_vocabulary"] = cached
    return cached[1]


def _number(token: str) -> int | None:
    if token.isdigit() and len(token) <= 3:
        return int(token)
    return _NUMBERS.get(token)


class _Parser:
    def __init__(self, text: str, refs: References, user_player: str | None):
        self.request = text
        self.refs = refs
        # possessives: "Ovi's goals" -> "Ovi   goals" (same length: token offsets stay those of the request)
        clean = re.sub(r"['\u2019](s\b)?", lambda m: " " * len(m.group(0)), text)
        self.tokens = [
            _Token(m.group(0), fold(m.group(0)) or m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(clean)
        ]
        self.vocab = _cached_vocabulary(refs)
        self.max_len = max((len(k) for k in self.vocab), default=1)
        self.user_player = user_player
        self.out = ParsedRequest(text, ClipQuery())
        self.fields: dict[str, list] = {k: [] for k in (
            "players", "teams", "opponents", "game_ids", "periods", "event_types", "zones", "strengths", "outcomes")}
        self.scalars: dict[str, Any] = {}

    # ----------------------------------------------------------------- helpers

    def words(self, i: int, n: int) -> str:
        """The request's text of tokens ``i`` to ``i + n - 1``, as written."""
        return self.request[self.tokens[i].start : self.tokens[min(i + n, len(self.tokens)) - 1].end]

    def understood(self, i: int, n: int, meaning: str) -> None:
        self.out.understood.append(Understood(self.words(i, n), meaning))

    def add(self, name: str, values) -> None:
        for v in values:
            if v not in self.fields[name]:
                self.fields[name].append(v)

    def folded(self, i: int) -> str | None:
        return self.tokens[i].folded if i < len(self.tokens) else None

    def match(self, i: int) -> tuple[int, _Entry | None]:
        """Longest vocabulary phrase at ``i``: (length, entry)."""
        best: tuple[int, _Entry | None] = (0, None)
        for n in range(min(self.max_len, len(self.tokens) - i), 0, -1):
            key = tuple(t.folded for t in self.tokens[i : i + n])
            entries = self.vocab.get(key)
            if entries:
                best = (n, min(entries, key=lambda e: e.rank))
                break
        tok = self.tokens[i]
        if best[0] <= 1:
            code = TEAM_NAMES_CAPITALS.get(tok.text.replace(".", ""))
            if code and (best[1] is None or best[1].kind != "team"):
                if best[1] is None or tok.text.isupper():
                    best = (1, _Entry("team", (code,), 1))
            capitals = vocabulary.CAPITALS_ONLY.get(tok.text)
            if capitals and best[1] is None:
                best = (1, _Entry(*capitals, 0))
        return best

    def player_label(self, ids) -> str:
        return ", ".join(f"{pid} ({self.refs.name_of(pid)})" if self.refs.name_of(pid) else pid for pid in ids)

    # ----------------------------------------------------------------- grammar

    def try_dates(self, i: int) -> int:
        f = self.folded(i)
        date_at = lambda j: (  # noqa: E731
            _iso(self.tokens[j].text) if j < len(self.tokens) else None
        )
        if f == "between" and date_at(i + 1) and self.folded(i + 2) in ("and", "to") and date_at(i + 3):
            lo, hi = sorted((date_at(i + 1), date_at(i + 3)))
            self.scalars["date_from"], self.scalars["date_to"] = lo, hi
            self.understood(i, 4, f"games from {lo} to {hi}")
            return 4
        if f in ("since", "after", "from", "starting") and date_at(i + 1):
            d = date_at(i + 1) + dt.timedelta(days=1 if f == "after" else 0)
            self.scalars["date_from"] = d
            self.understood(i, 2, f"games on or after {d}")
            return 2
        if f in ("before", "until", "till", "through", "to", "by") and date_at(i + 1):
            d = date_at(i + 1) - dt.timedelta(days=1 if f == "before" else 0)
            self.scalars["date_to"] = d
            self.understood(i, 2, f"games on or before {d}")
            return 2
        if date_at(i):
            d = date_at(i)
            self.scalars["date_from"] = self.scalars["date_to"] = d
            self.understood(i, 1, f"games on {d}")
            return 1
        if _DATE_LIKE.fullmatch(self.tokens[i].text):
            self.out.notes.append(f"{self.tokens[i].text!r} is not a valid date (YYYY-MM-DD)")
        return 0

    def try_last_games(self, i: int) -> int:
        f = self.folded(i)
        j = i + 1
        if f == "most" and self.folded(i + 1) in ("recent", "recently"):
            j = i + 2
        elif f not in _LAST_WORDS:
            return 0
        if f == "last" and self.folded(j) == "night":  # "last night's game"
            self.scalars["last_games"] = 1
            self.understood(i, 2, "the last game")
            return 2
        count = 1
        num = self.folded(j)
        if num == "couple" or (num == "a" and self.folded(j + 1) == "couple"):
            j += 2 if num == "a" else 1
            if self.folded(j) == "of":
                j += 1
            count = 2
        elif num is not None and _number(num) is not None:
            count = _number(num)
            j += 1
        if self.folded(j) not in _GAME_WORDS or count < 1:
            return 0
        self.scalars["last_games"] = count
        self.understood(i, j - i + 1, "the last game" if count == 1 else f"the last {count} games")
        return j - i + 1

    def try_first_n(self, i: int) -> int:
        f = self.folded(i)
        if f not in ("first", "top") or self.folded(i + 1) is None:
            return 0
        n = _number(self.folded(i + 1))
        if n is None or n < 1 or self.folded(i + 2) in _GAME_WORDS:
            return 0
        if f == "first" and self.folded(i + 2) in ("period", "periods"):
            return 0
        self.scalars["limit"] = max(1, min(n, MAX_LIMIT))
        self.understood(i, 2, f"at most {self.scalars['limit']} clips (a page of that size)")
        return 2

    def try_period(self, i: int) -> int:
        f = self.folded(i)
        nxt = self.folded(i + 1)
        if f in ("period", "periods") and nxt is not None:
            p = PERIOD_NUMBERS.get(nxt)
            if p:
                self.add("periods", [p])
                self.understood(i, 2, f"period {p}")
                return 2
            return 0
        if f in PERIOD_CODES and f not in ("ot", "overtime"):
            p = PERIOD_CODES[f]
            self.add("periods", [p])
            self.understood(i, 1, f"period {p}")
            return 1
        if f in PERIOD_ORDINALS:
            p = PERIOD_ORDINALS[f]
            if nxt in ("period", "periods", "frame", "intermission"):
                self.add("periods", [p])
                self.understood(i, 2, f"period {p}")
                return 2
            if f in ("ot", "overtime"):
                self.add("periods", [p])
                self.understood(i, 1, "period OT (overtime)")
                return 1
            if nxt in _GAME_WORDS or (nxt is not None and _number(nxt) is not None):
                return 0
            # "goals in the second", "first and second periods"
            self.add("periods", [p])
            self.understood(i, 1, f"period {p}")
            return 1
        return 0

    def try_game_id(self, i: int) -> int:
        f = self.folded(i)
        following = self.tokens[i + 1].text if i + 1 < len(self.tokens) else ""
        if f in ("game", "match") and _GAME_ID.fullmatch(following):
            gid = following
            self.add("game_ids", [gid])
            note = "" if gid in self.refs.schedule else " (not in schedule.csv)"
            self.understood(i, 2, f"game {gid}{note}")
            return 2
        tok = self.tokens[i].text
        if tok in self.refs.schedule:
            self.add("game_ids", [tok])
            g = self.refs.schedule[tok]
            self.understood(i, 1, f"game {tok} ({g.away} at {g.home}, {g.date})")
            return 1
        return 0

    def try_my(self, i: int) -> int:
        f = self.folded(i)
        if f not in ("my", "our", "mine"):
            return 0
        wants_team = f == "our" or self.folded(i + 1) in ("team", "teams", "club", "squad")
        span = 2 if f == "my" and wants_team else 1
        if not self.user_player:
            self.out.ignored.append(self.words(i, span))
            self.out.notes.append(
                f"{self.words(i, span)!r} needs the user's player: set {USER_PLAYER_ENV} to a player of roster.csv "
                "(in the API: give the key a player)"
            )
            return span
        ids = self.refs.resolve_player(self.user_player)
        if wants_team:
            teams = sorted({t for t in (self.refs.team_of(pid) for pid in ids) if t})
            if not teams:
                self.out.ignored.append(self.words(i, span))
                self.out.notes.append(f"the team of {USER_PLAYER_ENV}={self.user_player!r} is not in roster.csv")
                return span
            self.add("teams", teams)
            self.understood(i, span, f"team {', '.join(teams)} (the team of {USER_PLAYER_ENV})")
            return span
        self.add("players", ids)
        self.understood(i, 1, f"player {self.player_label(ids)} ({USER_PLAYER_ENV})")
        return 1

    def try_versus(self, i: int) -> int:
        tok = self.tokens[i]
        if tok.folded not in _VERSUS and tok.text != "@":
            return 0
        j = i + 1
        if self.folded(j) == "the":
            j += 1
        if j >= len(self.tokens):
            return 0
        n, entry = self.match(j)
        if entry is None or entry.kind not in ("team", "player"):
            return 0
        if entry.kind == "team":
            self.add("opponents", entry.value)
            self.understood(i, j - i + n, f"opponent {', '.join(entry.value)}")
        else:
            teams = sorted({t for t in (self.refs.team_of(pid) for pid in entry.value) if t})
            self.add("opponents", teams)
            self.understood(i, j - i + n, f"opponent {', '.join(teams)} (the team of {self.player_label(entry.value)})")
        return j - i + n

    def try_negation(self, i: int) -> int:
        f = self.folded(i)
        if f not in _NEGATIONS:
            return 0
        if self.match(i)[0] > 1:  # a phrase that starts with one ("without control") is a term, not a negation
            return 0
        self.out.ignored.append(self.tokens[i].text)
        self.out.notes.append(
            f"{self.tokens[i].text!r}: excluding things is not supported; what follows it is still searched for"
        )
        return 1

    def apply(self, i: int, n: int, entry: _Entry) -> None:
        if entry.kind == "zone":
            self.add("zones", entry.value)
            self.understood(i, n, f"zone {entry.value[0]} ({ZONE_NAMES[entry.value[0]]})")
        elif entry.kind == "event":
            self.add("event_types", entry.value)
            self.understood(i, n, f"event type {' or '.join(entry.value)}")
        elif entry.kind == "strength":
            self.add("strengths", entry.value)
            self.understood(i, n, f"strength {entry.value[0]}")
        elif entry.kind == "outcome":
            self.add("outcomes", entry.value)
            self.understood(i, n, f"outcome {entry.value[0]}")
        elif entry.kind == "team":
            self.add("teams", entry.value)
            code = entry.value[0]
            city, club, _ = NHL_TEAMS[code]
            self.understood(i, n, f"team {code} ({city if club in city else f'{city} {club}'})")
        elif entry.kind == "player":
            self.add("players", entry.value)
            more = " (the name is ambiguous: all of them)" if len(entry.value) > 1 else ""
            self.understood(i, n, f"player {self.player_label(entry.value)}{more}")

    def run(self) -> ParsedRequest:
        i = 0
        handlers = (self.try_dates, self.try_last_games, self.try_first_n, self.try_versus, self.try_my,
                    self.try_game_id, self.try_period, self.try_negation)
        while i < len(self.tokens):
            for handler in handlers:
                k = handler(i)
                if k:
                    i += k
                    break
            else:
                n, entry = self.match(i)
                if entry is not None:
                    self.apply(i, n, entry)
                    i += n
                    continue
                tok = self.tokens[i]
                if tok.folded in _FILLER:
                    self.out.filler.append(tok.text)
                else:
                    self.out.ignored.append(tok.text)
                i += 1
        query = ClipQuery(
            **{k: tuple(v) for k, v in self.fields.items()},
            **self.scalars,
        )
        if query.last_games and not (query.players or query.teams or query.last_games_of):
            self.out.notes.append("no team or player named: 'last games' are the most recent games of any team")
        self.out.query = query
        return self.out


_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GAME_ID = re.compile(r"(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{4,64}")  # "game 20038": 4+ characters, a digit among them


def _iso(text: str) -> dt.date | None:
    if not _DATE_LIKE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_request(
    text: str,
    refs: References | None = None,
    *,
    user_player: str | None = None,
) -> ParsedRequest:
    """Turn a plain-language request into a :class:`ParsedRequest` (query + what was understood and ignored).

    ``refs``: the roster (player names) and schedule (game ids). ``user_player``:
    the player "my" means; default ``$HB_USER_PLAYER_ID``.
    """
    if user_player is None:
        user_player = os.environ.get(USER_PLAYER_ENV) or None
    return _Parser(text or "", refs or References(), user_player).run()


def apply_request(text: str, base: ClipQuery, refs: References | None = None, **kwargs) -> ParsedRequest:
    """Parse ``text`` and put the explicit filters of ``base`` (flags, parameters) on top of it."""
    parsed = parse_request(text, refs, **kwargs)
    parsed.query = parsed.query.merged(base)
    return parsed


__all__ = ["ParsedRequest", "Understood", "parse_request", "apply_request", "USER_PLAYER_ENV"]
