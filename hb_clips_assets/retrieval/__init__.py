"""Retrieval: filters over the media index, and plain-language requests turned into them."""
from hb_clips_assets.retrieval.filters import (
    AssetLink,
    ClipPage,
    ClipQuery,
    ClipResult,
    QueryError,
    References,
    clip_stats,
    find_clips,
    get_clip,
    iter_clips,
    store_url_for,
)

__all__ = [
    "AssetLink", "ClipPage", "ClipQuery", "ClipResult", "QueryError", "References",
    "clip_stats", "find_clips", "get_clip", "iter_clips", "store_url_for",
]
