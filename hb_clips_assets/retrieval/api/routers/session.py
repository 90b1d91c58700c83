"""What the clip room asks besides clips: who a key is, and fresh signed links for clips it holds.

    GET /api/v2/whoami                 the key's role, team and player (401 for a wrong key)
    GET /api/v2/links?clip=ID&...      new signed asset URLs for up to 100 clips (the ones the key may see)

The room renews its links with the second as they near expiry, so a page left
open keeps playing; a clip the key may not see is left out, as if it did not
exist (404 when that leaves none).
"""
from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field, StringConstraints

from hb_clips_assets.retrieval import References, get_clip
from hb_clips_assets.retrieval.api.dependencies import (
    API,
    api_settings,
    grant_of,
    only,
    references,
    retrieval,
    url_for_request,
)
from hb_clips_assets.retrieval.api.schemas import ERRORS, ErrorOut
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.retrieval.service import Retrieval
from hb_clips_assets.retrieval.teams import NHL_TEAMS
from hb_clips_assets.storage.store.local import LocalObjectStore

MAX_LINKS = 100

router = APIRouter(prefix=API, tags=["session"])


class WhoAmIOut(BaseModel):
    role: str
    team: str | None = Field(description="the team whose games the key sees; null: every team (admin)")
    team_name: str | None
    player: str | None = Field(description='the player "my" means in requests, if any')
    player_name: str | None
    sees: str = Field(description="what the key may see, in words")


class ClipLinksOut(BaseModel):
    clip_id: str
    urls: dict[str, str] = Field(description="asset kind (mp4, thumbnail, ...) -> signed URL")


class LinksOut(BaseModel):
    expires_in_s: int = Field(description="lifetime of the links of this API's media route")
    issued_at: float = Field(description="server time the links were made (unix seconds)")
    clips: list[ClipLinksOut]


@router.get("/whoami", response_model=WhoAmIOut, responses=ERRORS, summary="who this API key is",
            dependencies=[only()])
def whoami(grant: ApiKey = Depends(grant_of), settings: ApiSettings = Depends(api_settings),
           refs: References = Depends(references)):
    team_name = " ".join(NHL_TEAMS[grant.team][:2]) if grant.team in NHL_TEAMS else None
    player = grant.player or (settings.user_player if grant.is_admin else None)
    sees = "every team's games" if grant.is_admin else f"{team_name or grant.team} games only"
    return WhoAmIOut(role=grant.role, team=grant.team, team_name=team_name, player=player,
                     player_name=refs.name_of(player) if player else None, sees=sees)


ClipId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")]


@router.get("/links", response_model=LinksOut, summary="fresh signed links for clips", dependencies=[only("clip")],
            responses={**ERRORS, 404: {"model": ErrorOut, "description": "none of the clips (or none of your team's)"}})
def links(
    clip: list[ClipId] = Query(..., max_length=MAX_LINKS, description=f"clip id (repeatable, at most {MAX_LINKS})"),
    grant: ApiKey = Depends(grant_of),
    settings: ApiSettings = Depends(api_settings),
    handle: Retrieval = Depends(retrieval),
    refs: References = Depends(references),
    url_for=Depends(url_for_request),
):
    issued = time.time()
    out = []
    for clip_id in dict.fromkeys(clip):  # each once, in the order asked
        found = get_clip(handle.engine, clip_id, refs, url_for=url_for, visible_teams=grant.visible_teams)
        if found is not None:
            out.append(ClipLinksOut(clip_id=clip_id, urls={k: a.url for k, a in sorted(found.assets.items())}))
    if not out:  # as /clips/{clip_id}: another team's clip is no clip
        raise HTTPException(404, "no such clip")
    local = isinstance(handle.store, LocalObjectStore)  # this API signs its links; else the store does
    expiry = settings.media_url_expiry_s if local else handle.url_expires_s
    return LinksOut(expires_in_s=int(expiry), issued_at=round(issued, 3), clips=out)
