"""Serving objects of the local store over HTTP: Range requests, ETag, Cache-Control.

A local folder has no URLs of its own, so the API hands out its own signed
ones: ``/api/v2/media/<object_key>?exp=<unix time>&sig=<hmac>``, an
HMAC-SHA256 of the key and the expiry under the server's secret
(``HB_API_MEDIA_SECRET``), so a ``<video src>`` can play a clip without an
API key header. A request with a valid API key for the clip's game works too.

A reel's segment link also names, signed with it, a decode-time ``shift`` and
``bytes=START-END``: that link's resource is exactly those bytes of the object
(200, its own length and ETag; a ``Range`` header counts inside them). A reel
names each segment so, never by ``EXT-X-BYTERANGE``: FFmpeg 9's HLS reader,
given byte ranges of one seekable HTTP resource, merges contiguous ranges into
one request and its MP4 reader stops after the first fragment (a clean EOF),
with any server that answers ``Range`` correctly.

Objects are content-addressed (the key holds the clip id): the ETag is the
SHA-256 the index recorded, ``If-None-Match`` gets 304, and caches may keep
them for good (``private``: access is controlled).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hb_clips_assets.video.hls.boxes import patch

CACHE_CONTROL = "private, max-age=31536000, immutable"
PLAYLIST_CACHE_CONTROL = "private, no-cache"  # a reel's playlist: its signed links expire
CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def sign(secret: bytes, object_key: str, expires: int, shift: str | None = None, part: str | None = None) -> str:
    """The signature of a link to ``object_key`` until ``expires``; ``shift``: a reel's decode-time
    shift of a fragmented MP4 (``video.hls.boxes.TfdtShift``); ``part``: ``START-END`` (inclusive), the
    bytes of the object the link names (a reel's segment). Both are signed with it so neither can be changed."""
    message = f"{object_key}\n{expires}" + (f"\n{shift}" if shift else "") + (f"\nbytes={part}" if part else "")
    mac = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


def signed_query(secret: bytes, object_key: str, expiry_s: int, now: float | None = None,
                 shift: str | None = None, part: str | None = None) -> str:
    expires = int((now if now is not None else time.time()) + expiry_s)
    tail = (f"&shift={shift}" if shift else "") + (f"&bytes={part}" if part else "")
    return f"exp={expires}{tail}&sig={sign(secret, object_key, expires, shift, part)}"


def check_signature(secret: bytes, object_key: str, exp: str | None, sig: str | None, now: float | None = None,
                    shift: str | None = None, part: str | None = None) -> bool:
    if not exp or not sig or not exp.isdigit() or len(exp) > 12:
        return False
    if int(exp) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(sign(secret, object_key, int(exp), shift, part), sig)


def parse_part(text: str, size: int) -> "ByteRange | None":
    """The ``bytes=START-END`` a link names, if it lies inside an object of ``size`` bytes."""
    first, sep, last = text.partition("-")
    if not sep or not first.isdigit() or not last.isdigit():
        return None
    start, end = int(first), int(last)
    return ByteRange(start, end) if start <= end < size else None


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(ValueError):
    pass


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a ``Range`` header asks for; None to send the whole object.

    Several ranges, other units, or syntax errors: the header is ignored (the
    whole object, 200), as RFC 9110 allows. A range that starts past the end
    raises :class:`RangeNotSatisfiable` (416).
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, min(end, size - 1))


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` / ``If-Range`` comparison (weak comparison, ``*`` matches)."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def read_file(path: Path, start: int, length: int, fields: dict[int, bytes] | None = None) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``start``; ``fields``: {offset: bytes} written over what is there
    (a reel's shifted decode times, :func:`hb_clips_assets.video.hls.boxes.patch`)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        left, at = length, start
        while left > 0:
            block = fh.read(min(CHUNK, left))
            if not block:
                return
            if fields:
                block = patch(block, at, fields)
            left -= len(block)
            at += len(block)
            yield block
