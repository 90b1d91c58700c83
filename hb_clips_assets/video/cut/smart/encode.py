"""The re-encoded head and tail: source packets decoded from an IDR (or the
clip's first keyframe), the wanted frames selected by timestamp and encoded
with libx264 under the cutter's settings, the source's colour tags, and SPS/PPS
ids of their own (x264 ``sps-id``) that differ from the source's, so that all
of them fit in the one ``avcC`` of the output. The tail's SPS also declares
the source's decoded picture buffer (see the package docstring).
"""
from __future__ import annotations

import logging
from fractions import Fraction

import av

from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.selection import encoder_frame, frame_index
from hb_clips_assets.video.cut.smart.packets import EncodedPart, Fallback, SourcePacket, SourceStream
from hb_clips_assets.video.cut.smart.thumbnail import Thumbnail
from hb_clips_assets.video.cut.types import EncodeSettings

log = logging.getLogger(__name__)

# x264 names of the colour tags FFmpeg reports (H.273 code points).
_MATRIX = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 4: "bt470m", 7: "smpte240m", 9: "bt2020nc"}
_TRANSFER = {1: "bt709", 6: "smpte170m", 4: "bt470m", 5: "bt470bg", 7: "smpte240m", 14: "bt2020-10",
             16: "smpte2084", 18: "arib-std-b67"}
_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 4: "bt470m", 7: "smpte240m", 9: "bt2020"}
_UNSPECIFIED = 2

# libx264's threads: PyAV asks for slice threads by default, under which each encode() call
# waits for its frame; frame threads take the frame and return, so the decode of the next
# one overlaps the encode (the FFmpeg CLI's naive cut runs them in parallel too).
ENCODE_THREAD_TYPE = "FRAME"


def same_picture_buffer(dpb: h264.DecodedPictureBuffer) -> list[str]:
    """x264 settings under which its SPS declares the source's picture buffer (reference
    frames, reorder depth), for the tail: a decoder may drop the pictures it still holds
    for reordering when an IDR switches to an SPS with another buffer (OpenH264 does).
    x264 derives the reorder depth from its B-frame settings, the buffer from ``ref``."""
    if dpb.max_num_reorder_frames is None:
        return []
    reorder = dpb.max_num_reorder_frames
    bframes = ["bframes=0"] if reorder == 0 else ["bframes=1", "b-pyramid=none"] if reorder == 1 else \
        ["bframes=3", "b-pyramid=normal"]
    return [f"ref={max(1, min(16, dpb.max_num_ref_frames))}", *bframes]


def new_encoder(stream: SourceStream, settings: EncodeSettings, sps_id: int, extra: list[str]):
    """An open libx264 encoder for one part, with the parameter-set id and the source's colour tags."""
    src, vctx = stream.info, stream.codec_context
    enc = av.CodecContext.create(settings.video_codec, "w")
    enc.thread_type = ENCODE_THREAD_TYPE
    enc.width, enc.height, enc.pix_fmt = src.width, src.height, settings.pix_fmt
    enc.time_base = 1 / Fraction(src.fps)
    enc.framerate = Fraction(src.fps)
    params = [f"sps-id={sps_id}", *extra]
    for key, value, table in (
        ("colorprim", getattr(vctx, "color_primaries", None), _PRIMARIES),
        ("transfer", getattr(vctx, "color_trc", None), _TRANSFER),
        ("colormatrix", getattr(vctx, "colorspace", None), _MATRIX),
    ):
        value = int(value) if value is not None else _UNSPECIFIED
        if value in table:
            params.append(f"{key}={table[value]}")
        elif value != _UNSPECIFIED:
            raise Fallback(f"unsupported colour tag {key}={value}")
    rng = getattr(vctx, "color_range", None)
    if rng is not None and int(rng) == 2:
        params.append("fullrange=on")
    enc.options = {"preset": settings.preset, "crf": str(settings.crf), "x264-params": ":".join(params),
                   "forced-idr": "1"}
    enc.open()
    return enc


