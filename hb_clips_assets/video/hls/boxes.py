"""The ISO BMFF layout of a fragmented MP4, and decode times shifted in place.

:func:`scan_fmp4` reads only box headers and the ``moov``/``moof`` boxes (never the media data): the
init section's size, each fragment's offset and size, each track's id, handler, timescale and
edit-list media time, and where every ``tfdt`` (track fragment decode time) value sits.

:func:`shifted_tfdt` is what a reel needs: the same file with every fragment's decode time moved by a
per-track amount. ``tfdt`` version 1 is a fixed 64-bit field, so the shifted file has the same size
and every byte range (``EXT-X-BYTERANGE``) stays where it was; only those 8-byte fields differ.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"moof", b"traf", b"dinf"}
_HANDLERS = {b"vide": "video", b"soun": "audio"}


class BoxError(ValueError):
    """Not the fragmented MP4 the packager writes."""


@dataclass(frozen=True)
class Fmp4Track:
    track_id: int
    kind: str  # "video" | "audio" | the handler type
    timescale: int
    media_time: int  # the edit list's first media time (0 without one): where presentation starts


@dataclass(frozen=True)
class Fmp4Layout:
    size: int
    init_size: int  # ftyp + moov: the EXT-X-MAP byte range
    fragments: tuple[tuple[int, int], ...]  # (offset, size) of each moof + mdat
    tracks: tuple[Fmp4Track, ...]
    tfdt: tuple[tuple[int, int], ...]  # (track_id, offset of the 64-bit decode time) per traf

    def track(self, kind: str) -> Fmp4Track | None:
        return next((t for t in self.tracks if t.kind == kind), None)


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, size, header size) of the boxes in ``data[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise BoxError(f"box {kind!r} at {pos} runs past its parent")
        yield kind, pos, size, header
        pos += size


def _full_box_field(data: bytes, pos: int, v0: int, v1: int) -> tuple[int, int]:
    """(version, offset of a field at ``v0``/``v1`` bytes after the version/flags word)."""
    version = data[pos]
    return version, pos + 4 + (v1 if version == 1 else v0)


def _track(data: bytes, start: int, end: int) -> Fmp4Track:
    found: dict[str, int | str] = {"media_time": 0}

    def walk(a: int, b: int) -> None:
        for kind, pos, size, header in _boxes(data, a, b):
            body = pos + header
            if kind == b"tkhd":
                _, at = _full_box_field(data, body, 8, 16)
                found["track_id"] = struct.unpack_from(">I", data, at)[0]
            elif kind == b"mdhd":
                _, at = _full_box_field(data, body, 8, 16)
                found["timescale"] = struct.unpack_from(">I", data, at)[0]
            elif kind == b"hdlr":
                handler = data[body + 8 : body + 12]
                found["kind"] = _HANDLERS.get(handler, handler.decode("latin-1"))
            elif kind == b"elst":
                version = data[body]
                if struct.unpack_from(">I", data, body + 4)[0]:
                    fmt, at = (">q", body + 16) if version == 1 else (">i", body + 12)
                    found["media_time"] = max(0, struct.unpack_from(fmt, data, at)[0])
            elif kind in _CONTAINERS:
                walk(body, pos + size)

    walk(start, end)
    if not {"track_id", "timescale", "kind"} <= found.keys():
        raise BoxError("a track without tkhd, mdhd or hdlr")
    return Fmp4Track(int(found["track_id"]), str(found["kind"]), int(found["timescale"]), int(found["media_time"]))


def _tfdt_fields(data: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(track id, offset of its 64-bit base decode time) of each ``traf`` among a ``moof``'s children,
    data[start:end]; a tfdt that is not version 1, or comes before its tfhd, is refused."""
    for k, p, s, h in _boxes(data, start, end):
        if k != b"traf":
            continue
        track_id = None
        for k2, p2, s2, h2 in _boxes(data, p + h, p + s):
            if k2 == b"tfhd":
                track_id = struct.unpack_from(">I", data, p2 + h2 + 4)[0]
            elif k2 == b"tfdt":
                if data[p2 + h2] != 1 or track_id is None:
                    raise BoxError(f"a tfdt at {p2} is not version 1 after its tfhd")
                yield track_id, p2 + h2 + 4


def _read_at(fh: BinaryIO, pos: int, n: int) -> bytes:
    fh.seek(pos)
    data = fh.read(n)
    if len(data) != n:
        raise BoxError(f"file ends inside a box at {pos}")
    return data


