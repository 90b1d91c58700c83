"""Open GOPs and long GOPs: a body that starts at an open-GOP I-frame (a recovery point,
rewritten as an IDR), a clip with no random access point inside (re-encoded whole from
one decode), and the verification that decodes only around the joins. Every clip is read
back with FFmpeg (PyAV and the FFmpeg 9 CLI) and OpenH264."""
from __future__ import annotations

import hashlib
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest

from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.smart import smart_cut_clip
from hb_clips_assets.video.framemark import read_frame_mark, read_frame_mark_from_av_frame, luma_plane
from hb_clips_assets.video.probe import probe_video
from hb_clips_tests.video.test_smartcut import check_clip, openh264_marks

FPS = Fraction(60000, 1001)


@pytest.fixture(scope="module")
def open_gop(tmp_path_factory):
    """5 s, an I-frame every 60 frames; only the first is an IDR (x264 open-gop)."""
    return write_marked_video(tmp_path_factory.mktemp("og") / "og.mp4", 300, FPS, gop=60, open_gop=True)


@pytest.fixture(scope="module")
def long_gop(tmp_path_factory):
    """6 s, IDRs at 0 and 240 only."""
    return write_marked_video(tmp_path_factory.mktemp("lg") / "lg.mp4", 360, FPS, gop=240)


def cli_marks(path, width, height) -> list[int]:
    """Frame marks as the FFmpeg 9 CLI's own H.264 decoder shows them, every frame in output order."""
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
                           "-pix_fmt", "gray", "-"], capture_output=True, check=True)
    frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, height, width)
    return [read_frame_mark(f.copy()) for f in frames]


def luma_hashes(path) -> dict[int, str]:
    with av.open(str(path)) as c:
        return {read_frame_mark_from_av_frame(f): hashlib.sha1(luma_plane(f).tobytes()).hexdigest()
                for f in c.decode(c.streams.video[0])}


def nal_types(path) -> list[list[int]]:
    with av.open(str(path)) as c:
        return [[n[0] & 0x1F for n in h264.nal_units(bytes(p))] for p in c.demux(c.streams.video[0]) if p.size]


def check_everywhere(source, result, start, end):
    check_clip(source, result, start, end, start + 1, audio=True)  # marks, audio, thumbnail, `ffmpeg -v error` clean
    assert cli_marks(result.mp4_path, source.width, source.height) == list(range(start, end))
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(start, end))


# Recovery points at 60, 120, 180, 240. (start, end, first copied frame)
@pytest.mark.parametrize("start,end,k", [(119, 250, 120), (121, 250, 180), (120, 250, 120), (59, 61, 60),
                                         (1, 299, 60), (61, 179, 120)])
def test_a_body_starts_at_a_recovery_point(open_gop, tmp_path, start, end, k):
    """One before, on and one after a recovery point: the body starts there as an IDR, its
    leading pictures are in the re-encoded head, and every copied frame is the source's, bit for bit."""
    source = probe_video(open_gop)
    result = smart_cut_clip(source, start, end, start + 1, tmp_path)
    assert result.path == "smart", result.reason
    check_everywhere(source, result, start, end)
    assert result.copied_frames > 0 and result.copied_frames + result.reencoded_frames == end - start
    types = nal_types(result.mp4_path)
    body = types[k - start]  # the head has no B-frames: decode position = display position before the body
    assert h264.NAL_IDR in body and h264.NAL_SEI not in body  # the recovery point, now an IDR
    src, out = luma_hashes(open_gop), luma_hashes(result.mp4_path)
    assert sum(out[i] == src[i] for i in range(k, k + result.copied_frames)) == result.copied_frames


@pytest.mark.parametrize("field", ["frame_num", "poc_lsb"])
def test_a_broken_rewrite_is_caught_and_falls_back(open_gop, tmp_path, monkeypatch, field):
    """Pictures after the recovery point left with their old frame numbers (or picture order
    counts): the decoders' view of the join breaks, verification sees it, the full re-encode is used."""
    from hb_clips_assets.video.cut.smart import recovery

    picture = recovery._State.picture

    def broken(self, first, keep, slices, mine):
        out = picture(self, first, keep, slices, mine)
        if out and not first:
            original = dict(slices)
            out = {i: replace(s, **{field: getattr(original[i], field)}) for i, s in out.items()}
        return out

    monkeypatch.setattr(recovery._State, "picture", broken)
    source = probe_video(open_gop)
    result = smart_cut_clip(source, 110, 290, 111, tmp_path)
    assert result.path == "full" and result.copied_frames == 0, result.reason
    check_everywhere(source, result, 110, 290)


def test_a_refused_recovery_point_falls_back_to_the_next_idr_or_a_whole_re_encode(open_gop, tmp_path, monkeypatch):
    from hb_clips_assets.video.cut.smart import cutter
    from hb_clips_assets.video.cut.smart.packets import Fallback

    def refuse(pkts, avcc, length_size=4, end=None):
        raise Fallback("splice at a recovery point: refused for the test")

    monkeypatch.setattr(cutter, "splice_at_recovery_point", refuse)
    source = probe_video(open_gop)
    result = smart_cut_clip(source, 110, 200, 111, tmp_path)
    assert result.path == "full" and "refused for the test" in result.reason
    check_everywhere(source, result, 110, 200)


