"""The arrival sensor, evaluated the way the daemon does, on a real (temporary) instance."""
from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest
from dagster import AssetMaterialization, DefaultSensorStatus, build_sensor_context, instance_for_test

from hb_clips_assets.definitions import clip_game_period_job, defs
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.defs.resources import DataRootResource, MediaIndexResource
from hb_clips_assets.defs.sensors import ARRIVAL_SENSOR, build_arrival_sensor
from hb_clips_tests.automation_support import place, write_metrics

SENSOR = defs.resolve_sensor_def(ARRIVAL_SENSOR)


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    with instance_for_test() as instance:
        yield SimpleNamespace(
            root=root,
            instance=instance,
            cursor=None,
            resources={
                "data_root": DataRootResource(path=str(root)),
                "media_index": MediaIndexResource(url=f"sqlite:///{tmp_path / 'media.db'}"),
            },
        )


def tick(env):
    """One evaluation; dynamic-partition requests are applied as the daemon applies them."""
    with build_sensor_context(instance=env.instance, cursor=env.cursor, resources=env.resources) as context:
        result = SENSOR(context)
    env.cursor = result.cursor
    for request in result.dynamic_partitions_requests or []:
        env.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def keys(result) -> list:
    return [r.partition_key for r in result.run_requests]


def added_games(result) -> list[str]:
    return [k for r in result.dynamic_partitions_requests or [] for k in r.partition_keys]


def test_new_video_and_metrics_add_the_game_and_request_one_run(env, src_5994):
    place(src_5994, env.root / "video" / "20031" / "1.mp4")
    write_metrics(env.root, "20031")
    first = tick(env)
    assert first.run_requests == [] and "2 settling" in first.skip_reason.skip_message
    second = tick(env)
    assert keys(second) == [game_period_key("20031", "1")]
    assert added_games(second) == ["20031"]
    assert env.instance.get_dynamic_partitions(game_partitions.name) == ["20031"]
    request = second.run_requests[0]
    st = (env.root / "video" / "20031" / "1.mp4").stat()
    assert request.run_key.startswith("arrival|20031|1|")
    assert request.tags["hb/video"] == f"video/20031/1.mp4:{st.st_size}:{st.st_mtime_ns}"
    assert request.tags["hb/trigger"] == "arrival"
    # Ticking again over the same files: nothing, however often.
    for _ in range(3):
        again = tick(env)
        assert again.run_requests == [] and not again.dynamic_partitions_requests
    # Another period of a known game: a run, no new partition.
    place(src_5994, env.root / "video" / "20031" / "2.mp4")
    assert tick(env).run_requests == []
    later = tick(env)
    assert keys(later) == [game_period_key("20031", "2")] and added_games(later) == []


def test_metrics_may_come_before_or_after_the_video(env, src_5994, capsys):
    place(src_5994, env.root / "video" / "20031" / "1.mp4")
    tick(env)
    assert tick(env).run_requests == []
    assert "video/20031/1.mp4 is complete; waiting for metrics/20031.csv" in capsys.readouterr().err
    write_metrics(env.root, "20031")
    assert tick(env).run_requests == []  # the metrics file settles first
    assert keys(tick(env)) == [game_period_key("20031", "1")]
    # Metrics first, then the video.
    write_metrics(env.root, "20038")
    tick(env), tick(env)
    place(src_5994, env.root / "video" / "20038" / "3.mp4")
    assert tick(env).run_requests == []
    result = tick(env)
    assert keys(result) == [game_period_key("20038", "3")] and added_games(result) == ["20038"]


def test_a_replaced_video_or_metrics_file_is_run_again(env, src_5994, src_25_silent):
    video = place(src_5994, env.root / "video" / "20031" / "1.mp4")
    place(src_5994, env.root / "video" / "20031" / "2.mp4")
    write_metrics(env.root, "20031")
    tick(env)
    first = {r.partition_key: r.run_key for r in tick(env).run_requests}
    assert len(first) == 2
    place(src_25_silent, video)  # replaced by a different file
    assert tick(env).run_requests == []  # settling
    replaced = tick(env)
    assert keys(replaced) == [game_period_key("20031", "1")]
    assert replaced.run_requests[0].run_key != first[game_period_key("20031", "1")]
    assert replaced.run_requests[0].tags["hb/reason"] == "inputs changed"
    assert tick(env).run_requests == []
    # Corrected metrics: every period with a video runs again.
    write_metrics(env.root, "20031", mtime_ns=time.time_ns() + 10**9)
    tick(env)
    assert sorted(map(str, keys(tick(env)))) == ["20031|1", "20031|2"]


