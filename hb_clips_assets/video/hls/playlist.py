"""The per-clip media playlist (RFC 8216, version 7: fMP4 with EXT-X-MAP and EXT-X-BYTERANGE).

It is stored next to the fragmented MP4 it describes and names it by a relative URI. Besides the
standard tags it carries, in ``#HB-TRACK:`` comment lines (lines starting with ``#`` but not ``#EXT``
are comments to every HLS client), what a reel needs to line clips up without opening the media:
each track's id, timescale, edit-list media time and exact duration in ticks.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

MIME = "application/vnd.apple.mpegurl"
_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


class PlaylistError(ValueError):
    pass


@dataclass(frozen=True)
class RenditionTrack:
    track_id: int
    kind: str
    timescale: int
    media_time: int
    duration: int  # ticks: the sum of the track's sample durations
    samples: int


@dataclass(frozen=True)
class Rendition:
    media_uri: str  # the fMP4, relative to the playlist
    init_size: int
    segments: tuple[tuple[int, int, Fraction], ...]  # (offset, size, duration in seconds)
    tracks: tuple[RenditionTrack, ...]

    def track(self, kind: str) -> RenditionTrack | None:
        return next((t for t in self.tracks if t.kind == kind), None)

    @property
    def target_duration(self) -> int:
        return target_duration(d for _, _, d in self.segments)


def target_duration(durations) -> int:
    """EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer is at most this (RFC 8216 4.3.3.1)."""
    return max([1, *(math.floor(d + Fraction(1, 2)) for d in durations)])


def extinf(duration: Fraction) -> str:
    return f"#EXTINF:{float(duration):.6f},"


def render_rendition(r: Rendition, part_url: Callable[[int, int], str] | None = None) -> str:
    """The stored playlist (byte ranges of ``r.media_uri``); with ``part_url(start, end)``, the same with
    every init section and segment named by a URL of its own for those bytes (inclusive), no BYTERANGE:
    what an HTTP server hands out, since FFmpeg's HLS reader reads only the first fragment of byte
    ranges into one seekable HTTP resource."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{r.target_duration}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    lines += [f"#HB-TRACK:ID={t.track_id},TYPE={t.kind},TIMESCALE={t.timescale},MEDIA-TIME={t.media_time},"
              f"DURATION={t.duration},SAMPLES={t.samples}" for t in r.tracks]
    if part_url is not None:
        lines.append(f'#EXT-X-MAP:URI="{part_url(0, r.init_size - 1)}"')
        for offset, size, duration in r.segments:
            lines += [extinf(duration), part_url(offset, offset + size - 1)]
        return "\n".join(lines + ["#EXT-X-ENDLIST"]) + "\n"
    lines.append(f'#EXT-X-MAP:URI="{r.media_uri}",BYTERANGE="{r.init_size}@0"')
    for offset, size, duration in r.segments:
        lines += [extinf(duration), f"#EXT-X-BYTERANGE:{size}@{offset}", r.media_uri]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def attributes(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTR.findall(text)}


def parse_rendition(text: str) -> Rendition:
    """A playlist :func:`render_rendition` wrote (refuses anything else: a reel never guesses)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U" or lines[-1] != "#EXT-X-ENDLIST":
        raise PlaylistError("not a complete media playlist (#EXTM3U ... #EXT-X-ENDLIST)")
    tracks, segments, media_uri, init_size, duration, size_at = [], [], None, None, None, None
    for line in lines[1:-1]:
        if line.startswith("#HB-TRACK:"):
            a = attributes(line[len("#HB-TRACK:"):])
            tracks.append(RenditionTrack(int(a["ID"]), a["TYPE"], int(a["TIMESCALE"]), int(a["MEDIA-TIME"]),
                                         int(a["DURATION"]), int(a["SAMPLES"])))
        elif line.startswith("#EXT-X-MAP:"):
            a = attributes(line[len("#EXT-X-MAP:"):])
            media_uri, (size, _, offset) = a["URI"], a["BYTERANGE"].partition("@")
            if int(offset or 0) != 0:
                raise PlaylistError("the init section must start the file")
            init_size = int(size)
        elif line.startswith("#EXTINF:"):
            duration = Fraction(line[len("#EXTINF:"):].split(",")[0])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            n, _, at = line[len("#EXT-X-BYTERANGE:"):].partition("@")
            size_at = (int(at), int(n))
        elif not line.startswith("#"):
            if line != media_uri or duration is None or size_at is None:
                raise PlaylistError(f"segment {line!r} without its EXTINF and BYTERANGE, or not the mapped file")
            segments.append((size_at[0], size_at[1], duration))
            duration = size_at = None
    if media_uri is None or init_size is None or not segments or not tracks:
        raise PlaylistError("a media playlist needs an EXT-X-MAP, segments and #HB-TRACK lines")
    video = next((t for t in tracks if t.kind == "video"), None)
    if video is None:
        raise PlaylistError("no video track")
    # EXTINF has microseconds; a segment lasts whole ticks of the video timescale: the exact value back
    ts = video.timescale
    segments = [(o, n, Fraction(round(d * ts), ts)) for o, n, d in segments]
    return Rendition(media_uri, init_size, tuple(segments), tuple(tracks))
