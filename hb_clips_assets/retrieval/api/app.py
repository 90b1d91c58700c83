"""The REST API: clips by filters or plain language, one clip, an overview, playlists, media.

    GET /api/v2/clips/                    filters + q= (plain language) + limit/offset -> a page of clips
    GET /api/v2/clips/{clip_id}           one clip: metadata, tags, asset URLs
    GET /api/v2/clips/stats/overview      counts by game, event type, player; duration; bytes
    GET /api/v2/clips/export/{format}     the matching clips as a Sportscode XML or OTIO playlist
    GET /api/v2/media/{object_key}        a local-store object (Range, ETag, Cache-Control)
    GET /api/v2/health                    liveness (no key needed)

Every data route needs an ``X-API-Key`` header (401 without one). A key
sees only its team's games unless its role is admin; another team's clip is
404, as if it did not exist. Asset URLs: signed GCS URLs for a GCS store;
for a local folder, signed URLs of this API's media route.
"""
from __future__ import annotations

import datetime as dt
import os
from contextlib import asynccontextmanager
import re
import threading
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path as PathParam, Query, Request, Security
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field, StringConstraints

from hb_clips_assets.retrieval.export.otio import to_otio_json
from hb_clips_assets.retrieval.export.sportscode import to_sportscode_xml
from hb_clips_assets.retrieval.filters import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ClipQuery,
    QueryError,
    References,
    asset_by_key,
    clip_stats,
    clip_visible,
    find_clips,
    get_clip,
    iter_clips,
    store_url_for,
)
from hb_clips_assets.retrieval.language import ParsedRequest, apply_request
from hb_clips_assets.storage.store.base import StoreError, validate_key
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.retrieval.service import open_retrieval
from hb_clips_assets.retrieval.api import media
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings

API = "/api/v2"
MAX_EXPORT = 5000
_CLIP_ID = re.compile(r"^[0-9a-f]{8,64}$")


# --------------------------------------------------------------------------- response models


class AssetOut(BaseModel):
    kind: str
    object_key: str
    url: str
    bytes: int
    sha256: str
    content_type: str


class ClipOut(BaseModel):
    clip_id: str
    game_id: str
    game_date: str | None
    period: str
    event_id: str
    event_type: str
    player_id: str
    player_name: str | None
    team: str
    opponent: str | None
    zone: str | None
    strength: str | None
    timecode: str | None
    event_frame: int
    start_frame: int
    end_frame: int
    fps_num: int
    fps_den: int
    start_s: float
    end_s: float
    duration_s: float
    event_s: float
    source_uri: str
    created_at: str | None
    tags: dict[str, str]
    assets: dict[str, AssetOut]


class UnderstoodOut(BaseModel):
    text: str
    meaning: str


class ParsedOut(BaseModel):
    request: str
    understood: list[UnderstoodOut]
    ignored: list[str]
    filler: list[str]
    notes: list[str]
    query: dict[str, Any]


