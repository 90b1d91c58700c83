"""What the assets hand each other: typed DataFrames stored as Parquet (nested
values as Arrow types, the source video as columns), each output with its row
count and column schema; schedule and roster are real upstream inputs."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, instance_for_test, materialize

from hb_clips_assets.definitions import defs
from hb_clips_assets.defs.assets import clips, event_segments, metrics, roster, schedule
from hb_clips_assets.defs.metadata import COLUMN_SCHEMA, ROW_COUNT
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.domain.reference import read_schedule
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.resources import materialized_metadata, pipeline_resources, run_partition, table_rows

GAME, PERIOD = "20038", "1"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("values")
    write_sample_data(base / "data", period_seconds=4, width=320, height=180, games=[GAME], progress=lambda _m: None)
    resources = pipeline_resources(base / "data", base / "work", base / "store", f"sqlite:///{base / 'media.db'}")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        result, meta = run_partition(GAME, PERIOD, instance, resources)
    assert result.success
    return {"base": base, "meta": meta, "work": base / "work", "resources": resources}


def stored(run, asset: str) -> pa.Table:
    return pq.read_table(run["work"] / asset / GAME / f"{PERIOD}.parquet")


def test_the_graph_shows_what_event_segments_reads():
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey("event_segments")).parent_keys == {AssetKey("metrics"), AssetKey("schedule"), AssetKey("roster")}
    assert graph.get(AssetKey("clips")).parent_keys == {AssetKey("event_segments")}


def test_every_output_carries_its_row_count_and_column_schema(run):
    for asset in ("metrics", "event_segments", "clips"):
        table, meta = stored(run, asset), run["meta"][asset]
        assert meta[ROW_COUNT] == table.num_rows > 0
        columns = {c.name: c.type for c in meta[COLUMN_SCHEMA].columns}
        assert list(columns) == table.column_names
        # Arrow's spelling of each type (Parquet names a map's entries after the column: compare the flat ones)
        assert all(columns[f.name] == str(f.type) for f in table.schema if not pa.types.is_nested(f.type))
        assert all(columns[f.name].startswith(("map<", "list<", "struct<")) for f in table.schema if pa.types.is_nested(f.type))
        assert not table.schema.metadata  # nothing on the side
    for asset in ("schedule", "roster"):
        assert run["meta"][asset][ROW_COUNT] == pq.read_table(run["work"] / f"{asset}.parquet").num_rows > 0
    # the declared columns (from the record fields, shown before a first run) are the stored ones
    for assets_def in (metrics, event_segments, clips, schedule, roster):
        declared = assets_def.specs_by_key[assets_def.key].metadata[COLUMN_SCHEMA]
        assert [c.name for c in declared.columns] == [c.name for c in run["meta"][assets_def.key.path[0]][COLUMN_SCHEMA].columns]
    index = run["meta"]["media_index"]
    assert index[ROW_COUNT] == index["clips"] and "clip_id" in {c.name for c in index[COLUMN_SCHEMA].columns}


def test_nested_values_are_typed_columns_not_json(run):
    clip_table = stored(run, "clips")
    assert clip_table.schema.field("tags").type.equals(pa.map_(pa.string(), pa.string()))
    assets = clip_table.schema.field("assets").type
    assert pa.types.is_list(assets) and pa.types.is_struct(assets.value_type)
    for row in clip_table.to_pylist():
        assert sorted(a["kind"] for a in row["assets"]) == ["hls", "hls_fmp4", "mp4", "thumbnail"]
        assert all(isinstance(a["bytes"], int) and a["bytes"] > 0 for a in row["assets"])
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in row["tags"])
    assert stored(run, "metrics").schema.field("timecode").type.num_fields == 5  # a struct, not text


def test_event_segments_name_their_video_and_carry_the_schedule_opponents(run):
    table = stored(run, "event_segments")
    video = run["base"] / "data" / "video" / GAME / f"{PERIOD}.mp4"
    assert set(table.column("source_path").to_pylist()) == {str(video.resolve())}
    assert set(table.column("source_sha256").to_pylist()) == {sha256_file(video)}
    assert set(table.column("source_frame_count").to_pylist()) == {run["meta"]["event_segments"]["frame_count"]}
    game = read_schedule(run["base"] / "data" / "schedule.csv")[GAME]
    pairs = {(r["team"], r["opponent"]) for r in table.select(["team", "opponent"]).to_pylist()}
    assert pairs <= {(game.home, game.away), (game.away, game.home)} and len(pairs) == 2
    assert "shift" in set(table.column("event_type").to_pylist())  # shift teams from the roster


def test_the_ui_tables_are_tables(run):
    meta = run["meta"]
    segments = table_rows(meta["event_segments"]["segments_table"])
    assert [r["event_id"] for r in segments] == stored(run, "event_segments").column("event_id").to_pylist()[:20]
    assert all(isinstance(r["start_frame"], int) for r in segments)
    clips_rows = table_rows(meta["clips"]["clips_table"])
    assert len(clips_rows) == min(20, meta["clips"]["clips"]) and all(isinstance(r["mp4_bytes"], int) for r in clips_rows)
    rows = table_rows(meta["media_index"]["rows"])
    assert {r["clip_id"] for r in rows} <= {c[:12] for c in stored(run, "clips").column("clip_id").to_pylist()}
    assert meta["clips"]["thumbnail_preview"].startswith("![thumbnail](data:image/jpeg;base64,")


def test_reference_tables_never_materialized_are_read_from_their_csvs(run, tmp_path):
    """A partition run before the reference tables were ever materialized (a sensor's first run on a
    fresh instance): it says so and reads schedule.csv and roster.csv itself, so its segments have the
    same opponents and shift clips as a run with the tables."""
    resources = {**run["resources"], "table_io_manager": type(run["resources"]["table_io_manager"])(base_dir=str(tmp_path))}
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        result = materialize(
            [metrics, event_segments, schedule.to_source_asset(), roster.to_source_asset()],
            partition_key=game_period_key(GAME, PERIOD), instance=instance, resources=resources, raise_on_error=False,
        )
        assert result.success
        messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("schedule has not been materialized yet: read" in m and "schedule.csv directly" in m for m in messages)
    assert any("roster has not been materialized yet: read" in m and "roster.csv directly" in m for m in messages)
    without = pq.read_table(tmp_path / "event_segments" / GAME / f"{PERIOD}.parquet").to_pylist()
    with_tables = stored(run, "event_segments").to_pylist()
    key = lambda r: (r["event_id"], r["opponent"], r["team"], r["start_frame"], r["end_frame"])  # noqa: E731
    assert sorted(map(key, without)) == sorted(map(key, with_tables))
    assert materialized_metadata(result)["event_segments"]["shift_segments"] == sum(
        r["event_type"] == "shift" for r in with_tables) > 0
