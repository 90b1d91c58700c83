"""Is an MP4/MOV file whole? Read from its box headers, without FFmpeg.

FFmpeg probes a file that is still being written (or was cut short) without
complaint, with fewer frames; the pipeline would then reject later events as
"past the end". Two kinds of file are checked:

- A plain MP4/MOV: the top-level boxes tile the file exactly and include
  ``moov`` and ``mdat``.
- A fragmented MP4 (its ``moov`` has an ``mvex``; ``moof`` + ``mdat`` pairs
  follow, as recorders and ``-movflags frag_keyframe+empty_moov`` write
  them): every fragment's sample data lies inside the file, and the file
  ends with what a writer writes last, never at a fragment boundary alone:
  either a movie fragment random access box (``mfra``, with an ``mfro`` that
  gives its size and ``tfra`` entries pointing at the file's own fragments:
  FFmpeg's and PyAV's final index), or fragments whose summed durations equal
  the duration the header declares (``mehd``; else an ``mvhd`` duration
  longer than the samples in the ``moov`` itself). ``mvhd`` alone usually
  describes only the samples in the ``moov``, so it counts only where it
  says more than those.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

# Boxes an MP4/MOV file can start with (ISO BMFF and QuickTime).
FIRST_BOXES = {"ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pdin", "uuid", "sidx", "moof", "pnot"}
_CONTAINERS = {b"moov", b"trak", b"mdia", b"mvex", b"moof", b"traf", b"mfra"}
STILL_WRITING = "still being written"  # the words a sensor and a user see for an unfinished fragmented file
_WAIT = "; it is taken once its writer finishes (if the recording stopped, remux it: ffmpeg -i {name} -c copy whole.mp4, and put that in its place)"


def _u(data: bytes, at: int, n: int) -> int:
    return int.from_bytes(data[at : at + n], "big")


def children(data: bytes, start: int, end: int):
    """(type, box start, payload start, box end) of the boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind, header = _u(data, pos, 4), data[pos + 4 : pos + 8], 8
        if size == 1:
            size, header = _u(data, pos + 8, 8), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes):
    return next(((s, b, e) for k, s, b, e in children(data, start, end) if k == kind), None)


def top_level_boxes(path: Path) -> tuple[list[tuple[str, int, int]] | None, str | None]:
    """([(type, start, size)], None) when the top-level boxes tile the file exactly, else (None, why)."""
    size = path.stat().st_size
    boxes: list[tuple[str, int, int]] = []
    with open(path, "rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            header = fh.read(16)
            if len(header) < 8:
                return None, f"{path}: truncated MP4 (a partial box header at byte {pos})"
            box_size = _u(header, 0, 4)
            kind = header[4:8].decode("latin-1")
            if (pos == 0 and kind not in FIRST_BOXES) or not all(32 <= b < 127 or b == 0xA9 for b in header[4:8]):
                return None, f"{path}: not a readable video (no MP4/MOV box structure at byte {pos})"
            if box_size == 1:
                if len(header) < 16:
                    return None, f"{path}: truncated MP4 (a partial box header at byte {pos})"
                box_size = _u(header, 8, 8)
            elif box_size == 0:  # the box runs to the end of the file
                box_size = size - pos
            if box_size < 8:
                return None, f"{path}: not an MP4 (box {kind!r} at byte {pos} has size {box_size})"
            if pos + box_size > size:
                return None, (f"{path}: truncated MP4 (box {kind!r} at byte {pos} needs {pos + box_size} bytes, "
                              f"the file has {size})")
            boxes.append((kind, pos, box_size))
            pos += box_size
    return boxes, None


def mp4_structure_problem(path: Path | str) -> str | None:
    """Why the MP4/MOV at ``path`` is not whole, or None (see the module docstring)."""
    path = Path(path)
    try:
        boxes, problem = top_level_boxes(path)
        if problem is not None:
            return problem
        kinds = {kind for kind, _, _ in boxes}
        missing = [b for b in ("moov", "mdat") if b not in kinds]
        if missing:
            return f"{path}: incomplete MP4 (no {' or '.join(missing)} box)"
        return fragment_problem(path, boxes)
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror or exc})"


# ------------------------------------------------------------------------------------------ fragmented MP4


