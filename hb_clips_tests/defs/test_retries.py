"""Retries and partial failures: a transient failure is retried and re-cuts only
what failed; a clip that keeps failing is set aside after the retries and the
partition's other clips are indexed; deterministic failures (a clip the cutter
refuses, bad input, a database path that is a folder, a bug) are attempted once;
a lost database connection is retried."""
from __future__ import annotations

import importlib
import shutil
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy.exc
from dagster import Backoff, Jitter, RetryPolicy, instance_for_test

import hb_clips_assets.pipeline.cutting as cutting
from hb_clips_assets.defs.assets import clips, media_index
from hb_clips_assets.defs.resources import MediaIndexResource
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.failures import (
    TRANSIENT_RETRIES,
    UNEXPECTED_HINT,
    WHAT_TO_DO,
    step_failure_hint,
    step_failure_message,
)
from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.video.cut import CutError
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.resources import pipeline_resources, run_partition, table_rows

GAME, PERIOD = "20031", "2"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_sample_data(root, period_seconds=6, width=320, height=180, games=[GAME], progress=lambda _m: None)
    return root


@pytest.fixture
def env(tmp_path, sample):
    shutil.copytree(sample, tmp_path / "data")
    resources = pipeline_resources(tmp_path / "data", tmp_path / "work", tmp_path / "store", f"sqlite:///{tmp_path / 'media.db'}")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        yield {"tmp": tmp_path, "resources": resources, "instance": instance,
               "index": MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")}


@pytest.fixture
def quick_retries(monkeypatch):
    """Keep the policies' retries but not their waits: record each delay asked for, wait 10 ms."""
    asked = []
    real = RetryPolicy.calculate_delay

    def calculate_delay(self, attempt_num):
        asked.append(real(self, attempt_num))
        return 0.01

    monkeypatch.setattr(RetryPolicy, "calculate_delay", calculate_delay)
    return asked


def run(env):
    return run_partition(GAME, PERIOD, env["instance"], env["resources"])[0]


def clip_metadata(result) -> list[dict]:
    """Metadata of each materialization of the clips asset in the run, in order (one per attempt)."""
    out = []
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.to_user_string() == "clips":
            out.append({k: getattr(v, "value", v) for k, v in mat.metadata.items()})
    return out


RETRY_EVENTS = ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")


def retry_events(result) -> list[str]:
    """The step of each retry of the run (Dagster logs both events for each)."""
    return [e.step_key for e in result.all_events if e.event_type_value in RETRY_EVENTS]


def failing_cut(monkeypatch, fail_times: int, error=lambda: OSError("simulated: the scratch disk went away")):
    """Make cutting the first segment cut fail ``fail_times`` times with ``error()``."""
    real = cutting.cut_segment
    state = {"target": None, "failures": 0, "calls": 0}
    lock = threading.Lock()

    def cut(source, seg, out_dir, settings):
        event = seg.event_frame
        with lock:
            state["calls"] += 1
            if state["target"] is None:
                state["target"] = event
            fail = event == state["target"] and state["failures"] < fail_times
            if fail:
                state["failures"] += 1
        if fail:
            raise error()
        return real(source, seg, out_dir, settings)

    monkeypatch.setattr(cutting, "cut_segment", cut)
    return state


def test_the_clip_assets_carry_the_pool_and_the_retry_policy():
    assert clips.op.pool == "ffmpeg"
    assert clips.op.retry_policy == media_index.op.retry_policy == TRANSIENT_RETRIES
    assert TRANSIENT_RETRIES.max_retries == 3 and TRANSIENT_RETRIES.backoff == Backoff.EXPONENTIAL
    assert TRANSIENT_RETRIES.jitter == Jitter.PLUS_MINUS
    for attempt, centre in ((1, 3), (2, 9), (3, 21)):
        assert abs(TRANSIENT_RETRIES.calculate_delay(attempt) - centre) <= 3


def test_a_transient_failure_is_retried_and_recuts_only_the_failed_clip(env, monkeypatch, quick_retries):
    state = failing_cut(monkeypatch, fail_times=1)
    started = time.monotonic()
    result = run(env)
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retries] == ["clips"]
    first, second = clip_metadata(result)
    total = first["clips"] + 1
    assert first["clips_failed"] == 1 and first["clips_cut"] == total - 1
    assert second["clips_cut"] == 1 and second["clips_cached"] == total - 1 and second["clips_failed"] == 0
    assert state["calls"] == total + 1  # every clip once, the failed one twice
    assert env["index"].count_clips(GAME, PERIOD) == total
    assert len(quick_retries) == 1 and 0 <= quick_retries[0] <= 6  # the policy asked for about 3 s
    assert time.monotonic() - started < 60


