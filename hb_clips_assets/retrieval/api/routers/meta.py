"""Liveness: the one route that needs no key (load balancers and probes have none)."""
from __future__ import annotations

from fastapi import APIRouter

from hb_clips_assets.retrieval.api.dependencies import API

router = APIRouter(prefix=API)


@router.get("/health", tags=["meta"], summary="liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}
