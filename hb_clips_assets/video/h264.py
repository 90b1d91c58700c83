"""The few pieces of H.264 bitstream syntax the smart cutter needs: NAL units
in MP4 (length-prefixed) and Annex B (start codes) framing, the ``avcC``
decoder configuration record, and the parameter-set ids of an SPS and a PPS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
NAL_SEI = 6


class H264Error(ValueError):
    """The bitstream is not what the smart cutter can splice."""


class _Bits:
    def __init__(self, data: bytes):
        # Emulation prevention bytes (00 00 03) are not part of the syntax.
        self.data = data.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0

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
                raise H264Error("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)


def sps_id(sps: bytes) -> int:
    return _Bits(sps[4:]).ue()  # after the NAL header, profile_idc, constraint flags, level_idc


def pps_ids(pps: bytes) -> tuple[int, int]:
    """(pps id, the SPS id it refers to)."""
    bits = _Bits(pps[1:])
    return bits.ue(), bits.ue()


@dataclass
class AvcC:
    """An MP4 ``avcC`` box payload; it may hold several SPS and PPS."""

    profile: int
    compat: int
    level: int
    length_size: int
    sps: list[bytes]
    pps: list[bytes]
    ext: bytes  # the High-profile tail (chroma format, bit depths, SPS extensions)

    @classmethod
    def parse(cls, data: bytes) -> "AvcC":
        if len(data) < 7 or data[0] != 1:
            raise H264Error("source has no avcC (Annex B or missing extradata)")
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

    def used_ids(self) -> set[int]:
        return {sps_id(s) for s in self.sps} | {pps_ids(p)[0] for p in self.pps}


def nal_units(packet: bytes, length_size: int = 4) -> Iterator[bytes]:
    pos = 0
    while pos + length_size <= len(packet):
        n = int.from_bytes(packet[pos : pos + length_size], "big")
        pos += length_size
        yield packet[pos : pos + n]
        pos += n


def length_prefixed(nal: bytes, length_size: int = 4) -> bytes:
    return len(nal).to_bytes(length_size, "big") + nal


def is_idr(packet: bytes, length_size: int = 4) -> bool:
    return any(nal and nal[0] & 0x1F == NAL_IDR for nal in nal_units(packet, length_size))


def is_reference(packet: bytes, length_size: int = 4) -> bool:
    """True unless every slice of the picture has nal_ref_idc 0 (or the packet holds no slice)."""
    slices = [nal for nal in nal_units(packet, length_size) if nal and 1 <= nal[0] & 0x1F <= 5]
    return not slices or any(nal[0] & 0x60 for nal in slices)


def annexb_nals(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (3- or 4-byte start codes)."""
    starts, i = [], 0
    while (j := data.find(b"\x00\x00\x01", i)) >= 0:
        starts.append(j + 3)
        i = j + 3
    nals = []
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nal = data[s:e]
        while k + 1 < len(starts) and nal.endswith(b"\x00"):  # the 4-byte start code's leading zero
            nal = nal[:-1]
        nals.append(nal)
    return nals


def _se(bits: _Bits) -> int:
    k = bits.ue()
    return (k + 1) // 2 if k & 1 else -(k // 2)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + _se(bits) + 256) % 256
        last = nxt or last


def _skip_hrd(bits: _Bits) -> None:
    count = bits.ue() + 1
    bits.u(8)  # bit_rate_scale, cpb_size_scale
    for _ in range(count):
        bits.ue(), bits.ue(), bits.u(1)
    bits.u(20)  # four 5-bit lengths


_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True)
class DecodedPictureBuffer:
    """What an SPS says about the decoder's picture buffer. A decoder may drop the
    pictures it still holds when an IDR switches to an SPS where these differ."""

    max_num_ref_frames: int
    max_num_reorder_frames: int | None  # None: the SPS has no VUI bitstream restriction
    max_dec_frame_buffering: int | None


@dataclass(frozen=True)
class Sps:
    """The SPS fields that slice headers depend on (and the picture buffer)."""

    id: int
    chroma_array_type: int
    separate_colour_plane: bool
    log2_max_frame_num: int
    poc_type: int
    log2_max_poc_lsb: int  # 0 unless poc_type 0
    delta_pic_order_always_zero: bool
    frame_mbs_only: bool
    dpb: DecodedPictureBuffer


def parse_sps(sps: bytes) -> Sps:
    """Parse an SPS NAL unit (header byte included) as far as its VUI bitstream restriction."""
    try:
        bits = _Bits(sps[1:])
        profile = bits.u(8)
        bits.u(16)  # constraint flags, level_idc
        ident = bits.ue()
        chroma, separate = 1, False
        if profile in _HIGH_PROFILES:
            chroma = bits.ue()
            if chroma == 3:
                separate = bool(bits.u(1))
            bits.ue(), bits.ue(), bits.u(1)  # bit depths, transform bypass
            if bits.u(1):  # seq_scaling_matrix_present_flag
                for i in range(8 if chroma != 3 else 12):
                    if bits.u(1):
                        _skip_scaling_list(bits, 16 if i < 6 else 64)
        log2_frame_num = bits.ue() + 4
        poc_type = bits.ue()
        log2_poc_lsb, always_zero = 0, False
        if poc_type == 0:
            log2_poc_lsb = bits.ue() + 4
        elif poc_type == 1:
            always_zero = bool(bits.u(1))
            _se(bits), _se(bits)
            for _ in range(bits.ue()):
                _se(bits)
        refs = bits.ue()
        bits.u(1)  # gaps_in_frame_num_value_allowed_flag
        bits.ue(), bits.ue()  # size in macroblocks
        frame_mbs_only = bool(bits.u(1))
        if not frame_mbs_only:
            bits.u(1)
        fields = (ident, 0 if separate else chroma, separate, log2_frame_num, poc_type, log2_poc_lsb, always_zero,
                  frame_mbs_only)
        return Sps(*fields, _vui_picture_buffer(bits, refs))
    except IndexError:
        raise H264Error("SPS ends before its VUI does") from None


