"""What a video file really is: exact rational frame rate, frame count,
keyframes, audio, and where its presentation starts. Reads packets, and
decodes only until the first picture comes out, so it is fast even on a long
period video.

Frame 0 is the first frame a player shows, not the first frame in the stream.
An MP4 edit list (a ``-ss ... -c copy`` trim, a capture's pre-roll) can hide
leading frames that are stored only because later ones need them to decode;
libavformat applies the edit list, flags those packets discard and shifts the
timestamps so that the first shown frame is at the edit's start. A decoder can
also drop leading pictures it cannot reconstruct (the leading B-frames of an
open-GOP I-frame at the start of a recording). Both kinds are hidden frames:
they get negative display indices, never 0..frame_count-1, so that a clip or a
thumbnail of frame k is the frame a player shows as frame k.
"""
from __future__ import annotations

import os
from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from hb_clips_assets.video.ffmpeg_words import ffmpeg_words
from hb_clips_assets.video.frametiming import FrameRateError, describe_missing, frame_grid
from hb_clips_assets.video.mp4boxes import mp4_structure_problem

# Broadcast rates a measured average snaps to when it is within 0.1 %.
_STANDARD_RATES = [Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")]


class VideoError(ValueError):
    """A file that is not a usable video; the message names the file."""


def _disposed(stream, flag: str) -> bool:
    return bool(int(stream.disposition) & int(getattr(av.stream.Disposition, flag)))


def _pixels(stream) -> int:
    return (stream.codec_context.width or 0) * (stream.codec_context.height or 0)


def main_video_stream(container):
    """The period's picture among the file's video streams, chosen deliberately: a stream marked
    default (an MP4 track flagged enabled) before one that is not, then the highest resolution,
    then the first. Cover art (an attached picture) is never a period's picture. None without video.

    A capture or an editor's export may carry a low-resolution proxy (or a second camera) as
    its first track: clips and thumbnails must come from the main picture, and every reader of
    a source (probe, cutters, checks) must agree on which stream that is."""
    streams = [s for s in container.streams.video if not _disposed(s, "attached_pic")]
    if not streams:
        return None
    return max(streams, key=lambda s: (_disposed(s, "default"), _pixels(s), -s.index))


def video_stream_choice(container, chosen) -> str | None:
    """Why ``chosen`` was taken, when the file has more than one video stream (said in the run's log
    and metadata); None when there was nothing to choose."""
    streams = list(container.streams.video)
    if len(streams) < 2:
        return None
    def label(s) -> str:
        tags = [t for t in ("default", "attached_pic") if _disposed(s, t)]
        size = f"{s.codec_context.width}x{s.codec_context.height}"
        return f"stream {s.index} ({s.codec_context.name} {size}{', ' + ', '.join(tags) if tags else ''})"
    others = ", ".join(label(s) for s in streams if s is not chosen)
    why = "marked default" if _disposed(chosen, "default") and not all(_disposed(s, "default") for s in streams) \
        else "the highest resolution" if _pixels(chosen) > max(_pixels(s) for s in streams if s is not chosen) \
        else "the first of equals"
    return f"{len(streams)} video streams: cut from {label(chosen)}, {why}; not from {others}"


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: Fraction
    frame_count: int
    width: int
    height: int
    codec: str
    pix_fmt: str | None
    time_base: Fraction
    has_audio: bool
    audio_sample_rate: int | None
    audio_channels: int | None
    keyframes: tuple[int, ...]  # frame indices of keyframes
    size_bytes: int
    mtime_ns: int
    # Presentation timestamps of frames 0..frame_count-1, display order (a missing frame's: where it would be).
    pts: tuple[int, ...] = field(repr=False)
    # Leading frames stored before frame 0 but never shown (edit list, or undecodable), display order.
    hidden_pts: tuple[int, ...] = field(default=(), repr=False)
    # Frames hidden after frame 0 (an edit list that cuts inside the stream); the smart cut refuses them.
    hidden_inside: int = 0
    timecode_start: str | None = None  # the tmcd track's / timecode tag's start, reported only
    # The stream read (an index into container.streams, see main_video_stream) and, where the file
    # has several video streams, which one was taken and why.
    stream_index: int = 0
    stream_choice: str | None = None
    # Frame numbers no picture has (frames dropped at capture): frame numbers follow the timestamps,
    # so these keep their numbers and ``pts`` holds where they would have been shown.
    missing: tuple[int, ...] = ()

    @property
    def duration_s(self) -> float:
        return float(self.frame_count / self.fps)

    @property
    def start_pts(self) -> int:
        """Timestamp (in ``time_base``) of frame 0, the first frame a player shows."""
        return self.pts[0]

    @property
    def start_s(self) -> Fraction:
        """When frame 0 is shown on the file's timeline (the MP4 movie time, edit list applied):
        0 for a plain file, later when the video starts after the audio (a TS remux)."""
        return self.pts[0] * self.time_base

    @property
    def start_offset_frames(self) -> int:
        """:attr:`start_s` in frames: how far a tool that counts frames from the movie's time 0
        (instead of from the first shown frame) would be off."""
        return round(self.start_s * self.fps)

    @property
    def hidden_frames(self) -> int:
        """Leading frames in the stream that no player shows (before frame 0)."""
        return len(self.hidden_pts)

    def timeline(self) -> dict:
        """The presentation-timeline facts as plain values, for run metadata."""
        return {
            "start_pts": self.start_pts,
            "start_s": round(float(self.start_s), 6),
            "start_offset_frames": self.start_offset_frames,
            "hidden_frames": self.hidden_frames,
            "hidden_inside": self.hidden_inside,
            "timecode_start": self.timecode_start,
            # said only where there is something to say: a stream chosen among several, dropped frames
            **({"video_stream": self.stream_index, "video_stream_choice": self.stream_choice}
               if self.stream_choice else {}),
            **({"missing_frame_count": len(self.missing), "missing_frames": describe_missing(self.missing)}
               if self.missing else {}),
        }

    def notes(self) -> list[str]:
        """What a user should know about this source although it is accepted (logged as warnings)."""
        notes = [self.stream_choice] if self.stream_choice else []
        if self.missing:
            notes.append(
                f"{len(self.missing)} frame(s) missing (dropped at capture: the timestamps skip them): "
                f"frame(s) {describe_missing(self.missing)}; frame numbers follow the timestamps, so every other "
                "frame keeps the number a player shows for it, and a clip over a missing frame is set aside"
            )
        return notes

    def frame_index_of_pts(self, pts: int) -> int:
        """Display index of a decoded frame's timestamp (nearest, for decoders that round).
        Hidden leading frames get negative indices (-1 is the last one before frame 0)."""
        if pts < self.pts[0] and self.hidden_pts:
            return _nearest(self.hidden_pts, pts, self.pts[0]) - len(self.hidden_pts)
        i = bisect_left(self.pts, pts)
        if i < len(self.pts) and self.pts[i] == pts:
            return i
        if i == 0:  # before frame 0 and nothing known hidden: negative unless within half a frame
            return min(0, round((pts - self.pts[0]) * self.time_base * self.fps))
        if i >= len(self.pts):
            return len(self.pts) - 1 + round((pts - self.pts[-1]) * self.time_base * self.fps)
        return i if self.pts[i] - pts < pts - self.pts[i - 1] else i - 1

    def pts_of(self, frame: int) -> int:
        """Timestamp of display frame ``frame``; a negative ``frame`` is a hidden leading frame."""
        if frame < 0:
            if -frame > len(self.hidden_pts):
                raise IndexError(f"{self.path}: no hidden frame {frame} (there are {len(self.hidden_pts)})")
            return self.hidden_pts[frame]
        return self.pts[frame]

    def pts_seconds(self, frame: int) -> Fraction:
        """Presentation time of a frame on the file's own timeline."""
        if frame < len(self.pts):
            return self.pts[frame] * self.time_base
        return self.pts[-1] * self.time_base + Fraction(frame - len(self.pts) + 1) / self.fps

    def keyframe_at_or_before(self, frame: int) -> int:
        """The shown keyframe to seek to for decoding ``frame``; 0 for the frames before the
        first shown keyframe: their keyframe is hidden before frame 0 (an edit list starting
        between keyframes), and a backward seek to frame 0's timestamp lands on it."""
        i = bisect_left(self.keyframes, frame + 1) - 1
        return self.keyframes[i] if i >= 0 else 0


def _nearest(sorted_pts: tuple[int, ...], pts: int, after: int) -> int:
    """Index in ``sorted_pts`` of the timestamp nearest ``pts``; ``len`` when ``after`` (the
    timestamp that follows the list) is nearer still."""
    i = bisect_left(sorted_pts, pts)
    if i < len(sorted_pts) and sorted_pts[i] == pts:
        return i
    nxt = sorted_pts[i] if i < len(sorted_pts) else after
    if i == 0 or nxt - pts < pts - sorted_pts[i - 1]:
        return i
    return i - 1


def _snap_rate(rate: Fraction) -> Fraction:
    for std in _STANDARD_RATES:
        if abs(rate - std) / std < Fraction(1, 1000):
            return std
    return rate


def probe_video(path: Path | str) -> VideoInfo:
    """Probe ``path``; raise :class:`VideoError` naming the file if it is not a readable video."""
    path = Path(path)
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise VideoError(f"{path}: cannot read video ({exc.strerror or exc})") from None
    if stat.st_size == 0:
        raise VideoError(f"{path}: not a video (the file is empty)")
    if path.suffix.lower() in (".mp4", ".mov", ".m4v"):
        # FFmpeg probes a +faststart file cut short without complaint, with fewer frames.
        problem = mp4_structure_problem(path)
        if problem is not None:
            raise VideoError(problem)
    try:  # track names in another encoding than UTF-8 (an old camera's) are no reason to refuse the picture
        container = av.open(str(path), mode="r", metadata_errors="replace")
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({ffmpeg_words(exc)})") from None
    with container:
        stream = main_video_stream(container)
        if stream is None:
            raise VideoError(f"{path}: has no video stream")
        audio = container.streams.audio[0] if container.streams.audio else None
        shown, hidden, keys, first_decoded = _read_packets(path, stream)
        if not shown and not hidden:
            raise VideoError(f"{path}: the video stream holds no frames")
        if first_decoded is None:
            raise VideoError(f"{path}: no frame of the video stream can be decoded")
        # Frames before the first decoded one were dropped by the decoder (pictures that need
        # what the recording does not hold): hidden like the edit list's, not frame 0.
        leading_dropped = [p for p in shown if p < first_decoded]
        shown = [p for p in shown if p >= first_decoded]
        if not shown:
            raise VideoError(f"{path}: the video stream holds no frame a player shows")
        hidden_inside = sum(1 for p in hidden if p >= shown[0])
        hidden = sorted([p for p in hidden if p < shown[0]] + leading_dropped)
        time_base = Fraction(stream.time_base)
        try:  # frame numbers follow the timestamps: a dropped frame keeps its number (frametiming.py)
            grid = frame_grid(path, shown, time_base)
        except FrameRateError as exc:
            raise VideoError(str(exc)) from None
        pts = list(grid.pts)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if len(pts) > 1:
            measured = Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
            # (the container's average counts pictures, so it runs slow where frames are missing)
            close = rate and not grid.missing and abs(Fraction(rate) - measured) / measured < Fraction(1, 100)
            rate = rate if close else measured
        if not rate:
            raise VideoError(f"{path}: cannot determine the frame rate")
        keyframes = tuple(i for i, p in enumerate(pts) if p in keys)
        if not keyframes and not any(p in keys for p in hidden):
            raise VideoError(f"{path}: no keyframe in the video stream")
        ctx = stream.codec_context
        return VideoInfo(
            path=str(path),
            fps=_snap_rate(Fraction(rate)),
            frame_count=len(pts),
            width=ctx.width,
            height=ctx.height,
            codec=ctx.name,
            pix_fmt=ctx.pix_fmt,
            time_base=time_base,
            has_audio=audio is not None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
            keyframes=keyframes,
            size_bytes=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            pts=tuple(pts),
            hidden_pts=tuple(hidden),
            hidden_inside=hidden_inside,
            timecode_start=_timecode_start(container, stream),
            missing=grid.missing,
            stream_index=stream.index,
            stream_choice=video_stream_choice(container, stream),
        )


def _read_packets(path: Path, stream) -> tuple[list[int], list[int], set[int], int | None]:
    """(shown timestamps, sorted; hidden ones (the demuxer's discard flag), sorted; keyframe
    timestamps; the timestamp of the first decoded picture) of the video stream, in one pass.
    Packets are decoded only until the first picture comes out (the decoder drops the
    discarded ones itself), which is a few packets with B-frames."""
    shown: list[int] = []
    hidden: list[int] = []
    keys: set[int] = set()
    first: int | None = None
    decoding = True
    try:
        for packet in stream.container.demux(stream):
            if decoding:
                first, decoding = _first_picture(packet)
            if packet.size == 0 or packet.pts is None:
                continue
            (hidden if packet.is_discard else shown).append(packet.pts)
            if packet.is_keyframe:
                keys.add(packet.pts)
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: damaged video data after {len(shown) + len(hidden)} frames: "
                         f"{ffmpeg_words(exc)}") from None
    shown.sort()
    hidden.sort()
    return shown, hidden, keys, first


_UNKNOWN = -(1 << 62)  # a first picture without a timestamp: assume nothing was dropped


def _first_picture(packet) -> tuple[int | None, bool]:
    """(timestamp of the first picture this packet makes the decoder output, whether to go on
    decoding). A packet the decoder rejects only means the picture is not the first shown."""
    try:
        for frame in packet.decode():  # the final empty packet flushes the decoder
            pts = frame.pts if frame.pts is not None else frame.dts
            return (pts if pts is not None else _UNKNOWN), False
    except av.error.FFmpegError:
        pass
    return None, True


def _timecode_start(container, stream) -> str | None:
    """The start timecode a ``tmcd`` track (or a ``timecode`` tag) declares, as written.
    Reported only: the contract's timecodes count from the first shown frame at 00:00:00:00."""
    for candidate in (stream, *container.streams.data, container):
        value = (candidate.metadata or {}).get("timecode")
        if value:
            return str(value)
    return None
