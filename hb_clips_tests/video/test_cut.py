"""Frame accuracy of both cutters (the full re-encode, cut.full.cut_clip, and the smart cut,
cut.smart.smart_cut_clip, the pipeline's default), read back from the decoded frames' marks."""
from __future__ import annotations

from fractions import Fraction

import av
import pytest

from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.cut.types import CutError, EncodeSettings
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.video.cut.smart import smart_cut_clip
from hb_clips_tests.media_checks import decode_clip, ffmpeg_decode_errors, jpeg_mark, top_level_atoms

# (start, end, event): on, one before and one after a keyframe (every 120 frames),
# at the very start and the very end of the 360-frame source.
CASES_5994 = [
    (120, 240, 150),  # starts on a keyframe
    (119, 200, 119),  # one frame before a keyframe
    (121, 300, 299),  # one frame after a keyframe; ends one before the next
    (0, 30, 0),  # first frames of the video
    (300, 360, 359),  # ends on the last frame
    (239, 241, 240),  # two frames across a keyframe
    (0, 360, 180),  # the whole video
]


@pytest.fixture(params=["full", "smart"])
def cut(request):
    return cut_clip if request.param == "full" else smart_cut_clip


def mp4_audio_seconds(path) -> float:
    """The audio track's duration as the MP4 declares it (edit list included): what players play."""
    import av

    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        return float(a.duration * a.time_base)


@pytest.mark.parametrize("start,end,event", CASES_5994)
def test_clip_is_frame_exact_with_audio(src_5994, tmp_path, start, end, event, cut):
    source = probe_video(src_5994)
    result = cut(source, start, end, event, tmp_path)
    clip = decode_clip(result.mp4_path)
    assert clip.marks == list(range(start, end))  # first, last, count, no duplicate or gap
    assert result.frames == end - start
    assert clip.video_codec == "h264"
    assert clip.fps == Fraction(60000, 1001)
    video_s = (end - start) / source.fps
    assert clip.audio_rate == 48000
    assert abs(mp4_audio_seconds(result.mp4_path) - float(video_s)) <= float(1 / source.fps)
    # Decoding yields whole AAC frames: up to one frame's padding (1024 samples) comes on top.
    assert 0 <= clip.audio_samples - float(video_s) * 48000 < 1024 + 48000 / float(source.fps)
    assert jpeg_mark(result.thumbnail_path.read_bytes()) == event
    atoms = top_level_atoms(result.mp4_path)
    assert atoms.index("moov") < atoms.index("mdat"), f"not faststart: {atoms}"
    assert ffmpeg_decode_errors(result.mp4_path) == ""


@pytest.mark.parametrize("start,end,event", [(0, 50, 10), (49, 51, 50), (51, 150, 149), (100, 125, 124)])
def test_25fps_source_without_audio(src_25_silent, tmp_path, start, end, event, cut):
    source = probe_video(src_25_silent)
    result = cut(source, start, end, event, tmp_path)
    clip = decode_clip(result.mp4_path)
    assert clip.marks == list(range(start, end))
    assert clip.audio_rate is None and result.audio_samples == 0
    assert jpeg_mark(result.thumbnail_path.read_bytes()) == event


@pytest.mark.parametrize("start,end", [(119, 200), (120, 240), (121, 250), (235, 245)])
def test_open_gop_source(src_open_gop, tmp_path, start, end, cut):
    source = probe_video(src_open_gop)
    result = cut(source, start, end, start, tmp_path)
    assert decode_clip(result.mp4_path).marks == list(range(start, end))


def test_encode_settings_change_the_fingerprint():
    assert EncodeSettings().fingerprint() == EncodeSettings().fingerprint()
    assert EncodeSettings(crf=23).fingerprint() != EncodeSettings().fingerprint()


@pytest.mark.parametrize("start,end,event", [(-1, 10, 0), (10, 10, 10), (300, 361, 300), (0, 10, 10)])
def test_bad_ranges_are_refused_and_leave_no_file(src_5994, tmp_path, start, end, event):
    with pytest.raises(CutError, match="src_5994.mp4"):
        cut_clip(probe_video(src_5994), start, end, event, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_clip_is_cut_from_the_main_stream_not_a_proxy_before_it(tmp_path, cut):
    """The file's first video track is an 80x46 proxy, its second (marked default) the real
    320x180 picture: both cutters read the stream the probe chose, frame-exact."""
    import subprocess

    from hb_clips_assets.sample import ffmpeg_exe, write_marked_video

    real = write_marked_video(tmp_path / "real.mp4", 75, Fraction(25), audio=False, gop=25)
    proxy, both = tmp_path / "proxy.mp4", tmp_path / "1.mp4"
    ff = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run(ff + ["-i", str(real), "-vf", "scale=80:46", "-c:v", "libx264", "-preset", "ultrafast", str(proxy)],
                   check=True, capture_output=True)
    subprocess.run(ff + ["-i", str(real), "-i", str(proxy), "-map", "1:v", "-map", "0:v", "-c", "copy",
                         "-disposition:v:0", "0", "-disposition:v:1", "default", str(both)], check=True, capture_output=True)
    source = probe_video(both)
    assert source.stream_index == 1 and source.width == 320
    result = cut(source, 20, 60, 30, tmp_path / "out")
    clip = decode_clip(result.mp4_path)
    assert clip.marks == list(range(20, 60))  # the proxy's frames are too small to carry readable marks
    with av.open(str(result.mp4_path)) as out:
        assert len(out.streams.video) == 1
        assert (out.streams.video[0].width, out.streams.video[0].height) == (320, 180)
    assert jpeg_mark(result.thumbnail_path.read_bytes()) == 30
