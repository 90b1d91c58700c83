"""The reference tables of the data root: the schedule (opponents, "last N
games") and the roster (player names, aliases, each player's team). Validated
and visible in the UI; event_segments reads them as its inputs (opponents from
the schedule, shift teams from the roster). Refreshing them re-reads the CSVs.

Both files are optional for the clips: an absent one is an empty table (with a
warning), as the clips have always gone without it. A bad one fails the asset,
and the last good table stays what the clips read.
"""
from collections import Counter
from pathlib import Path

from dagster import AssetExecutionContext, Output, asset

from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame, read_roster, read_schedule
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import COLUMN_SCHEMA, record_schema, records_table, table
from hb_clips_assets.defs.resources import DataRootResource
from hb_clips_assets.pipeline.frames import records_to_frame


def _read(context: AssetExecutionContext, path: Path, read) -> tuple[dict, bool]:
    """(the file's rows by id, whether it exists): an absent file is no rows, said in the log."""
    if not path.exists():
        context.log.warning(f"{path}: no such file; the table is empty")
        return {}, False
    with input_errors_fail_cleanly():
        return read(path), True


@asset(
    group_name="reference",
    io_manager_key="table_io_manager",
    kinds={"csv", "parquet"},
    metadata={COLUMN_SCHEMA: record_schema(ScheduledGame)},
    description="schedule.csv: one row per game (date, home, away).",
)
def schedule(context: AssetExecutionContext, data_root: DataRootResource):
    path = data_root.layout.schedule
    by_id, exists = _read(context, path, read_schedule)
    games = sorted(by_id.values(), key=lambda g: (g.date, g.game_id))
    teams = Counter(t for g in games for t in (g.home, g.away))
    context.log.info(f"{path}: {len(games)} games, {len(teams)} teams")
    return Output(
        records_to_frame(games, ScheduledGame),
        metadata={
            "source": str(path),
            "source_exists": exists,
            "games": len(games),
            "teams": len(teams),
            "first_date": games[0].date if games else "",
            "last_date": games[-1].date if games else "",
            "games_table": records_table(reversed(games), ScheduledGame),  # newest first
        },
    )


@asset(
    group_name="reference",
    io_manager_key="table_io_manager",
    kinds={"csv", "parquet"},
    metadata={COLUMN_SCHEMA: record_schema(RosterPlayer)},
    description="roster.csv: players with team, position and aliases.",
)
def roster(context: AssetExecutionContext, data_root: DataRootResource):
    path = data_root.layout.roster
    by_id, exists = _read(context, path, read_roster)
    players = sorted(by_id.values(), key=lambda p: (p.team, p.name))
    context.log.info(f"{path}: {len(players)} players")
    return Output(
        records_to_frame(players, RosterPlayer),
        metadata={
            "source": str(path),
            "source_exists": exists,
            "players": len(players),
            "players_by_team": table(
                [{"team": t, "players": n} for t, n in sorted(Counter(p.team for p in players).items())],
                [("team", "string"), ("players", "int")],
            ),
            "players_table": records_table(players, RosterPlayer),
        },
    )
