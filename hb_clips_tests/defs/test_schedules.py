"""The daily back-fill schedule, evaluated as the daemon does, on a real (temporary) instance."""
from __future__ import annotations

import os
import time
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from dagster import (
    AssetMaterialization,
    DagsterRunStatus,
    DefaultScheduleStatus,
    RunRequest,
    build_schedule_context,
    instance_for_test,
)
from dagster._core.test_utils import create_run_for_test

from hb_clips_assets.definitions import clip_game_period_job, defs
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.defs.resources import DataRootResource, MediaIndexResource
from hb_clips_assets.defs.schedules import BACKFILL_SCHEDULE, build_backfill_schedule
from hb_clips_tests.automation_support import SCHEDULE_CSV, partition_tags, place, write_metrics

# Dagster 1.13 warns about its own multi-partition run tags (dagster/partition/game) when a
# schedule resolves a run request: nothing this project can change.
pytestmark = pytest.mark.filterwarnings("ignore:Non-compliant tag keys:DeprecationWarning")

SCHEDULE = defs.resolve_schedule_def(BACKFILL_SCHEDULE)
REPOSITORY = defs.get_repository_def()
NY = ZoneInfo("America/New_York")
MORNING_AFTER = datetime(2026, 11, 19, 6, 0, tzinfo=NY)  # 20031 was played on 2026-11-18


@pytest.fixture
def env(tmp_path, src_5994):
    root = tmp_path / "data"
    root.mkdir()
    (root / "schedule.csv").write_text(SCHEDULE_CSV)
    past = time.time_ns() - 3600 * 10**9
    for period in ("1", "2", "3"):
        place(src_5994, root / "video" / "20031" / f"{period}.mp4", mtime_ns=past)
    write_metrics(root, "20031", mtime_ns=past)
    with instance_for_test() as instance:
        yield SimpleNamespace(
            root=root,
            instance=instance,
            resources={
                "data_root": DataRootResource(path=str(root)),
                "media_index": MediaIndexResource(url=f"sqlite:///{tmp_path / 'media.db'}"),
            },
        )


def evaluate(env, when=MORNING_AFTER):
    # As a context manager: the context opens its own handle on the instance and must close it.
    with build_schedule_context(
        instance=env.instance, scheduled_execution_time=when, resources=env.resources, repository_def=REPOSITORY
    ) as context:
        result = SCHEDULE.evaluate_tick(context)
    return result.run_requests or [], result.skip_message


def indexed(env, period: str, clips: int = 0):
    env.instance.report_runless_asset_event(
        AssetMaterialization("media_index", partition=str(game_period_key("20031", period)), metadata={"clips": clips})
    )


def test_yesterdays_game_is_back_filled_and_registered(env):
    requests, skip = evaluate(env)
    assert skip is None
    assert [r.partition_key for r in requests] == [game_period_key("20031", p) for p in ("1", "2", "3")]
    assert all(isinstance(r, RunRequest) and r.run_key.startswith("backfill|2026-11-18|20031|") for r in requests)
    assert {r.tags["hb/reason"] for r in requests} == {"never indexed"}
    assert env.instance.get_dynamic_partitions(game_partitions.name) == ["20031"]


def test_current_partitions_are_skipped_with_a_clear_reason(env):
    for period in ("1", "2", "3"):
        indexed(env, period)
    requests, skip = evaluate(env)
    assert requests == []
    assert skip == ("nothing to back-fill: 1 game(s) on 2026-11-18 (20031), 3 partition(s) already current")


def test_stale_missing_and_running_partitions(env):
    indexed(env, "1")
    indexed(env, "2")
    video = env.root / "video" / "20031" / "2.mp4"
    os.utime(video, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))  # replaced after it was indexed
    create_run_for_test(  # period 3 is already running
        env.instance, job_name=clip_game_period_job.name, status=DagsterRunStatus.STARTED,
        tags=partition_tags("20031", "3"),
    )
    requests, _ = evaluate(env)
    assert [(r.partition_key, r.tags["hb/reason"]) for r in requests] == [
        (game_period_key("20031", "2"), "inputs changed after the last indexing")
    ]


def test_the_index_losing_rows_makes_a_partition_stale(env):
    for period in ("1", "2", "3"):
        indexed(env, period, clips=8)  # the index (empty here) no longer holds them
    requests, _ = evaluate(env)
    assert len(requests) == 3
    assert requests[0].tags["hb/reason"] == "the index holds 0 clips, the last indexing wrote 8"


def test_no_game_yesterday_or_no_inputs(env):
    requests, skip = evaluate(env, datetime(2026, 11, 25, 6, 0, tzinfo=NY))
    assert requests == [] and skip == "no game in schedule.csv on 2026-11-24"
    # 20038 played on 2026-11-20 but nothing of it has arrived.
    requests, skip = evaluate(env, datetime(2026, 11, 21, 6, 0, tzinfo=NY))
    assert requests == []
    assert skip == "nothing to back-fill: 1 game(s) on 2026-11-20 (20038), 1 missing inputs: game 20038: no period video"
    (env.root / "schedule.csv").unlink()
    requests, skip = evaluate(env)
    assert requests == [] and skip.startswith("no schedule.csv at ")


def test_an_incomplete_video_is_not_back_filled(env):
    video = env.root / "video" / "20031" / "1.mp4"
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    requests, _ = evaluate(env)
    assert [r.partition_key for r in requests] == [game_period_key("20031", p) for p in ("2", "3")]


def test_time_timezone_days_back_and_status_come_from_the_environment(env, monkeypatch):
    assert SCHEDULE.cron_schedule == os.environ.get("HB_BACKFILL_CRON", "0 6 * * *")
    monkeypatch.setenv("HB_BACKFILL_CRON", "30 4 * * *")
    monkeypatch.setenv("HB_BACKFILL_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("HB_BACKFILL_DAYS_BACK", "3")
    monkeypatch.setenv("HB_BACKFILL_DEFAULT_STATUS", "stopped")
    schedule = build_backfill_schedule(clip_game_period_job)
    assert schedule.cron_schedule == "30 4 * * *" and schedule.execution_timezone == "Europe/Paris"
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    with build_schedule_context(
        instance=env.instance, scheduled_execution_time=datetime(2026, 11, 20, 4, 30, tzinfo=ZoneInfo("Europe/Paris")),
        resources=env.resources, repository_def=REPOSITORY,
    ) as context:
        result = schedule.evaluate_tick(context)  # 17th to 19th: 20031 (18th)
    assert len(result.run_requests) == 3
    monkeypatch.setenv("HB_BACKFILL_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(Exception, match="Mars/Olympus_Mons"):
        build_backfill_schedule(clip_game_period_job)
