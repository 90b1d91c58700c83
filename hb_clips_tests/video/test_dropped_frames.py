"""A period with a few dropped frames (its timestamps skip one or two frame durations now and
then, and are otherwise constant) is accepted with the gaps reported; frame numbers follow the
timestamps, so a dropped frame keeps its number and every other frame has the number a player
gives it. Real variable frame rate is still refused.

Sources are marked videos (every frame carries its original index) with frames removed by the
FFmpeg CLI, timestamps passed through; the FFmpeg CLI is also the independent reader: at a
constant 25 fps output (what a player shows: the previous picture held over a gap), output frame
n carries mark n wherever n was not dropped.
"""
from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from hb_clips_assets.pipeline.verify import clip_stream_problem
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_assets.video.cut import CutError
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.frametiming import describe_missing
from hb_clips_assets.video.framemark import read_frame_mark
from hb_clips_assets.video.probe import VideoError, probe_video
from hb_clips_tests.media_checks import decode_clip

FRAMES, W, H = 150, 160, 90
DROPPED = (57, 100, 101)  # one frame, then two in a row


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> Path:
    return write_marked_video(tmp_path_factory.mktemp("drops") / "src.mp4", FRAMES, Fraction(25), W, H,
                              audio=False, gop=25)


def drop_frames(src: Path, out: Path, frames: tuple[int, ...]) -> Path:
    """``src`` without ``frames``, every other frame keeping its timestamp (a capture that dropped them)."""
    expr = "+".join(f"eq(n\\,{n})" for n in frames)
    _ffmpeg("-i", str(src), "-vf", f"select='not({expr})'", "-fps_mode", "passthrough", "-c:v", "libx264",
            "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", str(out))
    return out


def player_marks(path: Path) -> list[int]:
    """Marks of the frames the FFmpeg CLI shows at a constant 25 fps (a gap holds the previous picture)."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", "fps=25,format=gray", "-f", "rawvideo",
                          "-"], check=True, capture_output=True).stdout
    planes = np.frombuffer(raw, np.uint8).reshape(-1, H, W)
    return [read_frame_mark(p.copy()) for p in planes]


@pytest.fixture(scope="module")
def dropped(marked, tmp_path_factory) -> Path:
    return drop_frames(marked, tmp_path_factory.mktemp("dropped") / "1.mp4", DROPPED)


def test_dropped_frames_are_accepted_and_keep_their_numbers(dropped):
    info = probe_video(dropped)
    assert (info.fps, info.frame_count, info.missing) == (Fraction(25), FRAMES, DROPPED)
    assert info.keyframes[:3] == (0, 25, 50)
    # frame n is shown at n / 25 s, as in the analyst's player: the independent reader agrees
    assert [info.pts_seconds(n) for n in (0, 56, 58, 102, 149)] == [Fraction(n, 25) for n in (0, 56, 58, 102, 149)]
    shown = player_marks(dropped)
    assert len(shown) == FRAMES
    assert [n for n, mark in enumerate(shown) if mark != n] == list(DROPPED)
    assert [shown[n] for n in DROPPED] == [56, 99, 99]  # the player holds the picture before the gap
    meta = info.timeline()
    assert (meta["missing_frame_count"], meta["missing_frames"]) == (3, "57, 100-101")
    assert info.notes() == [
        "3 frame(s) missing (dropped at capture: the timestamps skip them): frame(s) 57, 100-101; frame numbers "
        "follow the timestamps, so every other frame keeps the number a player shows for it, and a clip over a "
        "missing frame is set aside"
    ]


def test_clips_beside_a_gap_are_exact_and_a_clip_over_one_is_refused(dropped, tmp_path):
    info = probe_video(dropped)
    before = cut_clip(info, 30, 57, 40, tmp_path / "a")
    assert decode_clip(before.mp4_path).marks == list(range(30, 57))
    after = cut_clip(info, 102, 140, 110, tmp_path / "b")  # after both gaps: not shifted by the missing frames
    assert decode_clip(after.mp4_path).marks == list(range(102, 140))
    assert clip_stream_problem(after.mp4_path, 102, 140, info.fps) is None
    with pytest.raises(CutError, match="expected frame 57, decoded frame 58"):
        cut_clip(info, 50, 70, 60, tmp_path / "c")


def test_a_stored_clip_with_a_missing_frame_is_a_stream_problem(dropped, tmp_path):
    clip = tmp_path / "clip.mp4"  # a copy of source frames 40-69 keeps the hole at 57
    _ffmpeg("-i", str(dropped), "-vf", "select='between(n\\,40\\,68)',setpts=PTS-STARTPTS", "-fps_mode", "passthrough",
            "-c:v", "libx264", "-preset", "ultrafast", str(clip))
    assert probe_video(clip).missing == (17,)
    assert clip_stream_problem(clip, 40, 70, Fraction(25)) == "frame 17 of the clip is missing (dropped frame)"


def test_many_or_long_gaps_are_variable_frame_rate(marked, tmp_path):
    three = drop_frames(marked, tmp_path / "three.mp4", (60, 61, 62))  # three in a row: more than a drop
    with pytest.raises(VideoError, match=r"variable frame rate \(frame durations 0\.0400 to 0\.1600 s\); "
                                         "re-encode it at a constant rate"):
        probe_video(three)
    many = drop_frames(marked, tmp_path / "many.mp4", tuple(range(5, 150, 10)))  # 15 of 150 frames: over 5 %
    with pytest.raises(VideoError, match=r"variable frame rate \(frame durations 0\.0400 to 0\.0800 s\)"):
        probe_video(many)


def test_describe_missing_runs():
    assert describe_missing((3, 7, 8, 9, 20)) == "3, 7-9, 20"
    assert describe_missing(tuple(range(0, 100, 2)), limit=2) == "0, 2 and 48 more gaps"