# (start, end, path): IDRs at 0 and 240 only; the first two overlap each other and the third.
LONG = [(10, 200, "full"), (100, 230, "full"), (150, 330, "smart"), (200, 360, "smart"), (239, 241, "smart")]


def test_long_gop_overlapping_clips(long_gop, tmp_path, monkeypatch):
    """Clips with no random access point inside are re-encoded whole in the smart cut's one
    decode from the keyframe before the start (the full cutter, a second decode, is never
    called); the others copy from the IDR. Cut two at a time, as the pipeline does."""
    from hb_clips_assets.video.cut.smart import cutter

    def no_second_decode(*args, **kwargs):
        raise AssertionError("the full cutter was called")

    monkeypatch.setattr(cutter, "cut_clip", no_second_decode)
    source = probe_video(long_gop)

    def cut(case):
        start, end, _ = case
        return smart_cut_clip(source, start, end, start + 1, tmp_path / f"c{start}")

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(cut, LONG))
    for (start, end, path), result in zip(LONG, results):
        assert result.path == path, result.reason
        check_everywhere(source, result, start, end)
        if path == "full":
            assert result.reason == "no IDR frame or recovery point inside the clip"
            assert result.copied_frames == 0 and result.reencoded_frames == end - start
        else:
            assert result.copied_frames > 0


def test_verification_decodes_only_around_the_joins(src_5994, tmp_path, monkeypatch):
    """The head carries an IDR a few frames before the join; verification decodes from there
    to a few packets past the join, and the tail: not the whole head."""
    from hb_clips_assets.video.cut.smart import cutter
    from hb_clips_assets.video.cut.smart.verify import VERIFY_AFTER_JOIN, VERIFY_BEFORE_JOIN

    seen = []
    verify = cutter.verify_clip

    def spy(path, windows, *args, **kwargs):
        seen.append(windows)
        return verify(path, windows, *args, **kwargs)

    monkeypatch.setattr(cutter, "verify_clip", spy)
    source = probe_video(src_5994)
    result = smart_cut_clip(source, 60, 239, 61, tmp_path)  # 60 head frames, a short tail
    assert result.path == "smart"
    check_everywhere(source, result, 60, 239)
    (windows,) = seen
    tail = result.reencoded_frames - 60
    assert windows == [(60 - VERIFY_BEFORE_JOIN, 60 + VERIFY_AFTER_JOIN), (179 - tail, 179)]
    with av.open(str(result.mp4_path)) as c:
        keys = [i for i, p in enumerate(c.demux(c.streams.video[0])) if p.size and p.is_keyframe]
    assert keys[:3] == [0, 60 - VERIFY_BEFORE_JOIN, 60]


@pytest.mark.parametrize("event", [100, 200, 243])
def test_event_in_the_body_of_an_open_gop_clip(open_gop, tmp_path, monkeypatch, event):
    """The body starts at the recovery point 60; the tail decodes from the last random access
    point before its end (240) and the thumbnail, an event frame of the body, comes from a
    short decode from the recovery point before it (60, 180) or from the tail's own decode
    (243, after the last one): the JPEG shows exactly the event frame."""
    from hb_clips_assets.video.cut.smart import cutter

    tails = []
    tail_source = cutter.tail_source

    def spy(*args, **kwargs):
        tails.append(tail_source(*args, **kwargs))
        return tails[-1]

    monkeypatch.setattr(cutter, "tail_source", spy)
    source = probe_video(open_gop)
    result = smart_cut_clip(source, 50, 249, event, tmp_path)
    assert result.path == "smart" and result.copied_frames > 0, result.reason
    assert [t[0].index for t in tails] == [240]  # never from an earlier point to pass the event
    check_clip(source, result, 50, 249, event, audio=True)
    assert openh264_marks(result.mp4_path, source.width, source.height) == list(range(50, 249))


def test_threaded_decoders_four_cuts_at_a_time(long_gop, tmp_path, monkeypatch):
    """The smart cut's decoders run frame threads, fed packets whose data FFmpeg owns; four
    cuts at a time (each with four decoder threads) all finish, frame-exact (a decoder fed
    packets of Python bytes could deadlock on the GIL here)."""
    from hb_clips_assets.video.cut.smart.packets import SourceStream

    monkeypatch.setenv("HB_DECODE_THREADS", "4")
    made = []
    decoder = SourceStream.decoder

    def spy(self, threads=None):
        dec = decoder(self, threads)
        made.append((dec.thread_type, dec.thread_count))
        return dec

    monkeypatch.setattr(SourceStream, "decoder", spy)
    source = probe_video(long_gop)
    cases = [(10, 200), (100, 230), (150, 330), (200, 360)] * 2
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(smart_cut_clip, source, s, e, s + 1, tmp_path / f"t{i}") for i, (s, e) in
                   enumerate(cases)]
        results = [f.result(timeout=300) for f in futures]  # a hang, not a speed limit
    assert made and all(t == av.codec.context.ThreadType.FRAME and n == 4 for t, n in made)
    for (start, end), result in zip(cases, results):
        check_clip(source, result, start, end, start + 1, audio=True)
