"""The display matrix (rotation) copied from a source's video track header to a clip's."""
from __future__ import annotations

import subprocess

import pytest

from hb_clips_assets.video.mp4meta import IDENTITY, copy_video_matrix, video_matrix
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video


def _rotated(src, out, degrees):
    subprocess.run([ffmpeg_exe(), "-v", "error", "-display_rotation", str(degrees), "-i", str(src), "-c", "copy",
                    str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return write_marked_video(tmp_path_factory.mktemp("mp4meta") / "plain.mp4", 12, 25, audio=True)


def test_a_plain_video_has_the_identity_matrix(plain):
    assert video_matrix(plain) == IDENTITY


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_the_matrix_is_copied_into_a_clip_and_ffmpeg_reads_the_rotation(plain, tmp_path, degrees):
    source = _rotated(plain, tmp_path / "rot.mp4", degrees)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(plain.read_bytes())
    before = clip.read_bytes()
    written = copy_video_matrix(source, clip)
    assert written == video_matrix(source) != IDENTITY
    assert video_matrix(clip) == written
    after = clip.read_bytes()
    assert len(after) == len(before) and sum(a != b for a, b in zip(before, after)) <= 36  # only the matrix changed
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(clip)], capture_output=True, text=True).stderr
    # FFmpeg reports the display rotation counter-clockwise; 90 and 270 read back as -90/90 style angles.
    assert "rotation of" in err


def test_nothing_is_written_for_an_unrotated_source(plain, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(plain.read_bytes())
    assert copy_video_matrix(plain, clip) is None
    assert clip.read_bytes() == plain.read_bytes()


def test_not_an_mp4_has_no_matrix(tmp_path):
    junk = tmp_path / "x.mp4"
    junk.write_bytes(b"\x00\x00\x00\x08free" + b"not a movie")
    assert video_matrix(junk) is None
