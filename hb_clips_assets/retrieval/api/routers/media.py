"""Objects of a local-folder store over HTTP (Range, ETag, Cache-Control), behind a
signed URL or an API key; see :mod:`hb_clips_assets.retrieval.api.media`.

A clip's HLS playlist is handed out with its parts as signed links of their own (``bytes=``), not
the stored byte ranges (see ``api/media.py``). A GCS store hands out its own signed URLs for clips and thumbnails, so this route serves only one
thing then: a reel's parts (links with ``bytes=`` and ``shift=``), read from the bucket by a ranged
read and shifted here, since a V4 signed URL can neither name a byte range nor move decode times.
"""
from __future__ import annotations

import functools
from pathlib import PurePosixPath

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from fastapi.responses import Response, StreamingResponse

from hb_clips_assets.retrieval import asset_by_key, clip_visible
from hb_clips_assets.retrieval.api import media
from hb_clips_assets.retrieval.api.dependencies import (
    API,
    api_key_header,
    api_settings,
    local_store,
    only,
    references,
    retrieval,
)
from hb_clips_assets.retrieval.api.schemas import ErrorOut
from hb_clips_assets.retrieval.api.settings import ApiSettings
from hb_clips_assets.retrieval.service import Retrieval
from hb_clips_assets.storage.store.base import StoreError, validate_key
from hb_clips_assets.storage.store.gcs import GcsObjectStore
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.video.hls.playlist import MIME, PlaylistError, parse_rendition, render_rendition
from hb_clips_assets.video.hls.boxes import BoxError, TfdtShift, scan_fmp4, shift_chunk, shifted_tfdt

router = APIRouter(prefix=API)

_ROUTE = dict(
    tags=["media"],
    responses={200: {"content": {"video/mp4": {}, "image/jpeg": {}, "application/vnd.apple.mpegurl": {}},
                     "description": "the object"},
               206: {"description": "the requested byte range"}, 304: {"description": "not modified"},
               401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 416: {"description": "range not satisfiable"},
               422: {"model": ErrorOut, "description": "unknown or malformed parameters"}},
    response_class=Response,
    dependencies=[only("exp", "sig", "shift", "bytes")],
)


@router.get("/media/{object_key:path}", operation_id="get_media", **_ROUTE,
            summary="a clip's MP4 or thumbnail from the local store (Range, ETag)")
@router.head("/media/{object_key:path}", operation_id="head_media", **_ROUTE,
             summary="the headers of a local-store object")
def media_object(
    request: Request,
    object_key: str,
    exp: str | None = Query(None, max_length=20, description="expiry of a signed URL (unix time)"),
    sig: str | None = Query(None, max_length=100, description="signature of a signed URL"),
    shift: str | None = Query(None, max_length=200, pattern=r"^[0-9]{1,9}_-?[0-9]{1,15}(\.[0-9]{1,9}_-?[0-9]{1,15}){0,7}$",
                              description="a reel's decode-time shift of an HLS fragmented MP4 (signed with the link)"),
    part: str | None = Query(None, alias="bytes", max_length=40, pattern=r"^[0-9]{1,15}-[0-9]{1,15}$",
                             description="START-END (inclusive): the link names these bytes of the object, a reel's "
                                         "segment (signed with the link; a Range header counts inside them)"),
    key: str | None = Security(api_key_header),
    settings: ApiSettings = Depends(api_settings),
    handle: Retrieval = Depends(retrieval),
    store: LocalObjectStore | None = Depends(local_store),
):
    bucket = handle.store if store is None and isinstance(handle.store, GcsObjectStore) and part else None
    if store is None and bucket is None:
        raise HTTPException(404, "this API serves no media but a reel's parts: the store hands out its own URLs")
    try:
        validate_key(object_key)  # no traversal, no absolute path: only keys the store could have written
    except StoreError:
        raise HTTPException(404, "no such object") from None
    found = asset_by_key(handle.engine, object_key)
    if found is None:
        raise HTTPException(404, "no such object")
    asset, clip = found
    if not media.check_signature(settings.media_secret, object_key, exp, sig, shift=shift, part=part):
        grant = settings.lookup(key)
        if grant is None:
            raise HTTPException(401, "a valid API key or a signed URL is needed",
                                headers={"WWW-Authenticate": "ApiKey"})
        # read here, not as a dependency: a signed URL is served without the schedule and roster
        if not clip_visible(clip, grant.visible_teams, references(request)):
            raise HTTPException(404, "no such object")
    if bucket is not None:
        return _send_gcs(request, bucket, object_key, asset, shift, part)
    if asset["kind"] == "hls" and not shift and not part:
        return _rendition(request, store, object_key, settings)
    fields = _shifted_fields(store, object_key, asset, shift) if shift else None
    return _send(request, store, object_key, asset, fields, shift, part)


@functools.lru_cache(maxsize=512)
def _layout(path: str, size: int, mtime_ns: int):
    return scan_fmp4(path)


