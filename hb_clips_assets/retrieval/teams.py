"""The 32 NHL teams: tricodes, short forms, city and club names, nicknames.

One table, used by the plain-language parser and by the explicit filters
(CLI flags, API parameters), so ``--team Habs`` and "Habs goals" agree.
"""
from __future__ import annotations

import re

from hb_clips_assets.domain.vocabulary import fold  # one folding rule for teams and the vocabulary

# tricode: (city, club, other names and nicknames). Names are matched as whole
# words, case-insensitively, accents ignored.
NHL_TEAMS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ANA": ("Anaheim", "Ducks", ()),
    "BOS": ("Boston", "Bruins", ("Bs",)),
    "BUF": ("Buffalo", "Sabres", ("Sabs",)),
    "CGY": ("Calgary", "Flames", ("CAL",)),
    "CAR": ("Carolina", "Hurricanes", ("Canes",)),
    "CHI": ("Chicago", "Blackhawks", ("Hawks",)),
    "COL": ("Colorado", "Avalanche", ("Avs",)),
    "CBJ": ("Columbus", "Blue Jackets", ("Jackets", "CLB")),
    "DAL": ("Dallas", "Stars", ()),
    "DET": ("Detroit", "Red Wings", ("Wings",)),
    "EDM": ("Edmonton", "Oilers", ()),
    "FLA": ("Florida", "Panthers", ("Cats",)),
    "LAK": ("Los Angeles", "Kings", ("LA", "L.A.", "LA Kings")),
    "MIN": ("Minnesota", "Wild", ()),
    "MTL": ("Montreal", "Canadiens", ("Habs", "MON", "Canadians")),
    "NSH": ("Nashville", "Predators", ("Preds", "NAS")),
    "NJD": ("New Jersey", "Devils", ("NJ", "N.J.")),
    "NYI": ("New York Islanders", "Islanders", ("Isles",)),
    "NYR": ("New York Rangers", "Rangers", ("Blueshirts", "Rags")),
    "OTT": ("Ottawa", "Senators", ("Sens",)),
    "PHI": ("Philadelphia", "Flyers", ("Philly",)),
    "PIT": ("Pittsburgh", "Penguins", ("Pens",)),
    "SEA": ("Seattle", "Kraken", ()),
    "SJS": ("San Jose", "Sharks", ("SJ", "S.J.")),
    "STL": ("St. Louis", "Blues", ("St Louis", "Saint Louis")),
    "TBL": ("Tampa Bay", "Lightning", ("TB", "T.B.", "Tampa", "Bolts")),
    "TOR": ("Toronto", "Maple Leafs", ("Leafs",)),
    "UTA": ("Utah", "Mammoth", ("Utah Hockey Club", "UTAH")),
    "VAN": ("Vancouver", "Canucks", ("Nucks",)),
    "VGK": ("Vegas", "Golden Knights", ("Las Vegas", "VEG", "LV")),
    "WSH": ("Washington", "Capitals", ("Caps", "WAS")),
    "WPG": ("Winnipeg", "Jets", ("WIN",)),
}

# Tricodes and short forms that are also everyday words (or parts of speech):
# these name a team only when written in capitals ("CAR", "LA", "SEA", "MIN").
CASE_SENSITIVE = frozenset({"ANA", "CAR", "COL", "DET", "LA", "MIN", "SEA", "VAN", "WIN", "CAL", "MON", "LV", "TB", "NJ", "SJ", "NAS"})


def _names() -> tuple[dict[str, str], dict[str, str]]:
    """(folded name -> tricode for case-insensitive names, exact text -> tricode for capitals-only ones)."""
    loose: dict[str, str] = {}
    strict: dict[str, str] = {}
    for code, (city, club, others) in NHL_TEAMS.items():
        for name in (code, city, club, f"{city} {club}", *others):
            if name.replace(".", "") in CASE_SENSITIVE:
                strict[name.replace(".", "")] = code
                continue
            loose[fold(name)] = code
    # "New York" alone is two teams; the Rangers' and Islanders' full names are above.
    loose.pop("new york", None)
    return loose, strict


TEAM_NAMES, TEAM_NAMES_CAPITALS = _names()


def team_code(text: str) -> str | None:
    """The tricode a team name, short form or nickname stands for; None if it names no team.

    ``team_code("Habs") == "MTL"``, ``team_code("tb") == "TBL"``,
    ``team_code("car")`` is None but ``team_code("CAR") == "CAR"``.
    Explicit filters (a flag or an API parameter) are unambiguous, so they
    may use the capitals-only forms in any case: see :func:`normalize_team`.
    """
    stripped = text.strip().replace(".", "")
    if stripped in TEAM_NAMES_CAPITALS:
        return TEAM_NAMES_CAPITALS[stripped]
    return TEAM_NAMES.get(fold(text))


def known_team(text: str) -> str | None:
    """The tricode of an NHL team name in any case (no fallback for unknown codes)."""
    return team_code(text) or TEAM_NAMES_CAPITALS.get(text.strip().replace(".", "").upper())


def normalize_team(text: str) -> str:
    """A team as given to an explicit filter (any case) -> tricode.

    Unknown names raise ValueError, except a bare code of 2 to 4 letters,
    which is taken as it is (upper-cased): the data may hold teams outside
    the NHL.
    """
    code = known_team(text)
    if code is not None:
        return code
    if re.fullmatch(r"[A-Za-z]{2,4}", text.strip()):
        return text.strip().upper()
    raise ValueError(f"unknown team {text!r}: use a tricode (e.g. MTL, WSH), a city, a club name or a nickname")
