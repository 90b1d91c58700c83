"""The one clip record, through its life.

A :class:`Segment` is a clip before it is cut: the event (who, what, where),
its exact frame range ``[start_frame, end_frame)`` of the period video on the
presentation timeline, and the frame rate. A :class:`ClipRecord` is the same
clip once cut and stored: the segment's fields, plus its id, its source video
and its objects. Nothing else spells these fields out: the asset DataFrames
(``pipeline/frames.py``) are built from the dataclass fields, the index row
from :func:`hb_clips_assets.storage.index.repository.clip_row`, and the read
side's ``ClipResult`` / the API schema carry the same names (a test keeps the
ORM columns in step).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

from hb_clips_assets.domain.timecode import frame_to_seconds


@dataclass(frozen=True)
class Segment:
    """One event resolved to a frame range of its period video."""

    game_id: str
    period: str
    event_id: str
    event_type: str
    player_id: str
    team: str
    opponent: str | None
    zone: str | None
    strength: str | None
    timecode: str
    event_frame: int
    start_frame: int  # inclusive
    end_frame: int  # exclusive
    fps_num: int
    fps_den: int
    tags: dict[str, str]

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def start_s(self) -> float:
        return float(frame_to_seconds(self.start_frame, self.fps))

    @property
    def end_s(self) -> float:
        return float(frame_to_seconds(self.end_frame, self.fps))

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame


@dataclass(frozen=True)
class AssetRecord:
    """One stored object of a clip (``media.clip_assets``): its MP4, thumbnail, HLS rendition."""

    kind: str
    object_key: str
    uri: str
    bytes: int
    sha256: str
    content_type: str


@dataclass(frozen=True, kw_only=True)
class ClipRecord(Segment):
    """A segment once cut: ``media.clips`` (+ ``clip_tags`` from ``tags``, ``clip_assets`` from ``assets``)."""

    clip_id: str
    source_uri: str
    source_sha256: str
    assets: tuple[AssetRecord, ...] = ()

    @classmethod
    def of(cls, segment: Segment, *, clip_id: str, source_uri: str, source_sha256: str,
           assets: tuple[AssetRecord, ...] = ()) -> ClipRecord:
        return cls(**{f.name: getattr(segment, f.name) for f in fields(Segment)}, clip_id=clip_id,
                   source_uri=source_uri, source_sha256=source_sha256, assets=tuple(assets))
