"""What the asset checks verify, as plain functions: each returns a list of
problems (empty: the check passes). No Dagster import.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote, urlparse

import av
import numpy as np

from hb_clips_assets.domain.records import AssetRecord
from hb_clips_assets.domain.records import Segment
from hb_clips_assets.storage.store.base import ObjectStore, StoredObject
from hb_clips_assets.video.ffmpeg_words import ffmpeg_words
from hb_clips_assets.video.framemark import luma_plane, read_frame_mark
from hb_clips_assets.video.frametiming import describe_missing
from hb_clips_assets.video.probe import VideoError, VideoInfo, main_video_stream, probe_video

REQUIRED_KINDS = ("mp4", "thumbnail")

# Mean absolute luma difference (0-255) under which a clip's first frame is the
# same picture as a source frame after one x264 generation (CRF 20: about 1-3).
PIXEL_MATCH_MAX = 12.0


def coverage_problems(segments: list[Segment], rows: list[dict]) -> list[str]:
    """Every valid event (a resolved segment) has exactly its clip row, with its frame range."""
    problems = []
    by_event = {r["event_id"]: r for r in rows}
    wanted = {s.event_id for s in segments}
    for s in segments:
        row = by_event.get(s.event_id)
        if row is None:
            problems.append(f"event {s.event_id} ({s.event_type}): no clip in the index")
            continue
        got = (row["start_frame"], row["end_frame"], row["event_frame"])
        if got != (s.start_frame, s.end_frame, s.event_frame):
            problems.append(
                f"event {s.event_id}: clip covers frames {got[0]}-{got[1]} (event {got[2]}), "
                f"expected {s.start_frame}-{s.end_frame} (event {s.event_frame})"
            )
    for event_id in sorted(set(by_event) - wanted):
        problems.append(f"clip {by_event[event_id]['clip_id']} of event {event_id}: no such valid event")
    return problems


def object_problems(
    clip_ids: list[str], assets: dict[tuple[str, str], AssetRecord], stat: Callable[[str], StoredObject | None]
) -> list[str]:
    """Every clip has its MP4 and thumbnail rows, and every row its object with the recorded size and hash."""
    problems = []
    for cid in clip_ids:
        for kind in REQUIRED_KINDS:
            if (cid, kind) not in assets:
                problems.append(f"clip {cid}: no {kind} row in clip_assets")
    for (cid, kind), a in sorted(assets.items()):
        obj = stat(a.object_key)
        if obj is None:
            problems.append(f"clip {cid} {kind}: object {a.object_key} is missing")
        elif obj.bytes != a.bytes:
            problems.append(f"clip {cid} {kind}: object {a.object_key} has {obj.bytes} bytes, the index says {a.bytes}")
        elif obj.sha256 != a.sha256:
            problems.append(f"clip {cid} {kind}: object {a.object_key} has SHA-256 {obj.sha256[:12]}..., "
                            f"the index says {a.sha256[:12]}...")
    return problems


@contextlib.contextmanager
def local_object(store: ObjectStore, key: str) -> Iterator[Path]:
    """A local path holding the object: the file itself for a folder store, else a temporary copy."""
    path_of = getattr(store, "path_of", None)
    if path_of is not None:
        yield Path(path_of(key))
        return
    fd, name = tempfile.mkstemp(prefix="hb-check-", suffix=Path(key).suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(store.get_bytes(key))
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def clip_stream_problem(path: Path, start_frame: int, end_frame: int, fps: Fraction) -> str | None:
    """The stored MP4 holds exactly ``end_frame - start_frame`` frames at ``fps``, lasting as long."""
    try:
        info = probe_video(path)
    except VideoError as exc:
        return str(exc)
    want = end_frame - start_frame
    if info.missing:  # the probe accepts a source with dropped frames; a clip must have every frame
        several = len(info.missing) > 1
        return (f"frame{'s' if several else ''} {describe_missing(info.missing)} of the clip "
                f"{'are' if several else 'is'} missing (dropped frame{'s' if several else ''})")
    if info.frame_count != want:
        return f"{info.frame_count} frames, the range {start_frame}-{end_frame} has {want}"
    if info.fps != fps:
        return f"frame rate {info.fps}, the source's is {fps}"
    span = (info.pts[-1] - info.pts[0]) * info.time_base + 1 / info.fps
    if abs(span - Fraction(want) / fps) > 1 / (2 * fps):
        return f"lasts {float(span):.3f} s, the range lasts {float(Fraction(want) / fps):.3f} s"
    return None


def first_frame_luma(path: Path) -> np.ndarray:
    with av.open(str(path), metadata_errors="replace") as container:
        stream = main_video_stream(container)
        for frame in container.decode(stream) if stream is not None else ():
            return luma_plane(frame)
    raise VideoError(f"{path}: no decodable frame")


def source_frames_luma(info: VideoInfo, indices: list[int]) -> dict[int, np.ndarray]:
    """Decoded luma of the source frames ``indices`` (display order), from the keyframe before the first."""
    wanted = sorted(i for i in set(indices) if 0 <= i < info.frame_count)
    out: dict[int, np.ndarray] = {}
    if not wanted:
        return out
    with av.open(info.path, metadata_errors="replace") as container:
        stream = main_video_stream(container)  # the stream the probe read (a proxy track may come first)
        key = info.keyframe_at_or_before(wanted[0])
        container.seek(info.pts[key], stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            index = info.frame_index_of_pts(frame.pts if frame.pts is not None else frame.dts)
            if index in wanted:
                out[index] = luma_plane(frame)
            if index >= wanted[-1] or len(out) == len(wanted):
                break
    return out


def first_frame_problem(clip: Path, source: VideoInfo, start_frame: int) -> str | None:
    """The clip's first decoded frame is source frame ``start_frame``.

    Where the source carries frame marks (the sample and test videos), the
    clip's first frame must bear the mark ``start_frame``. Elsewhere the frame
    is compared with source frames ``start_frame - 1 .. start_frame + 1``: it
    must look like ``start_frame`` and no less like it than like a neighbour.
    """
    try:
        first = first_frame_luma(clip)
    except VideoError as exc:
        return str(exc)
    except av.error.FFmpegError as exc:
        return f"{clip}: cannot decode its first frame: {ffmpeg_words(exc)}"
    try:
        mark = read_frame_mark(first)
    except ValueError:
        mark = None
    if mark is not None:
        return None if mark == start_frame else f"first frame is source frame {mark}, expected {start_frame}"
    frames = source_frames_luma(source, [start_frame - 1, start_frame, start_frame + 1])
    if start_frame not in frames:
        return f"source frame {start_frame} could not be decoded from {source.path}"
    if any(f.shape != first.shape for f in frames.values()):
        return f"first frame is {first.shape[1]}x{first.shape[0]}, the source is {source.width}x{source.height}"
    diff = {i: float(np.abs(f.astype(np.int16) - first.astype(np.int16)).mean()) for i, f in frames.items()}
    best = min(diff, key=lambda i: (diff[i], i != start_frame))
    if diff[start_frame] > PIXEL_MATCH_MAX or best != start_frame:
        return (f"first frame differs from source frame {start_frame} by {diff[start_frame]:.1f} "
                f"(closest: frame {best}, {diff[best]:.1f})")
    return None


def sample_evenly(items: list, n: int) -> list:
    """``n`` items spread over the list, first and last included (all when ``n`` <= 0 or >= len)."""
    if n <= 0 or n >= len(items):
        return list(items)
    if n == 1:
        return [items[0]]
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def source_path(source_uri: str) -> Path:
    parsed = urlparse(source_uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(source_uri)


def rejected_ratio(rows_read: int, rows_rejected: int) -> float:
    return rows_rejected / rows_read if rows_read else 0.0
