"""The smart cut's thumbnail: the event frame, saved from whichever stage
decodes it first (the head or tail re-encode, or the verification), else
decoded from the source packets already read once the clip is written.
"""
from __future__ import annotations

from pathlib import Path

from hb_clips_assets.video.cut.selection import save_thumbnail
from hb_clips_assets.video.cut.smart.packets import Fallback, SourcePacket, SourceStream


class Thumbnail:
    def __init__(self, path: Path, quality: int, event: int):
        self.path, self.quality, self.event = path, quality, event
        self.done = False

    def save(self, frame) -> None:
        if not self.done:
            save_thumbnail(frame, self.path, self.quality)
            self.done = True

    def from_packets(self, stream: SourceStream, pkts: list[SourcePacket], since: int | None = None) -> None:
        """Decode the event frame from the source packets already read: from the last IDR
        before it, or with ``since`` (the body's first frame), from the last random access
        point in [since, event] (a recovery point shows every picture from it on exactly)."""
        if since is None:
            idr = max((i for i, p in enumerate(pkts) if p.idr and p.index <= self.event), default=None)
        else:
            idr = max((i for i, p in enumerate(pkts) if p.rap and since <= p.index <= self.event), default=None)
        if idr is None:
            raise Fallback("no IDR before the event frame")
        dec = stream.decoder()
        for p in pkts[idr:] + [None]:
            if p is not None and p.index < self.event and not p.ref:
                continue
            for frame in dec.decode(stream.packet(p) if p is not None else None):
                if stream.info.frame_index_of_pts(frame.pts) == self.event:
                    self.save(frame)
                    return
        raise Fallback("event frame not decoded")


__all__ = ["Thumbnail"]
