"""The frame-index mark: round trips on raw planes, PyAV frames and H.264."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from hb_clips_assets.video.framemark import (
    MARK_BITS,
    MARK_BLOCKS,
    draw_frame_mark,
    mark_extent,
    mark_geometry,
    read_frame_mark,
    read_frame_mark_from_av_frame,
)

SIZES = [(160, 90), (320, 180), (640, 360), (854, 480), (1280, 720), (1366, 768), (1920, 1080)]
INDICES = [0, 1, 2, 119, 120, 7192, 123456, (1 << MARK_BITS) - 1]


def _background(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)


@pytest.mark.parametrize("width,height", SIZES)
def test_geometry_scales_and_fits(width: int, height: int) -> None:
    x0, y0, block = mark_geometry(width, height)
    assert block >= 4 and block % 4 == 0
    assert block >= width // 64 - 3
    left, top, right, bottom = mark_extent(width, height)
    assert 0 <= left < x0 and 0 <= top < y0
    assert right <= width and bottom <= height
    assert right - left == MARK_BLOCKS * block + 2 * (block // 2)


@pytest.mark.parametrize("width,height", SIZES)
def test_round_trip_raw_plane(width: int, height: int) -> None:
    y = _background(width, height, seed=width)
    before = y.copy()
    for index in INDICES:
        draw_frame_mark(y, index)
        assert read_frame_mark(y) == index
    # Only the mark's own rectangle was touched.
    left, top, right, bottom = mark_extent(width, height)
    outside = np.ones_like(y, dtype=bool)
    outside[top:bottom, left:right] = False
    assert np.array_equal(y[outside], before[outside])


def test_levels_are_limited_range() -> None:
    y = np.full((180, 320), 128, np.uint8)
    draw_frame_mark(y, 0b1010)
    left, top, right, bottom = mark_extent(320, 180)
    assert set(np.unique(y[top:bottom, left:right])) == {16, 235}


@pytest.mark.parametrize(
    "plane",
    [
        np.zeros((180, 320), np.uint8),
        np.full((180, 320), 255, np.uint8),
        np.full((180, 320), 128, np.uint8),
        np.full((180, 320), 16, np.uint8),
        _background(320, 180, seed=1),
        _background(1280, 720, seed=2),
        np.tile(np.repeat(np.array([16, 235], np.uint8), 4), (180, 40)),  # stripes
    ],
    ids=["black", "white", "grey", "video-black", "noise", "noise-720p", "stripes"],
)
def test_unmarked_frame_is_rejected(plane: np.ndarray) -> None:
    with pytest.raises(ValueError, match="no frame mark"):
        read_frame_mark(plane)


def test_corrupted_mark_is_rejected() -> None:
    width, height = 640, 360
    y = np.full((height, width), 200, np.uint8)
    draw_frame_mark(y, 4242)
    x0, y0, block = mark_geometry(width, height)
    for b in range(MARK_BLOCKS):
        z = y.copy()
        sl = z[y0 : y0 + block, x0 + b * block : x0 + (b + 1) * block]
        sl[...] = 251 - sl  # 16 <-> 235: flip one bit
        with pytest.raises(ValueError, match="no frame mark"):
            read_frame_mark(z)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        draw_frame_mark(np.zeros((90, 160), np.uint8), -1)
    with pytest.raises(ValueError):
        draw_frame_mark(np.zeros((90, 160), np.uint8), 1 << MARK_BITS)
    with pytest.raises(ValueError, match="too small"):
        mark_geometry(120, 90)
    with pytest.raises(ValueError):
        read_frame_mark(np.zeros((90, 160), np.float32))


@pytest.mark.parametrize("width,height", [(330, 186), (160, 90), (1366, 768)])
def test_av_frame_with_line_padding(width: int, height: int) -> None:
    y = _background(width, height, seed=3)
    draw_frame_mark(y, 777)
    yuv = np.concatenate([y.ravel(), np.full(2 * (width // 2) * (height // 2), 128, np.uint8)])
    frame = av.VideoFrame.from_ndarray(yuv.reshape(-1, width), format="yuv420p")
    if width == 330:
        assert frame.planes[0].line_size > width  # the padded case is exercised
    assert read_frame_mark_from_av_frame(frame) == 777
    # Other pixel formats go through a conversion to limited-range yuv420p.
    assert read_frame_mark_from_av_frame(frame.reformat(format="nv12")) == 777
    assert read_frame_mark_from_av_frame(frame.reformat(format="rgb24")) == 777


@pytest.mark.parametrize("width,height,crf", [(160, 90, 28), (320, 180, 28), (1920, 1080, 28)])
def test_survives_h264(width: int, height: int, crf: int) -> None:
    """Encode a few marked frames with libx264 (B-frames on) and read them back."""
    import io

    buf = io.BytesIO()
    n = 12
    rng = np.random.default_rng(width)
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(60000, 1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "superfast", "bf": "3"}
        chroma = np.full(2 * (width // 2) * (height // 2), 128, np.uint8)
        for i in range(n):
            y = rng.integers(0, 256, (height, width), dtype=np.uint8)
            draw_frame_mark(y, 5000 + i)
            frame = av.VideoFrame.from_ndarray(np.concatenate([y.ravel(), chroma]).reshape(-1, width), format="yuv420p")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf) as inp:
        got = [read_frame_mark_from_av_frame(f) for f in inp.decode(video=0)]
    assert got == list(range(5000, 5000 + n))
