"""What the smart cut's stages hand each other: the source's packets, the
source's video stream, the re-encoded parts, and the signal to fall back to
the full re-encode. Every stage module imports these from here, none from
another stage.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av

from hb_clips_assets import settings

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

    def decoder(self, threads: int | None = None) -> av.CodecContext:
        """A decoder of the source's video with frame threads (``threads`` of them, default
        :func:`decode_threads`). Safe because :meth:`packet` hands it packets whose data
        FFmpeg allocated: a packet made from Python bytes is freed by a callback that takes
        the GIL, from whichever decoder thread drops the last reference (a deadlock was
        seen with two parallel cuts when the decoder was fed such packets)."""
        dec = av.CodecContext.create("h264", "r")
        dec.extradata = self.extradata
        count = decode_threads() if threads is None else threads
        if count > 1:
            dec.thread_type = "FRAME"
            dec.thread_count = count
        return dec

    def packet(self, p: SourcePacket) -> av.Packet:
        """A source packet as a decoder takes it, stamped with its source timestamp; its
        data is a copy in a buffer of FFmpeg's own (no Python object behind it)."""
        packet = av.Packet(len(p.data))
        packet.update(p.data)
        packet.pts = self.info.pts_of(p.index)  # a negative index is a hidden leading frame
        packet.time_base = self.time_base
        return packet


def decode_threads() -> int:
    """Frame threads for the smart cut's decoders: ``HB_DECODE_THREADS`` if set (not 0), else
    the CPU cores this process may run on (the ``ffmpeg`` pool runs one cut per core; a cut
    that runs alone gets them all, and threads of parallel cuts share the cores)."""
    wanted = settings.value("HB_DECODE_THREADS")
    if wanted:
        return wanted
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


__all__ = ["Fallback", "SourcePacket", "EncodedPart", "SourceStream", "decode_threads"]
