"""The display matrix (rotation, flips) in an MP4/MOV video track header.

Phone and body-cam feeds are often stored sideways with a ``tkhd`` matrix
telling players to rotate them. A re-encoded clip is a new file whose track
header says "identity" unless the source's matrix is copied over; it is
copied here, in place, at the box level (same size, nothing else changes).
"""
from __future__ import annotations

from pathlib import Path

from hb_clips_assets.video.mp4boxes import children  # the one box walker

IDENTITY = bytes.fromhex("000100000000000000000000" "000000000001000000000000" "000000000000000040000000")
_CONTAINERS = {b"moov", b"trak", b"mdia"}


def _moov(path: Path) -> tuple[int, bytes] | None:
    """(file offset, bytes) of the top-level ``moov`` box, reading only box headers and the moov."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        pos = 0
        while pos + 8 <= size:
            fh.seek(pos)
            head = fh.read(16)
            box = int.from_bytes(head[:4], "big")
            if box == 1:
                box = int.from_bytes(head[8:16], "big")
            elif box == 0:
                box = size - pos
            if box < 8:
                return None
            if head[4:8] == b"moov":
                fh.seek(pos)
                return pos, fh.read(box)
            pos += box
    return None


def _video_matrix_offset(moov: bytes) -> int | None:
    """Offset in ``moov`` of the first video track's tkhd matrix."""
    for kind, _, body, end in children(moov, 8, len(moov)):
        if kind != b"trak":
            continue
        matrix_at, is_video = None, False
        for child, box, cbody, cend in children(moov, body, end):
            if child == b"tkhd":
                version = moov[cbody]
                matrix_at = cbody + (40 if version == 0 else 52)
            elif child == b"mdia":
                for grand, _, gbody, _ in children(moov, cbody, cend):
                    if grand == b"hdlr" and moov[gbody + 8 : gbody + 12] == b"vide":
                        is_video = True
        if is_video and matrix_at is not None and matrix_at + 36 <= end:
            return matrix_at
    return None


def video_matrix(path: Path | str) -> bytes | None:
    """The 36-byte display matrix of the first video track, or None (no MP4/MOV video track)."""
    found = _moov(Path(path))
    if found is None:
        return None
    offset = _video_matrix_offset(found[1])
    return None if offset is None else found[1][offset : offset + 36]


def copy_video_matrix(source: Path | str, clip: Path | str) -> bytes | None:
    """Give ``clip``'s video track the source's display matrix when it is not the identity;
    returns the matrix written, or None when there was nothing to copy."""
    matrix = video_matrix(source)
    if matrix is None or matrix == IDENTITY:
        return None
    found = _moov(Path(clip))
    offset = None if found is None else _video_matrix_offset(found[1])
    if offset is None:
        raise ValueError(f"{clip}: no video track header to carry the source's rotation")
    with open(clip, "r+b") as fh:
        fh.seek(found[0] + offset)
        fh.write(matrix)
    return matrix