def test_a_clip_that_keeps_failing_is_set_aside_after_the_retries_and_the_others_are_indexed(
        env, monkeypatch, quick_retries):
    failing_cut(monkeypatch, fail_times=100)
    result = run(env)
    assert result.success  # the last attempt sets the clip aside: media_index runs
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retries] == ["clips"] * 3  # the policy's 3 retries
    assert [abs(delay - centre) <= 3 for delay, centre in zip(quick_retries, (3, 9, 21))] == [True] * 3
    attempts = clip_metadata(result)
    assert len(attempts) == 4
    others = attempts[0]["clips"]
    assert attempts[0]["clips_cut"] == others and attempts[0]["clips_failed"] == 1
    assert all(a["clips_cut"] == 0 and a["clips_cached"] == others for a in attempts[1:])  # retries re-cut nothing else
    last = attempts[-1]
    assert last["clips_set_aside"] == 1 and last["clips_kept"] == 0 and last["clips"] == others
    (aside,) = table_rows(last["clips_set_aside_table"])
    assert "scratch disk" in aside["reason"] and "still failing after 3 retries" in aside["reason"]
    stored = list((env["tmp"] / "store" / "clips" / GAME / PERIOD).glob("*.mp4"))
    assert len(stored) == others  # the others are stored ...
    assert env["index"].count_clips(GAME, PERIOD) == others  # ... and indexed: findable
    assert aside["event_id"] not in {r["event_id"] for r in env["index"].clips(GAME, PERIOD)}
    monkeypatch.undo()
    again = run(env)
    assert again.success
    (retry,) = clip_metadata(again)
    assert retry["clips_cut"] == 1 and retry["clips_cached"] == others and retry["clips_set_aside"] == 0
    assert env["index"].count_clips(GAME, PERIOD) == others + 1


def test_a_clip_the_cutter_refuses_is_attempted_once_and_set_aside(env, monkeypatch, quick_retries):
    state = failing_cut(monkeypatch, fail_times=100, error=lambda: CutError("/v.mp4: decoded 3 of 480 frames of [0, 480)"))
    result = run(env)
    assert result.success and retry_events(result) == [] and quick_retries == []
    (attempt,) = clip_metadata(result)
    assert attempt["clips_set_aside"] == 1 and attempt["clips_failed"] == 1
    (aside,) = table_rows(attempt["clips_set_aside_table"])
    assert aside["reason"] == "/v.mp4: decoded 3 of 480 frames of [0, 480)" and aside["event_frame"] == state["target"]
    assert env["index"].count_clips(GAME, PERIOD) == attempt["clips"] == state["calls"] - 1


def test_a_database_path_that_is_a_folder_fails_once_naming_it(env, quick_retries):
    folder = env["tmp"] / "index_folder"
    folder.mkdir()
    env["resources"]["media_index"] = MediaIndexResource(url=f"sqlite:///{folder}")
    result = run(env)
    assert not result.success and retry_events(result) == [] and quick_retries == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "clips"
    message = step_failure_message(failure)
    assert str(folder) in message and "unable to open database" in message and "\n" not in message, message
    assert "HB_MEDIA_DB_URL" in step_failure_hint(failure)


def test_a_lost_database_connection_is_retried(env, monkeypatch, quick_retries):
    real, calls = MediaIndexResource.get_index, []

    def get_index(self):
        calls.append(1)
        if len(calls) == 1:
            raise sqlalchemy.exc.OperationalError(
                "select 1", {}, Exception('connection failed: connection to server at "127.0.0.1", port 5432 failed: '
                                          "Connection refused"))
        return real(self)

    monkeypatch.setattr(MediaIndexResource, "get_index", get_index)
    result = run(env)
    assert result.success
    assert retry_events(result) == ["clips", "clips"]  # one retry: up for retry, restarted
    assert len(quick_retries) == 1 and env["index"].count_clips(GAME, PERIOD) > 0


def test_a_bug_is_not_retried_and_its_traceback_stays_in_the_run_log(env, monkeypatch, quick_retries):
    def produce_clips(*_args, **_kwargs):
        return {}["no such key"]

    # the module, not the asset of the same name the package exports
    monkeypatch.setattr(importlib.import_module("hb_clips_assets.defs.assets.clips"), "produce_clips", produce_clips)
    result = run(env)
    assert not result.success and retry_events(result) == [] and quick_retries == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert step_failure_message(failure) == "unexpected KeyError: 'no such key'"
    assert step_failure_hint(failure) == UNEXPECTED_HINT
    assert failure.step_failure_data.user_failure_data.metadata[WHAT_TO_DO].value == UNEXPECTED_HINT
    error = failure.step_failure_data.error  # the Failure, caused by the KeyError with its stack
    assert error.cause is not None and "KeyError" in error.cause.cls_name
    assert any("produce_clips" in line for line in error.cause.stack)


def test_input_errors_are_not_retried(env, quick_retries):
    (env["tmp"] / "data" / "video" / GAME / f"{PERIOD}.mp4").write_bytes(b"\x00" * 5000)
    started = time.monotonic()
    result = run(env)
    assert not result.success
    assert retry_events(result) == [] and not quick_retries
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "not a readable video" in step_failure_message(failure)
    assert "replace the video" in step_failure_hint(failure)
    assert time.monotonic() - started < 30
