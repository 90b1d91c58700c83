"""Picking the clip's frames and samples out of the decoded source, shared by
both cutters (``full.py`` re-encodes every frame, ``smart/`` only the head and
tail): a decoded frame's display index from its timestamp, the frame as the
encoder gets it, the thumbnail JPEG, and the audio trimmed to the clip's
exact samples (the full cut's audio, and the smart cut's when it cannot copy
the source's AAC packets).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hb_clips_assets.video.probe import VideoInfo


def frame_index(source: VideoInfo, frame: av.VideoFrame) -> int:
    """The source display index of a decoded frame, matched by its timestamp (the
    decode timestamp when the decoder gives no presentation time)."""
    return source.frame_index_of_pts(frame.pts if frame.pts is not None else frame.dts)


def encoder_frame(frame: av.VideoFrame, position: int, time_base: Fraction, pix_fmt: str) -> av.VideoFrame:
    """The decoded frame as the encoder gets it: the output's pixel format, stamped
    with its position in the encoded range, and no picture type, so that the
    encoder places its own keyframes."""
    if frame.format.name != pix_fmt:
        frame = frame.reformat(format=pix_fmt)
    frame.pts = position
    frame.time_base = time_base
    frame.pict_type = av.video.frame.PictureType.NONE
    return frame


def save_thumbnail(frame: av.VideoFrame, path: Path, quality: int) -> None:
    frame.to_image().save(path, format="JPEG", quality=quality)


class AudioTrim:
    """Collect decoded audio and hand out exactly the samples of the clip's time span."""

    def __init__(self, t0: Fraction, samples: int, rate: int, layout: str):
        self.t0, self.samples, self.rate, self.layout = t0, samples, rate, layout
        self.chunks: list[np.ndarray] = []
        self.have = 0
        self.start_offset: int | None = None  # clip start, in samples from the first kept chunk

    @property
    def complete(self) -> bool:
        return self.start_offset is not None and self.have - self.start_offset >= self.samples

    def feed(self, frame: av.AudioFrame) -> None:
        if self.complete or frame.pts is None:
            return
        data = frame.to_ndarray()
        if frame.format.is_packed:
            data = data.reshape(-1, len(frame.layout.channels)).T
        data = data.astype(np.float32, copy=False)
        if frame.format.name.startswith("s16"):
            data = data / 32768.0
        frame_t = frame.pts * frame.time_base
        if self.start_offset is None:
            offset = round((self.t0 - frame_t) * self.rate)
            if offset < 0:  # audio starts after the clip start: pad with silence
                data = np.concatenate([np.zeros((data.shape[0], -offset), np.float32), data], axis=1)
                offset = 0
            if offset >= data.shape[1]:
                return  # whole frame before the clip
            self.start_offset = offset
        self.chunks.append(data)
        self.have += data.shape[1]

    def frames(self):
        if self.start_offset is None:
            return
        data = np.concatenate(self.chunks, axis=1)[:, self.start_offset : self.start_offset + self.samples]
        if data.shape[1] < self.samples:  # source audio ended early: pad with silence
            data = np.pad(data, ((0, 0), (0, self.samples - data.shape[1])))
        data = np.ascontiguousarray(data)
        for pos in range(0, self.samples, 1024):
            chunk = np.ascontiguousarray(data[:, pos : pos + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.layout)
            frame.sample_rate = self.rate
            frame.pts = pos
            frame.time_base = Fraction(1, self.rate)
            yield frame


__all__ = ["frame_index", "encoder_frame", "save_thumbnail", "AudioTrim"]
