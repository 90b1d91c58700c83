"""The one hockey vocabulary: event types, zones, strengths, outcomes, periods.

Explicit filters (CLI flags, API parameters), plain-language requests and the
metrics reader all read these tables, so "turnovers" means giveaways and
takeaways whether it is typed as ``--event turnovers`` or inside "NZ
turnovers", and a CSV's "DZ Exit" is stored as the ``zone_exit`` a search for
"breakouts" finds. Before this module the flags and the parser kept a table
each, and the two drifted apart. It lives in the domain (the bottom layer)
because the contract's reader needs it; retrieval imports it from here.

A phrase is compared folded (lower case, accents dropped, any punctuation as a
space: :func:`fold`), so ``zone_exit``, ``zone-exit`` and "Zone Exit" are one
phrase. A phrase may stand for several stored event types ("shot attempts":
shots, missed and blocked shots, goals).

``CAPITALS_ONLY`` holds short forms that are also everyday words or letters
("EN", "D"): a request names the term with them only when they are written
in capitals, as with the capitals-only team codes of the team table; an
explicit filter is unambiguous and takes them in any case.

Teams have their own table (:mod:`hb_clips_assets.retrieval.teams`); grammar
words (numbers, "last", "vs", fillers) stay with the parser
(:mod:`hb_clips_assets.retrieval.language`).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation other than digits and letters as spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text.lower())).strip()


# stored event types (the contract's snake_case names) -> every phrase that names them
EVENTS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("zone_exit",): ("zone exit", "zone exits", "exit", "exits", "breakout", "breakouts", "break out", "break outs"),
    ("zone_entry",): ("zone entry", "zone entries", "zone entrys", "entry", "entries"),
    ("dump_in",): ("dump in", "dump ins", "dumpin", "dumpins", "dump and chase", "dump and chases"),
    ("dump_out",): ("dump out", "dump outs", "dumpout", "dumpouts", "clear", "clears", "zone clear", "zone clears"),
    ("shot",): ("shot", "shots"),
    ("shot", "missed_shot", "blocked_shot", "goal"): ("shot attempt", "shot attempts", "corsi"),
    ("goal",): ("goal", "goals", "scoring play", "scoring plays"),
    ("faceoff",): ("faceoff", "faceoffs", "face off", "face offs", "draw", "draws"),
    ("takeaway",): ("takeaway", "takeaways", "take away", "take aways", "steal", "steals"),
    ("giveaway",): ("giveaway", "giveaways", "give away", "give aways"),
    ("giveaway", "takeaway"): ("turnover", "turnovers"),
    ("hit",): ("hit", "hits", "body check", "body checks", "bodycheck", "bodychecks", "check", "checks"),
    ("save",): ("save", "saves"),
    ("blocked_shot",): ("blocked shot", "blocked shots", "shot block", "shot blocks", "block", "blocks"),
    ("missed_shot",): ("missed shot", "missed shots", "miss", "misses"),
    ("penalty",): ("penalty", "penalties"),
    ("pass",): ("pass", "passes"),
    ("puck_recovery",): ("puck recovery", "puck recoveries", "recovery", "recoveries", "loose puck recovery",
                         "loose puck recoveries"),
    ("shift",): ("shift", "shifts", "ice time", "toi"),
}
ZONES: dict[str, tuple[str, ...]] = {
    "O": ("o zone", "ozone", "oz", "offensive zone", "offensive end", "attacking zone", "offensive", "offense"),
    "D": ("d zone", "dzone", "dz", "defensive zone", "defensive end", "own zone", "defensive", "d end", "defense"),
    "N": ("n zone", "nzone", "nz", "neutral zone", "neutral ice", "neutral"),
}
ZONE_NAMES = {"O": "offensive zone", "D": "defensive zone", "N": "neutral zone"}
STRENGTHS: dict[str, tuple[str, ...]] = {
    "5v5": ("5v5", "5 on 5", "5 v 5", "5vs5", "even strength", "even", "evens", "at evens", "five on five"),
    "4v4": ("4v4", "4 on 4", "4 v 4", "four on four"),
    "3v3": ("3v3", "3 on 3", "3 v 3", "three on three"),
    "PP": ("power play", "power plays", "powerplay", "powerplays", "pp", "man advantage", "5v4", "5 on 4"),
    "PK": ("penalty kill", "penalty kills", "pk", "shorthanded", "short handed", "4v5", "4 on 5"),
    "EN": ("empty net", "empty nets", "empty netter", "empty netters", "emptynet"),
}
# Outcome tags are free text in the CSVs: these are the usual ones and their other names.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "controlled": ("controlled", "with control", "with possession"),
    "uncontrolled": ("uncontrolled", "without control"),
    "failed": ("failed", "unsuccessful", "botched"),
    "success": ("success", "successful", "succesful"),
    "won": ("won", "wins", "winning"),
    "lost": ("lost", "losses", "losing"),
    "on_goal": ("on goal", "on net", "on target"),
    "complete": ("complete", "completed"),
    "incomplete": ("incomplete",),
}
# Periods: the parser reads these in their grammar ("second period", "P2", "period 2"); a flag takes any of them.
PERIOD_ORDINALS = {
    "first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3",
    "overtime": "OT", "ot": "OT", "fourth": "OT", "4th": "OT",
}
PERIOD_CODES = {"p1": "1", "p2": "2", "p3": "3", "pot": "OT", "ot": "OT", "overtime": "OT"}
PERIOD_NUMBERS = {"1": "1", "2": "2", "3": "3", "4": "OT", "one": "1", "two": "2", "three": "3", "ot": "OT"}

KINDS = ("event", "zone", "strength", "outcome")
CAPITALS_ONLY: dict[str, tuple[str, tuple[str, ...]]] = {
    "EN": ("strength", ("EN",)), "ENG": ("strength", ("EN",)),
    "ES": ("strength", ("5v5",)), "SH": ("strength", ("PK",)),
    "O": ("zone", ("O",)), "D": ("zone", ("D",)), "N": ("zone", ("N",)),
}

EVENT_TYPES: frozenset[str] = frozenset(t for types in EVENTS for t in types)


@dataclass(frozen=True)
class Term:
    kind: str  # one of KINDS
    values: tuple[str, ...]  # what the filter holds: stored event types, a zone code, a strength, an outcome


def phrase_key(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


def _tables() -> dict[tuple[str, ...], Term]:
    by_kind = {
        "event": EVENTS.items(),
        "zone": (((z,), p) for z, p in ZONES.items()),
        "strength": (((s,), p) for s, p in STRENGTHS.items()),
        "outcome": (((o,), p) for o, p in OUTCOMES.items()),
    }
    terms: dict[tuple[str, ...], Term] = {}
    for kind, rows in by_kind.items():
        for values, phrases in rows:
            for phrase in phrases:
                key, term = phrase_key(phrase), Term(kind, tuple(values))
                # one phrase, one meaning: a request could not tell two apart
                if terms.get(key, term) != term:
                    raise AssertionError(f"vocabulary phrase {phrase!r} means both {terms[key]} and {term}")
                terms[key] = term
    return terms


# every phrase a request may use (capitals-only forms aside) -> its term
TERMS: dict[tuple[str, ...], Term] = _tables()


def lookup(kind: str, text: str) -> tuple[str, ...] | None:
    """What an explicit filter value means: the values of its term of ``kind``, or None if it names none.

    Capitals-only forms count in any case here (an explicit filter has no everyday words to confuse them with).
    """
    term = TERMS.get(phrase_key(text))
    if term is None:
        capitals = CAPITALS_ONLY.get(text.strip().upper())
        term = Term(*capitals) if capitals else None
    return term.values if term is not None and term.kind == kind else None


@lru_cache(maxsize=4096)  # a file repeats a handful of spellings over thousands of rows
def stored_event_type(text: str) -> str | None:
    """The one stored event type a spelling in a metrics file names, or None.

    "Zone Exits", "zone-exit" and "Breakout" are ``zone_exit``; a leading zone
    ("DZ Exit", "d-zone exit", "OZ faceoff") says where it happened, not what,
    and is skipped (the zone column says where; the raw spelling is kept by the
    reader). A phrase meaning several types ("turnovers", "shot attempts") or
    none gives None: the reader keeps the type as written (snake_cased).
    """
    key = phrase_key(text)
    candidates = [key] + [key[n:] for n in (3, 2, 1)
                          if len(key) > n and getattr(TERMS.get(key[:n]), "kind", None) == "zone"]
    for words in candidates:
        term = TERMS.get(words)
        if term is not None:
            return term.values[0] if term.kind == "event" and len(term.values) == 1 else None
    return None


def period_code(text: str) -> str | None:
    """A period as a flag may give it: "2", "P2", "second", "2nd period", "period 2", "OT"; None if none."""
    words = fold(text).split()
    if len(words) == 1:
        w = words[0]
        return PERIOD_NUMBERS.get(w) or PERIOD_CODES.get(w) or PERIOD_ORDINALS.get(w)
    if len(words) == 2 and words[1] == "period":
        return PERIOD_ORDINALS.get(words[0])
    if len(words) == 2 and words[0] == "period":
        return PERIOD_NUMBERS.get(words[1])
    return None


def synonyms() -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(kind, phrase as written, values) for every phrase of the vocabulary, capitals-only forms included."""
    tables = {"event": EVENTS, "zone": ZONES, "strength": STRENGTHS, "outcome": OUTCOMES}
    for kind, table in tables.items():
        for values, phrases in table.items():
            for phrase in phrases:
                yield kind, phrase, values if isinstance(values, tuple) else (values,)
    for text, (kind, values) in CAPITALS_ONLY.items():
        yield kind, text, values
