"""Starting the copied body at an open-GOP I-frame (a recovery point), not an IDR.

A recovery point R (an I picture with a recovery point SEI: recovery_frame_cnt
0, exact match, no broken link) promises that decoding started at R shows every
picture from R on (in output order) exactly. Its leading pictures (after R in
decode order, before it in display order) refer to the GOP before: they are
dropped from the body (the re-encoded head shows them). To make the join legal
for strict decoders, R is rewritten as an IDR (``nal_unit_type`` 5, frame_num
and the POC LSB 0, IDR reference marking) and every picture after it, up to the
source's next IDR, gets its frame_num and POC LSB renumbered (fixed-width
fields) and its reference list modifications and memory management operations
recomputed for the new numbering (operations on pictures that are no longer
there are dropped).

That the rewritten stream decodes exactly as "decoding started at R" does is
checked, not assumed: both decoded picture buffers are simulated slice by slice
(the source's with the leading pictures, the rewritten one without), and every
slice's active reference lists must name the same pictures in both. Every
rewritten slice is read back and must say what was meant. Anything else
(gaps in frame_num, long-term references, field pictures, POC type 1, lists
that differ) raises :class:`Fallback`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.smart.packets import Fallback, SourcePacket
from hb_clips_assets.video.cut.smart.slices import Slice, build_slice, parse_slice

IDR_PIC_ID = 7  # differs from x264's first IDRs (0, 1), so no two consecutive IDRs share an id


@dataclass(eq=False)
class _Pic:
    frame_num: int
    poc: int


class _Model:
    """One decoded picture buffer (short-term references only), frames only."""

    def __init__(self, log2_max_frame_num: int, max_refs: int):
        self.max_fn, self.max_refs = 1 << log2_max_frame_num, max(1, max_refs)
        self.refs: list[_Pic] = []

    def pic_num(self, pic: _Pic, cur_fn: int) -> int:
        return pic.frame_num if pic.frame_num <= cur_fn else pic.frame_num - self.max_fn

    def initial_lists(self, s: Slice, cur_fn: int, cur_poc: int) -> list[list[_Pic]]:
        if s.slice_type in (0, 3):
            return [sorted(self.refs, key=lambda p: -self.pic_num(p, cur_fn)), []]
        before = sorted((p for p in self.refs if p.poc < cur_poc), key=lambda p: -p.poc)
        after = sorted((p for p in self.refs if p.poc > cur_poc), key=lambda p: p.poc)
        l0, l1 = before + after, after + before
        if len(l1) > 1 and l1 == l0:
            l1[0], l1[1] = l1[1], l1[0]
        return [l0, l1]

    def modified(self, initial: list[_Pic], ops, cur_fn: int, active: int) -> list[_Pic | None]:
        """The active list after the modification operations ``ops`` (8.2.4.3.1)."""
        lst: list[_Pic | None] = (initial + [None] * active)[:active]
        by_num = {self.pic_num(p, cur_fn): p for p in self.refs}
        pred = cur_fn
        for ref_idx, (idc, abs_minus1) in enumerate(ops or []):
            nowrap = pred - (abs_minus1 + 1) if idc == 0 else pred + (abs_minus1 + 1)
            nowrap += self.max_fn if nowrap < 0 else -self.max_fn if nowrap >= self.max_fn else 0
            pred = nowrap
            pic = by_num.get(nowrap - self.max_fn if nowrap > cur_fn else nowrap)
            if pic is None:
                raise Fallback("splice at a recovery point: a list modification names a picture before it")
            lst = (lst[:ref_idx] + [pic] + [q for q in lst[ref_idx:] if q is not pic])[:active]
        return lst

    def ops_for(self, targets: list[_Pic], cur_fn: int) -> list[tuple[int, int]]:
        """Modification operations that put ``targets`` first, in this buffer's numbering."""
        ops, pred = [], cur_fn
        for pic in targets:
            num = self.pic_num(pic, cur_fn)
            nowrap = num + self.max_fn if num < 0 else num
            diff = nowrap - pred
            # The same picture again (x264's weighted duplicates): a whole turn of picture numbers.
            ops.append((0, self.max_fn - 1) if diff == 0 else (0, -diff - 1) if diff < 0 else (1, diff - 1))
            pred = nowrap
        return ops

    def mark(self, pic: _Pic, marking, cur_fn: int) -> list[_Pic]:
        """Apply a reference picture's marking, then hold it; the pictures removed by operations."""
        removed = []
        if marking[0] == "sliding":
            if len(self.refs) >= self.max_refs:
                oldest = min(self.refs, key=lambda p: self.pic_num(p, cur_fn))
                self.refs.remove(oldest)
        elif marking[0] == "adaptive":
            by_num = {self.pic_num(p, cur_fn): p for p in self.refs}
            for _, d in marking[1]:
                target = by_num.get(cur_fn - (d + 1))
                if target is not None and target in self.refs:
                    self.refs.remove(target)
                    removed.append(target)
        else:
            self.refs.clear()
        self.refs.append(pic)
        return removed


