"""schedule and roster as assets: validated, counted, failing cleanly on a bad file."""
from __future__ import annotations

import csv

import pytest
from dagster import materialize

from hb_clips_assets.defs.assets import reference_assets
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_assets.defs.resources import DataRootResource
from hb_clips_assets.sample.data import write_sample_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    # videos are not needed here: the smallest sample that still writes both CSVs
    write_sample_data(root, period_seconds=0.1, width=320, height=180, games=["20031"], progress=lambda _m: None)
    return root


def materialized(root):
    result = materialize(reference_assets, resources={"data_root": DataRootResource(path=str(root))}, raise_on_error=False)
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return result, meta


def test_reference_assets_count_what_the_csvs_hold(data):
    result, meta = materialized(data)
    assert result.success
    with open(data / "schedule.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert meta["schedule"]["games"] == len(rows)
    assert meta["schedule"]["teams"] == len({r["home"] for r in rows} | {r["away"] for r in rows})
    assert meta["schedule"]["last_date"] == max(r["date"] for r in rows)
    with open(data / "roster.csv", newline="", encoding="utf-8") as fh:
        assert meta["roster"]["players"] == len(list(csv.DictReader(fh)))


def test_a_bad_schedule_row_fails_naming_file_and_line(data, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(data, root)
    with open(root / "schedule.csv", "a") as fh:
        fh.write("20099,next tuesday,MTL,BOS\n")
    lines = (root / "schedule.csv").read_text().count("\n")
    result, meta = materialized(root)
    assert not result.success and "roster" in meta  # the roster still materializes
    message = step_failure_message(next(e for e in result.all_events if e.is_step_failure))
    assert f"schedule.csv, line {lines}" in message and "not YYYY-MM-DD" in message
