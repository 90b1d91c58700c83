"""What the smart cut's stages hand each other: the source's packets, the
source's video stream, the re-encoded parts, and the signal to fall back to
the full re-encode. Every stage module imports these from here, none from
another stage.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av

from hb_clips_assets.video.probe import VideoInfo


class Fallback(Exception):
    """The smart path cannot guarantee a correct clip; use the full re-encode."""


@dataclass
class SourcePacket:
    data: bytes
    index: int  # display index in the source (negative: a hidden leading frame, decoded but never shown)
    idr: bool
    ref: bool  # a reference picture (nal_ref_idc of a slice is not 0)
    rap: bool = False  # a random access point: an IDR, or an I picture with an exact recovery point SEI


@dataclass
class EncodedPart:
    packets: list[tuple[bytes, int, bool]]  # (length-prefixed data, source display index, keyframe)
    sps: list[bytes]
    pps: list[bytes]


@dataclass(frozen=True, eq=False)
class SourceStream:
    """The source's video stream as read once when the source is opened: the
    decoder's parameter sets (``avcC``), the packets' time base and the codec
    context (its colour tags go to the re-encoded parts)."""

    info: VideoInfo
    extradata: bytes | None
    time_base: Fraction
    codec_context: av.CodecContext

    def decoder(self) -> av.CodecContext:
        # No frame threading for decoders fed packets made from Python bytes: a decoder
        # thread releasing such a packet needs the GIL, which the thread waiting in
        # decode() holds (a deadlock, seen under two parallel cuts).
        dec = av.CodecContext.create("h264", "r")
        dec.extradata = self.extradata
        return dec

    def packet(self, p: SourcePacket) -> av.Packet:
        """A source packet as a decoder takes it, stamped with its source timestamp."""
        packet = av.Packet(p.data)
        packet.pts = self.info.pts_of(p.index)  # a negative index is a hidden leading frame
        packet.time_base = self.time_base
        return packet


__all__ = ["Fallback", "SourcePacket", "EncodedPart", "SourceStream"]
