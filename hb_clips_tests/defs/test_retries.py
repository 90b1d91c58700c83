"""Retries and partial failures: a transient failure is retried and re-cuts only
what failed; a clip that keeps failing does not lose the partition's other
clips; input errors are not retried."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from dagster import Backoff, Jitter, RetryPolicy, instance_for_test

import hb_clips_assets.pipeline.cutting as cutting
from hb_clips_assets.defs.assets import clips, media_index
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.failures import TRANSIENT_RETRIES, step_failure_message
from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.resources import pipeline_resources, run_partition

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


def failing_cut(monkeypatch, fail_times: int):
    """Make cutting the second segment (in start order) fail ``fail_times`` times."""
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
            raise OSError("simulated: the scratch disk went away")
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


def test_a_clip_that_keeps_failing_does_not_lose_the_others(env, monkeypatch, quick_retries):
    failing_cut(monkeypatch, fail_times=100)
    result = run(env)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 3  # the policy's 3 retries, then the run fails
    # The waits the policy asked for (Dagster also computes one for the 4th failure, unused):
    assert [abs(delay - centre) <= 3 for delay, centre in zip(quick_retries, (3, 9, 21))] == [True] * 3
    message = step_failure_message(next(e for e in result.all_events if e.is_step_failure))
    assert "1 of " in message and f"game {GAME} period {PERIOD} failed" in message and "scratch disk" in message
    attempts = clip_metadata(result)
    assert len(attempts) == 4
    others = attempts[0]["clips"]
    assert attempts[0]["clips_cut"] == others and attempts[0]["clips_failed"] == 1
    assert all(a["clips_cut"] == 0 and a["clips_cached"] == others for a in attempts[1:])  # retries re-cut nothing else
    stored = list((env["tmp"] / "store" / "clips" / GAME / PERIOD).glob("*.mp4"))
    assert len(stored) == others  # the others are stored ...
    assert env["index"].count_clips(GAME, PERIOD) == 0  # ... though the partition is not indexed
    monkeypatch.undo()
    again = run(env)
    assert again.success
    (retry,) = clip_metadata(again)
    assert retry["clips_cut"] == 1 and retry["clips_cached"] == others
    assert env["index"].count_clips(GAME, PERIOD) == others + 1


def test_input_errors_are_not_retried(env, quick_retries):
    (env["tmp"] / "data" / "video" / GAME / f"{PERIOD}.mp4").write_bytes(b"\x00" * 5000)
    started = time.monotonic()
    result = run(env)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] and not quick_retries
    assert "not a readable video" in step_failure_message(next(e for e in result.all_events if e.is_step_failure))
    assert time.monotonic() - started < 30
