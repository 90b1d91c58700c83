"""Frame accuracy of the smart cutter (re-encoded head/tail, copied body),
read back from the decoded frames' marks with FFmpeg (PyAV), the FFmpeg 9 CLI
and an independent decoder (OpenH264)."""
from __future__ import annotations

import subprocess
from fractions import Fraction

import av
import numpy as np
import pytest

from hb_clips_assets.video.cut.types import CutError
from hb_clips_assets.video.framemark import read_frame_mark
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.video.cut.smart import smart_cut_clip
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_tests.media_checks import decode_clip, ffmpeg_decode_errors, jpeg_mark, top_level_atoms


@pytest.fixture(scope="session")
def src_short_gop(video_dir):
    """4 s, 59.94 fps, IDR every 30 frames, 3 B-frames with b-pyramid (x264 default), AAC."""
    return write_marked_video(video_dir / "src_short_gop.mp4", 240, Fraction(60000, 1001), gop=30)


def openh264_marks(path, width, height) -> list[int]:
    """Frame marks as decoded by OpenH264 (through the FFmpeg 9 CLI)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-c:v", "libopenh264", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
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


# (start, end, event, expected path). IDRs at 0, 120, 240 of 360; 3 B-frames (b-pyramid).
CASES_5994 = [
    (120, 240, 150, "smart"),  # starts and ends on an IDR: pure copy
    (119, 241, 119, "smart"),  # one frame before / one after: 1-frame head, 1-frame body run past the IDR
    (121, 360, 299, "smart"),  # one after an IDR, ends at the end of the file
    (119, 240, 239, "smart"),  # ends on the IDR
    (120, 239, 238, "smart"),  # ends one before the next IDR: body to the last whole mini-GOP, short tail
    (100, 300, 200, "smart"),  # event in the copied body
    (0, 360, 180, "smart"),  # the whole video
    (121, 359, 300, "smart"),  # one IDR inside, the body runs across no GOP boundary
    (239, 241, 240, "smart"),  # two frames across an IDR: 1 re-encoded, 1 copied
    (0, 30, 0, "smart"),  # starts on the first IDR, short
    (121, 240, 200, "full"),  # no IDR inside the clip (the next one is its end)
    (1, 119, 60, "full"),  # no IDR inside the clip
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
    [(0, 50, 10, "smart"), (49, 101, 60, "smart"), (51, 150, 149, "smart"), (49, 51, 50, "smart"),
     (100, 125, 124, "smart"), (101, 149, 120, "full")],
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


@pytest.mark.parametrize(
    "start,end,path",
    [(119, 200, "smart"), (120, 240, "smart"), (121, 250, "smart"), (235, 245, "smart"), (0, 200, "smart"),
     (0, 360, "smart"), (121, 239, "full"), (1, 119, "full")],
)
def test_open_gop_source_is_right(src_open_gop, tmp_path, start, end, path):
    """Only the first I-frame is an IDR; the others are recovery points: a body may start at
    one (rewritten as an IDR, its leading pictures re-encoded in the head) or run through it.
    A clip with neither inside is re-encoded whole."""
    source = probe_video(src_open_gop)
    result = smart_cut_clip(source, start, end, start, tmp_path)
    check_clip(source, result, start, end, start, audio=True)
    assert result.path == path, result.reason
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(start, end))
    if path == "full":
        assert "IDR" in result.reason and result.copied_frames == 0


@pytest.mark.parametrize("start,end", [(119, 240), (100, 240), (0, 360), (119, 241), (100, 300), (120, 239),
                                       (101, 299), (1, 358), (121, 359)])
def test_openh264_decodes_the_same_frames(src_5994, tmp_path, start, end):
    """An independent decoder, every frame in the order it comes out (no CFR duplication),
    across both joins. (Before the tail declared the source's picture buffer, OpenH264
    dropped the 2 pictures it held for reordering at every tail's IDR.)"""
    source = probe_video(src_5994)
    result = smart_cut_clip(source, start, end, start, tmp_path)
    assert result.path == "smart"
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(start, end))


