"""OpenTimelineIO playlist of a set of clips (``.otio``, OTIO's JSON).

One timeline, one video track, the clips end to end in result order. Each
clip's media reference is its MP4 (``ExternalReference`` to the clip's URL,
available range = the whole clip), a marker sits on the event frame, and the
clip's metadata (``metadata["hb_clips"]``) holds its ids, the game, the
period, the source video and the clip's frame range in it. Rates are the
videos' exact rates as floats (59.94005994...), so frame counts are exact.

With ``reel_url`` (the HLS reel of the same clips, ``GET /api/v2/clips/reel.m3u8``), every clip's
media reference is that one stream instead: available range = the whole reel, source range = the
clip's frames where it sits in the reel (the clips before it, end to end); the MP4's URL stays in
the metadata (``mp4_url``) and the timeline's metadata names the reel.
"""
from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

from hb_clips_assets.retrieval.results import ClipResult
from hb_clips_assets.retrieval.export.sportscode import event_label, reel_offsets


def _total(clips: list[ClipResult]) -> Fraction:
    return sum((Fraction(c.end_frame - c.start_frame) / c.fps for c in clips), Fraction(0))


def _otio():
    try:
        import opentimelineio
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("OpenTimelineIO export needs the opentimelineio package (pip install opentimelineio)") from exc
    return opentimelineio


def clip_name(clip: ClipResult) -> str:
    who = clip.player_name or clip.player_id
    return f"{clip.game_id} P{clip.period} {clip.timecode or ''} {clip.team} {event_label(clip.event_type)} {who}".replace("  ", " ")


def _reference(otio, clip: ClipResult, reel_url: str | None, offset: Fraction, total: Fraction):
    """(media reference, source range) of ``clip``: its MP4, or its frames at ``offset`` s in the reel."""
    rate = clip.fps_num / clip.fps_den
    frames = clip.end_frame - clip.start_frame
    whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate))
    if reel_url is None:
        return otio.schema.ExternalReference(target_url=clip.url("mp4") or "", available_range=whole), whole
    at = otio.opentime.RationalTime(float(offset * clip.fps), rate)
    reel = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                   otio.opentime.RationalTime(float(total * clip.fps), rate))
    return (otio.schema.ExternalReference(target_url=reel_url, available_range=reel),
            otio.opentime.TimeRange(at, otio.opentime.RationalTime(frames, rate)))


def to_timeline(clips: Iterable[ClipResult], name: str = "hb-clips playlist", reel_url: str | None = None):
    otio = _otio()
    clips = list(clips)
    timeline = otio.schema.Timeline(name=name)
    if reel_url is not None:
        timeline.metadata["hb_clips"] = {"reel_url": reel_url}
    track = otio.schema.Track(name="clips", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    offsets, total = reel_offsets(clips), _total(clips)
    for clip, offset in zip(clips, offsets):
        reference, used = _reference(otio, clip, reel_url, offset, total)
        item = otio.schema.Clip(
            name=clip_name(clip),
            media_reference=reference,
            source_range=used,
            metadata={
                "hb_clips": {
                    "clip_id": clip.clip_id,
                    "game_id": clip.game_id,
                    "game_date": clip.game_date,
                    "period": clip.period,
                    "event_id": clip.event_id,
                    "event_type": clip.event_type,
                    "player_id": clip.player_id,
                    "player_name": clip.player_name,
                    "team": clip.team,
                    "opponent": clip.opponent,
                    "zone": clip.zone,
                    "strength": clip.strength,
                    "timecode": clip.timecode,
                    "fps": f"{clip.fps_num}/{clip.fps_den}",
                    "source_uri": clip.source_uri,
                    "source_start_frame": clip.start_frame,
                    "source_end_frame": clip.end_frame,
                    "event_frame": clip.event_frame,
                    "thumbnail_url": clip.url("thumbnail"),
                    "mp4_url": clip.url("mp4"),
                    "tags": dict(clip.tags),
                }
            },
        )
        item.markers.append(
            otio.schema.Marker(
                name=event_label(clip.event_type),
                marked_range=otio.opentime.TimeRange(
                    used.start_time + otio.opentime.RationalTime(clip.event_frame - clip.start_frame, used.start_time.rate),
                    otio.opentime.RationalTime(0, used.start_time.rate),
                ),
            )
        )
        track.append(item)
    return timeline


def to_otio_json(clips: Iterable[ClipResult], name: str = "hb-clips playlist", reel_url: str | None = None) -> str:
    otio = _otio()
    return otio.adapters.write_to_string(to_timeline(clips, name, reel_url), adapter_name="otio_json")


def write_otio(clips: Iterable[ClipResult], path: Path | str, name: str = "hb-clips playlist",
               reel_url: str | None = None) -> Path:
    path = Path(path)
    path.write_text(to_otio_json(clips, name, reel_url), encoding="utf-8")
    return path