def test_a_file_still_growing_or_truncated_is_not_cut(env, src_5994, capsys):
    data = src_5994.read_bytes()
    video = env.root / "video" / "20031" / "1.mp4"
    video.parent.mkdir(parents=True)
    write_metrics(env.root, "20031")
    video.write_bytes(data[: len(data) // 3])  # a copy in progress, written in place
    tick(env)
    with open(video, "ab") as fh:
        fh.write(data[len(data) // 3 : 2 * len(data) // 3])
    assert tick(env).run_requests == []  # size changed since the last tick: not yet
    assert tick(env).run_requests == []  # stable now, but a truncated MP4: refused
    err = capsys.readouterr().err
    assert "not cutting video/20031/1.mp4 yet" in err and "truncated MP4" in err
    assert tick(env).run_requests == []
    assert "not cutting" not in capsys.readouterr().err  # refused once per version of the file
    with open(video, "ab") as fh:  # the copy completes
        fh.write(data[2 * len(data) // 3 :])
    assert tick(env).run_requests == []
    assert keys(tick(env)) == [game_period_key("20031", "1")]


def test_bad_names_are_logged_once_and_never_become_partitions(env, src_5994, capsys):
    place(src_5994, env.root / "video" / "bad.id" / "1.mp4")
    place(src_5994, env.root / "video" / "a|b" / "1.mp4")
    place(src_5994, env.root / "video" / "20031" / "5.mp4")
    place(src_5994, env.root / "video" / "20031" / "1.mp4")
    write_metrics(env.root, "20031")
    (env.root / "metrics" / "a,b.csv").write_text("x")
    tick(env)
    result = tick(env)
    assert keys(result) == [game_period_key("20031", "1")]
    assert env.instance.get_dynamic_partitions(game_partitions.name) == ["20031"]
    err = capsys.readouterr().err
    assert "skipped video/bad.id: invalid game_id 'bad.id'" in err
    assert "skipped video/a|b: invalid game_id 'a|b'" in err
    assert "skipped video/20031/5.mp4: period '5' is not one of 1, 2, 3, OT" in err
    assert "skipped metrics/a,b.csv: invalid game_id 'a,b'" in err
    tick(env)
    assert "skipped" not in capsys.readouterr().err


def test_switching_the_sensor_on_over_an_indexed_library_requests_only_stale_partitions(env, src_5994, capsys):
    past = time.time_ns() - 3600 * 10**9
    place(src_5994, env.root / "video" / "20031" / "1.mp4", mtime_ns=past)
    place(src_5994, env.root / "video" / "20031" / "2.mp4", mtime_ns=past)
    write_metrics(env.root, "20031", mtime_ns=past)
    env.instance.add_dynamic_partitions(game_partitions.name, ["20031"])
    # Period 1 was indexed after its files were written (0 clips: nothing to count in the index).
    env.instance.report_runless_asset_event(
        AssetMaterialization("media_index", partition=str(game_period_key("20031", "1")), metadata={"clips": 0})
    )
    tick(env)
    result = tick(env)
    assert keys(result) == [game_period_key("20031", "2")]
    assert result.run_requests[0].tags["hb/reason"] == "never indexed"
    assert "game 20031 period 1: up to date; no run needed" in capsys.readouterr().err
    # Its video replaced later: run.
    video = env.root / "video" / "20031" / "1.mp4"
    os.utime(video, ns=(time.time_ns(), time.time_ns()))
    tick(env)
    assert keys(tick(env)) == [game_period_key("20031", "1")]


def test_interval_and_default_status_come_from_the_environment(monkeypatch):
    assert SENSOR.minimum_interval_seconds == int(os.environ.get("HB_SENSOR_INTERVAL_S", "30"))
    monkeypatch.setenv("HB_SENSOR_INTERVAL_S", "7")
    monkeypatch.setenv("HB_SENSOR_DEFAULT_STATUS", "stopped")
    sensor = build_arrival_sensor(clip_game_period_job)
    assert sensor.minimum_interval_seconds == 7 and sensor.default_status == DefaultSensorStatus.STOPPED
    monkeypatch.setenv("HB_SENSOR_DEFAULT_STATUS", "sometimes")
    with pytest.raises(ValueError, match="HB_SENSOR_DEFAULT_STATUS"):
        build_arrival_sensor(clip_game_period_job)