@pytest.mark.parametrize("start,end", [(29, 211), (31, 210), (29, 209), (31, 208), (1, 238)])
def test_openh264_b_pyramid(src_short_gop, tmp_path, start, end):
    source = probe_video(src_short_gop)
    result = smart_cut_clip(source, start, end, 100, tmp_path)
    assert result.path == "smart"
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(start, end))


def test_openh264_without_b_frames(tmp_path):
    """A source with no reordering (bframes 0): every packet ends a whole run, so the body
    runs to the clip's end and only the head is re-encoded."""
    src = write_marked_video(tmp_path / "nob.mp4", 180, Fraction(60000, 1001), gop=60, bframes=0)
    source = probe_video(src)
    result = smart_cut_clip(source, 31, 150, 40, tmp_path / "out")
    assert result.path == "smart" and result.reencoded_frames == 29  # the head, 31..59
    check_clip(source, result, 31, 150, 40, audio=True)
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(31, 150))


def test_the_tail_declares_the_sources_picture_buffer(src_5994, tmp_path):
    from hb_clips_assets.video import h264

    source = probe_video(src_5994)
    result = smart_cut_clip(source, 120, 239, 150, tmp_path)  # 118 copied, a 1-frame tail
    assert result.path == "smart" and result.reencoded_frames == 1
    with av.open(str(result.mp4_path)) as c:
        avcc = h264.AvcC.parse(bytes(c.streams.video[0].codec_context.extradata))
    buffers = [h264.sps_picture_buffer(s) for s in avcc.sps]
    assert len(buffers) == 2 and buffers[0] == buffers[1]
    assert buffers[0] == h264.DecodedPictureBuffer(4, 2, 4)  # x264 b-pyramid, as the source was made


def test_copied_body_is_bit_exact(src_5994, tmp_path):
    """The body's packets are the source's (no re-encode between the IDRs)."""
    source = probe_video(src_5994)
    result = smart_cut_clip(source, 100, 300, 150, tmp_path)
    # Body from the IDR at 120 to the last whole mini-GOP before 300 (x264 anchors every 4th frame here).
    assert result.path == "smart" and 120 + 4 * 36 <= 120 + result.copied_frames <= 300
    assert result.copied_frames + result.reencoded_frames == 200
    with av.open(str(src_5994)) as c:
        src = {bytes(p) for p in c.demux(c.streams.video[0]) if p.size}
    with av.open(str(result.mp4_path)) as c:
        out = [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]
    eos = (1).to_bytes(4, "big") + bytes([0x0A])  # the body's last packet carries an end-of-sequence NAL
    assert sum(p in src or (p.endswith(eos) and p[:-5] in src) for p in out) == result.copied_frames


