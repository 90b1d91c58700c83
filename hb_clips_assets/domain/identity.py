"""Clip identity: the cache key of a clip.

A clip is determined by its source video's content, its frame range, its
event frame (the thumbnail) and the encode settings. The event's identity is
part of the key too, because two events may share a frame range (a faceoff won
by one player and lost by another) and each needs its own row.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hb_clips_assets.domain.hashing import sha256_file


def source_fingerprint(path: Path | str) -> str:
    """SHA-256 of the whole source file: a replaced video gets new clip ids."""
    return sha256_file(path)


def clip_id(
    *,
    source_sha256: str,
    start_frame: int,
    end_frame: int,
    event_frame: int,
    encode_fingerprint: str,
    game_id: str,
    period: str,
    event_id: str,
) -> str:
    payload = json.dumps(
        {
            "source": source_sha256,
            "frames": [start_frame, end_frame, event_frame],
            "encode": encode_fingerprint,
            "event": [game_id, period, event_id],
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def clip_object_key(game_id: str, period: str, clip: str) -> str:
    return f"clips/{game_id}/{period}/{clip}.mp4"


def thumbnail_object_key(game_id: str, period: str, clip: str) -> str:
    return f"thumbnails/{game_id}/{period}/{clip}.jpg"


def hls_playlist_object_key(game_id: str, period: str, clip: str, version: int) -> str:
    """The clip's HLS media playlist; ``version``: the packager's (``video.hls.HLS_VERSION``)."""
    return f"hls/{game_id}/{period}/{clip}-h{version}.m3u8"


def hls_media_object_key(game_id: str, period: str, clip: str, version: int) -> str:
    """The fragmented MP4 the playlist addresses by byte ranges (same folder, same stem)."""
    return f"hls/{game_id}/{period}/{clip}-h{version}.mp4"
