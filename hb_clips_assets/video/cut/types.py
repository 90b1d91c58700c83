"""What both cutters (``full.py``, the full re-encode, and ``smart/``, the smart
cut) take and return: the encode settings, the result, the error, the range
check and the temporary output files. Kept apart from either cutter so that
the smart cut, which falls back to the full one, shares them instead of
reaching into ``full.py``.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from hb_clips_assets.video.probe import VideoInfo


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
    # source allows (cut/smart/), else a full re-encode; "full": always re-encode.
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


@dataclass(frozen=True)
class SmartCutResult(CutResult):
    path: str = "full"  # "smart" (head/tail re-encoded, body copied) or "full" (full.cut_clip)
    reason: str | None = None  # why the full re-encode was used
    copied_frames: int = 0
    reencoded_frames: int = 0


class CutError(RuntimeError):
    pass


def check_cut_range(source: VideoInfo, start_frame: int, end_frame: int, event_frame: int) -> None:
    """Refuse a frame range or event frame outside the source (before any file is made)."""
    if not 0 <= start_frame < end_frame <= source.frame_count:
        raise CutError(
            f"{source.path}: frame range [{start_frame}, {end_frame}) is outside the video's 0..{source.frame_count}"
        )
    if not start_frame <= event_frame < end_frame:
        raise CutError(f"{source.path}: event frame {event_frame} is outside [{start_frame}, {end_frame})")


def new_output_paths(out_dir: Path) -> tuple[Path, Path]:
    """Unique temporary names for the clip's MP4 and JPEG in ``out_dir``; the caller
    moves them into the store (or deletes them when the cut fails)."""
    fd, mp4_name = tempfile.mkstemp(prefix=".cut-", suffix=".mp4", dir=out_dir)
    os.close(fd)
    fd, jpg_name = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=out_dir)
    os.close(fd)
    return Path(mp4_name), Path(jpg_name)


__all__ = ["EncodeSettings", "CutResult", "SmartCutResult", "CutError", "check_cut_range", "new_output_paths"]
