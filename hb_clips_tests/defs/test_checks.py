"""Each asset check passes on a good partition and fails on damaged data:
a deleted object, a truncated clip, a clip of the wrong frames, a missing
index row, a metrics file full of bad rows."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, Definitions, instance_for_test, materialize
from sqlalchemy import text

from hb_clips_assets.defs.assets import event_segments, metrics, reference_assets
from hb_clips_assets.defs.checks import clip_checks, rejected_row_ratio
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.definitions import verify_game_period_job
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.defs.resources import CheckSettingsResource
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.automation_support import partition_tags
from hb_clips_tests.resources import pipeline_assets, pipeline_resources, table_rows

GAME, PERIOD = "20031", "1"
CHECKS = {"clip_coverage", "objects_match_index", "clip_frame_counts", "clip_first_frames", "rejected_row_ratio",
          "clips_all_cut"}


def resources_for(base: Path, **settings) -> dict:
    return pipeline_resources(base / "data", base / "work", base / "store", f"sqlite:///{base / 'index' / 'media.db'}") | {
        "check_settings": CheckSettingsResource(**({"rejected_ratio_warn": 0.35} | settings)),
    }


def evaluations(result) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """One partition cut, indexed and checked (in the same run) on a module-wide instance."""
    base = tmp_path_factory.mktemp("good")
    write_sample_data(base / "data", period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        result = materialize(
            [*pipeline_assets, *clip_checks], partition_key=game_period_key(GAME, PERIOD), instance=instance,
            resources=resources_for(base), raise_on_error=False,
        )
        assert result.success
        yield {"base": base, "instance": instance, "in_run": evaluations(result)}


@pytest.fixture
def copy(good, tmp_path):
    """A private copy of the good partition's store, index and tables to damage."""
    for name in ("store", "index", "work"):
        shutil.copytree(good["base"] / name, tmp_path / name)
    (tmp_path / "data").symlink_to(good["base"] / "data")
    index = MediaIndex(f"sqlite:///{tmp_path / 'index' / 'media.db'}")
    rows = index.clips(GAME, PERIOD)  # ordered by start_frame
    assets = index.assets_of([r["clip_id"] for r in rows])
    yield {"base": tmp_path, "index": index, "rows": rows,
           "mp4": lambda i: tmp_path / "store" / assets[(rows[i]["clip_id"], "mp4")].object_key}
    index.dispose()


def run_checks(good, base: Path, **settings) -> dict:
    defs = Definitions(
        assets=pipeline_assets, asset_checks=clip_checks, jobs=[verify_game_period_job], resources=resources_for(base, **settings)
    )
    result = defs.resolve_job_def(verify_game_period_job.name).execute_in_process(
        instance=good["instance"], tags=partition_tags(GAME, PERIOD), raise_on_error=False
    )
    assert result.success
    found = evaluations(result)
    assert set(found) == CHECKS
    assert {e.partition for e in found.values()} == {str(game_period_key(GAME, PERIOD))}
    return found


def failing(found: dict) -> set[str]:
    return {name for name, e in found.items() if not e.passed}


def test_every_check_passes_in_the_run_that_cuts_the_partition(good):
    found = good["in_run"]
    assert set(found) == CHECKS and failing(found) == set()
    assert all(table_rows(e.metadata["problem_list"].value) == [] for e in found.values() if "problem_list" in e.metadata)
    clips = MediaIndex(f"sqlite:///{good['base'] / 'index' / 'media.db'}").count_clips(GAME, PERIOD)
    assert clips >= 8
    assert found["clip_coverage"].metadata["events_checked"].value == clips
    assert found["clip_frame_counts"].metadata["clips_checked"].value == clips
    assert found["objects_match_index"].metadata["objects_checked"].value == 4 * clips  # MP4, thumbnail, HLS fMP4 + playlist
    assert found["clip_first_frames"].metadata["clips_checked"].value == 3


def test_checks_only_job_passes_on_untouched_data(good, copy):
    assert failing(run_checks(good, copy["base"])) == set()


def test_a_deleted_object(good, copy):
    copy["mp4"](1).unlink()  # not one of the 3 decoded (first, middle, last)
    found = run_checks(good, copy["base"])
    assert failing(found) == {"objects_match_index", "clip_frame_counts"}
    assert "is missing" in found["objects_match_index"].description
    assert found["objects_match_index"].severity == AssetCheckSeverity.ERROR
    # the details are a table the UI renders, one row per problem
    details = found["objects_match_index"].metadata
    problems = [r["problem"] for r in table_rows(details["problem_list"].value)]
    assert len(problems) == details["problems"].value >= 1 and any("is missing" in p for p in problems)


def test_a_truncated_clip(good, copy):
    mp4 = copy["mp4"](2)
    mp4.write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    found = run_checks(good, copy["base"])
    assert failing(found) == {"objects_match_index", "clip_frame_counts"}
    assert "bytes, the index says" in found["objects_match_index"].description


def test_a_clip_of_the_wrong_frames(good, copy, tmp_path):
    row = copy["rows"][0]  # decoded by clip_first_frames
    source = probe_video(good["base"] / "data" / "video" / GAME / f"{PERIOD}.mp4")
    shift = 7 if row["end_frame"] + 7 <= source.frame_count else -7
    wrong = cut_clip(source, row["start_frame"] + shift, row["end_frame"] + shift, row["event_frame"] + shift,
                     tmp_path / "recut")
    shutil.copyfile(wrong.mp4_path, copy["mp4"](0))  # same length, other frames
    found = run_checks(good, copy["base"])
    assert failing(found) == {"clip_first_frames", "objects_match_index"}
    assert (f"first frame is source frame {row['start_frame'] + shift}, expected {row['start_frame']}"
            in found["clip_first_frames"].description)


def test_a_missing_index_row(good, copy):
    clip_id = copy["rows"][3]["clip_id"]
    with copy["index"].engine.begin() as conn:
        for table in ("clip_tags", "clip_assets", "clips"):
            conn.execute(text(f"delete from media.{table} where clip_id = :c"), {"c": clip_id})
    found = run_checks(good, copy["base"])
    assert failing(found) == {"clip_coverage"}
    assert f"event {copy['rows'][3]['event_id']} " in found["clip_coverage"].description
    assert "no clip in the index" in found["clip_coverage"].description


def test_the_rejected_row_ratio_warns_on_a_bad_metrics_file(good, tmp_path):
    shutil.copytree(good["base"] / "data", tmp_path / "data")

    def ratio_check():
        result = materialize(
            [*reference_assets, metrics, event_segments, rejected_row_ratio], partition_key=game_period_key(GAME, PERIOD),
            instance=instance, resources=resources_for(tmp_path), raise_on_error=False,
        )
        assert result.success
        return evaluations(result)["rejected_row_ratio"]

    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        # The sample's deliberately bad rows (20-27 % per period) pass under a 35 % threshold.
        assert ratio_check().passed
        # A metrics file where most rows of period 1 are bad:
        path = tmp_path / "data" / "metrics" / f"{GAME}.csv"
        lines = path.read_text().splitlines()
        pad = "," * (lines[0].count(",") - 6)
        path.write_text("\n".join(lines + [f"bad-{i},{GAME},1,00:00:xx:00,shot,8480018,MTL{pad}" for i in range(20)]) + "\n")
        ratio = ratio_check()
    assert not ratio.passed and ratio.severity == AssetCheckSeverity.WARN
    assert ratio.metadata["rejected_ratio"].value > 0.35
    assert "rows set aside" in ratio.description
