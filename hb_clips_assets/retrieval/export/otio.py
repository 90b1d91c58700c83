"""OpenTimelineIO playlist of a set of clips (``.otio``, OTIO's JSON).

One timeline, one video track, the clips end to end in result order. Each
clip's media reference is its MP4 (``ExternalReference`` to the clip's URL,
available range = the whole clip), a marker sits on the event frame, and the
clip's metadata (``metadata["hb_clips"]``) holds its ids, the game, the
period, the source video and the clip's frame range in it. Rates are the
videos' exact rates as floats (59.94005994...), so frame counts are exact.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hb_clips_assets.retrieval.results import ClipResult
from hb_clips_assets.retrieval.export.sportscode import event_label


def _otio():
    try:
        import opentimelineio
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("OpenTimelineIO export needs the opentimelineio package (pip install opentimelineio)") from exc
    return opentimelineio


def clip_name(clip: ClipResult) -> str:
    who = clip.player_name or clip.player_id
    return f"{clip.game_id} P{clip.period} {clip.timecode or ''} {clip.team} {event_label(clip.event_type)} {who}".replace("  ", " ")


def to_timeline(clips: Iterable[ClipResult], name: str = "hb-clips playlist"):
    otio = _otio()
    timeline = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="clips", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for clip in clips:
        rate = clip.fps_num / clip.fps_den
        frames = clip.end_frame - clip.start_frame
        whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate))
        item = otio.schema.Clip(
            name=clip_name(clip),
            media_reference=otio.schema.ExternalReference(target_url=clip.url("mp4") or "", available_range=whole),
            source_range=whole,
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
                    "tags": dict(clip.tags),
                }
            },
        )
        item.markers.append(
            otio.schema.Marker(
                name=event_label(clip.event_type),
                marked_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(clip.event_frame - clip.start_frame, rate),
                    otio.opentime.RationalTime(0, rate),
                ),
            )
        )
        track.append(item)
    return timeline


def to_otio_json(clips: Iterable[ClipResult], name: str = "hb-clips playlist") -> str:
    otio = _otio()
    return otio.adapters.write_to_string(to_timeline(clips, name), adapter_name="otio_json")


def write_otio(clips: Iterable[ClipResult], path: Path | str, name: str = "hb-clips playlist") -> Path:
    path = Path(path)
    path.write_text(to_otio_json(clips, name), encoding="utf-8")
    return path
