"""Fragmented MP4s (``moov`` with ``mvex``, then ``moof`` + ``mdat`` pairs), as recorders and
``-movflags frag_keyframe+empty_moov`` write them: whole only once the writer's final index
(``mfra``) is there or the fragments add up to the declared duration (``mehd``), never at a
fragment boundary alone, where FFmpeg reads them happily with fewer frames.

Every file here is written by the FFmpeg CLI or by PyAV (FFmpeg's own muxer) from a marked
source; truncated copies are cut exactly at a fragment's first byte.
"""
from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from hb_clips_assets.pipeline.arrivals import ArrivalCursor, decide_arrivals, scan_data_root, video_problem
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.mp4boxes import mp4_structure_problem, top_level_boxes
from hb_clips_assets.video.probe import VideoError, probe_video
from hb_clips_tests.automation_support import write_metrics
from hb_clips_tests.media_checks import decode_clip

FRAMES = 150  # 6 s at 25 fps, a keyframe (and so a fragment) every second


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_marked_video(tmp_path_factory.mktemp("frag") / "src.mp4", FRAMES, Fraction(25), 160, 90, gop=25)


def ffmpeg_fragmented(src: Path, out: Path, flags: str = "frag_keyframe+empty_moov") -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-c", "copy", "-movflags", flags, str(out)],
                   check=True)
    return out


