"""Clips: a page of them by filters and plain language, and one clip by id."""
from __future__ import annotations

import re
from dataclasses import replace

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Query

from hb_clips_assets.retrieval import DEFAULT_LIMIT, MAX_LIMIT, ClipQuery, References, find_clips, get_clip
from hb_clips_assets.retrieval.api.dependencies import (
    API,
    FILTERS,
    api_settings,
    filters,
    grant_of,
    only,
    references,
    resolve,
    retrieval,
    url_for_request,
)
from hb_clips_assets.retrieval.api.schemas import ERRORS, ClipOut, ErrorOut, PageOut
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.retrieval.service import Retrieval

# A clip id is hex (see domain.identity); anything else is a 404 before the index is asked.
_CLIP_ID = re.compile(r"^[0-9a-f]{8,64}$")

# Two routers: the app includes `router` (/clips/{clip_id}) after the fixed /clips/... paths of
# stats and exports, so a clip id never shadows them.
listing = APIRouter(prefix=API, tags=["clips"])
router = APIRouter(prefix=API, tags=["clips"])


@listing.get("/clips/", response_model=PageOut, responses=ERRORS, summary="find clips",
            dependencies=[only(*FILTERS, "limit", "offset", "after")])
def list_clips(
    f: tuple[ClipQuery, str | None] = Depends(filters),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=10_000_000),
    after: str | None = Query(None, max_length=1000, pattern=r"^[A-Za-z0-9_-]+$",
                              description="the next_after of the page before (keyset paging; no offset with it)"),
    grant: ApiKey = Depends(grant_of),
    settings: ApiSettings = Depends(api_settings),
    handle: Retrieval = Depends(retrieval),
    refs: References = Depends(references),
    url_for=Depends(url_for_request),
):
    # explicit limit/offset win; "first 10" in q sets the page size when no limit is given
    query, parsed = resolve(replace(f[0], limit=limit, offset=offset, after=after), f[1], grant, refs, settings)
    page = find_clips(handle.engine, query, refs, url_for=url_for, visible_teams=grant.visible_teams)
    out = page.to_dict()
    out["parsed"] = parsed.to_dict() if parsed else None
    return out


@router.get("/clips/{clip_id}", response_model=ClipOut,
            responses={**ERRORS, 404: {"model": ErrorOut, "description": "no such clip (or not your team's)"}},
            summary="one clip: metadata, tags, asset URLs", dependencies=[only()])
def one_clip(
    clip_id: str = PathParam(..., max_length=64),
    grant: ApiKey = Depends(grant_of),
    handle: Retrieval = Depends(retrieval),
    refs: References = Depends(references),
    url_for=Depends(url_for_request),
):
    if not _CLIP_ID.fullmatch(clip_id):
        raise HTTPException(404, "no such clip")
    # another team's clip is "no such clip" too: a key learns nothing of the games it may not see
    clip = get_clip(handle.engine, clip_id, refs, url_for=url_for, visible_teams=grant.visible_teams)
    if clip is None:
        raise HTTPException(404, "no such clip")
    return clip.to_dict()
