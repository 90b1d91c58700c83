"""A reel: the clips of a result set, in order, as one HLS media playlist (RFC 8216, version 7).

Each clip keeps its own rendition (the fragmented MP4 and byte ranges of its stored playlist); the reel
names every init section and fragment by a URL of its own that carries the byte range (no
``EXT-X-BYTERANGE``: FFmpeg 9's HLS reader reads only the first fragment of byte ranges into one
seekable HTTP resource, see ``retrieval/api/media.py``). The reel opens every clip with ``EXT-X-DISCONTINUITY`` (but the first) and a new ``EXT-X-MAP`` (each clip
has its own parameter sets and edit lists), an ``EXT-X-PROGRAM-DATE-TIME`` on the reel's own clock
and an ``EXT-X-DATERANGE`` carrying the clip's event (ids, type, time in the period).

Decode times: a player that honours the discontinuities needs nothing more. A player that reads the
reel as one stream (FFmpeg's HLS reader keeps the first init section and drops any fragment whose
decode time is not after the previous one) needs each clip's fragments moved to where the clip sits in
the reel. :func:`reel_shifts` says by how much, per track, folding in the differences between the
clips' edit lists so every clip starts on its exact first frame and sample; a media server that can
rewrite decode times (the API's media route, see ``video/hls/boxes.py``) applies them. No FastAPI here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from hb_clips_assets.video.hls.boxes import TfdtShift
from hb_clips_assets.video.hls.playlist import Rendition, extinf, target_duration

REEL_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class ReelClip:
    clip_id: str
    game_id: str
    period: str
    event_id: str
    event_type: str
    event_s: float
    game_date: str | None
    rendition: Rendition


def in_reel(assets) -> bool:
    """Whether a clip (its ``assets``, kind -> asset) plays in a reel: it has its HLS rendition (a clip cut
    with ``HB_HLS=0`` has not, until the next run of its partition packages it)."""
    return "hls" in assets and "hls_fmp4" in assets


def reel_shifts(clips: Sequence[Rendition]) -> list[TfdtShift]:
    """Per clip, the decode-time shift of each track that lays the clips end to end.

    Clip k starts at R_k video ticks (the durations before it). A reader that keeps clip 1's edit
    lists presents a sample at decode time + composition offset - clip 1's media time, so clip k's
    shift is R_k + (media time of clip 1 - media time of clip k), per track in its own timescale. Where
    a clip's video needs more reordering delay than the one before it, R_k grows by the few ticks that
    keep its first decode time after the previous clip's last one (a gap of at most that delay).
    """
    if not clips:
        return []
    first = {t.kind: t for t in clips[0].tracks}
    start = Fraction(0)  # seconds into the reel
    prev = None  # (end in seconds, last decode time in seconds) of the clip before
    out = []
    for r in clips:
        v = r.track("video")
        if prev is not None:
            first_dts = start - Fraction(v.media_time, v.timescale)
            if first_dts <= prev[1]:
                start += prev[1] - first_dts + Fraction(1, v.timescale)
        deltas = []
        for t in r.tracks:
            base = first.get(t.kind, t)
            delta = round(start * t.timescale) + base.media_time * t.timescale // base.timescale - t.media_time
            deltas.append((t.track_id, int(delta)))
        out.append(TfdtShift(tuple(deltas)))
        frame = Fraction(v.duration, v.timescale * max(1, v.samples))
        end = start + Fraction(v.duration, v.timescale)
        prev = (end, end - frame - Fraction(v.media_time, v.timescale))
        start = end
    return out


def _date_time(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _quoted(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\r\n' else "?" for c in text) + '"'


def build_reel(clips: Sequence[ReelClip], segment_url: Callable[[ReelClip, TfdtShift, int, int], str],
               title: str = "hb-clips reel") -> str:
    """The reel's media playlist; ``segment_url(clip, shift, start, end)`` is the (signed) URL of bytes
    ``start``..``end`` (inclusive) of the clip's fMP4, shifted: a resource of exactly those bytes."""
    if not clips:
        raise ValueError("a reel needs at least one clip")
    shifts = reel_shifts([c.rendition for c in clips])
    day = next((c.game_date for c in clips if c.game_date), None)
    clock = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc) if day else REEL_EPOCH
    durations = [d for c in clips for _, _, d in c.rendition.segments]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{target_duration(durations)}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-DISCONTINUITY-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
             "#EXT-X-INDEPENDENT-SEGMENTS", f"## {_quoted(title)[1:-1]}: {len(clips)} clips"]
    elapsed = Fraction(0)
    for i, (clip, shift) in enumerate(zip(clips, shifts)):
        r = clip.rendition
        length = sum((d for _, _, d in r.segments), Fraction(0))
        start = clock + dt.timedelta(seconds=float(elapsed))
        if i:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXT-X-MAP:URI={_quoted(segment_url(clip, shift, 0, r.init_size - 1))}")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date_time(start)}")
        lines.append(f"#EXT-X-DATERANGE:ID={_quoted(f'{clip.game_id}/{clip.period}/{clip.event_id}')},"
                     f"CLASS=\"org.hb-clips.event\",START-DATE=\"{_date_time(start)}\",DURATION={float(length):.6f},"
                     f"X-CLIP-ID={_quoted(clip.clip_id)},X-EVENT-ID={_quoted(clip.event_id)},"
                     f"X-GAME-ID={_quoted(clip.game_id)},X-PERIOD={_quoted(clip.period)},"
                     f"X-EVENT-TYPE={_quoted(clip.event_type)},X-EVENT-S={clip.event_s:.3f}")
        for offset, size, duration in r.segments:
            lines += [extinf(duration), segment_url(clip, shift, offset, offset + size - 1)]
        elapsed += length
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