def encode_range(stream: SourceStream, settings: EncodeSettings, pkts: list[SourcePacket], first: int, stop: int,
                 sps_id: int, thumbnail: Thumbnail, extra: list[str] = (), idr_at: int = 0) -> EncodedPart:
    """Re-encode the source frames [first, stop), decoding ``pkts`` (which start at an
    IDR or at the clip's first keyframe); the event frame, if among them, becomes the thumbnail.
    Pictures that nothing needs are not decoded: those outside the range that are no
    reference (unless it is the event frame: a tail decoded from before the event saves
    the thumbnail on the way). ``idr_at``: the range's frame that also starts an IDR (besides its first),
    so that the join after the range can be verified by decoding from there."""
    src = stream.info
    dec = stream.decoder()
    enc = new_encoder(stream, settings, sps_id, list(extra))
    out: list[tuple[bytes, int, bool]] = []
    sps: list[bytes] = []
    pps: list[bytes] = []
    written = 0

    def take(packets):
        for p in packets:
            body = bytearray()
            for nal in h264.annexb_nals(bytes(p)):
                kind = nal[0] & 0x1F
                if kind == h264.NAL_SPS:
                    sps.append(nal) if nal not in sps else None
                elif kind == h264.NAL_PPS:
                    pps.append(nal) if nal not in pps else None
                elif kind != h264.NAL_AUD:
                    body += h264.length_prefixed(nal)
            out.append((bytes(body), first + p.pts, p.is_keyframe))

    def frame_in(frame):
        nonlocal written
        index = frame_index(src, frame)
        if index == thumbnail.event:
            thumbnail.save(frame)
        if not first <= index < stop:
            return
        if index != first + written:
            raise Fallback(f"decoding for re-encode: expected frame {first + written}, got {index}")
        frame = encoder_frame(frame, written, enc.time_base, settings.pix_fmt)
        if idr_at and written == idr_at:
            frame.pict_type = av.video.frame.PictureType.I
        take(enc.encode(frame))
        written += 1

    for p in pkts:
        if written >= stop - first:
            break
        if not p.ref and not first <= p.index < stop and (thumbnail.done or p.index != thumbnail.event):
            continue  # a picture outside the range that no other picture references (nor the thumbnail)
        for frame in dec.decode(stream.packet(p)):
            frame_in(frame)
    if written < stop - first:
        for frame in dec.decode(None):
            frame_in(frame)
    take(enc.encode(None))
    if written != stop - first:
        raise Fallback(f"decoded {written} of {stop - first} frames of [{first}, {stop})")
    if not out or not out[0][2]:
        raise Fallback("re-encoded part does not start with a keyframe")
    if not sps or not pps:
        raise Fallback("the encoder emitted no in-band SPS/PPS")
    if any(h264.sps_id(s) != sps_id for s in sps) or any(h264.pps_ids(p) != (sps_id, sps_id) for p in pps):
        raise Fallback("x264 ignored sps-id")
    return EncodedPart(out, sps, pps)


def encode_tail(stream: SourceStream, settings: EncodeSettings, pkts: list[SourcePacket], x: int, end: int,
                sps_id: int, source_sps: bytes, thumbnail: Thumbnail) -> EncodedPart:
    """Re-encode [X, end) decoding ``pkts`` (from a random access point at or before X),
    declaring the source's picture buffer in the tail's SPS."""
    source_dpb = h264.sps_picture_buffer(source_sps)
    tail = encode_range(stream, settings, pkts, x, end, sps_id, thumbnail, same_picture_buffer(source_dpb))
    if h264.sps_picture_buffer(tail.sps[0]) != source_dpb:
        log.info("%s: the tail's picture buffer differs from the source's (%s vs %s); some decoders "
                 "(OpenH264) may drop the pictures held at the join", stream.info.path,
                 h264.sps_picture_buffer(tail.sps[0]), source_dpb)
    return tail


__all__ = ["same_picture_buffer", "new_encoder", "encode_range", "encode_tail"]
