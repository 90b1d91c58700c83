"""Smart cut: re-encode only the head and the tail of a clip, copy the rest.

    head  = source frames [start, K)  re-encoded (libx264, the cutter's settings)
    body  = source frames [K, X)      compressed packets copied as they are
    tail  = source frames [X, end)    re-encoded

K is the first IDR at or after ``start``. An IDR empties the decoder's picture
buffer, so nothing after it refers to anything before it: the body can start
there. The body is then the longest run of the source's packets, in decode
order from K, whose pictures are exactly the display frames [K, X) with
X <= end. Any decode-order run from an IDR is self-contained (a picture can only
refer to pictures decoded before it), and "exactly [K, X)" means no picture is
missing or extra. With B-frames, such runs end after every anchor picture's
mini-GOP, so the re-encoded tail is a few frames, not the rest of a GOP.
Open-GOP I-frames (recovery points) never start a body.

Parameter sets: the re-encoded parts get their own SPS/PPS ids (x264
``sps-id``), distinct from the source's, and every SPS/PPS goes into the one
``avcC`` of the MP4 sample entry (an ``avcC`` holds several). Each slice names
its PPS, each IDR may switch the active SPS, so decoders need nothing in-band.
The tail is encoded so that its SPS declares the source's decoded picture
buffer (reference frames, reorder depth): when an IDR switches to an SPS whose
buffer differs, a decoder may infer "no output of prior pictures" and drop the
pictures it still holds for reordering. OpenH264 does (it lost the last 2 body
frames before every tail); FFmpeg does not. The head needs no such care: it has
no B-frames, so nothing is held when the body's IDR comes.

Audio (AAC) is copied too: the source's packets that cover the clip plus the
one before (the AAC decoder needs the previous frame's overlap), re-stamped so
the clip's first sample is at time 0; the MP4 muxer turns the negative start
into an edit list, so players start on the exact sample. Other audio codecs
are decoded and encoded to AAC as :func:`cut.cut_clip` does.

Timestamps are rewritten: presentation time = the frame's index in the clip,
decode time = the packet's decode position minus one reorder delay for the
whole clip, so both stay monotonic across the joins.

The output is decoded around the joins before returning (frame count,
consecutive timestamps, frame marks when the source carries them); whenever
the source is unusual or anything does not check out, :func:`cut.cut_clip`
(full re-encode) is used instead and the result says so (``path``, ``reason``).
"""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.full import CutError, CutResult, EncodeSettings, _AudioTrim, cut_clip
from hb_clips_assets.video.framemark import read_frame_mark_from_av_frame
from hb_clips_assets.video.probe import VideoInfo

log = logging.getLogger(__name__)

# Copied packets decoded after the head's join when verifying only the joins.
VERIFY_AFTER_JOIN = 8

# x264 names of the colour tags FFmpeg reports (H.273 code points).
_MATRIX = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 4: "bt470m", 7: "smpte240m", 9: "bt2020nc"}
_TRANSFER = {1: "bt709", 6: "smpte170m", 4: "bt470m", 5: "bt470bg", 7: "smpte240m", 14: "bt2020-10",
             16: "smpte2084", 18: "arib-std-b67"}
_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 4: "bt470m", 7: "smpte240m", 9: "bt2020"}
_UNSPECIFIED = 2


@dataclass(frozen=True)
class SmartCutResult(CutResult):
    path: str = "full"  # "smart" (head/tail re-encoded, body copied) or "full" (cut.cut_clip)
    reason: str | None = None  # why the full re-encode was used
    copied_frames: int = 0
    reencoded_frames: int = 0


class _Fallback(Exception):
    """The smart path cannot guarantee a correct clip; use the full re-encode."""


