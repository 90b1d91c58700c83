"""H.264 slice headers read and written back with some fields changed, for
splicing at a recovery point (``recovery.py``): the frame number, the picture
order count, the IDR flag and ``idr_pic_id``, the reference list
modifications and the reference marking. Every other field is written back
as it was read; the slice data is copied (CABAC: the aligned bytes; CAVLC:
the bits after the header, shifted). A header this module cannot read
exactly (long-term references, slice groups, MVC) raises :class:`H264Error`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from hb_clips_assets.video.h264 import H264Error, Pps, Sps

_ESCAPE = re.compile(b"\x00\x00(?=[\x00-\x03])")


def unescape(payload: bytes) -> bytes:
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


def escape(rbsp: bytes) -> bytes:
    out = _ESCAPE.sub(b"\x00\x00\x03", rbsp)
    return out + b"\x03" if out.endswith(b"\x00\x00") else out


class _Reader:
    """Bits of an RBSP from its start; the header is read from one integer of its first bytes."""

    WINDOW = 96  # bytes: the longest header (weight tables of 32 references) fits

    def __init__(self, data: bytes):
        head = data[: self.WINDOW]
        self.n = len(head) * 8
        self.big, self.pos = int.from_bytes(head, "big"), 0

    def u(self, n: int) -> int:
        if self.pos + n > self.n:
            raise IndexError("slice header longer than its window")
        self.pos += n
        return (self.big >> (self.n - self.pos)) & ((1 << n) - 1)

    def ue(self) -> int:
        rest = self.big & ((1 << (self.n - self.pos)) - 1)
        zeros = self.n - self.pos - rest.bit_length()
        if zeros > 31 or not rest:
            raise H264Error("bad exp-Golomb code in a slice header")
        self.pos += zeros
        return self.u(zeros + 1) - 1

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


class _Writer:
    def __init__(self):
        self.value, self.n = 0, 0

    def u(self, v: int, n: int) -> None:
        self.value, self.n = (self.value << n) | (v & ((1 << n) - 1)), self.n + n

    def ue(self, v: int) -> None:
        k = (v + 1).bit_length()
        self.u(v + 1, 2 * k - 1)

    def se(self, v: int) -> None:
        self.ue(2 * v - 1 if v > 0 else -2 * v)

    def item(self, it: tuple) -> None:
        kind, v = it[0], it[1]
        self.u(v, it[2]) if kind == "u" else self.ue(v) if kind == "ue" else self.se(v)


@dataclass
class Slice:
    nal_ref_idc: int
    nal_type: int
    slice_type: int  # 0 P, 1 B, 2 I, 3 SP, 4 SI (slice_type % 5)
    sps: Sps
    pps: Pps
    frame_num: int
    poc_lsb: int | None
    delta_poc_bottom: int
    num_ref_idx: list[int]  # active entries of list 0, list 1
    mods: list[list[tuple[int, int]] | None]  # per list: (modification_of_pic_nums_idc, abs_diff_pic_num_minus1)
    marking: tuple | None  # None (not a reference), ("idr", no_output, long_term), ("sliding",), ("adaptive", [(op, arg...)])
    pre: list = field(repr=False)  # items before frame_num
    fields: list = field(repr=False)  # field_pic_flag, bottom_field_flag
    mid: list = field(repr=False)  # items from after the POC to before the list modifications
    weights: list = field(repr=False)  # pred_weight_table
    post: list = field(repr=False)  # items after the marking
    data: bytes | tuple[int, int] = field(repr=False)  # CABAC: aligned bytes; CAVLC: (bits, count) before the stop bit


def parse_slice(nal: bytes, sps_by_id: dict[int, Sps], pps_by_id: dict[int, Pps]) -> Slice:
    """The header of a coded slice NAL unit (type 1 or 5, header byte included)."""
    rbsp = unescape(nal[1:])
    r = _Reader(rbsp)
    try:
        return _parse(r, nal[0], rbsp, sps_by_id, pps_by_id)
    except (IndexError, KeyError) as exc:
        raise H264Error(f"unreadable slice header ({type(exc).__name__})") from None


def _parse(r: _Reader, header: int, rbsp: bytes, sps_by_id, pps_by_id) -> Slice:
    ref_idc, nal_type = (header >> 5) & 3, header & 0x1F
    first_mb, slice_type, pps_id = r.ue(), r.ue(), r.ue()
    pps = pps_by_id[pps_id]
    sps = sps_by_id[pps.sps_id]
    pre = [("ue", first_mb), ("ue", slice_type), ("ue", pps_id)]
    if sps.separate_colour_plane:
        pre.append(("u", r.u(2), 2))
    frame_num = r.u(sps.log2_max_frame_num)
    fields, field_pic = [], 0
    if not sps.frame_mbs_only:
        field_pic = r.u(1)
        fields.append(("u", field_pic, 1))
        if field_pic:
            raise H264Error("field pictures")
    if nal_type == 5:
        r.ue()  # idr_pic_id: written anew
    poc_lsb, bottom, mid = None, 0, []
    if sps.poc_type == 0:
        poc_lsb = r.u(sps.log2_max_poc_lsb)
        if pps.bottom_field_pic_order_present:
            bottom = r.se()
    elif sps.poc_type == 1:
        raise H264Error("picture order count type 1")
    if pps.redundant_pic_cnt_present:
        mid.append(("ue", r.ue()))
    st = slice_type % 5
    if st == 1:
        mid.append(("u", r.u(1), 1))  # direct_spatial_mv_pred_flag
    nref = list(pps.num_ref_idx_default)
    if st in (0, 1, 3):
        override = r.u(1)
        mid.append(("u", override, 1))
        if override:
            nref[0] = r.ue() + 1
            mid.append(("ue", nref[0] - 1))
            if st == 1:
                nref[1] = r.ue() + 1
                mid.append(("ue", nref[1] - 1))
    mods: list = [None, None]
    if st not in (2, 4):
        for lx in range(2 if st == 1 else 1):
            if r.u(1):
                ops = []
                while (idc := r.ue()) != 3:
                    if idc > 1:
                        raise H264Error("long-term reference list modification")
                    ops.append((idc, r.ue()))
                mods[lx] = ops
    weights = []
    if (pps.weighted_pred and st in (0, 3)) or (pps.weighted_bipred_idc == 1 and st == 1):
        weights.append(("ue", r.ue()))
        chroma = sps.chroma_array_type != 0
        if chroma:
            weights.append(("ue", r.ue()))
        for lx in range(2 if st == 1 else 1):
            for _ in range(nref[lx]):
                for present, count in ((True, 2), (chroma, 4)):
                    if present:
                        flag = r.u(1)
                        weights.append(("u", flag, 1))
                        if flag:
                            weights += [("se", r.se()) for _ in range(count)]
    marking = None
    if ref_idc:
        if nal_type == 5:
            marking = ("idr", r.u(1), r.u(1))
        elif r.u(1):
            ops = []
            while (op := r.ue()) != 0:
                if op != 1:
                    raise H264Error(f"memory management operation {op}")
                ops.append((op, r.ue()))
            marking = ("adaptive", ops)
        else:
            marking = ("sliding",)
    post = []
    if pps.cabac and st not in (2, 4):
        post.append(("ue", r.ue()))
    post.append(("se", r.se()))
    if st in (3, 4):
        raise H264Error("SP/SI slices")
    if pps.deblocking_filter_control:
        idc = r.ue()
        post.append(("ue", idc))
        if idc != 1:
            post += [("se", r.se()), ("se", r.se())]
    if pps.cabac:
        while r.pos & 7:
            if not r.u(1):
                raise H264Error("bad CABAC alignment")
        data: bytes | tuple[int, int] = rbsp[r.pos >> 3 :]
    else:
        end = len(rbsp.rstrip(b"\x00"))
        if end == 0:
            raise H264Error("slice without a stop bit")
        last = rbsp[end - 1]
        stop = end * 8 - 1 - ((last & -last).bit_length() - 1)  # position of the stop bit
        total = int.from_bytes(rbsp[:end], "big") >> (end * 8 - stop)
        count = stop - r.pos
        data = (total & ((1 << count) - 1), count)
    return Slice(ref_idc, nal_type, st, sps, pps, frame_num, poc_lsb, bottom, nref, mods, marking, pre, fields,
                 mid, weights, post, data)


def build_slice(s: Slice, idr_pic_id: int = 0) -> bytes:
    """The NAL unit (header byte included, emulation prevention added) of ``s`` as it now reads."""
    w = _Writer()
    for it in s.pre:
        w.item(it)
    w.u(s.frame_num, s.sps.log2_max_frame_num)
    for it in s.fields:
        w.item(it)
    if s.nal_type == 5:
        w.ue(idr_pic_id)
    if s.poc_lsb is not None:
        w.u(s.poc_lsb, s.sps.log2_max_poc_lsb)
        if s.pps.bottom_field_pic_order_present:
            w.se(s.delta_poc_bottom)
    for it in s.mid:
        w.item(it)
    if s.slice_type not in (2, 4):
        for lx in range(2 if s.slice_type == 1 else 1):
            ops = s.mods[lx]
            w.u(ops is not None, 1)
            if ops is not None:
                for idc, value in ops:
                    w.ue(idc), w.ue(value)
                w.ue(3)
    for it in s.weights:
        w.item(it)
    if s.nal_ref_idc:
        kind = s.marking[0]
        if s.nal_type == 5:
            if kind != "idr":
                raise H264Error("an IDR slice needs IDR marking")
            w.u(s.marking[1], 1), w.u(s.marking[2], 1)
        elif kind == "adaptive":
            w.u(1, 1)
            for op, arg in s.marking[1]:
                w.ue(op), w.ue(arg)
            w.ue(0)
        else:
            w.u(0, 1)
    for it in s.post:
        w.item(it)
    if s.pps.cabac:
        while w.n & 7:
            w.u(1, 1)
        rbsp = w.value.to_bytes(w.n >> 3, "big") + s.data
    else:
        bits, count = s.data
        w.value, w.n = (w.value << count) | bits, w.n + count
        w.u(1, 1)
        while w.n & 7:
            w.u(0, 1)
        rbsp = w.value.to_bytes(w.n >> 3, "big")
    return bytes([(s.nal_ref_idc << 5) | s.nal_type]) + escape(rbsp)


def same_slice(a: Slice, b: Slice) -> bool:
    """True when two parsed headers read the same, data included (a rewrite read back)."""
    return a == replace(b)


__all__ = ["Slice", "parse_slice", "build_slice", "same_slice", "escape", "unescape"]
