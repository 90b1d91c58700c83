"""H.264 syntax helpers: SPS fields read back against FFmpeg's own parser (trace_headers)."""
from __future__ import annotations

import re
import subprocess
from fractions import Fraction

import av
import pytest

from hb_clips_assets.video import h264
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video


def _ffmpeg_sps_fields(path) -> dict[str, int]:
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-c", "copy", "-bsf:v", "trace_headers",
                          "-frames:v", "1", "-f", "null", "-"], capture_output=True, text=True).stderr
    fields = {}
    for name in ("max_num_ref_frames", "max_num_reorder_frames", "max_dec_frame_buffering"):
        m = re.search(rf"\b{name}\s+[01]+ = (\d+)", err)
        fields[name] = int(m.group(1)) if m else None
    return fields


@pytest.mark.parametrize("bframes,extra", [(0, ""), (1, ""), (3, ""), (3, "ref=6"), (2, "b-pyramid=none")])
def test_picture_buffer_matches_ffmpegs_parser(tmp_path, bframes, extra):
    import hb_clips_assets.sample.video as synth

    path = tmp_path / "v.mp4"
    if extra:  # x264 options the synthetic writer does not expose: re-encode its output
        src = write_marked_video(tmp_path / "s.mp4", 20, Fraction(25), audio=False)
        subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(src), "-c:v", "libx264", "-x264-params",
                        f"bframes={bframes}:{extra}", str(path)], check=True)
    else:
        synth.write_marked_video(path, 20, Fraction(25), audio=False, bframes=bframes)
    with av.open(str(path)) as c:
        avcc = h264.AvcC.parse(bytes(c.streams.video[0].codec_context.extradata))
    got = h264.sps_picture_buffer(avcc.sps[0])
    want = _ffmpeg_sps_fields(path)
    assert (got.max_num_ref_frames, got.max_num_reorder_frames, got.max_dec_frame_buffering) == (
        want["max_num_ref_frames"], want["max_num_reorder_frames"], want["max_dec_frame_buffering"])


def test_truncated_sps_is_a_clear_error(tmp_path):
    path = write_marked_video(tmp_path / "v.mp4", 5, Fraction(25), audio=False)
    with av.open(str(path)) as c:
        sps = h264.AvcC.parse(bytes(c.streams.video[0].codec_context.extradata)).sps[0]
    with pytest.raises(h264.H264Error, match="SPS ends"):
        h264.sps_picture_buffer(sps[:8])


def test_annexb_and_length_prefixed_round_trip():
    nals = [bytes([0x67, 1, 2, 3]), bytes([0x68, 0xCE, 0x3C, 0x80]), bytes([0x65, 9, 9])]
    annexb = b"".join(b"\x00\x00\x00\x01" + n for n in nals)
    assert h264.annexb_nals(annexb) == nals
    packet = b"".join(h264.length_prefixed(n) for n in nals)
    assert list(h264.nal_units(packet)) == nals
    assert h264.is_idr(packet) and h264.is_reference(packet)
    assert not h264.is_reference(h264.length_prefixed(bytes([0x01, 5])))  # nal_ref_idc 0 slice