def smart_cut_clip(
    source: VideoInfo,
    start_frame: int,
    end_frame: int,
    event_frame: int,
    out_dir: Path,
    settings: EncodeSettings = EncodeSettings(),
    *,
    verify: str = "joins",
) -> SmartCutResult:
    """Like :func:`cut.cut_clip` (same files, same guarantees), faster where the
    source has an IDR frame inside the clip.

    ``verify``: ``"joins"`` (default) decodes the output around both joins (the
    head and the first copied packets; the last copied GOP and the tail) and
    checks every picture's timestamp and frame mark; ``"full"`` decodes the
    whole output; ``"none"`` trusts the construction. Any mismatch: full re-encode."""
    if not 0 <= start_frame < end_frame <= source.frame_count:
        raise CutError(
            f"{source.path}: frame range [{start_frame}, {end_frame}) is outside the video's 0..{source.frame_count}"
        )
    if not start_frame <= event_frame < end_frame:
        raise CutError(f"{source.path}: event frame {event_frame} is outside [{start_frame}, {end_frame})")
    if verify not in ("joins", "full", "none"):
        raise ValueError(f"verify must be 'joins', 'full' or 'none', not {verify!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reason = _unsupported(source, settings)
    if reason is None:
        fd, mp4_name = tempfile.mkstemp(prefix=".cut-", suffix=".mp4", dir=out_dir)
        os.close(fd)
        fd, jpg_name = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=out_dir)
        os.close(fd)
        mp4_path, jpg_path = Path(mp4_name), Path(jpg_name)
        try:
            job = _SmartCut(source, start_frame, end_frame, event_frame, mp4_path, jpg_path, settings)
            job.run(verify)
            return SmartCutResult(
                mp4_path, jpg_path, job.frames, job.audio_samples,
                source.audio_sample_rate if job.audio_samples else None,
                path="smart", copied_frames=job.copied, reencoded_frames=job.frames - job.copied,
            )
        except _Fallback as exc:
            reason = str(exc)
        except (av.error.FFmpegError, ValueError, CutError) as exc:  # h264.H264Error is a ValueError
            reason = f"smart cut failed: {type(exc).__name__}: {exc}"
        except BaseException:
            mp4_path.unlink(missing_ok=True)
            jpg_path.unlink(missing_ok=True)
            raise
        mp4_path.unlink(missing_ok=True)
        jpg_path.unlink(missing_ok=True)
    log.info("%s [%d, %d): full re-encode (%s)", source.path, start_frame, end_frame, reason)
    full = cut_clip(source, start_frame, end_frame, event_frame, out_dir, settings)
    return SmartCutResult(
        full.mp4_path, full.thumbnail_path, full.frames, full.audio_samples, full.audio_sample_rate,
        path="full", reason=reason, reencoded_frames=full.frames,
    )


def _unsupported(source: VideoInfo, settings: EncodeSettings) -> str | None:
    if source.codec != "h264":
        return f"source codec {source.codec} is not H.264"
    if settings.video_codec != "libx264":
        return f"encoder {settings.video_codec} is not libx264"
    if source.pix_fmt != settings.pix_fmt:
        return f"source pixel format {source.pix_fmt} differs from the output's {settings.pix_fmt}"
    if not source.path.lower().endswith((".mp4", ".mov", ".m4v")):
        return "source is not MP4/MOV (no avcC)"
    return None


def _same_picture_buffer(dpb: h264.DecodedPictureBuffer) -> list[str]:
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


@dataclass
class _Pkt:
    data: bytes
    index: int  # display index in the source
    idr: bool
    ref: bool  # a reference picture (nal_ref_idc of a slice is not 0)


@dataclass
class _Part:
    packets: list[tuple[bytes, int, bool]]  # (length-prefixed data, source display index, keyframe)
    sps: list[bytes]
    pps: list[bytes]


@dataclass(frozen=True)
class _Plan:
    body_from: int  # position (decode order) of the body's first packet, the IDR at display index K
    body_to: int  # position after the body's last packet
    k: int  # display index of the body's first frame
    x: int  # display index after the body's last frame


def plan_body(pkts: list[_Pkt], start: int, end: int) -> _Plan:
    """The body to copy: from the first IDR in [start, end), the longest run of
    packets (decode order) whose frames are exactly the display frames [K, X), X <= end."""
    first = next((i for i, p in enumerate(pkts) if p.idr and start <= p.index < end), None)
    if first is None:
        raise _Fallback("no IDR frame inside the clip")
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
        raise _Fallback("no run of packets from the IDR covers whole frames inside the clip")
    return _Plan(first, best, k, k + (best - first))


