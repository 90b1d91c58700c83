"""schedule and roster as assets: validated, counted, stored as typed tables
(the inputs event_segments reads), failing cleanly on a bad file."""
from __future__ import annotations

import csv
import shutil

import pyarrow.parquet as pq
import pytest
from dagster import materialize

from hb_clips_assets.defs.assets import reference_assets
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_assets.defs.io_managers import ParquetIOManager
from hb_clips_assets.defs.metadata import COLUMN_SCHEMA, ROW_COUNT
from hb_clips_assets.defs.resources import DataRootResource
from hb_clips_assets.domain.reference import read_roster, read_schedule
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.resources import materialized_metadata, table_rows


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    # videos are not needed here: the smallest sample that still writes both CSVs
    write_sample_data(root, period_seconds=0.1, width=320, height=180, games=["20031"], progress=lambda _m: None)
    return root


def materialized(root, work):
    resources = {"data_root": DataRootResource(path=str(root)), "table_io_manager": ParquetIOManager(base_dir=str(work))}
    result = materialize(reference_assets, resources=resources, raise_on_error=False)
    return result, materialized_metadata(result)


def test_reference_assets_count_what_the_csvs_hold(data, tmp_path):
    result, meta = materialized(data, tmp_path / "work")
    assert result.success
    with open(data / "schedule.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert meta["schedule"]["games"] == len(rows)
    assert meta["schedule"]["teams"] == len({r["home"] for r in rows} | {r["away"] for r in rows})
    assert meta["schedule"]["last_date"] == max(r["date"] for r in rows)
    with open(data / "roster.csv", newline="", encoding="utf-8") as fh:
        assert meta["roster"]["players"] == len(list(csv.DictReader(fh)))


def test_a_bad_schedule_row_fails_naming_file_and_line(data, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(data, root)
    with open(root / "schedule.csv", "a") as fh:
        fh.write("20099,next tuesday,MTL,BOS\n")
    lines = (root / "schedule.csv").read_text().count("\n")
    result, meta = materialized(root, tmp_path / "work")
    assert not result.success and "roster" in meta  # the roster still materializes
    message = step_failure_message(next(e for e in result.all_events if e.is_step_failure))
    assert f"schedule.csv, line {lines}" in message and "not YYYY-MM-DD" in message


def test_the_tables_are_stored_unpartitioned_with_typed_columns(data, tmp_path):
    result, meta = materialized(data, tmp_path / "work")
    assert result.success
    schedule = pq.read_table(tmp_path / "work" / "schedule.parquet")
    roster = pq.read_table(tmp_path / "work" / "roster.parquet")
    games, players = read_schedule(data / "schedule.csv"), read_roster(data / "roster.csv")
    assert sorted(schedule.column("game_id").to_pylist()) == sorted(games)
    assert {r["player_id"]: tuple(r["aliases"]) for r in roster.to_pylist()} == {
        p.player_id: p.aliases for p in players.values()}  # a list of strings, not "a|b" text
    assert str(roster.schema.field("aliases").type) == "list<element: string>"
    for name, table, rows in (("schedule", schedule, len(games)), ("roster", roster, len(players))):
        assert meta[name][ROW_COUNT] == table.num_rows == rows
        assert [c.name for c in meta[name][COLUMN_SCHEMA].columns] == table.column_names
        assert not table.schema.metadata  # nothing on the side
    # the UI's tables are tables, with the CSVs' values
    assert {r["game_id"] for r in table_rows(meta["schedule"]["games_table"])} <= set(games)
    by_team = {r["team"]: r["players"] for r in table_rows(meta["roster"]["players_by_team"])}
    assert sum(by_team.values()) == len(players)


def test_an_absent_csv_is_an_empty_table(data, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(data, root)
    (root / "roster.csv").unlink()
    result, meta = materialized(root, tmp_path / "work")
    assert result.success
    assert meta["roster"]["players"] == 0 and meta["roster"][ROW_COUNT] == 0 and meta["roster"]["source_exists"] is False
    assert pq.read_table(tmp_path / "work" / "roster.parquet").num_rows == 0
    assert meta["schedule"]["games"] > 0 and meta["schedule"]["source_exists"] is True
