"""Frame accuracy of the smart cutter (re-encoded head/tail, copied body),
read back from the decoded frames' marks with FFmpeg (PyAV), the FFmpeg 9 CLI
and an independent decoder (OpenH264)."""
from __future__ import annotations

import subprocess
from fractions import Fraction

import av
import numpy as np
import pytest

from hb_clips_assets.core.video.cut import CutError
from hb_clips_assets.core.video.framemark import read_frame_mark
from hb_clips_assets.core.video.probe import probe_video
from hb_clips_assets.core.video.smartcut import smart_cut_clip
from hb_clips_assets.core.video.synth import ffmpeg_exe, write_marked_video
from hb_clips_tests.media_checks import decode_clip, ffmpeg_decode_errors, jpeg_mark, top_level_atoms


@pytest.fixture(scope="session")
def src_short_gop(video_dir):
    """4 s, 59.94 fps, IDR every 30 frames, 3 B-frames with b-pyramid (x264 default), AAC."""
    return write_marked_video(video_dir / "src_short_gop.mp4", 240, Fraction(60000, 1001), gop=30)


def openh264_marks(path, width, height) -> list[int]:
    """Frame marks as decoded by OpenH264 (through the FFmpeg 9 CLI)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-c:v", "libopenh264", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    )
    frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, height, width)
    return [read_frame_mark(f.copy()) for f in frames]


def audio_duration(path) -> Fraction:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        return a.duration * a.time_base


def decoded_pts_steps(path) -> set[int]:
    with av.open(str(path)) as c:
        pts = [f.pts for f in c.decode(c.streams.video[0])]
    return {b - a for a, b in zip(pts, pts[1:])}


def check_clip(source, result, start, end, event, *, audio: bool):
    clip = decode_clip(result.mp4_path)
    assert clip.marks == list(range(start, end))  # first, last, count, no duplicate or gap at a splice
    assert result.frames == end - start
    assert clip.video_codec == "h264"
    assert clip.fps == source.fps
    if audio:
        assert clip.audio_rate == 48000
        video_s = (end - start) / source.fps
        # The MP4's audio duration (edit list, what players honour) is exact to within one frame.
        assert abs(audio_duration(result.mp4_path) - video_s) <= 1 / source.fps
        # Decoding yields whole AAC frames: the padding of the last one (< 1024 samples) comes on top.
        # (cut.cut_clip behaves the same; test_cut's decoded-samples check passes only for lucky lengths.)
        assert 0 <= clip.audio_samples - video_s * 48000 < 1024 + 48000 / source.fps
    else:
        assert clip.audio_rate is None and result.audio_samples == 0
    assert jpeg_mark(result.thumbnail_path.read_bytes()) == event
    atoms = top_level_atoms(result.mp4_path)
    assert atoms.index("moov") < atoms.index("mdat"), f"not faststart: {atoms}"
    assert ffmpeg_decode_errors(result.mp4_path) == ""
    if end - start > 1:
        assert len(decoded_pts_steps(result.mp4_path)) == 1  # evenly spaced timestamps across the joins
    return clip


# (start, end, event, expected path). Keyframes (IDR) every 120 frames of 360.
CASES_5994 = [
    (120, 240, 150, "smart"),  # starts and ends on an IDR: pure copy
    (119, 241, 119, "smart"),  # one frame before / one after: 1-frame head, 1-frame tail
    (121, 360, 299, "smart"),  # one after an IDR, ends at the end of the file
    (119, 240, 239, "smart"),  # ends on the IDR
    (120, 239, 238, "full"),  # ends one before the next IDR: nothing to copy
    (100, 300, 200, "smart"),  # event in the copied body
    (0, 360, 180, "smart"),  # the whole video
    (121, 359, 300, "full"),  # one IDR inside, no complete GOP
    (239, 241, 240, "full"),  # two frames across an IDR
    (0, 30, 0, "full"),  # no IDR after the start inside the clip
]


@pytest.mark.parametrize("start,end,event,path", CASES_5994)
def test_smart_clip_is_frame_exact_with_audio(src_5994, tmp_path, start, end, event, path):
    source = probe_video(src_5994)
    result = smart_cut_clip(source, start, end, event, tmp_path)
    assert result.path == path, result.reason
    check_clip(source, result, start, end, event, audio=True)
    if path == "smart":
        assert result.copied_frames > 0 and result.reason is None


@pytest.mark.parametrize(
    "start,end,event,path",
    [(0, 50, 10, "smart"), (49, 101, 60, "smart"), (51, 150, 149, "smart"), (49, 51, 50, "full"), (100, 125, 124, "full")],
)
def test_25fps_source_without_audio(src_25_silent, tmp_path, start, end, event, path):
    source = probe_video(src_25_silent)
    result = smart_cut_clip(source, start, end, event, tmp_path)
    assert result.path == path, result.reason
    check_clip(source, result, start, end, event, audio=False)


@pytest.mark.parametrize("start,end", [(29, 211), (31, 209), (30, 210), (1, 239), (59, 122)])
def test_b_pyramid_many_gops(src_short_gop, tmp_path, start, end):
    source = probe_video(src_short_gop)
    event = (start + end) // 2
    result = smart_cut_clip(source, start, end, event, tmp_path)
    assert result.path == "smart", result.reason
    check_clip(source, result, start, end, event, audio=True)


@pytest.mark.parametrize("start,end", [(119, 200), (120, 240), (121, 250), (235, 245), (0, 200), (0, 360)])
def test_open_gop_source_falls_back_or_is_right(src_open_gop, tmp_path, start, end):
    source = probe_video(src_open_gop)
    result = smart_cut_clip(source, start, end, start, tmp_path)
    check_clip(source, result, start, end, start, audio=True)
    if (start, end) == (0, 360):
        assert result.path == "smart"  # the whole file: one IDR, then open GOPs copied as they are
    else:
        assert result.path == "full" and "IDR" in result.reason or "GOP" in result.reason


OPENH264_TAIL = pytest.mark.xfail(
    strict=True,
    reason="OpenH264 (through FFmpeg 9's libopenh264 wrapper) drops the pictures it holds for reordering "
    "(2 with b-pyramid) when the re-encoded tail's IDR activates another SPS; FFmpeg decodes them all",
)


@pytest.mark.parametrize(
    "start,end",
    [(119, 240), (100, 240), (0, 360), pytest.param(119, 241, marks=OPENH264_TAIL), pytest.param(100, 300, marks=OPENH264_TAIL)],
)
def test_openh264_decodes_the_same_frames(src_5994, tmp_path, start, end):
    source = probe_video(src_5994)
    result = smart_cut_clip(source, start, end, start, tmp_path)
    assert result.path == "smart"
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(start, end))


@OPENH264_TAIL
def test_openh264_b_pyramid(src_short_gop, tmp_path):
    source = probe_video(src_short_gop)
    result = smart_cut_clip(source, 29, 211, 100, tmp_path)
    assert result.path == "smart"
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(29, 211))


def test_copied_body_is_bit_exact(src_5994, tmp_path):
    """The body's packets are the source's (no re-encode between the IDRs)."""
    source = probe_video(src_5994)
    result = smart_cut_clip(source, 100, 300, 150, tmp_path)
    assert result.path == "smart" and result.copied_frames == 120 and result.reencoded_frames == 80
    with av.open(str(src_5994)) as c:
        src = {bytes(p) for p in c.demux(c.streams.video[0]) if p.size}
    with av.open(str(result.mp4_path)) as c:
        out = [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]
    assert sum(p in src for p in out) == 120


@pytest.mark.parametrize("start,end,event", [(-1, 10, 0), (10, 10, 10), (300, 361, 300), (0, 10, 10)])
def test_bad_ranges_are_refused_and_leave_no_file(src_5994, tmp_path, start, end, event):
    with pytest.raises(CutError, match="src_5994.mp4"):
        smart_cut_clip(probe_video(src_5994), start, end, event, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_broken_splice_is_caught_and_falls_back(src_5994, tmp_path, monkeypatch):
    """Verification decodes the joins: two swapped tail pictures make it use the full re-encode."""
    from hb_clips_assets.core.video import smartcut

    mux = smartcut._SmartCut._mux

    def broken_mux(self, out, avcc, order, delay, audio):
        order = list(order)
        (a, ia, ka), (b, ib, kb) = order[-2], order[-1]
        order[-2], order[-1] = (b, ia, ka), (a, ib, kb)
        return mux(self, out, avcc, order, delay, audio)

    monkeypatch.setattr(smartcut._SmartCut, "_mux", broken_mux)
    source = probe_video(src_5994)
    result = smart_cut_clip(source, 100, 300, 150, tmp_path)
    assert result.path == "full" and "verify" in result.reason
    check_clip(source, result, 100, 300, 150, audio=True)
    assert sorted(p.name[:5] for p in tmp_path.iterdir()) == [".cut-", ".thum"]  # the smart attempt left nothing


@pytest.mark.parametrize("verify", ["full", "none"])
def test_verify_modes(src_short_gop, tmp_path, verify):
    source = probe_video(src_short_gop)
    result = smart_cut_clip(source, 29, 211, 100, tmp_path, verify=verify)
    assert result.path == "smart"
    check_clip(source, result, 29, 211, 100, audio=True)