def pyav_fragmented(src: Path, out: Path) -> Path:
    """The same remux through PyAV's muxer (what a Python recorder would write)."""
    with av.open(str(src)) as inp, av.open(str(out), "w", format="mp4",
                                           options={"movflags": "frag_keyframe+empty_moov"}) as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in (inp.streams.video[0], inp.streams.audio[0])}
        for packet in inp.demux(inp.streams.video[0], inp.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    return out


def fragment_starts(path: Path) -> list[int]:
    boxes, problem = top_level_boxes(path)
    assert problem is None
    return [start for kind, start, _ in boxes if kind == "moof"]


def truncated(path: Path, size: int, name: str = "1.mp4") -> Path:
    out = path.with_name(name)
    out.write_bytes(path.read_bytes()[:size])
    return out


def longest_track_s(path: Path) -> Fraction:
    """What a writer declares in ``mehd``: the longest track's duration (here the AAC track's)."""
    with av.open(str(path)) as c:
        return max(sum(p.duration for p in c.demux(s) if p.size) * s.time_base for s in c.streams)


def with_mehd(path: Path, out: Path, duration_s: Fraction) -> Path:
    """``path`` (written with default_base_moof, so its sample offsets are relative to each moof)
    with an ``mehd`` declaring ``duration_s`` inserted into its ``mvex``, and its ``mfra`` left off:
    a writer that declares its duration up front and writes no final index (GPAC, Bento4 do)."""
    data = bytearray(path.read_bytes())
    boxes, _ = top_level_boxes(path)
    moov_at, moov_size = next((s, n) for k, s, n in boxes if k == "moov")
    moov = data[moov_at : moov_at + moov_size]
    timescale = int.from_bytes(moov[8 + 20 : 8 + 24], "big")  # mvhd version 0: after flags, two times
    mvex = moov.index(b"mvex") - 4
    mehd = (16).to_bytes(4, "big") + b"mehd" + bytes(4) + int(duration_s * timescale).to_bytes(4, "big")
    moov[mvex : mvex + 4] = (int.from_bytes(moov[mvex : mvex + 4], "big") + 16).to_bytes(4, "big")
    moov = moov[: mvex + 8] + mehd + moov[mvex + 8 :]
    moov[0:4] = (moov_size + 16).to_bytes(4, "big")
    end = next(s for k, s, _ in boxes if k == "mfra")
    out.write_bytes(bytes(data[:moov_at]) + bytes(moov) + bytes(data[moov_at + moov_size : end]))
    return out


@pytest.mark.parametrize("writer", [ffmpeg_fragmented, pyav_fragmented], ids=["ffmpeg", "pyav"])
def test_a_finished_fragmented_mp4_is_whole_probes_and_cuts_frame_exact(source, tmp_path, writer):
    path = writer(source, tmp_path / "1.mp4")
    assert len(fragment_starts(path)) >= 5 and top_level_boxes(path)[0][-1][0] == "mfra"
    assert mp4_structure_problem(path) is None
    info = probe_video(path)
    assert (info.frame_count, info.fps, info.keyframes) == (FRAMES, Fraction(25), tuple(range(0, FRAMES, 25)))
    clip = cut_clip(info, 40, 70, 50, tmp_path / "out")
    assert decode_clip(clip.mp4_path).marks == list(range(40, 70))


@pytest.mark.parametrize("writer", [ffmpeg_fragmented, pyav_fragmented], ids=["ffmpeg", "pyav"])
def test_a_fragmented_mp4_cut_at_a_fragment_boundary_is_still_being_written(source, tmp_path, writer):
    whole = writer(source, tmp_path / "whole.mp4")
    path = truncated(whole, fragment_starts(whole)[3])  # three whole fragments, nothing after
    with av.open(str(path)) as c:  # FFmpeg alone takes it for a shorter video, without a word
        assert sum(1 for p in c.demux(c.streams.video[0]) if p.size) == 75
    with pytest.raises(VideoError) as err:
        probe_video(path)
    assert str(err.value) == (
        f"{path}: still being written: a fragmented MP4 (3 fragment(s), 3.003 s so far) without the index its "
        "writer puts last (mfra) and without a declared duration (mehd); it is taken once its writer finishes "
        "(if the recording stopped, remux it: ffmpeg -i 1.mp4 -c copy whole.mp4, and put that in its place)"
    )
    # Everything but the final index: still not whole.
    last = truncated(whole, top_level_boxes(whole)[0][-1][1], "2.mp4")
    assert "still being written: a fragmented MP4 (" in mp4_structure_problem(last)


def test_a_fragment_header_without_its_data_is_still_being_written(source, tmp_path):
    whole = ffmpeg_fragmented(source, tmp_path / "whole.mp4")
    boxes, _ = top_level_boxes(whole)
    moof = [(s, n) for k, s, n in boxes if k == "moof"][2]
    path = truncated(whole, moof[0] + moof[1])  # the moof whole, its mdat not begun: the boxes tile the file
    assert mp4_structure_problem(path).startswith(f"{path}: still being written: fragment 3 (byte {moof[0]}) needs ")


def test_a_declared_duration_makes_a_fragmented_mp4_whole_without_a_final_index(source, tmp_path):
    based = ffmpeg_fragmented(source, tmp_path / "based.mp4", "frag_keyframe+empty_moov+default_base_moof")
    declared = with_mehd(based, tmp_path / "1.mp4", longest_track_s(based))
    assert "mfra" not in [k for k, _, _ in top_level_boxes(declared)[0]]
    assert mp4_structure_problem(declared) is None
    assert probe_video(declared).frame_count == FRAMES
    short = truncated(declared, fragment_starts(declared)[4], "2.mp4")
    assert "still being written: a fragmented MP4 (4 fragment(s), 4.0" in mp4_structure_problem(short)
    assert f"whose header declares {float(longest_track_s(based)):.3f} s" in mp4_structure_problem(short)
    wrong = with_mehd(based, tmp_path / "3.mp4", longest_track_s(based) + 1)  # a second more than it holds
    assert "still being written: a fragmented MP4 (6 fragment(s)" in mp4_structure_problem(wrong)


def test_the_sensor_waits_for_a_growing_fragmented_recording_and_says_which_file(source, tmp_path):
    whole = ffmpeg_fragmented(source, tmp_path / "whole.mp4")
    data, starts = whole.read_bytes(), fragment_starts(whole)
    root = tmp_path / "data"
    video = root / "video" / "G1" / "1.mp4"
    video.parent.mkdir(parents=True)
    write_metrics(root, "G1")
    cursor, said = ArrivalCursor(), []

    def tick():
        nonlocal cursor
        decision = decide_arrivals(scan_data_root(root), cursor, video_problem)
        cursor = decision.cursor
        said.extend(text for _level, text in decision.messages)
        return decision.requests

    video.write_bytes(data[: starts[2]])  # two fragments so far
    assert tick() == [] and tick() == []  # seen, then held still for a tick: probed, and not taken
    assert any(t.startswith("not cutting video/G1/1.mp4 yet: ") and "still being written" in t for t in said)
    video.write_bytes(data[: starts[4]])  # grew by two fragments, then paused at a boundary again
    assert tick() == [] and tick() == []
    assert sum("still being written: a fragmented MP4 (4 fragment(s)" in t for t in said) == 1
    video.write_bytes(data)  # the recorder finished: its mfra is written
    assert tick() == []  # changed: wait for it to hold still
    requests = tick()
    assert [(r.game_id, r.period) for r in requests] == [("G1", "1")]