@pytest.mark.parametrize("start,end,event", [(-1, 10, 0), (10, 10, 10), (300, 361, 300), (0, 10, 10)])
def test_bad_ranges_are_refused_and_leave_no_file(src_5994, tmp_path, start, end, event):
    with pytest.raises(CutError, match="src_5994.mp4"):
        smart_cut_clip(probe_video(src_5994), start, end, event, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_broken_splice_is_caught_and_falls_back(src_5994, tmp_path, monkeypatch):
    """Verification decodes the joins: two swapped tail pictures make it use the full re-encode."""
    from hb_clips_assets.video.cut.smart.cutter import SmartCut

    mux = SmartCut._mux

    def broken_mux(self, out, vin, avcc, order, audio):
        order = list(order)
        (a, ia, ka), (b, ib, kb) = order[-2], order[-1]
        order[-2], order[-1] = (b, ia, ka), (a, ib, kb)
        return mux(self, out, vin, avcc, order, audio)

    monkeypatch.setattr(SmartCut, "_mux", broken_mux)
    source = probe_video(src_5994)
    result = smart_cut_clip(source, 100, 299, 150, tmp_path)  # 20 head, 178 copied, 1 tail
    assert result.path == "full" and "verify" in result.reason
    check_clip(source, result, 100, 299, 150, audio=True)
    assert sorted(p.name[:5] for p in tmp_path.iterdir()) == [".cut-", ".thum"]  # the smart attempt left nothing


@pytest.mark.parametrize("verify", ["full", "none"])
def test_verify_modes(src_short_gop, tmp_path, verify):
    source = probe_video(src_short_gop)
    result = smart_cut_clip(source, 29, 211, 100, tmp_path, verify=verify)
    assert result.path == "smart"
    check_clip(source, result, 29, 211, 100, audio=True)


# ---------------------------------------------------------------- the body plan (pure logic)


def _gop(first: int, decode_order: list[int], idr_at: set[int]):
    from hb_clips_assets.video.cut.smart.packets import SourcePacket

    return [SourcePacket(b"", first + i, first + i in idr_at, True) for i in decode_order]


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (0, 9, (0, 9)),  # I0 P4 B2 B1 B3 | P8 B6 B5 B7: runs are whole after the IDR, 3 and 7
        (0, 8, (0, 5)),  # frame 8 is cut, and 5..7 need it (decoded after it): body 0..4, tail 5..7
        (0, 5, (0, 5)),
        (0, 4, (0, 1)),  # only the IDR alone is a whole run below 4
        (0, 1, (0, 1)),
        (2, 12, None),  # the IDR at 0 is before the start, none other inside
    ],
)
def test_plan_body_takes_the_longest_whole_run(start, end, expected):
    from hb_clips_assets.video.cut.smart.packets import Fallback
    from hb_clips_assets.video.cut.smart.plan import plan_body

    pkts = _gop(0, [0, 4, 2, 1, 3, 8, 6, 5, 7, 12, 10, 9, 11], {0})
    if expected is None:
        with pytest.raises(Fallback, match="no IDR"):
            plan_body(pkts, start, end)
    else:
        plan = plan_body(pkts, start, end)
        assert (plan.k, plan.x) == expected
        assert sorted(p.index for p in pkts[plan.body_from : plan.body_to]) == list(range(*expected))


def test_plan_body_runs_across_an_idr_and_stops_at_a_leading_picture():
    from hb_clips_assets.video.cut.smart.plan import plan_body

    # IDR 0, then an open-GOP I at 4 whose leading pictures 2, 3 (display before it) come after it.
    pkts = _gop(0, [0, 1, 4, 2, 3, 5, 6], {0})
    assert (plan_body(pkts, 0, 7).k, plan_body(pkts, 0, 7).x) == (0, 7)
    assert plan_body(pkts, 0, 4).x == 2  # 4 is cut, so its leading pictures cannot be copied
    # A clip starting after the IDR: the open-GOP I at 4 is not a start.
    from hb_clips_assets.video.cut.smart.packets import Fallback

    with pytest.raises(Fallback):
        plan_body(pkts, 1, 7)


# ---------------------------------------------------------------- audio


