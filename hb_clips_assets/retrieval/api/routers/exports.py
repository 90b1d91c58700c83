"""The matching clips as a playlist file: Sportscode XML or OpenTimelineIO."""
from __future__ import annotations

from dataclasses import replace
from enum import Enum

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hb_clips_assets.retrieval import MAX_LIMIT, iter_clips
from hb_clips_assets.retrieval.api.dependencies import API, FILTERS, Search, only, search, url_for_request
from hb_clips_assets.retrieval.api.schemas import ERRORS
from hb_clips_assets.retrieval.export.otio import to_otio_json
from hb_clips_assets.retrieval.export.sportscode import to_sportscode_xml

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
    response_class=Response, dependencies=[only(*FILTERS, "limit", "timeline")])
def export(
    fmt: ExportFormat,
    s: Search = Depends(search),
    limit: int = Query(1000, ge=1, le=MAX_EXPORT, description="at most this many clips"),
    timeline: Timeline = Query(Timeline.source, description="Sportscode times: per period video, or end to end"),
    url_for=Depends(url_for_request),
):
    clips = []
    # from the first match, whatever page a plain-language request asked for: `limit` is the playlist's size
    for clip in iter_clips(s.handle.engine, replace(s.query, limit=MAX_LIMIT, offset=0), s.refs,
                           url_for=url_for, visible_teams=s.grant.visible_teams):
        clips.append(clip)
        if len(clips) >= limit:
            break
    if fmt is ExportFormat.sportscode:
        body, ctype, name = to_sportscode_xml(clips, timeline=timeline.value), "application/xml", "clips.xml"
    else:
        body, ctype, name = to_otio_json(clips).encode(), "application/json", "clips.otio"
    return Response(body, media_type=ctype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                     "X-Clip-Count": str(len(clips))})
