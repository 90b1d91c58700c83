"""``/`` and ``/room/...``: the clip room's page and its static files.

The page is the same for everyone (the key lives in the browser's session
storage and goes to the API as ``X-API-Key``), so it needs no key itself.
A Content-Security-Policy keeps it to its own origin: scripts, styles and
API calls from this server only; images and video also from ``https:``,
where a GCS store's signed URLs point.

HLS reels through hls.js (``static/vendor/``, copied there by ``make install``) need two things of the
policy: ``media-src blob:``, because Media Source Extensions play from a ``blob:`` URL of the
MediaSource (the browser's own HLS is given the reel's playlist as a ``blob:`` URL too), and
``worker-src 'self'``, for hls.js's worker, loaded from this server's vendor folder (not from a
``blob:`` URL, so no ``blob:`` workers are allowed). Its requests (playlist, segments) are same-origin
``connect-src`` ones.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
mimetypes.add_type("text/javascript", ".mjs")  # hls.js's ES module: a module script needs a JavaScript type

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data: blob: https:; media-src 'self' blob: https:; worker-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# The files change with the package: revalidate (ETag / Last-Modified) rather than cache for good.
HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin"}


# /docs and /redoc (fastapi-offline: Swagger UI and ReDoc from files in its package) have inline scripts and
# styles; ReDoc's sidebar also shows a logo from cdn.redoc.ly, which this policy keeps the browser from asking.
DOCS_PATHS = ("/docs", "/redoc")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def keep_docs_on_host(app: FastAPI) -> None:
    """The API docs pages may load nothing from another host (they must work with no internet)."""

    @app.middleware("http")
    async def docs_policy(request, call_next):
        response = await call_next(request)
        if request.url.path in DOCS_PATHS:
            response.headers["Content-Security-Policy"] = DOCS_CSP
        return response


class _RoomFiles(StaticFiles):
    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


def mount_room(app: FastAPI) -> None:
    """Serve the clip room at ``/`` and its files under ``/room/``; keep the API docs on this host."""
    keep_docs_on_host(app)
    index = STATIC / "index.html"

    @app.get("/", include_in_schema=False)
    async def room_page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=HEADERS)

    app.mount("/room", _RoomFiles(directory=STATIC), name="room")
