"""Reels: the clips of a query as one HLS stream (GET /api/v2/clips/reel.m3u8).

The same filters and plain-language ``q=`` as the listing, scoped to the key's teams the same way; a
game asked for by id that the key may not see, or a result set without a clip to play, is a 404. Each
clip's init section and media segments are byte ranges of its stored fragmented MP4 (see
``retrieval/reel.py``), each named by a signed link of this API's media route that carries the range
and the clip's decode-time shift in the reel, for a local store and for GCS alike (the API reads the
range from the bucket and shifts it: a V4 signed URL can neither name a range nor shift decode times).
"""
from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import PurePosixPath

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from hb_clips_assets.retrieval import MAX_LIMIT, iter_clips
from hb_clips_assets.retrieval.access import visibility
from hb_clips_assets.retrieval.api import media
from hb_clips_assets.retrieval.api.dependencies import API, FILTERS, Search, api_settings, only, search
from hb_clips_assets.retrieval.api.schemas import ERRORS, ErrorOut
from hb_clips_assets.retrieval.api.settings import ApiSettings
from hb_clips_assets.retrieval.reel import ReelClip, build_reel, in_reel
from hb_clips_assets.video.hls.playlist import MIME, PlaylistError, parse_rendition

MAX_REEL = 2000  # clips in one reel playlist

router = APIRouter(prefix=API, tags=["reels"])


@functools.lru_cache(maxsize=4096)
def _rendition(store, key: str, sha256: str):
    """A stored per-clip playlist, parsed; content-addressed (its hash is in the key), so cached for good."""
    return parse_rendition(store.get_bytes(key).decode("ascii"))


def _unseen_games(s: Search, clips) -> list[str]:
    """Games the request names by id that the key may not see (it learns nothing more of them)."""
    rule = visibility(s.grant.visible_teams, s.refs)
    if rule is None:
        return []
    shown = {c.game_id for c in clips}
    return [g for g in s.query.game_ids if g not in rule.games and g not in shown]


@router.get("/clips/reel.m3u8", response_class=Response, summary="the matching clips as one HLS stream",
            responses={**ERRORS, 200: {"content": {MIME: {}}, "description": "an HLS media playlist (RFC 8216 v7)"},
                       404: {"model": ErrorOut, "description": "no clip to play (or a game the key may not see)"}},
            dependencies=[only(*FILTERS, "limit")])
def reel(
    request: Request,
    s: Search = Depends(search),
    limit: int = Query(500, ge=1, le=MAX_REEL, description="at most this many clips"),
    settings: ApiSettings = Depends(api_settings),
):
    found = []
    for clip in iter_clips(s.handle.engine, replace(s.query, limit=MAX_LIMIT, offset=0), s.refs,
                           url_for=lambda _kind, _key, uri: uri, visible_teams=s.grant.visible_teams):
        found.append(clip)
        if len(found) >= limit:
            break
    if _unseen_games(s, found):
        raise HTTPException(404, "no such game")
    store = s.handle.store
    clips, skipped = [], 0
    for c in found:
        if not in_reel(c.assets):
            skipped += 1  # cut with HB_HLS=0: the next run of its partition packages it
            continue
        playlist, fmp4 = c.assets["hls"], c.assets["hls_fmp4"]
        try:
            rendition = _rendition(store, playlist.object_key, playlist.sha256)
        except (OSError, PlaylistError, UnicodeDecodeError) as exc:
            raise HTTPException(500, f"the HLS playlist of clip {c.clip_id} cannot be read: {exc}") from None
        if rendition.media_uri != PurePosixPath(fmp4.object_key).name:
            raise HTTPException(500, f"the HLS playlist of clip {c.clip_id} names another file")
        clips.append((ReelClip(c.clip_id, c.game_id, c.period, c.event_id, c.event_type, c.event_s, c.game_date,
                               rendition), fmp4.object_key))
    if not clips:
        raise HTTPException(404, "no clip to play: nothing matches" if not found
                            else "no clip of the result has an HLS rendition yet")
    keys = {clip.clip_id: key for clip, key in clips}
    base = str(request.base_url).rstrip("/")

    def segment_url(clip: ReelClip, shift, start: int, end: int) -> str:
        key = keys[clip.clip_id]
        query = media.signed_query(settings.media_secret, key, settings.media_url_expiry_s, shift=shift.encode(),
                                   part=f"{start}-{end}")
        return f"{base}{API}/media/{key}?{query}"

    body = build_reel([clip for clip, _ in clips], segment_url)
    return Response(body, media_type=MIME, headers={"Cache-Control": media.PLAYLIST_CACHE_CONTROL,
                                                    "X-Clip-Count": str(len(clips)),
                                                    "X-Clips-Without-HLS": str(skipped)})
