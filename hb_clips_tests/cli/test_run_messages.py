"""`hb-clips run`'s messages for inputs FFmpeg cannot read and data roots that are not folders:
one line in a video analyst's words naming the file, never FFmpeg's errno text or a traceback."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.cli.main import main
from hb_clips_assets.sample import write_marked_video
from hb_clips_assets.video.ffmpeg_words import plain_text
from hb_clips_assets.video.probe import VideoError, probe_video
from hb_clips_tests.automation_support import SCHEDULE_CSV, write_metrics

ROSTER_CSV = "player_id,name,team,position,aliases\n8480018,Nick Suzuki,MTL,C,\n"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("DAGSTER_HOME", "HB_DATA_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HB_STORE_URL", "./var/store")
    monkeypatch.setenv("HB_MEDIA_DB_URL", "sqlite:///var/media.db")
    monkeypatch.setenv("HB_WORK_DIR", "./var/work")
    return tmp_path


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> bytes:
    """A 2 s marked video, one track (so its index boxes are the video's)."""
    path = write_marked_video(tmp_path_factory.mktemp("src") / "src.mp4", 120, Fraction(60000, 1001), 160, 90,
                              audio=False)
    return path.read_bytes()


def damaged(data: bytes, box: bytes) -> bytes:
    """The file with the table of its index box ``box`` overwritten (a bad copy, a disk error)."""
    out = bytearray(data)
    at = out.index(box) + 4
    out[at : at + 20] = b"\xff" * 20
    return bytes(out)


def data_root(root: Path, video: bytes) -> Path:
    (root / "video" / "G1").mkdir(parents=True)
    (root / "video" / "G1" / "1.mp4").write_bytes(video)
    (root / "schedule.csv").write_text(SCHEDULE_CSV)
    (root / "roster.csv").write_text(ROSTER_CSV)
    write_metrics(root, "G1")
    return root


@pytest.mark.parametrize(
    "box,words",
    [
        (b"stsc", "its data or index is damaged, FFmpeg cannot make sense of it"),  # FFmpeg: Invalid data found ...
        (b"stts", "its index is damaged, it declares more data than the file can hold"),  # FFmpeg: Cannot allocate memory
    ],
)
def test_a_video_ffmpeg_cannot_read_fails_in_plain_words(workdir, marked, capfd, box, words):
    root = data_root(workdir / "data", damaged(marked, box))
    video = (root / "video" / "G1" / "1.mp4").resolve()
    with pytest.raises(VideoError) as err:
        probe_video(video)
    assert str(err.value) == f"{video}: not a readable video ({words})"
    assert main(["run", "--data-root", "data", "--quiet"]) == 1
    out, err_text = capfd.readouterr()
    lines = out.splitlines()
    failed = lines.index(f"game G1 period 1 failed: event_segments: {video}: not a readable video ({words})")
    assert lines[failed + 1].startswith("  what to do: replace the video with a readable MP4")
    for text in (out, err_text):
        assert "Errno" not in text and "Invalid data found" not in text and "Cannot allocate" not in text
        assert "Traceback" not in text and "Stack Trace" not in text


def test_a_data_root_that_is_a_file_says_so(workdir, capsys):
    (workdir / "data.zip").write_bytes(b"PK\x03\x04")
    assert main(["run", "--data-root", "data.zip"]) == 2
    assert capsys.readouterr().err == (
        f"error: data root {(workdir / 'data.zip').resolve()} is a file, not a folder: the data root is the folder "
        "that holds schedule.csv, metrics/ and video/\n"
    )
    assert main(["run", "--data-root", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        f"error: data root {(workdir / 'nowhere').resolve()} does not exist "
        f"(run `hb-clips sample-data {(workdir / 'nowhere').resolve()}` first)\n"
    )


def test_track_names_in_another_encoding_do_not_make_a_video_unreadable(marked, tmp_path):
    """An old camera's handler name in Latin-1: PyAV's default UTF-8 decoding raised UnicodeDecodeError."""
    data = bytearray(marked)
    at = data.index(b"hdlr") + 4 + 24  # version/flags, pre_defined, handler type, reserved: then the name
    data[at : at + 5] = "Vidéo".encode("latin-1")
    path = tmp_path / "1.mp4"
    path.write_bytes(bytes(data))
    assert probe_video(path).frame_count == 120


def test_plain_text_takes_ffmpeg_errno_text_apart():
    assert plain_text("clips: [Errno 1094995529] Invalid data found when processing input: '/d/video/G1/1.mp4'") \
        == "clips: /d/video/G1/1.mp4: damaged or unreadable video data"
    assert plain_text("x.mp4: FFmpeg refused the clip's frames: Invalid data found when processing input") \
        == "x.mp4: FFmpeg refused the clip's frames: damaged or unreadable video data"
    assert plain_text("[Errno 12] Cannot allocate memory") == "a damaged index, declaring more data than the file can hold"
    assert plain_text("event e1: nothing to translate") == "event e1: nothing to translate"
