"""Reels: the clips of a query as one HLS stream (GET /api/v2/clips/reel.m3u8); see issue 15."""
from __future__ import annotations

from fastapi import APIRouter

from hb_clips_assets.retrieval.api.dependencies import API

router = APIRouter(prefix=API, tags=["reels"])
