"""An overview of the matching clips: counts by game, event type and player; duration; bytes."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from hb_clips_assets.retrieval import clip_stats
from hb_clips_assets.retrieval.api.dependencies import API, FILTERS, Search, only, search
from hb_clips_assets.retrieval.api.schemas import ERRORS, StatsOut

router = APIRouter(prefix=API, tags=["clips"])


@router.get("/clips/stats/overview", response_model=StatsOut, responses=ERRORS,
            summary="counts by game, event type and player; total duration and bytes", dependencies=[only(*FILTERS)])
def stats(s: Search = Depends(search)):
    out = clip_stats(s.handle.engine, s.query, s.refs, visible_teams=s.grant.visible_teams)
    out["parsed"] = s.parsed.to_dict() if s.parsed else None
    return out
