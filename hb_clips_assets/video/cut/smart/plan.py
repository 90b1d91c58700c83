"""Which part of the clip can be copied: whether the source suits the smart cut
at all, the source's packets around the clip (demuxed once, in decode order),
and the body, the longest run of them that can be copied as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.smart.packets import Fallback, SourcePacket
from hb_clips_assets.video.cut.types import EncodeSettings
from hb_clips_assets.video.probe import VideoInfo


def unsupported(source: VideoInfo, settings: EncodeSettings) -> str | None:
    """Why the smart cut cannot even be tried on this source with these settings, or None."""
    if source.codec != "h264":
        return f"source codec {source.codec} is not H.264"
    if settings.video_codec != "libx264":
        return f"encoder {settings.video_codec} is not libx264"
    if source.pix_fmt != settings.pix_fmt:
        return f"source pixel format {source.pix_fmt} differs from the output's {settings.pix_fmt}"
    if not source.path.lower().endswith((".mp4", ".mov", ".m4v")):
        return "source is not MP4/MOV (no avcC)"
    if source.hidden_inside:
        # Hidden leading frames are safe (they come before any body IDR and the re-encoded head
        # skips them by timestamp), but frames an edit list hides between shown ones would be
        # copied into the body, and the clip has no edit list to hide them again.
        return (f"the source's edit list hides {source.hidden_inside} frames after its first shown frame "
                "(a cut inside the stream); copied packets would show them")
    return None


def read_packets(inp, vin, source: VideoInfo, start: int, end: int) -> list[SourcePacket]:
    """Source packets in decode order from the keyframe at or before the start up to the
    first random access point (IDR or recovery point) at or after the end, and its leading
    pictures (they may be frames of the clip: open GOP). Packets of frames hidden
    before frame 0 (an edit list starting between keyframes) come with negative indices:
    the head decodes them as references and never encodes them."""
    inp.seek(source.pts[source.keyframe_at_or_before(start)], stream=vin, backward=True, any_frame=False)
    pkts: list[SourcePacket] = []
    last_rap: int | None = None  # display index of the random access point at or after the end
    for packet in inp.demux(vin):
        if packet.size == 0 or packet.pts is None:
            continue
        data = bytes(packet)
        index = source.frame_index_of_pts(packet.pts)
        idr = packet.is_keyframe and h264.is_idr(data)
        rap = idr or (packet.is_keyframe and h264.is_recovery_point(data))
        if last_rap is not None and (index > last_rap or idr):
            break  # past the leading pictures of the last random access point
        if rap and index >= end and pkts:
            last_rap = index
        pkts.append(SourcePacket(data, index, idr, h264.is_reference(data), rap))
    return pkts


def first_splice(pkts: list[SourcePacket], start: int, end: int) -> int | None:
    """Position (decode order) of the first random access point inside [start, end)."""
    return next((i for i, p in enumerate(pkts) if p.rap and start <= p.index < end), None)


@dataclass(frozen=True)
class BodyPlan:
    body_from: int  # position (decode order) of the body's first packet, the IDR at display index K
    body_to: int  # position after the body's last packet
    k: int  # display index of the body's first frame
    x: int  # display index after the body's last frame


def plan_body(pkts: list[SourcePacket], start: int, end: int, first: int | None = None) -> BodyPlan:
    """The body to copy: from the IDR at position ``first`` (default: the first IDR in
    [start, end)), the longest run of packets (decode order) whose frames are exactly the
    display frames [K, X), X <= end."""
    if first is None:
        first = next((i for i, p in enumerate(pkts) if p.idr and start <= p.index < end), None)
    if first is None:
        raise Fallback("no IDR frame inside the clip")
    k = pkts[first].index
    best, count, top, seen = first, 0, k - 1, set()
    for pos in range(first, len(pkts)):
        index = pkts[pos].index
        if index >= end or index < k or index in seen:
            break  # every longer run holds this frame too
        seen.add(index)
        count += 1
        top = max(top, index)
        if top - k + 1 == count:
            best = pos + 1
    if best == first:
        raise Fallback("no run of packets from the IDR covers whole frames inside the clip")
    return BodyPlan(first, best, k, k + (best - first))


def tail_source(pkts: list[SourcePacket], seq: list[SourcePacket], plan: BodyPlan,
                event: int | None = None) -> list[SourcePacket]:
    """The packets the tail decodes: from the last random access point at or before X, or,
    when none lies between ``event`` (a frame of the body) and X, from the last one at or
    before the event, so that the same decode shows the thumbnail on the way (decoding on
    from an earlier point costs more than a separate short decode of the event frame).
    A later one of the source's (``pkts``) when there is one after the body's first frame K,
    else the body's own start (``seq``, where a recovery point is rewritten as an IDR)."""
    raps = [i for i, p in enumerate(pkts) if p.rap and plan.k < p.index <= plan.x]
    upto = plan.x
    if event is not None and plan.k <= event < plan.x and not (raps and pkts[raps[-1]].index > event):
        upto = event
        raps = [i for i in raps if pkts[i].index <= event]
    if raps:
        return pkts[raps[-1] :]
    idr = max(i for i in range(plan.body_from, plan.body_to + 1) if i < len(seq) and seq[i].idr
              and seq[i].index <= upto)
    return seq[idr:]


__all__ = ["unsupported", "read_packets", "first_splice", "BodyPlan", "plan_body", "tail_source"]
