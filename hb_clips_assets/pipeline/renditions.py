"""A clip's HLS rendition as stored objects: its fragmented MP4 and media playlist, packaged from
the clip's MP4 (``video/hls``: no re-encode) and put next to it under ``hls/<game>/<period>/``.

Both keys derive from the clip id and the packager's version, like the MP4's, so an object under its
key is a complete packaging of the same clip. The fMP4 is stored before the playlist that names it.
A clip whose MP4 is already stored gets its rendition from that MP4 (read in place from a local
store, else downloaded), without a new cut.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from hb_clips_assets.domain.identity import hls_media_object_key, hls_playlist_object_key
from hb_clips_assets.domain.records import AssetRecord, Segment
from hb_clips_assets.settings import value
from hb_clips_assets.storage.store.base import ObjectStore
from hb_clips_assets.video.hls import HLS_VERSION, package_clip
from hb_clips_assets.video.hls.playlist import MIME as M3U8

MP4 = "video/mp4"
HLS_KINDS = (("hls_fmp4", MP4), ("hls", M3U8))  # the order they are stored in


def hls_enabled(given: bool | None = None) -> bool:
    """``given``, else the setting ``HB_HLS`` (on by default)."""
    return value("HB_HLS") == "1" if given is None else bool(given)


def hls_keys(seg: Segment, cid: str) -> dict[str, str]:
    return {"hls_fmp4": hls_media_object_key(seg.game_id, seg.period, cid, HLS_VERSION),
            "hls": hls_playlist_object_key(seg.game_id, seg.period, cid, HLS_VERSION)}


def store_rendition(mp4: Path, seg: Segment, cid: str, store: ObjectStore, work: Path) -> tuple[list[AssetRecord], float]:
    """Package ``mp4`` into ``work`` and store both objects; (their asset records, packaging seconds)."""
    keys = hls_keys(seg, cid)
    packaged = package_clip(mp4, work, Path(keys["hls_fmp4"]).stem)
    assets = []
    for kind, ctype in HLS_KINDS:
        path = packaged.media_path if kind == "hls_fmp4" else packaged.playlist_path
        obj = store.put_file(keys[kind], path, ctype)
        assets.append(AssetRecord(kind, obj.key, obj.uri, obj.bytes, obj.sha256, ctype))
    return assets, packaged.seconds


def rendition_from_stored(mp4_key: str, seg: Segment, cid: str, store: ObjectStore,
                          work: Path) -> tuple[list[AssetRecord], float]:
    """The rendition of a clip whose MP4 is stored under ``mp4_key`` (no cut)."""
    started = time.monotonic()
    path_of = getattr(store, "path_of", None)
    if path_of is not None:
        mp4 = Path(path_of(mp4_key))
    else:
        fd, name = tempfile.mkstemp(prefix="stored-", suffix=".mp4", dir=work)
        with os.fdopen(fd, "wb") as fh:
            fh.write(store.get_bytes(mp4_key))
        mp4 = Path(name)
    assets, _ = store_rendition(mp4, seg, cid, store, work)
    return assets, time.monotonic() - started
