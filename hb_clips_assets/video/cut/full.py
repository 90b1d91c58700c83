"""Cut one segment of a source video into a frame-accurate H.264 MP4 and a
JPEG thumbnail, in one process with PyAV (FFmpeg's libraries).

Why decode-and-select instead of ``ffmpeg -ss``: a seek by time lands on a
keyframe and FFmpeg versions disagree on which frame comes first after it
(duplicated first frames, empty edits). Here every decoded frame is matched to
its display index by its timestamp, so the first frame written is exactly
``start_frame`` and exactly ``end_frame - start_frame`` frames are written.
Indices are on the presentation timeline (``probe.py``): frame 0 is the first
frame a player shows; frames an edit list hides before it are dropped by the
decoder or get negative indices, so they are never written.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from hb_clips_assets.video.cut.selection import AudioTrim, encoder_frame, frame_index, save_thumbnail
from hb_clips_assets.video.cut.types import CutError, CutResult, EncodeSettings, check_cut_range, new_output_paths
from hb_clips_assets.video.mp4meta import copy_video_matrix
from hb_clips_assets.video.probe import VideoInfo


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
    check_cut_range(source, start_frame, end_frame, event_frame)
    out_dir.mkdir(parents=True, exist_ok=True)
    mp4_path, jpg_path = new_output_paths(out_dir)
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
    with av.open(source.path, metadata_errors="replace") as inp, av.open(
        str(mp4_path), "w", format="mp4", options={"movflags": "+faststart"}
    ) as out:
        vin = inp.streams[source.stream_index]  # the probe's main video stream (video.probe.main_video_stream)
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
            audio = AudioTrim(t0, audio_samples_wanted, rate, ain.codec_context.layout.name)

        # Seek to the keyframe at or before the start, by its presentation time (for frames
        # before the first shown keyframe: frame 0's, which lands on the hidden keyframe).
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
            try:
                for frame in vin.codec_context.decode(None):
                    video.take(frame)
            except av.error.EOFError:
                pass  # the demuxer's end-of-file packet flushed it already; check() names what is missing
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
        index = frame_index(self.source, frame)
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
            save_thumbnail(frame, self.jpg_path, self.settings.thumbnail_quality)
            self.thumbnail_done = True
        frame = encoder_frame(frame, self.written, self.time_base, self.settings.pix_fmt)
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


__all__ = ["cut_clip"]
