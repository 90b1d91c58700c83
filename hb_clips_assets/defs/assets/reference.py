"""The reference tables retrieval leans on: the schedule (opponents, "last N
games") and the roster (player names and aliases). Validated and visible in the
UI; refreshing them re-reads the CSVs of the data root."""
from collections import Counter

from dagster import AssetExecutionContext, MaterializeResult, asset

from hb_clips_assets.domain.contract import read_roster, read_schedule
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import markdown_table
from hb_clips_assets.defs.resources import DataRootResource


@asset(group_name="reference", kinds={"csv"}, description="schedule.csv: one row per game (date, home, away).")
def schedule(context: AssetExecutionContext, data_root: DataRootResource) -> MaterializeResult:
    with input_errors_fail_cleanly():
        path = data_root.schedule_path()
        games = sorted(read_schedule(path).values(), key=lambda g: (g.date, g.game_id))
    teams = Counter(t for g in games for t in (g.home, g.away))
    context.log.info(f"{path}: {len(games)} games, {len(teams)} teams")
    return MaterializeResult(
        metadata={
            "source": str(path),
            "games": len(games),
            "teams": len(teams),
            "first_date": games[0].date if games else "",
            "last_date": games[-1].date if games else "",
            "games_table": markdown_table(
                ["game_id", "date", "home", "away"], [[g.game_id, g.date, g.home, g.away] for g in reversed(games)]
            ),
        }
    )


@asset(group_name="reference", kinds={"csv"}, description="roster.csv: players with team, position and aliases.")
def roster(context: AssetExecutionContext, data_root: DataRootResource) -> MaterializeResult:
    with input_errors_fail_cleanly():
        path = data_root.root / "roster.csv"
        players = sorted(read_roster(path).values(), key=lambda p: (p.team, p.name))
    context.log.info(f"{path}: {len(players)} players")
    return MaterializeResult(
        metadata={
            "source": str(path),
            "players": len(players),
            "players_by_team": markdown_table(
                ["team", "players"], [[t, n] for t, n in sorted(Counter(p.team for p in players).items())]
            ),
            "players_table": markdown_table(
                ["player_id", "name", "team", "position", "aliases"],
                [[p.player_id, p.name, p.team, p.position, ", ".join(p.aliases)] for p in players],
            ),
        }
    )