class _SmartCut:
    def __init__(self, source, start, end, event, mp4_path, jpg_path, settings):
        self.source, self.start, self.end, self.event = source, start, end, event
        self.mp4_path, self.jpg_path, self.settings = mp4_path, jpg_path, settings
        self.frames = end - start
        self.copied = 0
        self.audio_samples = 0
        self.thumbnail_done = False

    def run(self, verify: str) -> None:
        src = self.source
        with av.open(src.path) as inp:
            vin = inp.streams.video[0]
            self.extradata, self.time_base = vin.codec_context.extradata, vin.time_base
            avcc = h264.AvcC.parse(bytes(self.extradata or b""))
            if avcc.length_size != 4:
                raise _Fallback(f"NAL length size {avcc.length_size}")
            pkts = self._read_packets(inp, vin)
            plan = plan_body(pkts, self.start, self.end)
            self.copied = plan.x - plan.k
            free = [i for i in range(32) if i not in avcc.used_ids()]
            head = tail = None
            if plan.k > self.start:
                head = self._encode_range(pkts[: plan.body_from], self.start, plan.k, free[0], vin)
            if plan.x < self.end:
                # Decode from the last IDR at or before X (frames before X that nothing refers to are skipped).
                idr = max(i for i in range(plan.body_from, plan.body_to + 1) if i < len(pkts) and pkts[i].idr
                          and pkts[i].index <= plan.x)
                source_dpb = h264.sps_picture_buffer(avcc.sps[0])
                tail = self._encode_range(pkts[idr:], plan.x, self.end, free[1], vin, _same_picture_buffer(source_dpb))
                if h264.sps_picture_buffer(tail.sps[0]) != source_dpb:
                    log.info("%s: the tail's picture buffer differs from the source's (%s vs %s); some decoders "
                             "(OpenH264) may drop the pictures held at the join", src.path,
                             h264.sps_picture_buffer(tail.sps[0]), source_dpb)
            body = pkts[plan.body_from : plan.body_to]
            order = self._decode_order(head, body, tail)
            for part in (head, tail):
                if part is not None:
                    for nal in part.sps:
                        avcc.level = max(avcc.level, nal[3])
                        avcc.compat &= nal[2]
                    avcc.sps += part.sps
                    avcc.pps += part.pps
            if len(avcc.sps) > 31:
                raise _Fallback("too many parameter sets")
            audio = self._audio(inp) if src.has_audio else None
            with av.open(str(self.mp4_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                self._mux(out, vin, avcc.build(), order, audio)
        self._check(verify, head, body, tail, pkts)

    # -- plan
    def _read_packets(self, inp, vin) -> list[_Pkt]:
        """Source packets in decode order from the keyframe at or before the start
        up to (not including) the first IDR at or after the end."""
        src = self.source
        inp.seek(src.pts[src.keyframe_at_or_before(self.start)], stream=vin, backward=True, any_frame=False)
        pkts: list[_Pkt] = []
        for packet in inp.demux(vin):
            if packet.size == 0 or packet.pts is None:
                continue
            data = bytes(packet)
            index = src.frame_index_of_pts(packet.pts)
            idr = packet.is_keyframe and h264.is_idr(data)
            if idr and index >= self.end and pkts:
                break
            pkts.append(_Pkt(data, index, idr, h264.is_reference(data)))
        return pkts

    def _decode_order(self, head, body, tail) -> list[tuple[bytes, int, bool]]:
        """(data, clip frame index, keyframe) of every packet of the clip in decode order."""
        order = [(d, i - self.start, key) for d, i, key in head.packets] if head is not None else []
        order += [(p.data, p.index - self.start, p.idr) for p in body]
        if tail is not None:
            order += [(d, i - self.start, key) for d, i, key in tail.packets]
        if sorted(i for _, i, _ in order) != list(range(self.frames)):
            raise _Fallback("the parts do not add up to the clip's frames")
        return order

    # -- re-encode a range that starts at an IDR or at the clip start
    def _encoder(self, sps_id: int, vctx, extra: list[str]):
        src, settings = self.source, self.settings
        enc = av.CodecContext.create(settings.video_codec, "w")
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
                raise _Fallback(f"unsupported colour tag {key}={value}")
        rng = getattr(vctx, "color_range", None)
        if rng is not None and int(rng) == 2:
            params.append("fullrange=on")
        enc.options = {"preset": settings.preset, "crf": str(settings.crf), "x264-params": ":".join(params)}
        enc.open()
        return enc

    def _encode_range(self, pkts: list[_Pkt], first: int, stop: int, sps_id: int, vin,
                      extra: list[str] = ()) -> _Part:
        src, settings = self.source, self.settings
        # No frame threading for decoders fed packets made from Python bytes: a decoder
        # thread releasing such a packet needs the GIL, which the thread waiting in
        # decode() holds (a deadlock, seen under two parallel cuts).
        dec = av.CodecContext.create("h264", "r")
        dec.extradata = self.extradata
        enc = self._encoder(sps_id, vin.codec_context, list(extra))
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
            index = src.frame_index_of_pts(frame.pts if frame.pts is not None else frame.dts)
            if not first <= index < stop:
                return
            if index != first + written:
                raise _Fallback(f"decoding for re-encode: expected frame {first + written}, got {index}")
            if index == self.event:
                self._save_thumbnail(frame)
            if frame.format.name != settings.pix_fmt:
                frame = frame.reformat(format=settings.pix_fmt)
            frame.pts = written
            frame.time_base = enc.time_base
            frame.pict_type = av.video.frame.PictureType.NONE
            take(enc.encode(frame))
            written += 1

        for p in pkts:
            if written >= stop - first:
                break
            if p.index < first and not p.ref:
                continue  # a picture before the range that no other picture references
            for frame in dec.decode(self._packet(p)):
                frame_in(frame)
        if written < stop - first:
            for frame in dec.decode(None):
                frame_in(frame)
        take(enc.encode(None))
        if written != stop - first:
            raise _Fallback(f"decoded {written} of {stop - first} frames of [{first}, {stop})")
        if not out or not out[0][2]:
            raise _Fallback("re-encoded part does not start with a keyframe")
        if not sps or not pps:
            raise _Fallback("the encoder emitted no in-band SPS/PPS")
        if any(h264.sps_id(s) != sps_id for s in sps) or any(h264.pps_ids(p) != (sps_id, sps_id) for p in pps):
            raise _Fallback("x264 ignored sps-id")
        return _Part(out, sps, pps)

    def _packet(self, p: _Pkt) -> av.Packet:
        packet = av.Packet(p.data)
        packet.pts = self.source.pts[p.index]
        packet.time_base = self.time_base
        return packet

    # -- audio
    def _audio(self, inp) -> tuple[object, list]:
        """The clip's audio: (the source stream as template, its AAC packets to copy),
        or (None, decoded frames to encode) for other codecs or audio that does not cover the clip."""
        ain = inp.streams.audio[0]
        if ain.codec_context.name == "aac":
            packets = self._copy_aac(inp, ain)
            if packets is not None:
                return ain, packets
        return None, self._encode_audio(inp, ain)

    def _clip_span(self) -> tuple[Fraction, Fraction]:
        t0 = self.source.pts_seconds(self.start)
        return t0, t0 + self.frames / Fraction(self.source.fps)

    def _copy_aac(self, inp, ain) -> list[av.Packet] | None:
        """The source's AAC packets covering the clip (and the one before), re-stamped;
        None when the audio does not cover the clip (the encoder path pads with silence)."""
        tb = Fraction(ain.time_base)
        t0, t1 = self._clip_span()
        base, stop = round(t0 / tb), round(t1 / tb)
        inp.seek(max(0, int((t0 - 1) / tb)), stream=ain, backward=True)
        kept: list[av.Packet] = []
        previous = None
        for packet in inp.demux(ain):
            if packet.pts is None or packet.size == 0:
                continue
            if packet.pts >= stop:
                break
            if not packet.duration:
                return None
            if packet.pts + packet.duration <= base:
                previous = packet
                continue
            if not kept:
                if previous is None or packet.pts > base:
                    return None  # no packet before the clip's first sample, or a gap
                kept.append(previous)
            kept.append(packet)
        if not kept or kept[-1].pts + kept[-1].duration < stop:
            return None  # the audio ends before the clip
        for packet in kept:
            packet.pts -= base
            packet.dts = packet.pts
        kept[-1].duration = stop - (kept[-1].pts + base)
        self.audio_samples = round((t1 - t0) * ain.codec_context.sample_rate)
        return kept

    def _encode_audio(self, inp, ain) -> list:
        """The clip's exact samples, decoded from the source (encoded when muxing)."""
        rate = ain.codec_context.sample_rate
        t0, t1 = self._clip_span()
        audio = _AudioTrim(t0, round((t1 - t0) * rate), rate, ain.codec_context.layout.name)
        # A little before the start: the AAC decoder needs the previous frame's overlap.
        inp.seek(int(max(Fraction(0), t0 - Fraction(1, 5)) / ain.time_base), stream=ain, backward=True)
        for packet in inp.demux(ain):
            for frame in packet.decode():
                audio.feed(frame)
            if audio.complete:
                break
        frames = list(audio.frames())
        self.audio_samples = sum(f.samples for f in frames)
        return frames

    # -- write the MP4
    def _mux(self, out, vin, avcc: bytes, order, audio) -> None:
        tb = 1 / Fraction(self.source.fps)
        vout = out.add_stream_from_template(vin)  # size, colour tags, aspect ratio; our avcC
        vout.time_base = tb
        vout.codec_context.extradata = avcc
        aout = None
        template, items = audio if audio is not None else (None, [])
        if audio is not None:
            if template is not None:
                aout = out.add_stream_from_template(template)
            else:
                ctx = vin.container.streams.audio[0].codec_context
                aout = out.add_stream(self.settings.audio_codec, rate=ctx.sample_rate, layout=ctx.layout.name)
                aout.bit_rate = self.settings.audio_bitrate
                aout.codec_context.options = {"aac_coder": self.settings.aac_coder}
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

    # -- thumbnail
    def _save_thumbnail(self, frame) -> None:
        if not self.thumbnail_done:
            frame.to_image().save(self.jpg_path, format="JPEG", quality=self.settings.thumbnail_quality)
            self.thumbnail_done = True

    def _thumbnail_from_packets(self, pkts: list[_Pkt]) -> None:
        """Decode the event frame from the source packets already read (from the last IDR before it)."""
        idr = max((i for i, p in enumerate(pkts) if p.idr and p.index <= self.event), default=None)
        if idr is None:
            raise _Fallback("no IDR before the event frame")
        dec = av.CodecContext.create("h264", "r")
        dec.extradata = self.extradata
        for p in pkts[idr:] + [None]:
            if p is not None and p.index < self.event and not p.ref:
                continue
            for frame in dec.decode(self._packet(p) if p is not None else None):
                if self.source.frame_index_of_pts(frame.pts) == self.event:
                    self._save_thumbnail(frame)
                    return
        raise _Fallback("event frame not decoded")

    # -- read it back
    def _check(self, verify, head, body, tail, pkts) -> None:
        n = self.frames
        h = len(head.packets) if head is not None else 0
        if verify == "full":
            windows = [(0, n)]
        elif verify == "joins":
            # The head and the first packets of the body after it (the join), and the tail
            # from its own IDR. The body's packets are the source's, in the source's decode
            # order from an IDR: checked by count and timestamps, not decoded again.
            windows = [(0, min(n, h + VERIFY_AFTER_JOIN))]
            if tail is not None:
                tail_from = n - len(tail.packets)
                if tail_from <= windows[0][1]:
                    windows = [(0, n)]
                else:
                    windows.append((tail_from, n))
        else:
            windows = []
        if windows:
            self._verify(windows)
        if not self.thumbnail_done:
            self._thumbnail_from_packets(pkts)

    def _verify(self, windows: list[tuple[int, int]]) -> None:
        """Decode the output's packets in each ``[a, b)`` window of decode positions
        (each starts at an IDR) with a fresh decoder; every picture must come out,
        in order, with the timestamp and (if the source has them) the frame mark
        of the right source frame. The copied packets outside the windows are the
        source's own and need no check."""
        fps = Fraction(self.source.fps)
        with av.open(str(self.mp4_path)) as inp:
            vs = inp.streams.video[0]
            tb = Fraction(vs.time_base)
            extradata = vs.codec_context.extradata
            packets = [p for p in inp.demux(vs) if p.size]
        if len(packets) != self.frames:
            raise _Fallback(f"verify: the output holds {len(packets)} of {self.frames} frames")
        pts0 = min(p.pts for p in packets)
        index_of = [round((p.pts - pts0) * tb * fps) for p in packets]
        if sorted(index_of) != list(range(self.frames)):
            raise _Fallback("verify: the output's timestamps are not the clip's frames")
        marks: bool | None = None
        for a, b in windows:
            dec = av.CodecContext.create("h264", "r")
            dec.extradata = extradata
            dec.options = {"err_detect": "explode"}
            expected = iter(sorted(index_of[a:b]))
            got = 0

            def check(frame):
                nonlocal marks, got
                want = next(expected, None)
                i = round((frame.pts - pts0) * tb * fps)
                if i != want:
                    raise _Fallback(f"verify: expected clip frame {want}, decoded {i}")
                if (frame.width, frame.height) != (self.source.width, self.source.height):
                    raise _Fallback("verify: frame size changed")
                if marks is None:
                    try:
                        read_frame_mark_from_av_frame(frame)
                        marks = True
                    except ValueError:
                        marks = False  # a source without frame marks
                if marks and read_frame_mark_from_av_frame(frame) != self.start + i:
                    raise _Fallback(f"verify: clip frame {i} carries the wrong frame mark")
                if self.start + i == self.event:
                    self._save_thumbnail(frame)
                got += 1

            for packet in packets[a:b]:
                for frame in dec.decode(packet):
                    check(frame)
            for frame in dec.decode(None):
                check(frame)
            if got != b - a:
                raise _Fallback(f"verify: decoded {got} of the {b - a} frames of packets [{a}, {b})")


__all__ = ["SmartCutResult", "smart_cut_clip"]
