"""Clips that could not be cut, set aside like bad rows, and the index's earlier clips of their
events, kept as they are (split from :mod:`.cutting`)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select

from hb_clips_assets.domain.records import ClipRecord, Segment
from hb_clips_assets.pipeline.renditions import HLS_KINDS
from hb_clips_assets.storage.index.models import ClipTag
from hb_clips_assets.storage.index.repository import MediaIndex

_KINDS = (("mp4", "video/mp4"), ("thumbnail", "image/jpeg"))


@dataclass(frozen=True)
class SetAside:
    """A clip that could not be cut, set aside like a bad row: the partition's other clips go on.

    ``previous``: the clip the index already holds for the event (cut from an earlier version of
    the inputs), kept as it is - row and objects - so a failed re-cut never takes a findable clip
    away, nor looks like a removal to the removal guard; None when the event was never indexed.
    """

    failure: "ClipFailure"
    previous: ClipRecord | None

    @property
    def segment(self) -> Segment:
        return self.failure.segment


def set_aside(failures: list["ClipFailure"], index: MediaIndex) -> list[SetAside]:
    """The failed clips, each with the clip the index holds for its event in this period, if any."""
    previous: dict[tuple[str, str, str], ClipRecord] = {}
    for game_id, period in sorted({(f.segment.game_id, f.segment.period) for f in failures}):
        wanted = {f.segment.event_id for f in failures if (f.segment.game_id, f.segment.period) == (game_id, period)}
        for record in indexed_records(index, game_id, period, wanted):
            previous[(game_id, period, record.event_id)] = record
    return [SetAside(f, previous.get((f.segment.game_id, f.segment.period, f.segment.event_id))) for f in failures]


def kept_outcome(aside: SetAside):
    from hb_clips_assets.pipeline.cutting import ClipOutcome

    return ClipOutcome(aside.previous, cached=True, seconds=0.0, path="kept", reason=aside.failure.error)


_RECORD_COLUMNS = [f.name for f in fields(ClipRecord) if f.name not in ("tags", "assets")]
_KIND_ORDER = {kind: i for i, (kind, _) in enumerate(_KINDS + HLS_KINDS)}


def indexed_records(index: MediaIndex, game_id: str, period: str, event_ids: set[str]) -> list[ClipRecord]:
    """The index's clips of these events in the period, as the records that wrote them (row, tags, assets).

    Written back unchanged by the partition's write (an upsert of the same values), so they stay
    exactly as they were. The repository has no read of tags, so they are selected here.
    """
    rows = [r for r in index.clips(game_id, period) if r["event_id"] in event_ids]
    if not rows:
        return []
    ids = [r["clip_id"] for r in rows]
    assets = index.assets_of(ids)
    tags: dict[str, dict[str, str]] = {cid: {} for cid in ids}
    with index.engine.connect() as conn:
        for cid, tag, value in conn.execute(select(ClipTag.clip_id, ClipTag.tag, ClipTag.value)
                                            .where(ClipTag.clip_id.in_(ids))):
            tags[cid][tag] = value
    out = []
    for row in rows:
        cid = row["clip_id"]
        own = sorted((a for (c, _), a in assets.items() if c == cid), key=lambda a: _KIND_ORDER.get(a.kind, 99))
        out.append(ClipRecord(**{name: row[name] for name in _RECORD_COLUMNS}, tags=tags[cid], assets=tuple(own)))
    return out
