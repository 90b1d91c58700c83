"""Which clips a team-limited caller (an API key of one team) may see.

One rule, :func:`visibility`: a clip is visible when the caller's team acts
in it, is its opponent, or the schedule lists its game as that team's. The
SQL filter of searches (:meth:`Visibility.condition`) and the check of one
clip row already in hand (:meth:`Visibility.allows`, for the media route)
are both read off the same (column, allowed values) pairs, so the two can
never disagree again. ``None`` stands for "sees everything" (an admin).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import false, or_

from hb_clips_assets.retrieval.references import References
from hb_clips_assets.storage.index.models import Clip


@dataclass(frozen=True)
class Visibility:
    teams: frozenset[str]
    games: frozenset[str]  # schedule games of those teams (as home or away)

    def _rule(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """(clips column, values that make a clip visible): visible if any one matches."""
        return (("team", self.teams), ("opponent", self.teams), ("game_id", self.games))

    def condition(self, table=None):
        """The rule as a WHERE condition on the clips table, or on ``table``: one with the same
        columns (the per-game counts, ``media.clip_stats_*``)."""
        columns = (Clip.__table__ if table is None else table).c
        parts = [columns[column].in_(sorted(values)) for column, values in self._rule() if values]
        return or_(*parts) if parts else false()

    def allows(self, clip_row: Mapping) -> bool:
        """The rule for one clips-table row."""
        return any(clip_row.get(column) in values for column, values in self._rule())


def visibility(visible_teams: Collection[str] | None, refs: References) -> Visibility | None:
    """What ``visible_teams`` may see (team codes, any case); None: everything."""
    if visible_teams is None:
        return None
    teams = frozenset(t.upper() for t in visible_teams)
    games = frozenset(g.game_id for g in refs.schedule.values() if g.home in teams or g.away in teams)
    return Visibility(teams, games)


def visibility_condition(visible_teams: Collection[str] | None, refs: References):
    """The SQL filter of :func:`visibility`; None where the caller sees everything."""
    rule = visibility(visible_teams, refs)
    return rule.condition() if rule is not None else None


def clip_visible(clip_row: Mapping, visible_teams: Collection[str] | None, refs: References) -> bool:
    """Whether the caller may see this clips-table row (the same rule as the SQL filter)."""
    rule = visibility(visible_teams, refs)
    return rule is None or rule.allows(clip_row)
