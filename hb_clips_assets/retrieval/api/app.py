"""The REST API: clips by filters or plain language, one clip, an overview, playlists, media.

    GET /api/v2/clips/                    filters + q= (plain language) + limit/offset -> a page of clips
    GET /api/v2/clips/{clip_id}           one clip: metadata, tags, asset URLs
    GET /api/v2/clips/stats/overview      counts by game, event type, player; duration; bytes
    GET /api/v2/clips/export/{format}     the matching clips as a Sportscode XML or OTIO playlist
    GET /api/v2/media/{object_key}        a local-store object (Range, ETag, Cache-Control)
    GET /api/v2/health                    liveness (no key needed)
    GET /api/v2/whoami, /api/v2/links     the key's role and team; fresh signed links (the clip room's)
    GET /                                 the clip room (hb_clips_assets.retrieval.room); /docs, /redoc offline

Every data route needs an ``X-API-Key`` header (401 without one). A key
sees only its team's games unless its role is admin; another team's clip is
404, as if it did not exist. Asset URLs: signed GCS URLs for a GCS store;
for a local folder, signed URLs of this API's media route.

The routes live in :mod:`.routers`, what they share in :mod:`.dependencies`,
the response models in :mod:`.schemas`. Nothing here loads Dagster: the read
side runs without the pipeline's code location.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from fastapi.responses import JSONResponse

from hb_clips_assets.retrieval import QueryError
from hb_clips_assets.retrieval.api.dependencies import ReloadingReferences
from hb_clips_assets.retrieval.api.routers import clips, exports, media, meta, reel, session, stats
from hb_clips_assets.retrieval.api.settings import ApiSettings
from hb_clips_assets.retrieval.room import mount_room
from hb_clips_assets.retrieval.service import open_retrieval


def _query_error(_request: Request, exc: QueryError) -> JSONResponse:
    # a filter that names nothing (unknown team, period 7) is the client's mistake, with a message
    return JSONResponse({"detail": str(exc)}, status_code=422)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The application over the index, data root and store of ``settings`` (default: the
    environment's); they are opened now, so a bad setting fails before serving."""
    settings = settings or ApiSettings.from_env()
    retrieval = open_retrieval(settings.data_root, settings.db_url, settings.store_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        retrieval.dispose()

    # Swagger UI and ReDoc from files shipped in fastapi-offline: /docs works with no internet
    app = FastAPIOffline(
        lifespan=lifespan,
        title="hb-clips",
        version="2.0",
        description="Hockey video clips, cut and indexed: find them by player, event, opponent and time frame, "
        "in plain hockey language too. Send your key in the X-API-Key header.",
        openapi_url="/openapi.json",
    )
    # what the dependencies hand the routes (hb_clips_assets.retrieval.api.dependencies)
    app.state.settings = settings
    app.state.retrieval = retrieval
    app.state.references = ReloadingReferences(retrieval.data_root)
    app.add_exception_handler(QueryError, _query_error)
    # the order of the routes as they have always been listed in the OpenAPI document
    for router in (meta.router, clips.listing, stats.router, exports.router, reel.router, clips.router,
                   media.router, session.router):
        app.include_router(router)
    mount_room(app)  # the clip room at / (its files under /room/)
    return app