class _Poc:
    """Picture order counts of one stream (types 0 and 2), from its first picture on."""

    def __init__(self, sps: h264.Sps):
        self.sps, self.prev_msb, self.prev_lsb, self.prev_fn, self.fn_offset = sps, 0, 0, 0, 0

    def __call__(self, s: Slice, frame_num: int, lsb: int | None, first: bool) -> int:
        if self.sps.poc_type == 0:
            max_lsb = 1 << self.sps.log2_max_poc_lsb
            if first:
                self.prev_msb, self.prev_lsb = 0, lsb
            msb = self.prev_msb
            if lsb < self.prev_lsb and self.prev_lsb - lsb >= max_lsb // 2:
                msb += max_lsb
            elif lsb > self.prev_lsb and lsb - self.prev_lsb > max_lsb // 2:
                msb -= max_lsb
            if s.nal_ref_idc:
                self.prev_msb, self.prev_lsb = msb, lsb
            return msb + lsb + min(0, s.delta_poc_bottom)
        if not first and self.prev_fn > frame_num:
            self.fn_offset += 1 << self.sps.log2_max_frame_num
        self.prev_fn = frame_num
        return 2 * (self.fn_offset + frame_num) - (0 if s.nal_ref_idc else 1)


def splice_at_recovery_point(pkts: list[SourcePacket], avcc: h264.AvcC, length_size: int = 4,
                             end: int | None = None) -> list[SourcePacket]:
    """``pkts`` (decode order, starting at the recovery point R) as a body that starts with an
    IDR: R rewritten, its leading pictures dropped, the rest renumbered up to the next IDR, or,
    with ``end``, only until every frame of [R, end) is in (nothing after is copied or decoded)."""
    sps_by_id = {p.id: p for p in map(h264.parse_sps, avcc.sps)}
    pps_by_id = {p.id: p for p in map(h264.parse_pps, avcc.pps)}
    k = pkts[0].index
    wanted = end - k if end is not None else None
    out: list[SourcePacket] = []
    mine: dict[_Pic, _Pic] = {}  # the source's picture -> the same picture in the rewritten stream
    state = None
    for pos, p in enumerate(pkts):
        if pos and p.idr:
            return out + pkts[pos:]  # a real IDR: the rest is the source's own
        nals = list(h264.nal_units(p.data, length_size))
        slices = _slices(nals, sps_by_id, pps_by_id)
        s0 = slices[0][1]
        if state is None:
            if any(s.slice_type != 2 for _, s in slices) or not s0.nal_ref_idc:
                raise Fallback("splice at a recovery point: the recovery point is not an I reference picture")
            state = _State(s0)
        elif s0.sps is not state.sps:
            raise Fallback("splice at a recovery point: the SPS changes without an IDR")
        elif s0.frame_num != (state.orig_prev_fn + 1) % state.orig.max_fn:
            raise Fallback("splice at a recovery point: a gap in frame_num")
        rebuilt = state.picture(pos == 0, p.index >= k, slices, mine)
        if rebuilt is None:
            continue  # a leading picture of R: the head shows it
        data = bytearray()
        for i, nal in enumerate(nals):
            if i in rebuilt:
                nal = build_slice(rebuilt[i], IDR_PIC_ID)
                if parse_slice(nal, sps_by_id, pps_by_id) != rebuilt[i]:
                    raise Fallback("splice at a recovery point: a rewritten slice does not read back")
            elif pos == 0 and nal and nal[0] & 0x1F == h264.NAL_SEI:
                continue  # the recovery point SEI: R is an IDR now
            data += h264.length_prefixed(nal, length_size)
        out.append(SourcePacket(bytes(data), p.index, pos == 0, p.ref, pos == 0))
        if end is not None and p.index < end:
            wanted -= 1
            if wanted == 0:
                break  # every frame of [R, end) is in: the packets after are neither copied nor decoded
    return out


def _slices(nals: list[bytes], sps_by_id, pps_by_id) -> list[tuple[int, Slice]]:
    for nal in nals:
        kind = nal[0] & 0x1F if nal else 0
        if kind == h264.NAL_SPS:
            sps_by_id[h264.sps_id(nal)] = h264.parse_sps(nal)
        elif kind == h264.NAL_PPS:
            pps_by_id[h264.pps_ids(nal)[0]] = h264.parse_pps(nal)
        elif kind in (2, 3, 4, 5, 14, 20, 21):
            raise Fallback(f"splice at a recovery point: NAL unit type {kind} after it")
    try:
        slices = [(i, parse_slice(nal, sps_by_id, pps_by_id)) for i, nal in enumerate(nals)
                  if nal and nal[0] & 0x1F == 1]
    except h264.H264Error as exc:
        raise Fallback(f"splice at a recovery point: {exc}") from None
    if not slices:
        raise Fallback("splice at a recovery point: a packet without a slice")
    s0 = slices[0][1]
    if any((s.frame_num, s.poc_lsb, bool(s.nal_ref_idc), s.marking, s.sps) !=
           (s0.frame_num, s0.poc_lsb, bool(s0.nal_ref_idc), s0.marking, s0.sps) for _, s in slices):
        raise Fallback("splice at a recovery point: the slices of a picture disagree")
    return slices