@dataclass
class _Track:
    timescale: int = 0
    moov_duration: int = 0  # mdhd: the samples described in the moov itself
    default_duration: int = 0  # trex
    default_size: int = 0  # trex
    fragment_duration: int = 0  # summed over the fragments
    shortest_sample: int = 0
    skipped: int = 0  # media time its edit list starts at (an AAC encoder's priming samples)

    def seconds(self) -> list[Fraction]:
        """Its duration, as the samples add up and as its edit list shows them."""
        total = self.moov_duration + self.fragment_duration
        return [Fraction(total - skip, self.timescale) for skip in {0, self.skipped}] if self.timescale else []

    def tolerance(self) -> Fraction:
        return Fraction(self.shortest_sample, 2 * self.timescale) if self.timescale else Fraction(0)


@dataclass
class _Movie:
    timescale: int = 0
    mvhd_duration: int = 0
    mehd_duration: int | None = None
    tracks: dict[int, _Track] = field(default_factory=dict)


def _full_box_times(data: bytes, body: int) -> tuple[int, int]:
    """(timescale, duration) of an mvhd or mdhd payload."""
    if data[body] == 1:
        return _u(data, body + 20, 4), _u(data, body + 24, 8)
    return _u(data, body + 12, 4), _u(data, body + 16, 4)


def _read_movie(moov: bytes) -> _Movie | None:
    """The movie and track facts of a ``moov`` (read from offset 0 of ``moov``), None when not fragmented."""
    body_end = len(moov)
    mvex = _child(moov, 8, body_end, b"mvex")
    if mvex is None:
        return None
    movie = _Movie()
    mvhd = _child(moov, 8, body_end, b"mvhd")
    if mvhd is not None:
        movie.timescale, movie.mvhd_duration = _full_box_times(moov, mvhd[1])
    for kind, _, body, end in children(moov, 8, body_end):
        if kind != b"trak":
            continue
        tkhd = _child(moov, body, end, b"tkhd")
        mdia = _child(moov, body, end, b"mdia")
        mdhd = _child(moov, mdia[1], mdia[2], b"mdhd") if mdia else None
        if tkhd is None or mdhd is None:
            continue
        track_id = _u(moov, tkhd[1] + (20 if moov[tkhd[1]] == 1 else 12), 4)
        timescale, duration = _full_box_times(moov, mdhd[1])
        movie.tracks[track_id] = _Track(timescale, duration, skipped=_edit_start(moov, body, end))
    for kind, _, body, end in children(moov, mvex[1], mvex[2]):
        if kind == b"mehd":
            movie.mehd_duration = _u(moov, body + 4, 8 if moov[body] == 1 else 4)
        elif kind == b"trex":
            track = movie.tracks.setdefault(_u(moov, body + 4, 4), _Track())
            track.default_duration, track.default_size = _u(moov, body + 12, 4), _u(moov, body + 16, 4)
    return movie


def _edit_start(moov: bytes, body: int, end: int) -> int:
    """The media time a track's edit list starts showing it at (0 without one)."""
    edts = _child(moov, body, end, b"edts")
    elst = _child(moov, edts[1], edts[2], b"elst") if edts else None
    if elst is None:
        return 0
    at, wide = elst[1], moov[elst[1]] == 1
    for i in range(_u(moov, at + 4, 4)):
        entry = at + 8 + i * (20 if wide else 12)
        media_time = int.from_bytes(moov[entry + (8 if wide else 4) : entry + (16 if wide else 8)], "big", signed=True)
        if media_time >= 0:  # -1: an empty edit (a delay), not a skip
            return media_time
    return 0


def _read_fragment(moof: bytes, moof_at: int, movie: _Movie) -> int:
    """Add the fragment's sample durations to its tracks; return the end (file offset) of its sample data."""
    data_end = 0
    for kind, _, body, end in children(moof, 8, len(moof)):
        if kind != b"traf":
            continue
        tfhd = _child(moof, body, end, b"tfhd")
        if tfhd is None:
            continue
        t = tfhd[1]
        flags, track_id = _u(moof, t + 1, 3), _u(moof, t + 4, 4)
        track = movie.tracks.setdefault(track_id, _Track())
        pos, base = t + 8, moof_at  # default-base-is-moof, and the first traf's implicit base
        if flags & 0x01:
            base, pos = _u(moof, pos, 8), pos + 8
        pos += 4 if flags & 0x02 else 0
        default_duration, default_size = track.default_duration, track.default_size
        if flags & 0x08:
            default_duration, pos = _u(moof, pos, 4), pos + 4
        if flags & 0x10:
            default_size = _u(moof, pos, 4)
        cursor = base
        for sub, _, rbody, _rend in children(moof, body, end):
            if sub != b"trun":
                continue
            rflags, count = _u(moof, rbody + 1, 3), _u(moof, rbody + 4, 4)
            pos = rbody + 8
            if rflags & 0x01:
                cursor, pos = base + int.from_bytes(moof[pos : pos + 4], "big", signed=True), pos + 4
            pos += 4 if rflags & 0x04 else 0
            per_sample = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if rflags & bit)
            for _ in range(count):
                at = pos
                duration = default_duration
                if rflags & 0x100:
                    duration, at = _u(moof, at, 4), at + 4
                size = _u(moof, at, 4) if rflags & 0x200 else default_size
                track.fragment_duration += duration
                if duration and (not track.shortest_sample or duration < track.shortest_sample):
                    track.shortest_sample = duration
                cursor += size
                pos += per_sample
            data_end = max(data_end, cursor)
    return data_end