class PageOut(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None
    games: list[str] | None = Field(description="the games the game filters (ids, dates, last N) came to; null: any")
    query: dict[str, Any]
    parsed: ParsedOut | None = Field(description="what the plain-language request q was understood as")
    items: list[ClipOut]


class CountOut(BaseModel):
    clips: int
    duration_s: float


class GameCountOut(CountOut):
    game_id: str
    date: str | None


class TypeCountOut(CountOut):
    event_type: str


class PlayerCountOut(CountOut):
    player_id: str
    name: str | None
    team: str | None


class KindBytesOut(BaseModel):
    objects: int
    bytes: int


class StatsOut(BaseModel):
    clips: int
    duration_s: float
    bytes: int
    bytes_by_kind: dict[str, KindBytesOut]
    by_game: list[GameCountOut]
    by_event_type: list[TypeCountOut]
    by_player: list[PlayerCountOut]
    query: dict[str, Any]
    parsed: ParsedOut | None


class ErrorOut(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="what is wrong (a list for malformed parameters)")


class ExportFormat(str, Enum):
    sportscode = "sportscode"
    otio = "otio"


class Timeline(str, Enum):
    source = "source"
    playlist = "playlist"


ERRORS = {401: {"model": ErrorOut, "description": "no API key, or an unknown one"},
          422: {"model": ErrorOut, "description": "a filter that cannot be applied"}}


# --------------------------------------------------------------------------- the app


class _References:
    """schedule.csv and roster.csv, read again when either file changes."""

    def __init__(self, root: Path):
        self.root = root
        self._stamp: tuple | None = None
        self._refs = References()
        self._lock = threading.Lock()

    def _mtimes(self) -> tuple:
        out = []
        for name in ("schedule.csv", "roster.csv"):
            try:
                st = os.stat(self.root / name)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def get(self) -> References:
        stamp = self._mtimes()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._refs = References.load(self.root)
                    self._stamp = stamp
        return self._refs


# Filter values: printable text (no control characters, which no name or code holds), 200 characters at most.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(max_length=200, pattern=_PRINTABLE)]


FILTERS = ("q", "player", "team", "opponent", "game", "event", "period", "zone", "strength", "outcome",
           "date_from", "date_to", "last_games", "last_games_of", "newest_first")


def only(*names: str):
    """Refuse query parameters the route does not know: a misspelt filter ("plyer=Ovi")
    must not silently widen the search to every clip."""
    allowed = set(names)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise HTTPException(422, f"unknown query parameter(s) {', '.join(map(repr, unknown))}; "
                                     f"known: {', '.join(sorted(allowed)) or 'none'}")

    return Depends(check)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings.from_env()
    retrieval = open_retrieval(settings.data_root, settings.db_url, settings.store_url)
    engine, store = retrieval.engine, retrieval.store
    references = _References(retrieval.data_root)
    local_store = store if isinstance(store, LocalObjectStore) else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        retrieval.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="hb-clips",
        version="2.0",
        description="Hockey video clips, cut and indexed: find them by player, event, opponent and time frame, "
        "in plain hockey language too. Send your key in the X-API-Key header.",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.retrieval = retrieval
    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="your API key")

    @app.exception_handler(QueryError)
    def _query_error(_request: Request, exc: QueryError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    def grant_of(key: str | None = Security(api_key_header)) -> ApiKey:
        grant = settings.lookup(key)
        if grant is None:
            raise HTTPException(401, "a valid API key is needed (X-API-Key header)",
                                headers={"WWW-Authenticate": "ApiKey"})
        return grant

    def url_for_request(request: Request):
        if local_store is None:
            return store_url_for(store, retrieval.url_expires_s)
        base = str(request.base_url).rstrip("/")

        def url_for(_kind: str, key: str, _uri: str) -> str:
            return f"{base}{API}/media/{key}?{media.signed_query(settings.media_secret, key, settings.media_url_expiry_s)}"

        return url_for

    def filters(
        q: str | None = Query(None, max_length=500, pattern=_PRINTABLE,
                              description='plain-language request, e.g. "d-zone exits from WSH vs NYR"'),
        player: list[Text] = Query([], max_length=50, description="player id, name or alias (repeatable)"),
        team: list[Text] = Query([], max_length=50,
                                 description="the acting player's team: tricode, city, club or nickname"),
        opponent: list[Text] = Query([], max_length=50, description="the other team"),
        game: list[Text] = Query([], max_length=50, description="game id"),
        event: list[Text] = Query([], max_length=50,
                                  description="event type: zone_exit, goal, shift, ... (plurals and synonyms too)"),
        period: list[Text] = Query([], max_length=50, description="1, 2, 3 or OT"),
        zone: list[Text] = Query([], max_length=50, description="O, D or N"),
        strength: list[Text] = Query([], max_length=50, description="5v5, PP, PK, 4v4, 3v3, EN"),
        outcome: list[Text] = Query([], max_length=50, description="outcome tag, e.g. controlled, failed, won"),
        date_from: dt.date | None = Query(None, description="games on or after (YYYY-MM-DD)"),
        date_to: dt.date | None = Query(None, description="games on or before (YYYY-MM-DD)"),
        last_games: int | None = Query(None, ge=1, le=1000, description="only the last N games of the team or player"),
        last_games_of: str | None = Query(None, max_length=200, pattern=_PRINTABLE,
                                          description="whose last games: a team or a player"),
        newest_first: bool = Query(False, description="most recent game first"),
    ) -> tuple[ClipQuery, str | None]:
        query = ClipQuery(
            players=tuple(player), teams=tuple(team), opponents=tuple(opponent), game_ids=tuple(game),
            event_types=tuple(event), periods=tuple(period), zones=tuple(zone), strengths=tuple(strength),
            outcomes=tuple(outcome), date_from=date_from, date_to=date_to, last_games=last_games,
            last_games_of=last_games_of, newest_first=newest_first,
        )
        return query, (q or "").strip() or None

    def resolve(query: ClipQuery, q: str | None, grant: ApiKey, refs: References) -> tuple[ClipQuery, ParsedRequest | None]:
        if not q:
            return query, None
        parsed = apply_request(q, query, refs, user_player=grant.player or settings.user_player or "")
        return parsed.query, parsed

    @app.get(f"{API}/health", tags=["meta"], summary="liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{API}/clips/", response_model=PageOut, responses=ERRORS, tags=["clips"], summary="find clips",
             dependencies=[only(*FILTERS, "limit", "offset")])
    def list_clips(
        request: Request,
        f: tuple[ClipQuery, str | None] = Depends(filters),
        limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
        offset: int = Query(0, ge=0, le=10_000_000),
        grant: ApiKey = Depends(grant_of),
    ):
        refs = references.get()
        # explicit limit/offset win; "first 10" in q sets the page size when no limit is given
        query, parsed = resolve(replace(f[0], limit=limit, offset=offset), f[1], grant, refs)
        page = find_clips(engine, query, refs, url_for=url_for_request(request), visible_teams=grant.visible_teams)
        out = page.to_dict()
        out["parsed"] = parsed.to_dict() if parsed else None
        return out

    @app.get(f"{API}/clips/stats/overview", response_model=StatsOut, responses=ERRORS, tags=["clips"],
             summary="counts by game, event type and player; total duration and bytes", dependencies=[only(*FILTERS)])
    def stats(f: tuple[ClipQuery, str | None] = Depends(filters), grant: ApiKey = Depends(grant_of)):
        refs = references.get()
        query, parsed = resolve(f[0], f[1], grant, refs)
        out = clip_stats(engine, query, refs, visible_teams=grant.visible_teams)
        out["parsed"] = parsed.to_dict() if parsed else None
        return out

    @app.get(f"{API}/clips/export/{{fmt}}", responses={**ERRORS, 200: {
        "content": {"application/xml": {}, "application/json": {}},
        "description": "the playlist file"}}, tags=["clips"], summary="the matching clips as a playlist file",
        response_class=Response, dependencies=[only(*FILTERS, "limit", "timeline")])
    def export(
        request: Request,
        fmt: ExportFormat,
        f: tuple[ClipQuery, str | None] = Depends(filters),
        limit: int = Query(1000, ge=1, le=MAX_EXPORT, description="at most this many clips"),
        timeline: Timeline = Query(Timeline.source, description="Sportscode times: per period video, or end to end"),
        grant: ApiKey = Depends(grant_of),
    ):
        refs = references.get()
        query, _parsed = resolve(f[0], f[1], grant, refs)
        clips = []
        for clip in iter_clips(engine, replace(query, limit=MAX_LIMIT, offset=0), refs,
                               url_for=url_for_request(request), visible_teams=grant.visible_teams):
            clips.append(clip)
            if len(clips) >= limit:
                break
        if fmt is ExportFormat.sportscode:
            body, ctype, name = to_sportscode_xml(clips, timeline=timeline.value), "application/xml", "clips.xml"
        else:
            body, ctype, name = to_otio_json(clips).encode(), "application/json", "clips.otio"
        return Response(body, media_type=ctype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                         "X-Clip-Count": str(len(clips))})

    @app.get(f"{API}/clips/{{clip_id}}", response_model=ClipOut,
             responses={**ERRORS, 404: {"model": ErrorOut, "description": "no such clip (or not your team's)"}},
             tags=["clips"], summary="one clip: metadata, tags, asset URLs", dependencies=[only()])
    def one_clip(request: Request, clip_id: str = PathParam(..., max_length=64), grant: ApiKey = Depends(grant_of)):
        if not _CLIP_ID.fullmatch(clip_id):
            raise HTTPException(404, "no such clip")
        clip = get_clip(engine, clip_id, references.get(), url_for=url_for_request(request),
                        visible_teams=grant.visible_teams)
        if clip is None:
            raise HTTPException(404, "no such clip")
        return clip.to_dict()

    media_route = dict(
        tags=["media"],
        responses={200: {"content": {"video/mp4": {}, "image/jpeg": {}}, "description": "the object"},
                   206: {"description": "the requested byte range"}, 304: {"description": "not modified"},
                   401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 416: {"description": "range not satisfiable"},
                   422: {"model": ErrorOut, "description": "unknown or malformed parameters"}},
        response_class=Response,
        dependencies=[only("exp", "sig")],
    )

    @app.get(f"{API}/media/{{object_key:path}}", operation_id="get_media", **media_route,
             summary="a clip's MP4 or thumbnail from the local store (Range, ETag)")
    @app.head(f"{API}/media/{{object_key:path}}", operation_id="head_media", **media_route,
              summary="the headers of a local-store object")
    def media_object(
        request: Request,
        object_key: str,
        exp: str | None = Query(None, max_length=20, description="expiry of a signed URL (unix time)"),
        sig: str | None = Query(None, max_length=100, description="signature of a signed URL"),
        key: str | None = Security(api_key_header),
    ):
        if local_store is None:
            raise HTTPException(404, "this API serves no media: the store hands out its own URLs")
        try:
            validate_key(object_key)
        except StoreError:
            raise HTTPException(404, "no such object") from None
        found = asset_by_key(engine, object_key)
        if found is None:
            raise HTTPException(404, "no such object")
        asset, clip = found
        if not media.check_signature(settings.media_secret, object_key, exp, sig):
            grant = settings.lookup(key)
            if grant is None:
                raise HTTPException(401, "a valid API key or a signed URL is needed",
                                    headers={"WWW-Authenticate": "ApiKey"})
            if not clip_visible(clip, grant.visible_teams, references.get()):
                raise HTTPException(404, "no such object")
        path = local_store.path_of(object_key)
        try:
            size = path.stat().st_size
        except OSError:
            raise HTTPException(404, "the object is missing from the store") from None
        etag = media.etag_of(asset["sha256"])
        headers = {"ETag": etag, "Cache-Control": media.CACHE_CONTROL, "Accept-Ranges": "bytes"}
        if media.etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        wanted = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if wanted and if_range and not media.etag_matches(if_range, etag):
            wanted = None  # the client's copy is another version: send it all
        try:
            byte_range = media.parse_range(wanted, size)
        except media.RangeNotSatisfiable:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, length, status = 0, size, 200
        if byte_range is not None:
            start, length, status = byte_range.start, byte_range.length, 206
            headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=asset["content_type"])
        return StreamingResponse(media.read_file(path, start, length), status_code=status, headers=headers,
                                 media_type=asset["content_type"])

    return app
