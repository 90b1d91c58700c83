"""What a video file really is: exact rational frame rate, frame count,
keyframes, audio. Reads packets only (no decoding), so it is fast even on a
long period video.
"""
from __future__ import annotations

import os
from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

# Broadcast rates a measured average snaps to when it is within 0.1 %.
_STANDARD_RATES = [Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")]


class VideoError(ValueError):
    """A file that is not a usable video; the message names the file."""


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
    pts: tuple[int, ...] = field(repr=False)  # presentation timestamps in display order

    @property
    def duration_s(self) -> float:
        return float(self.frame_count / self.fps)

    def frame_index_of_pts(self, pts: int) -> int:
        """Display index of a decoded frame's timestamp (nearest, for decoders that round)."""
        i = bisect_left(self.pts, pts)
        if i < len(self.pts) and self.pts[i] == pts:
            return i
        if i == 0:
            return 0
        if i >= len(self.pts):
            return len(self.pts) - 1 + round((pts - self.pts[-1]) * self.time_base * self.fps)
        return i if self.pts[i] - pts < pts - self.pts[i - 1] else i - 1

    def pts_seconds(self, frame: int) -> Fraction:
        """Presentation time of a frame on the file's own timeline."""
        if frame < len(self.pts):
            return self.pts[frame] * self.time_base
        return self.pts[-1] * self.time_base + Fraction(frame - len(self.pts) + 1) / self.fps

    def keyframe_at_or_before(self, frame: int) -> int:
        i = bisect_left(self.keyframes, frame + 1) - 1
        return self.keyframes[max(i, 0)]


def _snap_rate(rate: Fraction) -> Fraction:
    for std in _STANDARD_RATES:
        if abs(rate - std) / std < Fraction(1, 1000):
            return std
    return rate


# Boxes an MP4/MOV file can start with (ISO BMFF and QuickTime).
_FIRST_BOXES = {"ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pdin", "uuid", "sidx", "moof", "pnot"}


def mp4_structure_problem(path: Path | str) -> str | None:
    """Why the MP4/MOV at ``path`` is not whole, or None.

    Reads only the top-level box headers: they must tile the file exactly and
    include ``moov`` and ``mdat``. This catches a copy still in progress or a
    truncated file, including a +faststart file cut short, which FFmpeg would
    otherwise probe happily with fewer frames.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        boxes: list[str] = []
        with open(path, "rb") as fh:
            pos = 0
            while pos < size:
                fh.seek(pos)
                header = fh.read(16)
                if len(header) < 8:
                    return f"{path}: truncated MP4 (a partial box header at byte {pos})"
                box_size = int.from_bytes(header[:4], "big")
                kind = header[4:8].decode("latin-1")
                if (pos == 0 and kind not in _FIRST_BOXES) or not all(32 <= b < 127 or b == 0xA9 for b in header[4:8]):
                    return f"{path}: not a readable video (no MP4/MOV box structure at byte {pos})"
                if box_size == 1:
                    if len(header) < 16:
                        return f"{path}: truncated MP4 (a partial box header at byte {pos})"
                    box_size = int.from_bytes(header[8:16], "big")
                elif box_size == 0:  # the box runs to the end of the file
                    box_size = size - pos
                if box_size < 8:
                    return f"{path}: not an MP4 (box {kind!r} at byte {pos} has size {box_size})"
                boxes.append(kind)
                if pos + box_size > size:
                    return f"{path}: truncated MP4 (box {kind!r} at byte {pos} needs {pos + box_size} bytes, the file has {size})"
                pos += box_size
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror or exc})"
    missing = [b for b in ("moov", "mdat") if b not in boxes]
    if missing:
        return f"{path}: incomplete MP4 (no {' or '.join(missing)} box)"
    return None


def _refuse_variable_frame_rate(path: Path, pts: list[int], time_base: Fraction) -> None:
    """Timecodes count frames at a constant rate: a VFR file would map them to the wrong frames.

    Half a frame of tolerance lets rounded time bases through (59.94 in 1/90000
    alternates 1501 and 1502 ticks).
    """
    if len(pts) < 3:
        return
    deltas = sorted(b - a for a, b in zip(pts, pts[1:]))
    median = deltas[len(deltas) // 2]
    if deltas[-1] - deltas[0] > max(1, median // 2):
        raise VideoError(
            f"{path}: variable frame rate (frame durations {float(deltas[0] * time_base):.4f} to "
            f"{float(deltas[-1] * time_base):.4f} s); re-encode it at a constant rate"
        )


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
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({exc.strerror or exc})") from None
    with container:
        if not container.streams.video:
            raise VideoError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        pts: list[int] = []
        keys: set[int] = set()
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.is_discard:
                    continue
                pts.append(packet.pts)
                if packet.is_keyframe:
                    keys.add(packet.pts)
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path}: corrupt video data ({exc.strerror or exc})") from None
        if not pts:
            raise VideoError(f"{path}: the video stream holds no frames")
        pts.sort()
        time_base = Fraction(stream.time_base)
        _refuse_variable_frame_rate(path, pts, time_base)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if len(pts) > 1:
            measured = Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
            rate = rate if rate and abs(Fraction(rate) - measured) / measured < Fraction(1, 100) else measured
        if not rate:
            raise VideoError(f"{path}: cannot determine the frame rate")
        keyframes = tuple(i for i, p in enumerate(pts) if p in keys)
        if not keyframes:
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
        )
