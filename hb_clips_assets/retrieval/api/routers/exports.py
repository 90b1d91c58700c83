"""The matching clips as a playlist file: Sportscode XML or OpenTimelineIO.

``reel=true``: the file references the reel of the same request (``GET /api/v2/clips/reel.m3u8`` with
the same filters and limit) instead of each clip's MP4, and lists exactly the clips that reel plays
(those with an HLS rendition), at their places in it; Sportscode times are then the playlist timeline.
"""
from __future__ import annotations

from dataclasses import replace
from enum import Enum

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from hb_clips_assets.retrieval import MAX_LIMIT, iter_clips
from hb_clips_assets.retrieval.api.dependencies import API, FILTERS, Search, only, search, url_for_request
from hb_clips_assets.retrieval.api.schemas import ERRORS
from hb_clips_assets.retrieval.export.otio import to_otio_json
from hb_clips_assets.retrieval.export.sportscode import to_sportscode_xml
from hb_clips_assets.retrieval.api.routers.reel import MAX_REEL
from hb_clips_assets.retrieval.reel import in_reel

MAX_EXPORT = 5000  # clips in one playlist file: it is built in memory

router = APIRouter(prefix=API, tags=["clips"])


class ExportFormat(str, Enum):
    sportscode = "sportscode"
    otio = "otio"


class Timeline(str, Enum):
    source = "source"
    playlist = "playlist"


@router.get("/clips/export/{fmt}", responses={**ERRORS, 200: {
    "content": {"application/xml": {}, "application/json": {}},
    "description": "the playlist file"}}, summary="the matching clips as a playlist file",
    response_class=Response, dependencies=[only(*FILTERS, "limit", "timeline", "reel")])
def export(
    request: Request,
    fmt: ExportFormat,
    s: Search = Depends(search),
    limit: int = Query(1000, ge=1, le=MAX_EXPORT, description="at most this many clips"),
    timeline: Timeline | None = Query(None, description="Sportscode times: per period video (default), or end to "
                                                        "end (the only one with reel=true)"),
    reel: bool = Query(False, description="reference the HLS reel of the same request (one stream) instead of "
                                          "each clip's MP4; lists the clips that reel plays"),
    url_for=Depends(url_for_request),
):
    if reel and limit > MAX_REEL:
        raise HTTPException(422, f"a reel has at most {MAX_REEL} clips: limit={limit}")
    if reel and timeline is Timeline.source:
        raise HTTPException(422, "an export of a reel has the playlist timeline (times into the reel)")
    clips = []
    # from the first match, whatever page a plain-language request asked for: `limit` is the playlist's size
    for clip in iter_clips(s.handle.engine, replace(s.query, limit=MAX_LIMIT, offset=0), s.refs,
                           url_for=url_for, visible_teams=s.grant.visible_teams):
        clips.append(clip)
        if len(clips) >= limit:
            break
    reel_url, skipped = None, 0
    if reel:
        skipped = sum(not in_reel(c.assets) for c in clips)
        clips = [c for c in clips if in_reel(c.assets)]  # the reel's clips, in its order
        same = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "timeline", "reel")]
        reel_url = f"{str(request.base_url).rstrip('/')}{API}/clips/reel.m3u8?{urlencode(same + [('limit', limit)])}"
    if fmt is ExportFormat.sportscode:
        body = to_sportscode_xml(clips, timeline=timeline.value if timeline else None, reel_url=reel_url)
        ctype, name = "application/xml", "clips.xml"
    else:
        body, ctype, name = to_otio_json(clips, reel_url=reel_url).encode(), "application/json", "clips.otio"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Clip-Count": str(len(clips))}
    if reel_url:
        headers.update({"X-Reel-URL": reel_url, "X-Clips-Without-HLS": str(skipped)})
    return Response(body, media_type=ctype, headers=headers)
