"""Writing the MP4: the clip's packets in decode order (head, copied body,
tail), one ``avcC`` holding the source's and the re-encoded parts' parameter
sets, and timestamps rewritten so that both stay monotonic across the joins:
presentation time = the frame's index in the clip, decode time = the packet's
decode position minus one reorder delay for the whole clip. The MP4 muxer
turns the copied AAC's negative start into an edit list.
"""
from __future__ import annotations

from fractions import Fraction

import av

from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.smart.audio import ClipAudio
from hb_clips_assets.video.cut.smart.packets import EncodedPart, Fallback, SourcePacket
from hb_clips_assets.video.cut.types import EncodeSettings


def decode_order(head: EncodedPart | None, body: list[SourcePacket], tail: EncodedPart | None,
                 start: int, frames: int) -> list[tuple[bytes, int, bool]]:
    """(data, clip frame index, keyframe) of every packet of the clip in decode order."""
    order = [(d, i - start, key) for d, i, key in head.packets] if head is not None else []
    order += [(p.data, p.index - start, p.idr) for p in body]
    if tail is not None:
        order += [(d, i - start, key) for d, i, key in tail.packets]
    if sorted(i for _, i, _ in order) != list(range(frames)):
        raise Fallback("the parts do not add up to the clip's frames")
    return order


def add_parameter_sets(avcc: h264.AvcC, *parts: EncodedPart | None) -> None:
    """Add the re-encoded parts' SPS/PPS to the source's ``avcC`` (which holds several),
    its level and compatibility flags raised to cover them."""
    for part in parts:
        if part is not None:
            for nal in part.sps:
                avcc.level = max(avcc.level, nal[3])
                avcc.compat &= nal[2]
            avcc.sps += part.sps
            avcc.pps += part.pps
    if len(avcc.sps) > 31:
        raise Fallback("too many parameter sets")


def write_mp4(out, vin, avcc: bytes, order, audio: ClipAudio | None, settings: EncodeSettings, fps) -> None:
    """Mux the clip's video packets (``order``) and its audio into the opened output."""
    tb = 1 / Fraction(fps)
    vout = out.add_stream_from_template(vin)  # size, colour tags, aspect ratio; our avcC
    vout.time_base = tb
    vout.codec_context.extradata = avcc
    aout = None
    template, items = (audio.template, audio.items) if audio is not None else (None, [])
    if audio is not None:
        if template is not None:
            aout = out.add_stream_from_template(template)
        else:
            ctx = vin.container.streams.audio[0].codec_context
            aout = out.add_stream(settings.audio_codec, rate=ctx.sample_rate, layout=ctx.layout.name)
            aout.bit_rate = settings.audio_bitrate
            aout.codec_context.options = {"aac_coder": settings.aac_coder}
    delay = max(0, max(k - i for k, (_, i, _) in enumerate(order)))
    for k, (data, index, key) in enumerate(order):
        packet = av.Packet(data)
        packet.stream = vout
        packet.time_base = tb
        packet.pts = index
        packet.dts = k - delay
        packet.is_keyframe = key
        out.mux(packet)
    if aout is not None:
        if template is not None:
            for packet in items:
                packet.stream = aout
                out.mux(packet)
        else:
            for frame in items:
                out.mux(aout.encode(frame))
            out.mux(aout.encode(None))


__all__ = ["decode_order", "add_parameter_sets", "write_mp4"]
