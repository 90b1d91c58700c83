"""Smart cut: re-encode only the head and the tail of a clip, copy the rest.

    head  = source frames [start, K1)   re-encoded (libx264, the cutter's settings)
    body  = source frames [K1, K2)      compressed packets copied as they are
    tail  = source frames [K2, end)     re-encoded

K1 is the first IDR at or after ``start`` and K2 the last IDR at or before
``end`` (display indices). An IDR empties the decoder's picture buffer, so the
packets between two IDRs (decode order) are exactly the frames between them
(display order) and reference nothing outside: a clean splice point. Open-GOP
I-frames (recovery points) are never used.

Parameter sets: the re-encoded parts get their own SPS/PPS ids (x264
``sps-id``), distinct from the source's, and every SPS/PPS goes into the one
``avcC`` of the MP4 sample entry (an ``avcC`` holds several). Each slice names
its PPS, each IDR may switch the active SPS, so decoders need nothing in-band.

Timestamps are rewritten: presentation time = the frame's index in the clip,
decode time = the packet's decode position minus one reorder delay for the
whole clip, so both stay monotonic across the joins.

The output is decoded before returning (frame count, consecutive timestamps,
frame marks when the source carries them); whenever the source is unusual or
anything does not check out, :func:`cut.cut_clip` (full re-encode) is used
instead and the result says so (``path`` and ``reason``).
"""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .cut import CutError, CutResult, EncodeSettings, _AudioTrim, cut_clip
from .framemark import read_frame_mark_from_av_frame
from .probe import VideoInfo

log = logging.getLogger(__name__)

