"""A generated league for the paging and count tests: enough games that pages span games, batches
of games and the games the schedule does not list, written through ``MediaIndex.write_partition``.

The expected clips and their order are computed here from the records and the schedule alone
(game date, then game id; unscheduled games last by id; then period, frame, event id, clip id),
independently of the read side.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from hb_clips_assets.domain.records import AssetRecord, ClipRecord
from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame
from hb_clips_assets.retrieval import References
from hb_clips_assets.storage.index import MediaIndex

TEAMS = ("WSH", "NYR", "MTL", "CHI", "BOS")
EVENTS = ("shot", "goal", "hit", "zone_entry", "zone_exit", "shift")
STRENGTHS = ("5v5", "PP", "pp", "PK", None)  # the CSVs may spell a strength in any case
FPS = Fraction(60000, 1001)
GAMES = 40  # scheduled; two more are indexed without being in the schedule
UNSCHEDULED = ("90001", "90002")


@dataclass(frozen=True)
class League:
    refs: References
    records: list[ClipRecord]

    def date_of(self, game_id: str) -> str | None:
        return self.refs.game_date(game_id)

    def expected(self, keep=lambda r: True, newest_first: bool = False) -> list[ClipRecord]:
        """The records ``keep`` selects, in the read side's order."""
        def game_key(game_id: str) -> tuple:
            date = self.date_of(game_id)
            return (date is None, date or "", game_id)

        games = sorted({r.game_id for r in self.records}, key=game_key)
        if newest_first:
            dated = [g for g in games if self.date_of(g) is not None]
            games = dated[::-1] + [g for g in games if self.date_of(g) is None]
        rank = {g: i for i, g in enumerate(games)}
        chosen = [r for r in self.records if keep(r)]
        return sorted(chosen, key=lambda r: (rank[r.game_id], r.period, r.event_frame, r.event_id, r.clip_id))


def _roster() -> dict[str, RosterPlayer]:
    roster = {}
    for t, team in enumerate(TEAMS):
        for n in range(4):
            pid = f"84{t}{n:02d}"
            roster[pid] = RosterPlayer(pid, f"Player {team} {n}", team, "C")
    return roster


def build(seed: int = 11, games: int = GAMES) -> tuple[References, list[ClipRecord]]:
    rng = random.Random(seed)
    roster = _roster()
    by_team: dict[str, list[str]] = {}
    for p in roster.values():
        by_team.setdefault(p.team, []).append(p.player_id)
    schedule = {}
    for g in range(games):
        home, away = rng.sample(TEAMS, 2)
        game_id = f"2{g:04d}"
        # two games a day at times: equal dates are ordered by game id
        schedule[game_id] = ScheduledGame(game_id, f"2026-{10 + g // 28:02d}-{1 + (g % 28) // 2:02d}", home, away)
    records = []
    sides = {g.game_id: (g.home, g.away) for g in schedule.values()} | {u: ("WSH", "BOS") for u in UNSCHEDULED}
    for game_id, (home, away) in sides.items():
        n = rng.choice((0, 3, 9, 25, 40))  # some games without clips at all
        for k in range(n):
            team = rng.choice((home, away))
            period = rng.choice(("1", "2", "3", "OT") if k % 7 else ("1",))
            etype = rng.choice(EVENTS)
            frame = rng.randrange(0, 3000)
            records.append(clip(
                f"{rng.getrandbits(64):016x}", game_id, period, f"e{k:03d}", etype, rng.choice(by_team[team]), team,
                away if team == home else home, zone=rng.choice("ODN"), strength=rng.choice(STRENGTHS),
                # equal frames in one period happen: event_id, then clip_id, break the tie
                frame=frame - frame % 50, outcome=rng.choice(("won", "lost", "failed")), size=1000 + k,
            ))
    return References(schedule, roster), records


def clip(clip_id: str, game_id: str, period: str, event_id: str, event_type: str, player_id: str, team: str,
         opponent: str, zone: str | None = "O", strength: str | None = "5v5", frame: int = 600,
         outcome: str = "won", size: int = 1000) -> ClipRecord:
    return ClipRecord(
        clip_id=clip_id, game_id=game_id, period=period, event_id=event_id, event_type=event_type,
        player_id=player_id, team=team, opponent=opponent, zone=zone, strength=strength, timecode=None,
        event_frame=frame, start_frame=max(0, frame - 100), end_frame=frame + 100,
        fps_num=FPS.numerator, fps_den=FPS.denominator, source_uri=f"file:///v/{game_id}/{period}.mp4",
        source_sha256="ab" * 32, tags={"outcome": outcome},
        assets=(AssetRecord("mp4", f"clips/{game_id}/{period}/{clip_id}.mp4", f"file:///o/{clip_id}.mp4",
                            size, "0" * 64, "video/mp4"),),
    )


def write(index: MediaIndex, records: list[ClipRecord]) -> None:
    """One partition write per game and period, as the pipeline does."""
    parts: dict[tuple[str, str], list[ClipRecord]] = {}
    for r in records:
        parts.setdefault((r.game_id, r.period), []).append(r)
    for (game_id, period), batch in sorted(parts.items()):
        index.write_partition(game_id, period, batch)


def league(index: MediaIndex, seed: int = 11) -> League:
    refs, records = build(seed)
    write(index, records)
    return League(refs, records)
