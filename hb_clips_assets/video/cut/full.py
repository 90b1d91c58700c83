"""Cut one segment of a source video into a frame-accurate H.264 MP4 and a
JPEG thumbnail, in one process with PyAV (FFmpeg's libraries).

Why decode-and-select instead of ``ffmpeg -ss``: a seek by time lands on a
keyframe and FFmpeg versions disagree on which frame comes first after it
(duplicated first frames, empty edits). Here every decoded frame is matched to
its display index by its timestamp, so the first frame written is exactly
``start_frame`` and exactly ``end_frame - start_frame`` frames are written.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hb_clips_assets.video.mp4meta import copy_video_matrix
from hb_clips_assets.video.probe import VideoError, VideoInfo


@dataclass(frozen=True)
class EncodeSettings:
    """Everything about encoding that changes the output bytes (part of the clip id)."""

    video_codec: str = "libx264"
    preset: str = "ultrafast"
    crf: int = 20
    pix_fmt: str = "yuv420p"
    audio_codec: str = "aac"
    audio_bitrate: int = 128_000
    aac_coder: str = "fast"  # FFmpeg's default "twoloop" costs about 0.25 s per 8 s clip, a fifth of the cut
    thumbnail_quality: int = 85
    # "smart": copy the source's packets between re-encoded head and tail where the
    # source allows (smartcut.py), else a full re-encode; "full": always re-encode.
    cutter: str = "smart"
    version: int = 1  # bump when the cutter's output changes for the same settings

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CutResult:
    mp4_path: Path
    thumbnail_path: Path
    frames: int
    audio_samples: int
    audio_sample_rate: int | None


class CutError(RuntimeError):
    pass


def cut_clip(
    source: VideoInfo,
    start_frame: int,
    end_frame: int,
    event_frame: int,
    out_dir: Path,
    settings: EncodeSettings = EncodeSettings(),
) -> CutResult:
    """Encode source frames ``[start_frame, end_frame)`` to an MP4 in ``out_dir``
    and the ``event_frame`` to a JPEG beside it. Both files get unique temporary
    names; the caller moves them into the store.
    """
    if not 0 <= start_frame < end_frame <= source.frame_count:
        raise CutError(
            f"{source.path}: frame range [{start_frame}, {end_frame}) is outside the video's 0..{source.frame_count}"
        )
    if not start_frame <= event_frame < end_frame:
        raise CutError(f"{source.path}: event frame {event_frame} is outside [{start_frame}, {end_frame})")
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, mp4_name = tempfile.mkstemp(prefix=".cut-", suffix=".mp4", dir=out_dir)
    os.close(fd)
    fd, jpg_name = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=out_dir)
    os.close(fd)
    mp4_path, jpg_path = Path(mp4_name), Path(jpg_name)
    try:
        frames, samples = _encode(source, start_frame, end_frame, event_frame, mp4_path, jpg_path, settings)
        copy_video_matrix(source.path, mp4_path)  # a rotated feed's clip plays the same way up
    except BaseException:
        mp4_path.unlink(missing_ok=True)
        jpg_path.unlink(missing_ok=True)
        raise
    return CutResult(mp4_path, jpg_path, frames, samples, source.audio_sample_rate if samples else None)


def _encode(source, start, end, event, mp4_path, jpg_path, settings) -> tuple[int, int]:
    t0 = source.pts_seconds(start)  # clip start on the file's timeline
    audio_samples_wanted = 0
    with av.open(source.path) as inp, av.open(
        str(mp4_path), "w", format="mp4", options={"movflags": "+faststart"}
    ) as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None

        vout = out.add_stream(settings.video_codec, rate=source.fps)
        vout.width, vout.height, vout.pix_fmt = source.width, source.height, settings.pix_fmt
        # Frame timestamps are in 1/fps; the muxer later changes vout.time_base, so frames carry their own.
        vout.codec_context.time_base = 1 / Fraction(source.fps)
        vout.codec_context.options = {"preset": settings.preset, "crf": str(settings.crf)}
        aout = audio = None
        if ain is not None:
            rate = ain.codec_context.sample_rate
            aout = out.add_stream(settings.audio_codec, rate=rate, layout=ain.codec_context.layout.name)
            aout.bit_rate = settings.audio_bitrate
            aout.codec_context.options = {"aac_coder": settings.aac_coder}
            audio_samples_wanted = round((end - start) / Fraction(source.fps) * rate)
            audio = _AudioTrim(t0, audio_samples_wanted, rate, ain.codec_context.layout.name)

        # Seek to the keyframe at or before the start, by its presentation time.
        key = source.keyframe_at_or_before(start)
        inp.seek(source.pts[key], stream=vin, backward=True, any_frame=False)

        video = _VideoSelector(source, start, end, event, jpg_path, settings, vout, out)
        streams = [vin] + ([ain] if ain is not None else [])
        for packet in inp.demux(*streams):
            if packet.stream is vin:
                if not video.complete:
                    for frame in packet.decode():
                        video.take(frame)
            elif audio is not None:
                for frame in packet.decode():
                    audio.feed(frame)
            if video.complete and (audio is None or audio.complete):
                break
        if not video.complete:  # frames still inside the decoder (B-frame reorder)
            for frame in vin.codec_context.decode(None):
                video.take(frame)
        for pkt in vout.encode(None):
            out.mux(pkt)
        video.check()
        audio_written = 0
        if audio is not None:
            for frame in audio.frames():
                for pkt in aout.encode(frame):
                    out.mux(pkt)
                audio_written += frame.samples
            for pkt in aout.encode(None):
                out.mux(pkt)
    return video.written, audio_written


class _VideoSelector:
    """Pick the frames of ``[start, end)`` out of the decoded stream by their
    timestamps, encode them and save the event frame as the thumbnail."""

    def __init__(self, source, start, end, event, jpg_path, settings, vout, out):
        self.source, self.start, self.end, self.event = source, start, end, event
        self.jpg_path, self.settings, self.vout, self.out = jpg_path, settings, vout, out
        self.time_base = 1 / Fraction(source.fps)
        self.written = 0
        self.first_seen: int | None = None
        self.thumbnail_done = False

    @property
    def complete(self) -> bool:
        return self.written >= self.end - self.start

    def take(self, frame: av.VideoFrame) -> None:
        index = self.source.frame_index_of_pts(frame.pts if frame.pts is not None else frame.dts)
        if self.first_seen is None:
            self.first_seen = index
        if not self.start <= index < self.end:
            return
        if index != self.start + self.written:
            raise CutError(
                f"{self.source.path}: expected frame {self.start + self.written}, decoded frame {index} "
                "(missing or duplicated frame)"
            )
        if index == self.event:
            frame.to_image().save(self.jpg_path, format="JPEG", quality=self.settings.thumbnail_quality)
            self.thumbnail_done = True
        if frame.format.name != self.settings.pix_fmt:
            frame = frame.reformat(format=self.settings.pix_fmt)
        frame.pts = self.written
        frame.time_base = self.time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # the encoder places its own keyframes
        for pkt in self.vout.encode(frame):
            self.out.mux(pkt)
        self.written += 1

    def check(self) -> None:
        path, start, end = self.source.path, self.start, self.end
        if self.first_seen is None or self.first_seen > start:
            raise CutError(f"{path}: decoding after the seek began at frame {self.first_seen}, after the wanted start {start}")
        if self.written != end - start:
            raise CutError(f"{path}: decoded {self.written} of {end - start} frames of [{start}, {end})")
        if not self.thumbnail_done:
            raise CutError(f"{path}: event frame {self.event} was not decoded")


class _AudioTrim:
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


__all__ = ["EncodeSettings", "CutResult", "CutError", "VideoError", "cut_clip"]
