"""Fault 6 (issue 7): the period video is replaced under the pipeline. A run
either uses the old file consistently or fails clearly; the next run uses the
new file (new fingerprint, new clip ids), and the old video's rows and objects
are removed, never mixed with the new ones."""
from __future__ import annotations

import os
import shutil
import threading
from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.pipeline import cutting
from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.sample import write_marked_video
from hb_clips_assets.defs.failures import step_failure_message

from hb_clips_tests.faults.support import GAME, PERIOD, check_consistent, project_env, run_in_process, snapshot

FRAMES = round(6 * Fraction(60000, 1001))  # the sample's 6 s period


@pytest.fixture
def replaced(fault_sample, tmp_path):
    """A private copy of the sample, and a different encode of the same period, ready to be swapped in."""
    data = tmp_path / "data"
    shutil.copytree(fault_sample, data)
    video = data / "video" / GAME / f"{PERIOD}.mp4"
    new = tmp_path / "new.mp4"
    write_marked_video(new, FRAMES, width=320, height=180, crf=30)
    assert sha256_file(new) != sha256_file(video)
    return {"env": project_env(tmp_path, data), "video": video, "new": new}


def swap_in(new: Path, video: Path) -> None:
    """Replace the video atomically, as an upload tool that writes then renames does."""
    tmp = video.with_name(".upload.tmp")
    shutil.copyfile(new, tmp)
    os.replace(tmp, video)


def test_video_replaced_between_segments_and_clips_fails_clearly_then_next_run_uses_it(replaced):
    env, video = replaced["env"], replaced["video"]
    assert run_in_process(env)[0].success
    before = check_consistent(env)
    old_ids = {r[0] for r in before["dump"]["clips"]}

    # metrics and event_segments resolve the old file; the video is replaced; clips + media_index run.
    assert run_in_process(env, selection=["metrics", "event_segments"])[0].success
    swap_in(replaced["new"], video)
    result, _ = run_in_process(env, selection=["clips", "media_index"])
    assert not result.success
    failed = {e.step_key: step_failure_message(e) for e in result.all_events if e.is_step_failure}
    assert set(failed) == {"clips"}, failed
    assert f"{video} changed after its segments were resolved" in failed["clips"]
    assert sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events) == 0  # not retried
    assert snapshot(env) == before  # nothing written, nothing removed

    # The next full run uses the new file: new clip ids for the same events, the old ones gone.
    result, meta = run_in_process(env)
    assert result.success
    after = check_consistent(env)
    new_ids = {r[0] for r in after["dump"]["clips"]}
    assert len(new_ids) == len(old_ids) and not new_ids & old_ids
    assert {r[1:4] for r in after["dump"]["clips"]} == {r[1:4] for r in before["dump"]["clips"]}  # same events
    sha_col = next(i for i, v in enumerate(after["dump"]["clips"][0]) if v == sha256_file(video))
    assert {r[sha_col] for r in after["dump"]["clips"]} == {sha256_file(video)}  # every row from the new file
    assert not set(after["objects"]) & set(before["objects"]) and len(after["objects"]) == len(before["objects"])
    assert meta["media_index"]["stale_objects_removed"] == len(before["objects"])
    assert after["temp"] == []
    print(f"\nreplaced video: {len(old_ids)} old clips -> {len(new_ids)} new clip ids, "
          f"{meta['media_index']['stale_objects_removed']} stale objects removed, 0 shared")


def test_video_replaced_while_clips_are_cut_is_used_consistently_or_fails(replaced, reference, monkeypatch):
    env, video = replaced["env"], replaced["video"]
    real_cut, lock, done = cutting.cut_segment, threading.Lock(), []

    def cut_segment(*args, **kwargs):
        result = real_cut(*args, **kwargs)
        with lock:
            if not done:  # after the first clip: the video is replaced mid-step
                swap_in(replaced["new"], video)
                done.append(True)
        return result

    monkeypatch.setattr(cutting, "cut_segment", cut_segment)
    result, _ = run_in_process(env)
    assert done
    snap = check_consistent(env)
    # Either the run failed clearly (and indexed nothing), or every stored clip is a cut of the old file:
    # the uninterrupted run of the old file (`reference`, same clip ids) has the very same objects.
    if not result.success:
        assert snap["dump"]["clips"] == []
    else:
        mixed = sorted(k for k, v in snap["objects"].items() if reference["objects"].get(k) != v)
        assert not mixed, f"{len(mixed)} of {len(snap['objects'])} objects are not cuts of the file their ids name"
