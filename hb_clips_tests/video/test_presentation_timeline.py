"""Frame 0 is the first frame a player shows: sources whose video does not start
at the start of the stream (an edit list hiding leading frames, a stream start
time that is not 0, a timecode track) are indexed on the presentation timeline.

Each source is derived from a marked video (every frame carries its source index)
with the FFmpeg CLI, and the FFmpeg CLI is also the independent reader: display
frame k is the k-th frame it outputs (``select=eq(n,k)``, no frame-rate
conversion), and its frame count is what ``-f null`` decodes. Both cutters must
give clips whose decoded marks, frame count and thumbnail are those frames.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.cut.smart import smart_cut_clip
from hb_clips_assets.video.framemark import read_frame_mark
from hb_clips_assets.video.probe import probe_video
from hb_clips_tests.media_checks import decode_clip, jpeg_mark


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True,
                   capture_output=True)


def trim_with_edit_list(src: Path, out: Path) -> Path:
    """(a) ``-ss 2.5 -i src -c copy``: the copy starts at the keyframe before 2.5 s
    (source frame 120) and an edit list hides the 30 frames up to 2.5 s."""
    _ffmpeg("-ss", "2.5", "-i", str(src), "-c", "copy", str(out))
    return out


def ts_remux(src: Path, out: Path) -> Path:
    """(b) MP4 -> MPEG-TS -> MP4, all ``-c copy``: the video stream no longer starts at 0."""
    ts = out.with_suffix(".ts")
    _ffmpeg("-i", str(src), "-c", "copy", "-f", "mpegts", str(ts))
    _ffmpeg("-i", str(ts), "-c", "copy", str(out))
    return out


def ts_capture_remux(src: Path, out: Path) -> Path:
    """(b') A TS recording that begins mid-stream (its first third cut off at a TS
    packet boundary), remuxed to MP4: the video starts at the first keyframe, seconds
    after the audio. Parameter sets go in-band at every keyframe, as broadcasts have them."""
    ts = out.with_suffix(".ts")
    _ffmpeg("-i", str(src), "-c", "copy", "-bsf:v", "h264_mp4toannexb,dump_extra=freq=keyframe",
            "-f", "mpegts", str(ts))
    data = ts.read_bytes()
    mid = out.with_name(out.stem + "_mid.ts")
    mid.write_bytes(data[len(data) // 3 // 188 * 188 :])
    _ffmpeg("-i", str(mid), "-c", "copy", str(out))
    return out


def pre_roll(src: Path, out: Path) -> Path:
    """(c) A capture's pre-roll: timestamps shifted 0.2 s negative, so the MP4's edit
    list starts 12 frames into the media (the keyframe at 0 is hidden)."""
    _ffmpeg("-i", str(src), "-c", "copy", "-output_ts_offset", "-0.2", str(out))
    return out


def with_timecode(src: Path, out: Path) -> Path:
    """(d) A ``tmcd`` track starting at 01:00:00;00 (drop-frame)."""
    _ffmpeg("-i", str(src), "-c", "copy", "-timecode", "01:00:00;00", str(out))
    return out


def player_marks(path: Path, first: int, count: int, width: int, height: int) -> list[int]:
    """Marks of display frames ``first .. first + count - 1`` as the FFmpeg CLI outputs them."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0",
         "-vf", f"select=between(n\\,{first}\\,{first + count - 1})", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    )
    frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, height, width)
    return [read_frame_mark(f.copy()) for f in frames]


def player_frame_count(path: Path) -> int:
    """Frames the FFmpeg CLI decodes (``-f null``, timestamps passed through)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostats", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
         "-f", "null", "-", "-progress", "pipe:1"],
        capture_output=True, text=True, check=True,
    )
    return int(re.findall(r"^frame=(\d+)$", proc.stdout, re.M)[-1])


def player_video_start_s(path: Path) -> float:
    """The video stream's start as the FFmpeg CLI reports it (``start X`` on its line; 0 when absent)."""
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    line = next(line for line in err.splitlines() if "Video:" in line)
    found = re.search(r"start (-?\d+\.\d+)", line)
    return float(found.group(1)) if found else 0.0


# name: (how the source is made from src_5994 (59.94 fps, 360 frames, IDRs at 0/120/240, AAC),
#        hidden leading frames, [(start, end, event), ...] in display frames)
CASES = {
    "a_edit_list_trim": (trim_with_edit_list, 30, [(0, 40, 5), (80, 150, 100), (0, 210, 209)]),
    "b_ts_remux": (ts_remux, 0, [(0, 20, 5), (100, 150, 120), (300, 360, 359)]),
    "b_ts_capture_remux": (ts_capture_remux, 0, [(0, 30, 10), (50, 120, 119)]),
    "c_pre_roll": (pre_roll, 12, [(0, 30, 0), (100, 200, 150), (300, 348, 347)]),
    "d_timecode_track": (with_timecode, 0, [(0, 30, 0), (100, 150, 120), (119, 241, 240)]),
}


@pytest.fixture(scope="module", params=list(CASES))
def derived(request, src_5994, tmp_path_factory):
    make, hidden, ranges = CASES[request.param]
    out = make(src_5994, tmp_path_factory.mktemp(request.param) / f"{request.param}.mp4")
    return request.param, out, hidden, ranges


