"""schedule.csv and roster.csv, in memory: player names to ids, game dates, teams.

Both files are small and curated (a few thousand rows at most), so the read
side holds them whole; the data root's layout names their paths.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame, read_roster, read_schedule
from hb_clips_assets.domain.layout import DataRoot
from hb_clips_assets.retrieval.query import QueryError
from hb_clips_assets.retrieval.teams import fold


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
        root = DataRoot(data_root)
        schedule = read_schedule(root.schedule) if root.schedule.exists() else {}
        roster = read_roster(root.roster) if root.roster.exists() else {}
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


def as_references(schedule, roster) -> References:
    """One References from either a References or the two dicts of read_schedule/read_roster."""
    if isinstance(schedule, References):
        return schedule
    return References(dict(schedule or {}), dict(roster or {}))
