"""The reference tables of the data contract: schedule.csv (games, dates,
opponents) and roster.csv (players, teams, aliases). A bad file raises
:class:`ContractFileError` naming the file and line."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hb_clips_assets.domain.contract import (
    ROSTER_REQUIRED,
    SCHEDULE_REQUIRED,
    ContractError,
    ContractFileError,
    field_too_long,
    validate_game_id,
)
from hb_clips_assets.domain.csvfile import read_csv_table


@dataclass(frozen=True)
class ScheduledGame:
    game_id: str
    date: str
    home: str
    away: str

    def opponent_of(self, team: str) -> str | None:
        team = team.upper()
        if team == self.home:
            return self.away
        if team == self.away:
            return self.home
        return None


def read_schedule(path: Path) -> dict[str, ScheduledGame]:
    """``schedule.csv`` by game_id. A bad row here is a file error: the schedule is small and curated."""
    games: dict[str, ScheduledGame] = {}
    for line, row in read_csv_table(path, SCHEDULE_REQUIRED).rows:
        if "__error__" in row:
            raise ContractFileError(path, row["__error__"], line)
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", row["date"]):
            raise ContractFileError(path, f"date {row['date']!r} is not YYYY-MM-DD", line)
        try:
            game_id = validate_game_id(row["game_id"])
        except ContractError as exc:
            raise ContractFileError(path, str(exc), line) from None
        games[game_id] = ScheduledGame(game_id, row["date"], row["home"].upper(), row["away"].upper())
    return games


@dataclass(frozen=True)
class RosterPlayer:
    player_id: str
    name: str
    team: str
    position: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The full name first, then the aliases."""
        return (self.name, *self.aliases)


def read_roster(path: Path) -> dict[str, RosterPlayer]:
    """``roster.csv`` by player_id (``aliases`` optional, ``|``-separated).

    Like the schedule, the roster is small and curated: a bad row is a file error.
    """
    players: dict[str, RosterPlayer] = {}
    for line, row in read_csv_table(path, ROSTER_REQUIRED, ("aliases",)).rows:
        if "__error__" in row:
            raise ContractFileError(path, row["__error__"], line)
        empty = [c for c in ROSTER_REQUIRED if not row.get(c)]
        if empty:
            raise ContractFileError(path, f"missing required field(s) {', '.join(empty)}", line)
        too_long = field_too_long(row, ("player_id", "team"))
        if too_long:
            raise ContractFileError(path, too_long, line)
        player_id = row["player_id"]
        if player_id in players:
            raise ContractFileError(path, f"duplicate player_id {player_id!r}", line)
        aliases = tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
        players[player_id] = RosterPlayer(player_id, row["name"], row["team"].upper(), row["position"].upper(), aliases)
    return players
