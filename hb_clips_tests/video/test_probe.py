import subprocess
from fractions import Fraction

import av
import pytest

from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_assets.video.framemark import read_frame_mark_from_av_frame
from hb_clips_assets.video.probe import VideoError, main_video_stream, probe_video


def test_probe_reads_exact_rate_frames_keyframes_audio(src_5994):
    info = probe_video(src_5994)
    assert info.fps == Fraction(60000, 1001)
    assert info.frame_count == 360
    assert info.keyframes == (0, 120, 240)
    assert (info.width, info.height, info.codec) == (320, 180, "h264")
    assert info.has_audio and info.audio_sample_rate == 48000
    assert info.duration_s == pytest.approx(360 * 1001 / 60000)
    # display order: timestamps strictly increase, one per frame
    assert list(info.pts) == sorted(set(info.pts)) and len(info.pts) == 360
    assert [info.frame_index_of_pts(p) for p in info.pts[:5]] == [0, 1, 2, 3, 4]
    assert info.keyframe_at_or_before(119) == 0 and info.keyframe_at_or_before(120) == 120


def test_probe_25fps_without_audio(src_25_silent):
    info = probe_video(src_25_silent)
    assert info.fps == 25 and info.frame_count == 150 and not info.has_audio
    assert info.keyframes == (0, 50, 100)


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(50)])
def test_probe_other_broadcast_rates(tmp_path, fps):
    path = write_marked_video(tmp_path / "v.mp4", 40, fps, audio=False, gop=20)
    info = probe_video(path)
    assert info.fps == fps and info.frame_count == 40 and info.keyframes == (0, 20)


@pytest.mark.parametrize(
    "content,problem",
    [
        (b"", "the file is empty"),
        (b"hello, this is not a video\n" * 50, "not a readable video"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "no MP4/MOV box structure at byte 24"),  # MP4 header, then nothing
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12 + b"\x00\x00\x00\x08free", "incomplete MP4 \\(no moov or mdat box\\)"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 400, "not a readable video"),  # an MP3 renamed
    ],
    ids=["empty", "text", "header-then-zeros", "no-moov", "mp3"],
)
def test_non_video_is_a_clear_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "1.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=problem) as err:
        probe_video(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="cannot read video"):
        probe_video(tmp_path / "nope.mp4")


def test_a_faststart_mp4_cut_short_is_refused(src_5994, tmp_path):
    """FFmpeg alone probes it happily, with fewer frames: the box structure says it is cut."""
    data = src_5994.read_bytes()
    cut = tmp_path / "1.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(VideoError, match="truncated MP4"):
        probe_video(cut)


# ------------------------------------------------------------------ the main video stream, chosen deliberately


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def real_and_proxy(tmp_path_factory):
    """The real picture (marked, 320x180) and a low-resolution proxy of it (80x46), 50 frames at 25 fps."""
    folder = tmp_path_factory.mktemp("tracks")
    real = write_marked_video(folder / "real.mp4", 50, Fraction(25), audio=False, gop=25)
    proxy = folder / "proxy.mp4"
    _ffmpeg("-i", str(real), "-vf", "scale=80:46", "-c:v", "libx264", "-preset", "ultrafast", str(proxy))
    return real, proxy


def proxy_first(real_and_proxy, out, dispositions: tuple[str, str] | None):
    """A file whose first video track is the proxy and whose second is the real picture."""
    real, proxy = real_and_proxy
    marks = ["-disposition:v:0", dispositions[0], "-disposition:v:1", dispositions[1]] if dispositions else []
    _ffmpeg("-i", str(real), "-i", str(proxy), "-map", "1:v", "-map", "0:v", "-c", "copy", *marks, str(out))
    return out


@pytest.mark.parametrize(
    "dispositions,width,why",
    [
        (("0", "default"), 320, "marked default"),  # the real track flagged default: taken although second
        (None, 320, "the highest resolution"),  # FFmpeg marks both default: the larger picture wins
        (("default", "0"), 80, "marked default"),  # the file says the proxy is the picture: it is taken, and said
    ],
    ids=["real-default", "both-default", "proxy-default"],
)
def test_the_main_video_stream_is_the_default_then_the_largest(real_and_proxy, tmp_path, dispositions, width, why):
    path = proxy_first(real_and_proxy, tmp_path / "1.mp4", dispositions)
    info = probe_video(path)
    assert (info.width, info.stream_index, info.frame_count) == (width, 1 if width == 320 else 0, 50)
    chosen, other = ("stream 1 (h264 320x180", "stream 0 (h264 80x46") if width == 320 else \
        ("stream 0 (h264 80x46", "stream 1 (h264 320x180")
    assert info.stream_choice.startswith(f"2 video streams: cut from {chosen}")
    assert f"), {why}; not from {other}" in info.stream_choice
    assert info.timeline()["video_stream"] == info.stream_index
    assert info.timeline()["video_stream_choice"] == info.stream_choice
    with av.open(str(path)) as container:
        stream = main_video_stream(container)
        assert stream.index == info.stream_index
        frames = [f for _, f in zip(range(3), container.decode(stream))]
    assert (frames[0].width, frames[0].height) == (width, info.height)
    if width == 320:  # the real picture: its frames carry their marks
        assert [read_frame_mark_from_av_frame(f) for f in frames] == [0, 1, 2]


def test_one_video_stream_needs_no_choice(src_25_silent):
    info = probe_video(src_25_silent)
    assert info.stream_index == 0 and info.stream_choice is None
    assert "video_stream" not in info.timeline() and "missing_frames" not in info.timeline()
