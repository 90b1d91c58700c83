"""core.verify on real clips: frame counts, and the first frame of a clip found
by its frame mark or, on a video without marks, by its pixels."""
from __future__ import annotations

import subprocess
from fractions import Fraction

import pytest

from hb_clips_assets.pipeline.verify import clip_stream_problem, first_frame_problem, sample_evenly
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.sample import ffmpeg_exe


@pytest.fixture(scope="module")
def unmarked(tmp_path_factory):
    """A 4 s 25 fps broadcast-like test pattern (moving, with a counter) and no frame marks."""
    path = tmp_path_factory.mktemp("unmarked") / "testsrc.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "4",
         "-c:v", "libx264", "-preset", "superfast", "-g", "50", "-bf", "2", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return probe_video(path)


def test_clip_stream_and_first_frame_of_a_marked_source(src_5994, tmp_path):
    source = probe_video(src_5994)
    good = cut_clip(source, 100, 160, 130, tmp_path / "a")
    assert clip_stream_problem(good.mp4_path, 100, 160, source.fps) is None
    assert first_frame_problem(good.mp4_path, source, 100) is None
    assert clip_stream_problem(good.mp4_path, 100, 161, source.fps) == "60 frames, the range 100-161 has 61"
    assert clip_stream_problem(good.mp4_path, 100, 160, Fraction(25)).startswith("frame rate 60000/1001")
    assert first_frame_problem(good.mp4_path, source, 101) == "first frame is source frame 100, expected 101"


def test_first_frame_by_pixels_when_the_source_has_no_marks(unmarked, tmp_path):
    good = cut_clip(unmarked, 30, 60, 40, tmp_path / "a")
    assert first_frame_problem(good.mp4_path, unmarked, 30) is None
    late = cut_clip(unmarked, 33, 63, 40, tmp_path / "b")
    problem = first_frame_problem(late.mp4_path, unmarked, 30)
    assert problem is not None and "first frame differs from source frame 30" in problem
    one_off = cut_clip(unmarked, 31, 61, 40, tmp_path / "c")
    assert "closest: frame 31" in first_frame_problem(one_off.mp4_path, unmarked, 30)


def test_truncated_clip_is_a_stream_problem(src_5994, tmp_path):
    source = probe_video(src_5994)
    clip = cut_clip(source, 0, 120, 10, tmp_path / "a").mp4_path
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    assert clip_stream_problem(clip, 0, 120, source.fps) is not None


def test_sample_evenly():
    assert sample_evenly(list(range(10)), 3) == [0, 4, 9]
    assert sample_evenly([1, 2], 5) == [1, 2]
    assert sample_evenly(list(range(5)), 0) == list(range(5))
    assert sample_evenly(list(range(5)), 1) == [0]


def test_the_source_frames_compared_are_the_main_stream_not_a_proxy_before_it(unmarked, tmp_path):
    """A source whose first video track is a 80x46 proxy and whose second (default) is the real
    picture: the first-frame check decodes the real picture, so a clip of it passes and a clip one
    frame late is caught (from the proxy, every clip would fail on its size)."""
    proxy = tmp_path / "proxy.mp4"
    two = tmp_path / "two.mp4"
    ff = [ffmpeg_exe(), "-v", "error", "-y"]
    subprocess.run(ff + ["-i", unmarked.path, "-vf", "scale=80:46", "-c:v", "libx264", "-preset", "ultrafast",
                         str(proxy)], check=True)
    subprocess.run(ff + ["-i", unmarked.path, "-i", str(proxy), "-map", "1:v", "-map", "0:v", "-c", "copy",
                         "-disposition:v:0", "0", "-disposition:v:1", "default", str(two)], check=True)
    source = probe_video(two)
    assert (source.width, source.height, source.stream_index) == (320, 180, 1)
    good = cut_clip(unmarked, 30, 60, 40, tmp_path / "a")  # cut from the real picture alone
    assert first_frame_problem(good.mp4_path, source, 30) is None
    assert "closest: frame 30" in first_frame_problem(good.mp4_path, source, 31)
    assert clip_stream_problem(good.mp4_path, 30, 60, source.fps) is None