class _State:
    """Both streams' picture buffers, numbering and picture order counts, picture by picture."""

    def __init__(self, r: Slice):
        self.sps = sps = r.sps
        self.orig = _Model(sps.log2_max_frame_num, sps.dpb.max_num_ref_frames)
        self.new = _Model(sps.log2_max_frame_num, sps.dpb.max_num_ref_frames)
        self.orig_poc, self.new_poc = _Poc(sps), _Poc(sps)
        self.orig_prev_fn = self.new_prev_fn = 0
        self.r_lsb, self.r_poc = r.poc_lsb, 0

    def picture(self, first: bool, keep: bool, slices, mine) -> dict[int, Slice] | None:
        """The rewritten slices of one picture (None: dropped), both buffers updated."""
        s0 = slices[0][1]
        poc = self.orig_poc(s0, s0.frame_num, s0.poc_lsb, first)
        pic = _Pic(s0.frame_num, poc)
        rebuilt, npic, fn = {}, None, 0
        if keep:
            fn = 0 if first else (self.new_prev_fn + 1) % self.new.max_fn
            lsb = None
            if s0.poc_lsb is not None:
                lsb = (s0.poc_lsb - self.r_lsb) % (1 << self.sps.log2_max_poc_lsb)
            if first:
                self.r_poc = poc
            npic = _Pic(fn, self.new_poc(s0, fn, lsb, first))
            if self.sps.poc_type == 0 and npic.poc != poc - self.r_poc:
                raise Fallback("splice at a recovery point: the picture order counts cannot be renumbered")
            mine[pic] = npic
            for i, s in slices:
                changes = dict(frame_num=fn, poc_lsb=lsb)
                if s.slice_type != 2:
                    changes["mods"] = _same_lists(s, self.orig, self.new, pic, npic, mine)
                if first:
                    changes.update(nal_type=5, marking=("idr", 0, 0))
                elif s.nal_ref_idc:
                    changes["marking"] = _new_marking(s.marking, self.orig, self.new, s.frame_num, fn, mine)
                rebuilt[i] = replace(s, **changes)
        if s0.nal_ref_idc:
            self.orig.mark(pic, ("adaptive", []) if first else s0.marking, s0.frame_num)
            self.orig_prev_fn = s0.frame_num
            if keep:
                self.new.mark(npic, rebuilt[slices[0][0]].marking, fn)
                self.new_prev_fn = fn
                if len(self.new.refs) > self.new.max_refs:
                    raise Fallback("splice at a recovery point: the picture buffer would overflow")
        return rebuilt if keep else None


def _same_lists(s: Slice, orig: _Model, new: _Model, pic: _Pic, npic: _Pic, mine) -> list:
    """The rewritten slice's list modifications; every active reference list entry must be
    the same picture in both streams (a dropped leading picture never is)."""
    init_o = orig.initial_lists(s, pic.frame_num, pic.poc)
    init_n = new.initial_lists(s, npic.frame_num, npic.poc)
    mods: list = [None, None]
    for lx in range(2 if s.slice_type == 1 else 1):
        active, ops = s.num_ref_idx[lx], s.mods[lx]
        lo = orig.modified(init_o[lx], ops, pic.frame_num, active)
        if any(q is not None and q not in mine for q in lo):
            raise Fallback("splice at a recovery point: a picture after it may refer to a leading picture")
        new_ops = None
        if ops is not None:
            new_ops = new.ops_for([mine[q] for q in lo[: len(ops)]], npic.frame_num)
        ln = new.modified(init_n[lx], new_ops, npic.frame_num, active)
        if ln != [mine.get(q) for q in lo]:
            raise Fallback("splice at a recovery point: the reference lists differ after renumbering")
        mods[lx] = new_ops
    return mods


def _new_marking(marking, orig: _Model, new: _Model, fn_orig: int, fn_new: int, mine):
    """Memory management operations renumbered; those on pictures not in the rewritten stream dropped."""
    if marking[0] != "adaptive":
        return marking
    by_num = {orig.pic_num(p, fn_orig): p for p in orig.refs}
    ops = []
    for _, d in marking[1]:
        target = mine.get(by_num.get(fn_orig - (d + 1)))
        if target is not None and target in new.refs:
            ops.append((1, fn_new - new.pic_num(target, fn_new) - 1))
    return ("adaptive", ops)


__all__ = ["splice_at_recovery_point", "IDR_PIC_ID"]
