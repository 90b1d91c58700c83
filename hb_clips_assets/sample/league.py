"""The sample's fictional league: its schedule and its roster.

Ten games (the two video games and eight earlier ones, so each video team has
past games to look up) and six players for each of MTL, CHI, WSH and NYR, with
the aliases the retrieval tests search by.
"""
from __future__ import annotations

SCHEDULE_HEADER = ["game_id", "date", "home", "away"]
ROSTER_HEADER = ["player_id", "name", "team", "position", "aliases"]

VIDEO_GAMES: dict[str, tuple[str, str, str]] = {
    # game_id: (date, home, away)
    "20031": ("2026-11-18", "MTL", "CHI"),
    "20038": ("2026-11-20", "WSH", "NYR"),
}

PAST_GAMES: list[tuple[str, str, str, str]] = [
    ("20002", "2026-10-07", "WSH", "BOS"),
    ("20005", "2026-10-09", "MTL", "TOR"),
    ("20011", "2026-10-18", "NYR", "WSH"),
    ("20014", "2026-10-25", "CHI", "MTL"),
    ("20019", "2026-11-01", "WSH", "PIT"),
    ("20022", "2026-11-06", "MTL", "NYR"),
    ("20027", "2026-11-12", "PHI", "WSH"),
    ("20029", "2026-11-15", "MTL", "BOS"),
]

# player_id, name, team, position, aliases ("|"-separated)
ROSTER: list[tuple[str, str, str, str, str]] = [
    ("8480018", "Nick Suzuki", "MTL", "C", "Suzuki|Suzy"),
    ("8481540", "Cole Caufield", "MTL", "RW", "Caufield|Goalfield"),
    ("8483515", "Juraj Slafkovský", "MTL", "LW", "Slafkovsky|Slaf"),
    ("8483457", "Lane Hutson", "MTL", "D", "Hutson"),
    ("8476875", "Mike Matheson", "MTL", "D", "Matheson|Math"),
    ("8478470", "Samuel Montembeault", "MTL", "G", "Montembeault|Monty"),
    ("8484144", "Connor Bedard", "CHI", "C", "Bedard"),
    ("8483493", "Frank Nazar", "CHI", "C", "Nazar"),
    ("8477479", "Tyler Bertuzzi", "CHI", "LW", "Bertuzzi|Tuzz"),
    ("8481568", "Alex Vlasic", "CHI", "D", "Vlasic"),
    ("8484178", "Artyom Levshunov", "CHI", "D", "Levshunov"),
    ("8481519", "Spencer Knight", "CHI", "G", "Knight"),
    ("8471214", "Alex Ovechkin", "WSH", "LW", "Ovi|Ovechkin|The Great 8"),
    ("8478440", "Dylan Strome", "WSH", "C", "Strome"),
    ("8476880", "Tom Wilson", "WSH", "RW", "Wilson|Willy"),
    ("8474590", "John Carlson", "WSH", "D", "Carlson|Johnny Rockets"),
    ("8479994", "Jakob Chychrun", "WSH", "D", "Chychrun"),
    ("8480313", "Logan Thompson", "WSH", "G", "Thompson|LT"),
    ("8478550", "Artemi Panarin", "NYR", "LW", "Panarin|Bread Man"),
    ("8476459", "Mika Zibanejad", "NYR", "C", "Zibanejad|Zibby"),
    ("8482109", "Alexis Lafrenière", "NYR", "RW", "Lafreniere|Laf"),
    ("8479323", "Adam Fox", "NYR", "D", "Fox|Foxy"),
    ("8482073", "Braden Schneider", "NYR", "D", "Schneider"),
    ("8478048", "Igor Shesterkin", "NYR", "G", "Shesterkin|Shesty"),
]


def team_players(team: str, positions: tuple[str, ...] | None = None) -> list[str]:
    """Player ids of ``team`` (in roster order), only those at ``positions`` if given."""
    return [
        pid for pid, _n, t, pos, _a in ROSTER
        if t == team and (positions is None or pos in positions)
    ]


def schedule_rows() -> list[list[str]]:
    """Every game, past and video, by date then id."""
    schedule = [[g, d, h, a] for g, d, h, a in PAST_GAMES]
    schedule += [[g, d, h, a] for g, (d, h, a) in VIDEO_GAMES.items()]
    schedule.sort(key=lambda r: (r[1], r[0]))
    return schedule


def roster_rows() -> list[list[str]]:
    return [list(r) for r in ROSTER]