def test_probe_counts_and_starts_where_a_player_does(derived):
    name, path, hidden, _ = derived
    info = probe_video(path)
    assert info.frame_count == player_frame_count(path)
    assert info.hidden_frames == hidden
    assert abs(float(info.start_s) - player_video_start_s(path)) < 1e-4
    assert info.start_offset_frames == round(info.start_s * info.fps)
    assert info.start_pts == info.pts[0]
    # display frame 0 is the first frame shown; frame indices run 0 .. frame_count - 1
    assert [info.frame_index_of_pts(p) for p in info.pts[:3]] == [0, 1, 2]
    if hidden:  # hidden frames sit before frame 0, decodable from the keyframe a seek to frame 0 finds
        assert [info.frame_index_of_pts(p) for p in info.hidden_pts] == list(range(-hidden, 0))
        assert info.keyframe_at_or_before(0) == 0 and info.keyframes[0] > 0
    assert info.timecode_start == ("01:00:00;00" if name == "d_timecode_track" else None)
    meta = info.timeline()
    assert meta["hidden_frames"] == hidden and meta["timecode_start"] == info.timecode_start


@pytest.mark.parametrize("cutter", ["full", "smart"])
def test_clips_and_thumbnails_are_the_frames_a_player_shows(derived, tmp_path, cutter):
    name, path, _, ranges = derived
    info = probe_video(path)
    cut = cut_clip if cutter == "full" else smart_cut_clip
    shown = player_marks(path, 0, info.frame_count, info.width, info.height)
    assert len(shown) == info.frame_count
    for start, end, event in ranges:
        result = cut(info, start, end, event, tmp_path / f"{start}-{end}")
        marks = decode_clip(result.mp4_path).marks
        assert marks[0] == player_marks(path, start, 1, info.width, info.height)[0], (name, start)
        assert marks == shown[start:end], (name, start, end)
        assert result.frames == end - start
        assert jpeg_mark(result.thumbnail_path.read_bytes()) == shown[event], (name, event)
        if cutter == "smart":
            # Wherever an IDR lies inside the clip the copy is taken; the marks above prove it exact.
            # (Every source here derives from a closed-GOP one: its keyframes are IDRs.)
            idr_inside = any(start <= k < end for k in info.keyframes)
            assert (result.path == "smart") == idr_inside, (name, start, end, result.reason)


def test_hidden_frames_after_the_start_make_the_smart_cut_fall_back(src_5994, tmp_path):
    """An edit list that cuts inside the stream hides frames between shown ones: copying the
    packets would show them, so the smart cut re-encodes and says why."""
    info = replace(probe_video(src_5994), hidden_inside=3)
    result = smart_cut_clip(info, 100, 200, 150, tmp_path)
    assert result.path == "full" and "hides 3 frames after its first shown frame" in result.reason
    assert decode_clip(result.mp4_path).marks == list(range(100, 200))


def _movie_time_onsets(path: Path) -> list[float]:
    """Seconds on the file's own timeline (edit lists applied) at which each click starts."""
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        rate = a.codec_context.sample_rate
        frames = list(c.decode(a))
    t0 = float(frames[0].pts * frames[0].time_base)
    loud = np.flatnonzero(np.abs(np.concatenate([f.to_ndarray()[0] for f in frames])) > 0.2)
    onsets, last = [], -10**9
    for i in loud:
        if i - last > rate // 10:
            onsets.append(t0 + i / rate)
        last = i
    return onsets


@pytest.fixture(scope="module")
def src_clicks_5994(tmp_path_factory):
    """59.94 fps, IDR every 60 frames, a 2 ms click on every 30th frame."""
    from hb_clips_tests.video.test_smartcut import _click_track  # the click WAV the smart-cut sync tests use

    d = tmp_path_factory.mktemp("clicks")
    fps = Fraction(60000, 1001)
    return write_marked_video(d / "src.mp4", 420, fps, gop=60, audio_wav=_click_track(d / "c.wav", 8.0, 30 / fps))


@pytest.mark.parametrize("make,start,end", [(trim_with_edit_list, 20, 200), (pre_roll, 5, 100), (ts_remux, 40, 170)],
                         ids=["a_edit_list_trim", "c_pre_roll", "b_ts_remux"])
@pytest.mark.parametrize("cutter", ["full", "smart"])
def test_audio_stays_with_the_shown_frames(src_clicks_5994, tmp_path, make, start, end, cutter):
    """The clip's audio starts with frame ``start`` as the source plays it: each click is heard
    within one frame of where it is in the source, relative to the clip's first shown frame."""
    path = make(src_clicks_5994, tmp_path / "derived.mp4")
    info = probe_video(path)
    cut = cut_clip if cutter == "full" else smart_cut_clip
    result = cut(info, start, end, start, tmp_path / "out")
    t0, t1 = float(info.pts_seconds(start)), float(info.pts_seconds(end))
    expected = [t - t0 for t in _movie_time_onsets(path) if t0 <= t < t1 - 0.005]
    got = [t for t in _movie_time_onsets(result.mp4_path) if t < t1 - t0 - 0.005]
    assert expected and len(got) == len(expected), (got, expected)
    assert max(abs(a - b) for a, b in zip(got, expected)) < float(1 / info.fps)