def sps_picture_buffer(sps: bytes) -> DecodedPictureBuffer:
    return parse_sps(sps).dpb


def _vui_picture_buffer(bits: _Bits, refs: int) -> DecodedPictureBuffer:
    bits.u(1)  # direct_8x8_inference_flag
    if bits.u(1):  # frame_cropping_flag
        bits.ue(), bits.ue(), bits.ue(), bits.ue()
    if not bits.u(1):  # vui_parameters_present_flag
        return DecodedPictureBuffer(refs, None, None)
    if bits.u(1) and bits.u(8) == 255:  # aspect ratio, extended SAR
        bits.u(32)
    if bits.u(1):  # overscan
        bits.u(1)
    if bits.u(1):  # video signal type
        bits.u(4)
        if bits.u(1):
            bits.u(24)
    if bits.u(1):  # chroma location
        bits.ue(), bits.ue()
    if bits.u(1):  # timing
        bits.u(32), bits.u(32), bits.u(1)
    nal_hrd = bits.u(1)
    if nal_hrd:
        _skip_hrd(bits)
    vcl_hrd = bits.u(1)
    if vcl_hrd:
        _skip_hrd(bits)
    if nal_hrd or vcl_hrd:
        bits.u(1)
    bits.u(1)  # pic_struct_present_flag
    if not bits.u(1):  # bitstream_restriction_flag
        return DecodedPictureBuffer(refs, None, None)
    bits.u(1), bits.ue(), bits.ue(), bits.ue(), bits.ue()
    return DecodedPictureBuffer(refs, bits.ue(), bits.ue())


@dataclass(frozen=True)
class Pps:
    """The PPS fields that slice headers depend on."""

    id: int
    sps_id: int
    cabac: bool
    bottom_field_pic_order_present: bool
    num_ref_idx_default: tuple[int, int]  # active entries of list 0 and list 1
    weighted_pred: bool
    weighted_bipred_idc: int
    deblocking_filter_control: bool
    redundant_pic_cnt_present: bool


def parse_pps(pps: bytes) -> Pps:
    try:
        bits = _Bits(pps[1:])
        ident, sps = bits.ue(), bits.ue()
        cabac, bottom = bool(bits.u(1)), bool(bits.u(1))
        if bits.ue():
            raise H264Error("slice groups (FMO)")
        refs = (bits.ue() + 1, bits.ue() + 1)
        weighted, bipred = bool(bits.u(1)), bits.u(2)
        _se(bits), _se(bits), _se(bits)  # pic_init_qp, pic_init_qs, chroma_qp_index_offset
        deblocking = bool(bits.u(1))
        bits.u(1)  # constrained_intra_pred_flag
        return Pps(ident, sps, cabac, bottom, refs, weighted, bipred, deblocking, bool(bits.u(1)))
    except IndexError:
        raise H264Error("PPS ends early") from None


def recovery_point(sei: bytes) -> tuple[int, bool, bool] | None:
    """(recovery_frame_cnt, exact_match_flag, broken_link_flag) of the recovery point SEI
    message in an SEI NAL unit (header byte included), or None."""
    data = sei[1:].replace(b"\x00\x00\x03", b"\x00\x00")
    pos = 0
    while pos + 2 <= len(data) and data[pos] != 0x80:
        kind = size = 0
        while data[pos] == 0xFF:
            kind, pos = kind + 255, pos + 1
        kind, pos = kind + data[pos], pos + 1
        while pos < len(data) and data[pos] == 0xFF:
            size, pos = size + 255, pos + 1
        if pos >= len(data):
            return None
        size, pos = size + data[pos], pos + 1
        if kind == 6:
            try:
                bits = _Bits(data[pos : pos + size])
                return bits.ue(), bool(bits.u(1)), bool(bits.u(1))
            except (IndexError, H264Error):
                return None
        pos += size
    return None


def is_recovery_point(packet: bytes, length_size: int = 4) -> bool:
    """An I picture that decoding may start at: a recovery point SEI saying every picture
    from it on (in output order) is exact, no broken link, and only I slices."""
    sei = slices = False
    for nal in nal_units(packet, length_size):
        kind = nal[0] & 0x1F if nal else 0
        if kind == NAL_SEI:
            rp = recovery_point(nal)
            sei = sei or (rp is not None and rp[0] == 0 and rp[1] and not rp[2])
        elif kind in (1, 5):
            try:
                bits = _Bits(nal[1:9])
                bits.ue()
                if bits.ue() % 5 != 2:
                    return False
            except (IndexError, H264Error):
                return False
            slices = True
    return sei and slices
