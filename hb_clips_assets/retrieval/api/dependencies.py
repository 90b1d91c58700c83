"""What the routes share, as FastAPI dependencies: the settings and the opened
retrieval handle (both on ``app.state``, set by :func:`~.app.create_app`), the
schedule and roster (read again when either file changes), API-key auth, the
filter parameters, and the asset URLs of a request.

Keeping them on ``app.state`` rather than in closures lets the routers be
plain modules, and two apps in one process (the tests) never share a handle.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import StringConstraints

from hb_clips_assets.retrieval import ClipQuery, References, store_url_for
from hb_clips_assets.retrieval.api import media
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.retrieval.language import ParsedRequest, apply_request
from hb_clips_assets.retrieval.service import Retrieval
from hb_clips_assets.storage.store.local import LocalObjectStore

API = "/api/v2"

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="your API key")


class ReloadingReferences:
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


# The accessors are `async def` so FastAPI calls them on the event loop: they only read app.state,
# and a sync dependency costs a hop to the thread pool on every request.
async def api_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


async def retrieval(request: Request) -> Retrieval:
    return request.app.state.retrieval


def references(request: Request) -> References:
    # sync: a changed file is read again here, which blocks
    return request.app.state.references.get()


async def local_store(request: Request) -> LocalObjectStore | None:
    """The store when it is a local folder (its objects are served by this API), else None."""
    store = request.app.state.retrieval.store
    return store if isinstance(store, LocalObjectStore) else None


def grant_of(key: str | None = Security(api_key_header), settings: ApiSettings = Depends(api_settings)) -> ApiKey:
    grant = settings.lookup(key)
    if grant is None:
        raise HTTPException(401, "a valid API key is needed (X-API-Key header)",
                            headers={"WWW-Authenticate": "ApiKey"})
    return grant


async def url_for_request(request: Request):
    """Asset URLs: the store's own (signed GCS URLs), or for a local folder signed
    URLs of this API's media route, on the host the client called."""
    settings: ApiSettings = request.app.state.settings
    handle: Retrieval = request.app.state.retrieval
    if not isinstance(handle.store, LocalObjectStore):
        return store_url_for(handle.store, handle.url_expires_s)
    base = str(request.base_url).rstrip("/")

    def url_for(_kind: str, key: str, _uri: str) -> str:
        return f"{base}{API}/media/{key}?{media.signed_query(settings.media_secret, key, settings.media_url_expiry_s)}"

    return url_for


# Filter values: printable text (no control characters, which no name or code holds), 200 characters at most.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(max_length=200, pattern=PRINTABLE)]


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


def filters(
    q: str | None = Query(None, max_length=500, pattern=PRINTABLE,
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
    last_games_of: str | None = Query(None, max_length=200, pattern=PRINTABLE,
                                      description="whose last games: a team or a player"),
    newest_first: bool = Query(False, description="most recent game first"),
) -> tuple[ClipQuery, str | None]:
    """The explicit filters as a query, and the plain-language request (None when there is none)."""
    query = ClipQuery(
        players=tuple(player), teams=tuple(team), opponents=tuple(opponent), game_ids=tuple(game),
        event_types=tuple(event), periods=tuple(period), zones=tuple(zone), strengths=tuple(strength),
        outcomes=tuple(outcome), date_from=date_from, date_to=date_to, last_games=last_games,
        last_games_of=last_games_of, newest_first=newest_first,
    )
    return query, (q or "").strip() or None


def resolve(query: ClipQuery, q: str | None, grant: ApiKey, refs: References,
            settings: ApiSettings) -> tuple[ClipQuery, ParsedRequest | None]:
    """The query with the plain-language request applied; "my" is the key's player, else HB_USER_PLAYER_ID's."""
    if not q:
        return query, None
    parsed = apply_request(q, query, refs, user_player=grant.player or settings.user_player or "")
    return parsed.query, parsed


@dataclass(frozen=True)
class Search:
    """One request's search, resolved: the filters with the plain-language request applied, for the key
    that asked, over the index and references it may read."""

    query: ClipQuery
    parsed: ParsedRequest | None
    grant: ApiKey
    refs: References
    handle: Retrieval


def search(
    f: tuple[ClipQuery, str | None] = Depends(filters),
    grant: ApiKey = Depends(grant_of),
    settings: ApiSettings = Depends(api_settings),
    handle: Retrieval = Depends(retrieval),
    refs: References = Depends(references),
) -> Search:
    query, parsed = resolve(f[0], f[1], grant, refs, settings)
    return Search(query, parsed, grant, refs, handle)