# Copied packets decoded after the head's join when verifying only the joins.
VERIFY_AFTER_JOIN = 24



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
    source has IDR frames inside the clip.

    ``verify``: ``"joins"`` (default) decodes the output around both joins (the
    head, the first copied packets, the last copied GOP and the tail) and checks
    every picture's timestamp and frame mark; ``"full"`` decodes the whole
    output; ``"none"`` trusts the construction. Any mismatch: full re-encode."""
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
        except (av.error.FFmpegError, ValueError, CutError) as exc:
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


# ---------------------------------------------------------------- H.264 bits


class _Bits:
    def __init__(self, data: bytes):
        self.data, self.pos = _unescape(data), 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)


def _unescape(data: bytes) -> bytes:
    return data.replace(b"\x00\x00\x03", b"\x00\x00") if b"\x00\x00\x03" in data else data


def _sps_id(sps: bytes) -> int:
    bits = _Bits(sps[4:])  # after the NAL header, profile_idc, constraint flags, level_idc
    return bits.ue()


def _pps_ids(pps: bytes) -> tuple[int, int]:
    bits = _Bits(pps[1:])
    return bits.ue(), bits.ue()


@dataclass
class _AvcC:
    profile: int
    compat: int
    level: int
    length_size: int
    sps: list[bytes]
    pps: list[bytes]
    ext: bytes  # the High-profile tail (chroma format, bit depths, SPS extensions)

    @classmethod
    def parse(cls, data: bytes) -> "_AvcC":
        if len(data) < 7 or data[0] != 1:
            raise _Fallback("source has no avcC (Annex B or missing extradata)")
        pos = 6
        sps, pps = [], []
        for _ in range(data[5] & 0x1F):
            n = int.from_bytes(data[pos : pos + 2], "big")
            sps.append(bytes(data[pos + 2 : pos + 2 + n]))
            pos += 2 + n
        for _ in range(data[pos]):
            n = int.from_bytes(data[pos + 1 : pos + 3], "big")
            pps.append(bytes(data[pos + 3 : pos + 3 + n]))
            pos += 2 + n
        pos += 1
        return cls(data[1], data[2], data[3], (data[4] & 3) + 1, sps, pps, bytes(data[pos:]))

    def build(self) -> bytes:
        out = bytearray([1, self.profile, self.compat, self.level, 0xFC | (self.length_size - 1), 0xE0 | len(self.sps)])
        for s in self.sps:
            out += len(s).to_bytes(2, "big") + s
        out.append(len(self.pps))
        for p in self.pps:
            out += len(p).to_bytes(2, "big") + p
        return bytes(out) + self.ext


def _nal_units(packet: bytes, length_size: int):
    pos = 0
    while pos + length_size <= len(packet):
        n = int.from_bytes(packet[pos : pos + length_size], "big")
        pos += length_size
        yield packet[pos : pos + n]
        pos += n


def _is_idr(packet: bytes, length_size: int) -> bool:
    return any(nal and nal[0] & 0x1F == 5 for nal in _nal_units(packet, length_size))


def _is_reference(packet: bytes, length_size: int) -> bool:
    """True unless every slice of the picture has nal_ref_idc 0 (or the packet holds no slice)."""
    slices = [nal for nal in _nal_units(packet, length_size) if nal and 1 <= nal[0] & 0x1F <= 5]
    return not slices or any(nal[0] & 0x60 for nal in slices)


def _annexb_nals(data: bytes) -> list[bytes]:
    nals, i, n = [], 0, len(data)
    starts = []
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else n
        nal = data[s:e]
        while k + 1 < len(starts) and nal.endswith(b"\x00"):  # the 4-byte start code's leading zero
            nal = nal[:-1]
        nals.append(nal)
    return nals


# ---------------------------------------------------------------- the cut


@dataclass
class _Pkt:
    data: bytes
    index: int  # display index in the source
    idr: bool
    ref: bool  # a reference picture (nal_ref_idc of a slice is not 0)


class _SmartCut:
    def __init__(self, source, start, end, event, mp4_path, jpg_path, settings):
        self.source, self.start, self.end, self.event = source, start, end, event
        self.mp4_path, self.jpg_path, self.settings = mp4_path, jpg_path, settings
        self.frames = end - start
        self.copied = 0
        self.audio_samples = 0
        self.thumbnail_done = False

    # -- plan
    def _read_packets(self, inp, vin, length_size) -> list[_Pkt]:
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
            idr = packet.is_keyframe and _is_idr(data, length_size)
            if idr and index >= self.end and pkts:
                self.boundary = index  # the IDR that closes the clip's last GOP
                break
            pkts.append(_Pkt(data, index, idr, _is_reference(data, length_size)))
        else:
            self.boundary = src.frame_count  # the end of the file closes the last GOP
        return pkts

    def run(self, verify: str) -> None:
        # (Encoding the audio in a thread beside the video saved about 0.2 s per 720p
        # clip but deadlocked once in the test suite (libx264 and the AAC encoder in
        # two Python threads): kept sequential.)
        with av.open(str(self.mp4_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            audio = self._add_audio_stream(out) if self.source.has_audio else None
            head, body, tail = self._video(out, audio)
        self._check(verify, head, body, tail)

    def _video(self, out, audio):
        src, start, end = self.source, self.start, self.end
        with av.open(src.path) as inp:
            vin = inp.streams.video[0]
            avcc = _AvcC.parse(bytes(vin.codec_context.extradata or b""))
            if avcc.length_size != 4:
                raise _Fallback(f"NAL length size {avcc.length_size}")
            pkts = self._read_packets(inp, vin, avcc.length_size)
            idr_pos = [i for i, p in enumerate(pkts) if p.idr and start <= p.index <= end]
            if not idr_pos or pkts[idr_pos[0]].index >= end:
                raise _Fallback("no IDR frame inside the clip")
            k1_pos = idr_pos[0]
            k2_pos = idr_pos[-1]
            k1, k2 = pkts[k1_pos].index, pkts[k2_pos].index
            if self.boundary == end:  # the copied body can run to the very end: no tail
                k2_pos, k2 = len(pkts), end
            if k2 == k1:
                raise _Fallback("no complete GOP between two IDRs inside the clip")
            body = pkts[k1_pos:k2_pos]
            if sorted(p.index for p in body) != list(range(k1, k2)):
                raise _Fallback("the packets between two IDRs are not exactly their frames (not a closed GOP)")
            self.copied = k2 - k1
            used = {_sps_id(s) for s in avcc.sps} | {_pps_ids(p)[0] for p in avcc.pps}
            free = [i for i in range(32) if i not in used]
            head_id, tail_id = free[0], free[1]

            head = self._encode_range(pkts[: k1_pos + 1], start, k1, head_id, vin) if k1 > start else None
            tail = self._encode_range(pkts[k2_pos:], k2, end, tail_id, vin) if end > k2 else None

        # One avcC with every parameter set.
        for part in (head, tail):
            if part is None:
                continue
            for nal in part.sps:
                avcc.level = max(avcc.level, nal[3])
                avcc.compat &= nal[2]
            avcc.sps += part.sps
            avcc.pps += part.pps
        if len(avcc.sps) > 31:
            raise _Fallback("too many parameter sets")

        # Decode order of the clip, with display indices relative to the start.
        order: list[tuple[bytes, int, bool]] = []
        if head is not None:
            order += [(d, i - start, key) for d, i, key in head.packets]
        order += [(p.data, p.index - start, p.idr) for p in body]
        if tail is not None:
            order += [(d, i - start, key) for d, i, key in tail.packets]
        if sorted(i for _, i, _ in order) != list(range(self.frames)):
            raise _Fallback("the parts do not add up to the clip's frames")
        delay = max(0, max(k - i for k, (_, i, _) in enumerate(order)))

        self._mux(out, avcc.build(), order, delay, audio)
        return head, body, tail

    def _check(self, verify, head, body, tail) -> None:
        n = self.frames
        if verify == "full":
            windows = [(0, n)]
        elif verify == "joins":
            # Each join plus a little: the head and the start of the first copied GOP,
            # the last copied GOP (from its IDR: the decoder needs it) and the tail.
            h = len(head.packets) if head is not None else 0
            last_idr = h + max(i for i, p in enumerate(body) if p.idr)
            windows = [(0, min(n, h + VERIFY_AFTER_JOIN))]
            if tail is not None:
                if last_idr <= windows[0][1]:
                    windows = [(0, n)]
                else:
                    windows.append((last_idr, n))
        else:
            windows = []
        if windows:
            self._verify(windows)
        if not self.thumbnail_done:
            self._thumbnail_from_source()

    # -- re-encode a range that starts at an IDR or at the clip start
    def _encode_range(self, pkts: list[_Pkt], first: int, stop: int, sps_id: int, vin) -> "_Part":
        src, settings = self.source, self.settings
        dec = av.CodecContext.create("h264", "r")
        dec.extradata = vin.codec_context.extradata
        dec.thread_type = "AUTO"
        enc = av.CodecContext.create(settings.video_codec, "w")
        enc.width, enc.height, enc.pix_fmt = src.width, src.height, settings.pix_fmt
        enc.time_base = 1 / Fraction(src.fps)
        enc.framerate = Fraction(src.fps)
        vctx = vin.codec_context
        params = [f"sps-id={sps_id}"]
        colour = {
            "colorprim": getattr(vctx, "color_primaries", None),
            "transfer": getattr(vctx, "color_trc", None),
            "colormatrix": getattr(vctx, "colorspace", None),
        }
        names = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 4: "bt470m", 7: "smpte240m", 9: "bt2020nc"}
        trc_names = {1: "bt709", 6: "smpte170m", 4: "bt470m", 5: "bt470bg", 7: "smpte240m", 14: "bt2020-10", 16: "smpte2084", 18: "arib-std-b67"}
        prim_names = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 4: "bt470m", 7: "smpte240m", 9: "bt2020"}
        for key, value in colour.items():
            value = int(value) if value is not None else 2
            table = {"colorprim": prim_names, "transfer": trc_names, "colormatrix": names}[key]
            if value in table:
                params.append(f"{key}={table[value]}")
            elif value != 2:
                raise _Fallback(f"unsupported colour tag {key}={value}")
        rng = getattr(vctx, "color_range", None)
        if rng is not None and int(rng) == 2:
            params.append("fullrange=on")
        enc.options = {"preset": settings.preset, "crf": str(settings.crf), "x264-params": ":".join(params)}
        enc.open()

        out: list[tuple[bytes, int, bool]] = []
        sps: list[bytes] = []
        pps: list[bytes] = []
        written = 0

        def take(pkt_list):
            for p in pkt_list:
                nals = _annexb_nals(bytes(p))
                body = bytearray()
                for nal in nals:
                    kind = nal[0] & 0x1F
                    if kind == 7:
                        if nal not in sps:
                            sps.append(nal)
                    elif kind == 8:
                        if nal not in pps:
                            pps.append(nal)
                    elif kind == 9:
                        continue
                    else:
                        body += len(nal).to_bytes(4, "big") + nal
                out.append((bytes(body), first + p.pts, p.is_keyframe))

        def frame_in(frame):
            nonlocal written
            index = src.frame_index_of_pts(frame.pts if frame.pts is not None else frame.dts)
            if not first <= index < stop:
                return
            if index != first + written:
                raise _Fallback(f"decoding for re-encode: expected frame {first + written}, got {index}")
            if index == self.event:
                frame.to_image().save(self.jpg_path, format="JPEG", quality=self.settings.thumbnail_quality)
                self.thumbnail_done = True
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
            packet = av.Packet(p.data)
            packet.pts = src.pts[p.index]
            packet.time_base = vin.time_base
            for frame in dec.decode(packet):
                frame.time_base = vin.time_base
                frame_in(frame)
        if written < stop - first:
            for frame in dec.decode(None):
                frame_in(frame)
        take(enc.encode(None))
        if written != stop - first:
            raise _Fallback(f"decoded {written} of {stop - first} frames of [{first}, {stop})")
        if not out or not out[0][2]:
            raise _Fallback("re-encoded part does not start with a keyframe")
        for s in sps:
            if _sps_id(s) != sps_id:
                raise _Fallback("x264 ignored sps-id")
        for p in pps:
            if _pps_ids(p) != (sps_id, sps_id):
                raise _Fallback("x264 ignored sps-id (PPS)")
        if not sps or not pps:
            raise _Fallback("the encoder emitted no in-band SPS/PPS")
        return _Part(out, sps, pps)

    # -- write the MP4
    def _add_audio_stream(self, out):
        with av.open(self.source.path) as inp:
            ctx = inp.streams.audio[0].codec_context
            aout = out.add_stream(self.settings.audio_codec, rate=ctx.sample_rate, layout=ctx.layout.name)
        aout.bit_rate = self.settings.audio_bitrate
        aout.codec_context.options = {"aac_coder": self.settings.aac_coder}
        return aout

    def _encode_audio(self, aout) -> tuple[list, int]:
        """The clip's exact samples, decoded from the source and encoded."""
        src = self.source
        with av.open(src.path) as inp:
            ain = inp.streams.audio[0]
            rate = ain.codec_context.sample_rate
            t0 = src.pts_seconds(self.start)
            audio = _AudioTrim(t0, round(self.frames / Fraction(src.fps) * rate), rate, ain.codec_context.layout.name)
            # A little before the start: the AAC decoder needs the previous frame's overlap.
            inp.seek(int(max(Fraction(0), t0 - Fraction(1, 5)) / ain.time_base), stream=ain, backward=True)
            for packet in inp.demux(ain):
                for frame in packet.decode():
                    audio.feed(frame)
                if audio.complete:
                    break
        packets, samples = [], 0
        for frame in audio.frames():
            packets += aout.encode(frame)
            samples += frame.samples
        packets += aout.encode(None)
        return packets, samples

    def _mux(self, out, avcc: bytes, order, delay: int, audio) -> None:
        src = self.source
        tb = 1 / Fraction(src.fps)
        with av.open(src.path) as tmpl:
            # The source stream as template: size, colour tags, aspect ratio; our avcC.
            vout = out.add_stream_from_template(tmpl.streams.video[0])
        vout.time_base = tb
        vout.codec_context.extradata = avcc
        audio_packets = []
        if audio is not None:
            audio_packets, self.audio_samples = self._encode_audio(audio)
        for k, (data, index, key) in enumerate(order):
            packet = av.Packet(data)
            packet.stream = vout
            packet.time_base = tb
            packet.pts = index
            packet.dts = k - delay
            packet.is_keyframe = key
            out.mux(packet)
        for packet in audio_packets:
            out.mux(packet)

    def _thumbnail_from_source(self) -> None:
        src = self.source
        with av.open(src.path) as inp:
            vin = inp.streams.video[0]
            vin.thread_type = "AUTO"
            inp.seek(src.pts[src.keyframe_at_or_before(self.event)], stream=vin, backward=True, any_frame=False)
            for frame in inp.decode(vin):
                if src.frame_index_of_pts(frame.pts) == self.event:
                    frame.to_image().save(self.jpg_path, format="JPEG", quality=self.settings.thumbnail_quality)
                    self.thumbnail_done = True
                    return
        raise _Fallback("event frame not decoded")

    # -- read it back
    def _verify(self, windows: list[tuple[int, int]]) -> None:
        """Decode the output's packets in each ``[a, b)`` window of decode positions
        (each starts at an IDR) with a fresh decoder; every picture must come out,
        in order, with the timestamp and (if the source has them) the frame mark
        of the right source frame. The copied GOPs outside the windows are the
        source's own packets and need no check."""
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
            dec.thread_type = "AUTO"
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
                if self.start + i == self.event and not self.thumbnail_done:
                    frame.to_image().save(self.jpg_path, format="JPEG", quality=self.settings.thumbnail_quality)
                    self.thumbnail_done = True
                got += 1

            for packet in packets[a:b]:
                for frame in dec.decode(packet):
                    check(frame)
            for frame in dec.decode(None):
                check(frame)
            if got != b - a:
                raise _Fallback(f"verify: decoded {got} of the {b - a} frames of packets [{a}, {b})")


@dataclass
class _Part:
    packets: list[tuple[bytes, int, bool]]  # (length-prefixed data, source display index, keyframe)
    sps: list[bytes]
    pps: list[bytes]


__all__ = ["SmartCutResult", "smart_cut_clip"]