def _click_track(path, seconds: float, every_s: Fraction, rate: int = 48000):
    """A WAV of silence with a 2 ms 6 kHz burst every ``every_s`` seconds (exactly on a video frame)."""
    import wave

    n = round(seconds * rate)
    data = np.zeros(n, np.float32)
    burst = np.sin(2 * np.pi * 6000 * np.arange(96) / rate).astype(np.float32) * 0.8
    k = 0
    while (at := round(k * every_s * rate)) + 96 < n:
        data[at : at + 96] = burst
        k += 1
    pcm = (np.repeat(data[:, None], 2, axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def _click_onsets(path) -> list[float]:
    """Seconds from the clip's first sample to each burst, as FFmpeg decodes the MP4 (edit list applied)."""
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        rate = a.codec_context.sample_rate
        chunks = [f.to_ndarray()[0] for f in c.decode(a)]
    mono = np.abs(np.concatenate(chunks))
    loud = np.flatnonzero(mono > 0.2)
    onsets, last = [], -10**9
    for i in loud:
        if i - last > rate // 10:
            onsets.append(i / rate)
        last = i
    return onsets


@pytest.fixture(scope="session")
def src_clicks(video_dir):
    """59.94 fps with a click on every 30th frame (1001/2000 s apart), IDR every 60 frames."""
    fps = Fraction(60000, 1001)
    wav = _click_track(video_dir / "clicks.wav", 8.0, 30 / fps)
    return write_marked_video(video_dir / "src_clicks.mp4", 420, fps, gop=60, audio_wav=wav)


@pytest.mark.parametrize("start,end", [(45, 300), (61, 399), (59, 181), (7, 360)])
def test_audio_is_copied_and_in_sync_within_one_frame(src_clicks, tmp_path, start, end):
    """Copied AAC packets (bit-exact) with the clip's first sample at time 0: every click is heard
    within one frame of its frame (a click belongs to every 30th source frame)."""
    source = probe_video(src_clicks)
    fps = Fraction(source.fps)
    result = smart_cut_clip(source, start, end, start, tmp_path)
    assert result.path == "smart"
    check_clip(source, result, start, end, start, audio=True)
    expected = [float((f - start) / fps) for f in range(start, end) if f % 30 == 0]
    # (Decoding yields whole AAC frames: a click just after the clip's end may be in the last one's padding.)
    onsets = [t for t in _click_onsets(result.mp4_path) if t < (end - start) / fps]
    assert len(onsets) == len(expected), (onsets, expected)
    assert max(abs(a - b) for a, b in zip(onsets, expected)) < float(1 / fps)
    with av.open(str(src_clicks)) as c:
        src = {bytes(p) for p in c.demux(c.streams.audio[0]) if p.size}
    with av.open(str(result.mp4_path)) as c:
        out = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
    assert out and all(p in src for p in out)  # copied, not re-encoded


def test_full_cutter_audio_is_in_sync_too(src_clicks, tmp_path):
    """The same sync check against cut.cut_clip (the fallback), so the two paths agree."""
    from hb_clips_assets.video.cut.full import cut_clip

    source = probe_video(src_clicks)
    fps = Fraction(source.fps)
    result = cut_clip(source, 61, 399, 61, tmp_path)
    expected = [float((f - 61) / fps) for f in range(61, 399) if f % 30 == 0]
    onsets = [t for t in _click_onsets(result.mp4_path) if t < (399 - 61) / fps]
    assert len(onsets) == len(expected)
    assert max(abs(a - b) for a, b in zip(onsets, expected)) < float(1 / fps)


def test_interlaced_mbaff_source_is_spliced_frame_exact(tmp_path):
    """Broadcast feeds are often interlaced (1080i): an MBAFF source's body is copied, the
    head and tail are coded progressive from the decoded (woven) frames, and FFmpeg decodes
    every frame across the SPS switches. (OpenH264 decodes no interlaced stream at all.)"""
    src = write_marked_video(tmp_path / "s.mp4", 240, Fraction(30000, 1001))
    interlaced = tmp_path / "i.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(src), "-c:a", "copy", "-c:v", "libx264", "-flags",
                    "+ildct+ilme", "-x264-params", "interlaced=1:tff=1:keyint=60:min-keyint=60:scenecut=0:bframes=3",
                    str(interlaced)], check=True)
    source = probe_video(interlaced)
    for start, end in ((31, 150), (59, 181), (60, 239)):
        result = smart_cut_clip(source, start, end, start + 1, tmp_path / f"out{start}")
        assert result.path == "smart", result.reason
        check_clip(source, result, start, end, start + 1, audio=True)
