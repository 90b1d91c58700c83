"""video/hls: a cut clip repackaged for HLS holds the MP4's samples and frames, byte for byte (but the
in-band parameter sets at each fragment), in a fragmented MP4 whose playlist passes the m3u8 parser
and the RFC 8216 rules that matter; pipeline/renditions: stored next to the clip, packaged once."""
from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from pathlib import Path

import av
import m3u8
import pytest

from hb_clips_assets.domain.records import Segment
from hb_clips_assets.pipeline.cutting import produce_clips
from hb_clips_assets.sample.video import write_audio_wav, write_marked_video
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.video import h264
from hb_clips_assets.video.cut import EncodeSettings, cut_clip, smart_cut_clip
from hb_clips_assets.video.framemark import read_frame_mark_from_av_frame
from hb_clips_assets.video.hls import TfdtShift, package_clip, parse_rendition, scan_fmp4, shifted_tfdt
from hb_clips_assets.video.hls.boxes import patch
from hb_clips_assets.video.probe import probe_video

FPS = Fraction(60000, 1001)


def rfc8216_problems(text: str, sizes: dict[str, int], whole: bool = False) -> list[str]:
    """The rules of RFC 8216 a player trips on, for a VOD media playlist of fMP4 segments.
    ``sizes``: URI -> bytes of the file it names (a byte range must lie inside it). ``whole``: every
    init section and segment is a resource of its own (a reel), so none may carry a BYTERANGE."""
    problems = []
    lines = [line for line in text.splitlines() if line.strip()]
    if lines[0] != "#EXTM3U" or lines[-1] != "#EXT-X-ENDLIST":
        problems.append("must start with #EXTM3U and end with #EXT-X-ENDLIST")
    version = int(next(l for l in lines if l.startswith("#EXT-X-VERSION:")).split(":")[1])
    if version < 6:
        problems.append(f"EXT-X-MAP in a media playlist needs version 6, got {version}")  # 4.3.2.5; BYTERANGE: 4
    target = int(next(l for l in lines if l.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
    playlist = m3u8.loads(text)
    if playlist.is_endlist is not True or playlist.playlist_type != "vod":
        problems.append("a VOD playlist with ENDLIST")
    if not playlist.segments:
        problems.append("no segments")
    for i, seg in enumerate(playlist.segments):
        if math.floor(seg.duration + 0.5) > target:  # 4.3.3.1
            problems.append(f"segment {i}: EXTINF {seg.duration} rounds above the target duration {target}")
        if seg.init_section is None:
            problems.append(f"segment {i}: no EXT-X-MAP before it")
        for what, uri, rng in (("segment", seg.uri, seg.byterange),
                               ("map", seg.init_section and seg.init_section.uri,
                                seg.init_section and seg.init_section.byterange)):
            if whole:
                if rng or not uri or sizes.get(uri, 0) <= 0:
                    problems.append(f"segment {i}: {what} {uri} is not a whole resource of its own")
                continue
            if not rng or "@" not in rng:  # an offset on every range: no implicit "after the previous one"
                problems.append(f"segment {i}: {what} without an explicit BYTERANGE offset")
                continue
            n, at = (int(x) for x in rng.split("@"))
            if n <= 0 or at < 0 or at + n > sizes.get(uri.split("?")[0] if uri else "", 0):
                problems.append(f"segment {i}: {what} range {rng} outside {uri}")
    dateranges = [l for l in lines if l.startswith("#EXT-X-DATERANGE:")]
    if dateranges and not any(l.startswith("#EXT-X-PROGRAM-DATE-TIME:") for l in lines):  # 4.3.2.7
        problems.append("EXT-X-DATERANGE without EXT-X-PROGRAM-DATE-TIME")
    for l in dateranges:
        if "ID=" not in l or "START-DATE=" not in l:
            problems.append(f"DATERANGE without ID or START-DATE: {l}")
    return problems


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hls-src")
    write_audio_wav(folder / "beeps.wav", 420, FPS, seed=3)
    return write_marked_video(folder / "src.mp4", 420, FPS, audio_wav=folder / "beeps.wav")


@pytest.fixture(scope="module")
def clips(source, tmp_path_factory) -> dict[str, Path]:
    """A smart cut (three parameter sets, copied AAC with an edit list) and a full re-encode."""
    info = probe_video(source)
    out = tmp_path_factory.mktemp("hls-clips")
    smart = smart_cut_clip(info, 37, 290, 100, out / "smart", EncodeSettings())
    assert smart.path == "smart"
    (out / "smart").mkdir(exist_ok=True)
    full = cut_clip(info, 37, 290, 100, out / "full", EncodeSettings(cutter="full"))
    return {"smart": smart.mp4_path, "full": full.mp4_path}


def packets(path: Path) -> dict[str, list[tuple[float, float, bytes, bool]]]:
    """(pts s, dts s, bytes, keyframe) of each stream's packets, in decode order."""
    out: dict[str, list] = {"video": [], "audio": []}
    with av.open(str(path)) as c:
        for p in c.demux():
            if p.size:
                tb = p.time_base
                out[p.stream.type].append((float(p.pts * tb), float(p.dts * tb), bytes(p), p.is_keyframe))
    return out


def decoded(path: Path) -> tuple[list[int], list[str], list[float], int]:
    """Frame marks, frame hashes, frame times, audio samples."""
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
        marks = [read_frame_mark_from_av_frame(f) for f in frames]
        hashes = [hashlib.sha256(bytes(f.planes[0])).hexdigest() for f in frames]
        times = [float(f.time) for f in frames]
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
    return marks, hashes, times, samples


@pytest.mark.parametrize("cutter", ["smart", "full"])
def test_the_rendition_holds_the_mp4s_samples_and_frames(clips, tmp_path, cutter):
    mp4 = clips[cutter]
    packaged = package_clip(mp4, tmp_path, "clip")
    src, dst = packets(mp4), packets(packaged.media_path)
    with av.open(str(mp4)) as c:
        avcc = h264.AvcC.parse(bytes(c.streams.video[0].codec_context.extradata))
    inband = b"".join(h264.length_prefixed(n, avcc.length_size) for n in avcc.sps + avcc.pps)
    assert len(dst["video"]) == len(src["video"]) == 253 and len(dst["audio"]) == len(src["audio"])
    fragment_starts = 0
    for (pts, dts, data, key), (pts2, dts2, data2, key2) in zip(src["video"], dst["video"]):
        assert (pts, key) == (pytest.approx(pts2, abs=1e-9), key2)
        if key:  # a fragment starts here: the clip's parameter sets in front, then the MP4's sample
            fragment_starts += 1
            assert data2 == inband + data
        else:
            assert hashlib.sha256(data2).digest() == hashlib.sha256(data).digest()
    assert fragment_starts == len(packaged.rendition.segments) == len(scan_fmp4(packaged.media_path).fragments)
    assert [d for *_, d, _ in src["audio"]] == [d for *_, d, _ in dst["audio"]]  # AAC packets as they were
    assert [p for p, *_ in src["audio"]] == pytest.approx([p for p, *_ in dst["audio"]], abs=1e-9)
    marks, hashes, times, samples = decoded(mp4)
    marks2, hashes2, times2, samples2 = decoded(packaged.media_path)
    assert marks2 == marks == list(range(37, 290))
    assert hashes2 == hashes  # the same pictures, bit for bit
    assert times2 == pytest.approx(times, abs=1e-9) and times2[0] == 0.0  # the edit list kept: frame 0 at 0 s
    assert samples2 == samples  # the audio edit list kept: the same samples decoded


def test_the_playlist_is_valid_and_describes_the_file(clips, tmp_path):
    packaged = package_clip(clips["smart"], tmp_path, "clip")
    text = packaged.playlist_path.read_text()
    size = packaged.media_path.stat().st_size
    assert rfc8216_problems(text, {"clip.mp4": size}) == []
    r = parse_rendition(text)
    assert r == packaged.rendition
    layout = scan_fmp4(packaged.media_path)
    # the byte ranges tile the file after the init section exactly, and the durations add up
    assert r.init_size == layout.init_size and [(o, n) for o, n, _ in r.segments] == list(layout.fragments)
    assert r.init_size + sum(n for _, n, _ in r.segments) == size
    assert sum(d for *_, d in r.segments) == Fraction(253, 1) / FPS
    video, audio = r.track("video"), r.track("audio")
    assert (video.timescale, video.samples, video.duration) == (60000, 253, 253 * 1001)
    assert audio.timescale == 48000 and audio.media_time > 0  # AAC priming, trimmed by the edit list
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in text and text.count("#EXT-X-MAP:") == 1


def test_packaging_is_deterministic(clips, tmp_path):
    a = package_clip(clips["smart"], tmp_path / "a", "clip") if (tmp_path / "a").mkdir() is None else None
    b = package_clip(clips["smart"], tmp_path / "b", "clip") if (tmp_path / "b").mkdir() is None else None
    assert a.media_path.read_bytes() == b.media_path.read_bytes()
    assert a.playlist_path.read_bytes() == b.playlist_path.read_bytes()


def test_a_shift_moves_decode_times_only(clips, tmp_path):
    packaged = package_clip(clips["smart"], tmp_path, "clip")
    layout = scan_fmp4(packaged.media_path)
    video, audio = layout.track("video"), layout.track("audio")
    shift = TfdtShift(((video.track_id, 600600), (audio.track_id, 480480)))
    assert TfdtShift.decode(shift.encode()) == shift
    data = packaged.media_path.read_bytes()
    fields = shifted_tfdt(packaged.media_path, layout, shift)
    assert len(fields) == 2 * len(layout.fragments)
    moved = patch(data, 0, fields)
    assert len(moved) == len(data) and sum(a != b for a, b in zip(moved, data)) <= 8 * len(fields)
    # patching a range piece by piece gives the same bytes as patching the whole file
    assert b"".join(patch(data[i:i + 777], i, fields) for i in range(0, len(data), 777)) == moved
    (tmp_path / "moved.mp4").write_bytes(moved)
    marks, hashes, times, _ = decoded(packaged.media_path)
    marks2, hashes2, times2, _ = decoded(tmp_path / "moved.mp4")
    assert (marks2, hashes2) == (marks, hashes)
    assert times2 == pytest.approx([t + 10.01 for t in times], abs=1e-6)


def test_renditions_are_stored_once_and_added_to_stored_clips_without_a_cut(source, tmp_path):
    store, index = LocalObjectStore(tmp_path / "store"), MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
    seg = Segment("G1", "1", "e1", "goal", "p1", "MTL", "CHI", "O", "5v5", "00:00:01:40", 100, 37, 290,
                  FPS.numerator, FPS.denominator, {})
    info = probe_video(source)
    run = lambda hls: produce_clips([seg], info, "a" * 64, store, index, hls=hls, scratch_dir=tmp_path / "s")
    (first,), _ = run(False)
    assert [a.kind for a in first.record.assets] == ["mp4", "thumbnail"] and not first.cached
    mp4 = store.path_of(first.record.assets[0].object_key)
    stamp = mp4.stat().st_mtime_ns
    (second,), _ = run(True)  # HLS turned on: packaged from the stored MP4, not cut again
    assert second.cached and second.path == "cached" and mp4.stat().st_mtime_ns == stamp
    kinds = {a.kind: a for a in second.record.assets}
    assert list(kinds) == ["mp4", "thumbnail", "hls_fmp4", "hls"]
    assert kinds["hls"].object_key == f"hls/G1/1/{first.record.clip_id}-h1.m3u8"
    assert kinds["hls"].content_type == "application/vnd.apple.mpegurl" and kinds["hls_fmp4"].content_type == "video/mp4"
    rendition = parse_rendition(store.get_bytes(kinds["hls"].object_key).decode())
    assert rendition.media_uri == Path(kinds["hls_fmp4"].object_key).name
    index.write_partition("G1", "1", [second.record])
    stamps = {k: store.path_of(a.object_key).stat().st_mtime_ns for k, a in kinds.items()}
    (third,), _ = run(True)  # recorded and stored: nothing cut, nothing packaged, nothing written
    assert third.cached and third.seconds == 0.0 and third.record == second.record
    assert {k: store.path_of(a.object_key).stat().st_mtime_ns for k, a in kinds.items()} == stamps