def _mfra_problem(fh, boxes: list[tuple[str, int, int]]) -> str | None:
    """Why the final ``mfra`` is not the writer's whole final index, or None."""
    kind, start, size = boxes[-1]
    fh.seek(start)
    mfra = fh.read(size)
    if mfra[-16:-12] != (16).to_bytes(4, "big") or mfra[-12:-8] != b"mfro" or _u(mfra, size - 4, 4) != size:
        return "its final index (mfra) does not end with an mfro giving its size"
    moofs = {s for k, s, _ in boxes if k == "moof"}
    for sub, _, body, end in children(mfra, 8, size):
        if sub != b"tfra":
            continue
        version, sizes, count = mfra[body], _u(mfra, body + 8, 4), _u(mfra, body + 12, 4)
        field = 8 if version == 1 else 4
        entry = 2 * field + ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3
        for i in range(count):
            offset = _u(mfra, body + 16 + i * entry + field, field)
            if offset not in moofs:
                return f"its final index (mfra) points at byte {offset}, where no fragment starts"
    return None


def fragment_problem(path: Path, boxes: list[tuple[str, int, int]]) -> str | None:
    """For a fragmented MP4 (``moov`` with ``mvex``): why it is not finished, or None.
    None too for a file that is not fragmented."""
    moov_at, moov_size = next((s, n) for k, s, n in boxes if k == "moov")
    file_size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(moov_at)
        movie = _read_movie(fh.read(moov_size))
        if movie is None:
            return None
        fragments = 0
        for kind, start, size in boxes:
            if kind != "moof":
                continue
            fragments += 1
            fh.seek(start)
            data_end = _read_fragment(fh.read(size), start, movie)
            if data_end > file_size:
                return (f"{path}: {STILL_WRITING}: fragment {fragments} (byte {start}) needs {data_end} bytes, "
                        f"the file has {file_size}")
        if boxes[-1][0] == "mfra":
            problem = _mfra_problem(fh, boxes)
            return None if problem is None else f"{path}: incomplete fragmented MP4: {problem}"
    held = _held_seconds(movie)
    declared = _declared_seconds(movie)
    so_far = f"{fragments} fragment(s), {float(held):.3f} s so far"
    if declared is None:
        return (f"{path}: {STILL_WRITING}: a fragmented MP4 ({so_far}) without the index its writer puts last "
                f"(mfra) and without a declared duration (mehd){_WAIT.format(name=path.name)}")
    tick = Fraction(1, movie.timescale)
    if any(abs(d - declared) <= max(t.tolerance(), tick) for t in movie.tracks.values() for d in t.seconds()):
        return None  # some track (the longest, as mehd says; with or without its edit list) ends where declared
    return (f"{path}: {STILL_WRITING}: a fragmented MP4 ({so_far}) whose header declares {float(declared):.3f} s "
            f"and without the index its writer puts last (mfra){_WAIT.format(name=path.name)}")


def _held_seconds(movie: _Movie) -> Fraction:
    """The longest track's duration: its samples in the moov plus every fragment's."""
    return max([max(t.seconds()) for t in movie.tracks.values() if t.timescale] or [Fraction(0)])


def _declared_seconds(movie: _Movie) -> Fraction | None:
    if not movie.timescale:
        return None
    if movie.mehd_duration:
        return Fraction(movie.mehd_duration, movie.timescale)
    in_moov = max([Fraction(t.moov_duration, t.timescale) for t in movie.tracks.values() if t.timescale] or [0])
    mvhd = Fraction(movie.mvhd_duration, movie.timescale)
    return mvhd if mvhd > in_moov + Fraction(1, movie.timescale) else None
