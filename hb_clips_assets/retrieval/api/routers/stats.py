"""An overview of the matching clips: counts by game, event type and player; duration; bytes."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from hb_clips_assets.retrieval import ClipQuery, References, clip_stats
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
)
from hb_clips_assets.retrieval.api.schemas import ERRORS, StatsOut
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.retrieval.service import Retrieval

router = APIRouter(prefix=API, tags=["clips"])


@router.get("/clips/stats/overview", response_model=StatsOut, responses=ERRORS,
            summary="counts by game, event type and player; total duration and bytes", dependencies=[only(*FILTERS)])
def stats(
    f: tuple[ClipQuery, str | None] = Depends(filters),
    grant: ApiKey = Depends(grant_of),
    settings: ApiSettings = Depends(api_settings),
    handle: Retrieval = Depends(retrieval),
    refs: References = Depends(references),
):
    query, parsed = resolve(f[0], f[1], grant, refs, settings)
    out = clip_stats(handle.engine, query, refs, visible_teams=grant.visible_teams)
    out["parsed"] = parsed.to_dict() if parsed else None
    return out