def scan_fmp4(path: Path | str) -> Fmp4Layout:
    """The layout of the fragmented MP4 at ``path`` (reads headers, ``moov`` and ``moof`` boxes only)."""
    tracks: list[Fmp4Track] = []
    fragments: list[list[int]] = []
    tfdt: list[tuple[int, int]] = []
    init_size = 0
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        total = fh.tell()
        pos = 0
        while pos + 8 <= total:
            head = _read_at(fh, pos, min(16, total - pos))
            size, kind = struct.unpack_from(">I4s", head)
            if size == 1:
                size = struct.unpack_from(">Q", head, 8)[0]
            elif size == 0:
                size = total - pos
            if size < 8 or pos + size > total:
                raise BoxError(f"{path}: box {kind!r} at {pos} runs past the end of the file")
            if kind == b"moov":
                data = _read_at(fh, pos, size)
                for k, p, s, h in _boxes(data, 8, size):
                    if k == b"trak":
                        tracks.append(_track(data, p + h, p + s))
                init_size = pos + size
            elif kind == b"moof":
                data = _read_at(fh, pos, size)
                fragments.append([pos, size])
                try:
                    tfdt.extend((track_id, pos + at) for track_id, at in _tfdt_fields(data, 8, size))
                except BoxError as exc:
                    raise BoxError(f"{path}: {exc} (in the moof at {pos})") from None
            elif kind == b"mdat" and fragments:  # a fragment's media data follows its moof
                fragments[-1][1] = pos + size - fragments[-1][0]
            pos += size
    if not init_size or not fragments or not tracks:
        raise BoxError(f"{path}: not a fragmented MP4 (moov {init_size}, {len(fragments)} fragments)")
    return Fmp4Layout(total, init_size, tuple((a, b) for a, b in fragments), tuple(tracks), tuple(tfdt))


@dataclass(frozen=True)
class TfdtShift:
    """Per track id, ticks (of that track's timescale) added to every fragment's decode time."""

    deltas: tuple[tuple[int, int], ...]

    def encode(self) -> str:
        return ".".join(f"{track}_{delta}" for track, delta in self.deltas)

    @classmethod
    def decode(cls, text: str) -> "TfdtShift":
        try:
            pairs = tuple((int(t), int(d)) for t, d in (part.split("_") for part in text.split(".")))
        except ValueError:
            raise BoxError(f"not a decode-time shift: {text!r}") from None
        if not pairs or len(pairs) > 8:
            raise BoxError(f"not a decode-time shift: {text!r}")
        return cls(pairs)


def shifted_tfdt(path: Path | str, layout: Fmp4Layout, shift: TfdtShift) -> dict[int, bytes]:
    """{offset: the 8 bytes there once shifted} for every ``tfdt`` of a shifted track."""
    deltas = dict(shift.deltas)
    out: dict[int, bytes] = {}
    with open(path, "rb") as fh:
        for track_id, at in layout.tfdt:
            delta = deltas.get(track_id, 0)
            if delta:
                value = struct.unpack(">Q", _read_at(fh, at, 8))[0] + delta
                if not 0 <= value < 1 << 63:
                    raise BoxError(f"{path}: decode time shifted out of range at {at}")
                out[at] = struct.pack(">Q", value)
    return out


def patch(chunk: bytes, chunk_start: int, fields: dict[int, bytes]) -> bytes:
    """``chunk`` (the file's bytes from ``chunk_start``) with the shifted fields that overlap it."""
    end = chunk_start + len(chunk)
    hits = [(at, value) for at, value in fields.items() if at < end and at + len(value) > chunk_start]
    if not hits:
        return chunk
    out = bytearray(chunk)
    for at, value in hits:
        lo, hi = max(at, chunk_start), min(at + len(value), end)
        out[lo - chunk_start : hi - chunk_start] = value[lo - at : hi - at]
    return bytes(out)


def shift_chunk(chunk: bytes, shift: TfdtShift) -> bytes:
    """``chunk`` — whole top-level boxes of a fragmented MP4 (its init section, or fragments: a reel's
    part as a store hands it out by a ranged read) — with every ``tfdt`` moved by ``shift``."""
    deltas = dict(shift.deltas)
    out = bytearray(chunk)
    for kind, pos, size, header in _boxes(chunk, 0, len(chunk)):
        if kind != b"moof":
            continue
        for track_id, at in _tfdt_fields(chunk, pos + header, pos + size):
            value = struct.unpack_from(">Q", chunk, at)[0] + deltas.get(track_id, 0)
            if not 0 <= value < 1 << 63:
                raise BoxError(f"decode time shifted out of range at {at}")
            struct.pack_into(">Q", out, at, value)
    return bytes(out)