def _shifted_fields(store: LocalObjectStore, object_key: str, asset: dict, shift: str) -> dict[int, bytes]:
    """The fMP4's decode times a reel moves (objects are immutable: their layout is cached)."""
    if asset["kind"] != "hls_fmp4":
        raise HTTPException(404, "only an HLS fragmented MP4 can be shifted")
    path = store.path_of(object_key)
    try:
        st = path.stat()
        return shifted_tfdt(path, _layout(str(path), st.st_size, st.st_mtime_ns), TfdtShift.decode(shift))
    except OSError:
        raise HTTPException(404, "the object is missing from the store") from None
    except BoxError as exc:
        raise HTTPException(422, f"cannot shift {object_key}: {exc}") from None


def _answer(request: Request, size: int, etag: str, content_type: str, body) -> Response:
    """200/206/304/416 or HEAD for a representation of ``size`` bytes; ``body(start, length)`` its bytes."""
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
        return Response(status_code=status, headers=headers, media_type=content_type)
    return StreamingResponse(body(start, length), status_code=status, headers=headers, media_type=content_type)


def _etag(asset: dict, shift: str | None, part: str | None) -> str:
    return media.etag_of(asset["sha256"] + (f"+{shift}" if shift else "") + (f"@{part}" if part else ""))


def _rendition(request: Request, store: LocalObjectStore, object_key: str, settings: ApiSettings) -> Response:
    """A clip's stored HLS playlist as this API hands it out: each part a signed link of its own."""
    try:
        rendition = parse_rendition(store.get_bytes(object_key).decode("ascii"))
        media_key = validate_key(str(PurePosixPath(object_key).parent / rendition.media_uri))
    except OSError:
        raise HTTPException(404, "the object is missing from the store") from None
    except (PlaylistError, UnicodeDecodeError, StoreError) as exc:
        raise HTTPException(500, f"the HLS playlist {object_key} cannot be read: {exc}") from None
    base = f"{str(request.base_url).rstrip('/')}{API}/media/{media_key}"

    def part_url(start: int, end: int) -> str:
        query = media.signed_query(settings.media_secret, media_key, settings.media_url_expiry_s,
                                   part=f"{start}-{end}")
        return f"{base}?{query}"

    return Response(render_rendition(rendition, part_url), media_type=MIME,
                    headers={"Cache-Control": media.PLAYLIST_CACHE_CONTROL})


def _send(request: Request, store: LocalObjectStore, object_key: str, asset: dict,
          fields: dict[int, bytes] | None = None, shift: str | None = None, part: str | None = None) -> Response:
    """The object, its headers only (HEAD), a range of it, or 304/416; ``fields``: bytes a reel's
    decode-time shift writes over it; ``part``: the bytes of it the link names (each a representation
    of its own, with its own ETag, its own length, and ``Range`` counted inside it)."""
    path = store.path_of(object_key)
    try:
        size = path.stat().st_size
    except OSError:
        raise HTTPException(404, "the object is missing from the store") from None
    base = 0
    if part is not None:
        window = media.parse_part(part, size)
        if window is None:
            raise HTTPException(404, f"bytes {part} are not inside {object_key}")
        base, size = window.start, window.length
    return _answer(request, size, _etag(asset, shift, part), asset["content_type"],
                   lambda start, length: media.read_file(path, base + start, length, fields))


def _send_gcs(request: Request, store: GcsObjectStore, object_key: str, asset: dict, shift: str | None,
              part: str) -> Response:
    """A reel's part of an fMP4 in the bucket: those bytes (one ranged read), decode times shifted."""
    if asset["kind"] != "hls_fmp4":
        raise HTTPException(404, "only a reel's parts of an HLS fragmented MP4 are served from GCS")
    window = media.parse_part(part, int(asset["bytes"]))
    if window is None:
        raise HTTPException(404, f"bytes {part} are not inside {object_key}")
    from google.api_core import exceptions as gexc

    blob = store.client.bucket(store.bucket_name).blob(store.object_name(object_key))
    try:
        chunk = blob.download_as_bytes(start=window.start, end=window.end, retry=store.retry, timeout=store.timeout_s)
    except gexc.NotFound:
        raise HTTPException(404, "the object is missing from the bucket") from None
    except Exception as exc:  # transport errors after the store's retries: the bucket is the one failing
        raise HTTPException(502, f"cannot read {object_key} from the bucket: {type(exc).__name__}") from None
    if len(chunk) != window.length:
        raise HTTPException(404, f"bytes {part} are not inside {object_key} in the bucket")
    if shift:
        try:
            chunk = shift_chunk(chunk, TfdtShift.decode(shift))
        except BoxError as exc:
            raise HTTPException(422, f"cannot shift bytes {part} of {object_key}: {exc}") from None
    return _answer(request, len(chunk), _etag(asset, shift, part), asset["content_type"],
                   lambda start, length: iter([chunk[start:start + length]]))
