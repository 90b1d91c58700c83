"""Retrieval: filters over the media index, and plain-language requests turned into them.

The vocabulary (the hockey words flags, requests and the metrics reader
share) is hb_clips_assets.domain.vocabulary. Here: query (ClipQuery and its
normalizers), references (schedule and roster), results (clips, pages,
URLs), access (what a team-limited key sees), plan (query -> SQL), search
(pages, one clip), stats (overview), language (plain language -> query).
"""
from hb_clips_assets.retrieval.access import clip_visible
from hb_clips_assets.retrieval.query import DEFAULT_LIMIT, MAX_LIMIT, ClipQuery, QueryError
from hb_clips_assets.retrieval.references import References
from hb_clips_assets.retrieval.results import AssetLink, ClipPage, ClipResult, store_url_for
from hb_clips_assets.retrieval.search import asset_by_key, find_clips, get_clip, iter_clips
from hb_clips_assets.retrieval.stats import clip_stats

__all__ = [
    "AssetLink", "ClipPage", "ClipQuery", "ClipResult", "QueryError", "References",
    "clip_stats", "find_clips", "get_clip", "iter_clips", "store_url_for",
    "DEFAULT_LIMIT", "MAX_LIMIT", "asset_by_key", "clip_visible",
]
