"""Reading the written clip back before it is returned: its packets must be
the clip's frames, and a fresh decoder must turn the packets around the joins
(or all of them) into every picture, in order, with the timestamp and, when
the source carries them, the frame mark of the right source frame. Anything
else raises :class:`Fallback` (the full re-encode is used instead).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from hb_clips_assets.video.cut.smart.packets import EncodedPart, Fallback
from hb_clips_assets.video.cut.smart.thumbnail import Thumbnail
from hb_clips_assets.video.framemark import read_frame_mark_from_av_frame
from hb_clips_assets.video.probe import VideoInfo

# Copied packets decoded after the head's join when verifying only the joins.
VERIFY_AFTER_JOIN = 8
# Re-encoded head frames decoded before the join: the head has an IDR this many frames before its end.
VERIFY_BEFORE_JOIN = 4


def verify_windows(verify: str, frames: int, head: EncodedPart | None,
                   tail: EncodedPart | None, whole: bool = False) -> list[tuple[int, int]]:
    """The ``[a, b)`` ranges of decode positions to decode for ``verify`` ("joins", "full", "none").
    A clip re-encoded whole (``whole``) has no join: its count and timestamps are checked only."""
    n = frames
    h = len(head.packets) if head is not None else 0
    if verify == "full":
        return [(0, n)]
    if verify == "joins" and not whole:
        # The head from its last IDR and the first packets of the body after it (the join), and
        # the tail from its own IDR. The body's packets are the source's (or, from a recovery
        # point, rewritten and read back in recovery.py), in the source's decode order from an
        # IDR: checked by count and timestamps, not decoded again.
        a = max((i for i, (_, _, key) in enumerate(head.packets) if key), default=0) if head is not None else 0
        windows = [(a, min(n, h + VERIFY_AFTER_JOIN))]
        if tail is not None:
            tail_from = n - len(tail.packets)
            if tail_from <= windows[0][1]:
                windows = [(a, n)]
            else:
                windows.append((tail_from, n))
        return windows
    return []


def verify_clip(mp4_path: Path, windows: list[tuple[int, int]], source: VideoInfo, start: int, frames: int,
                thumbnail: Thumbnail, anchor: int = 0) -> None:
    """Decode the output's packets in each ``[a, b)`` window of decode positions
    (each starts at an IDR) with a fresh decoder; every picture must come out,
    in order, with the timestamp and (if the source has them) the frame mark
    of the right source frame. The copied packets outside the windows are the
    source's own and need no check. The event frame, if decoded, becomes the thumbnail.

    Marks count on from the mark of clip frame ``anchor``, the body's first frame: its
    packet is the source's IDR copied byte for byte, so its mark is the source's own,
    whatever the source's frame 0 carries (a trimmed or remuxed marked file starts at
    another mark than 0)."""
    fps = Fraction(source.fps)
    with av.open(str(mp4_path)) as inp:
        vs = inp.streams.video[0]
        tb = Fraction(vs.time_base)
        extradata = vs.codec_context.extradata
        packets = [p for p in inp.demux(vs) if p.size]
    if len(packets) != frames:
        raise Fallback(f"verify: the output holds {len(packets)} of {frames} frames")
    pts0 = min(p.pts for p in packets)
    index_of = [round((p.pts - pts0) * tb * fps) for p in packets]
    if sorted(index_of) != list(range(frames)):
        raise Fallback("verify: the output's timestamps are not the clip's frames")
    marks: bool | None = None
    seen: dict[int, int] = {}  # clip frame -> its mark
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
                raise Fallback(f"verify: expected clip frame {want}, decoded {i}")
            if (frame.width, frame.height) != (source.width, source.height):
                raise Fallback("verify: frame size changed")
            if marks is not False:
                try:
                    seen[i] = read_frame_mark_from_av_frame(frame)
                    marks = True
                except ValueError:
                    if marks:
                        raise Fallback(f"verify: clip frame {i} lost its frame mark") from None
                    marks = False  # a source without frame marks
            if start + i == thumbnail.event:
                thumbnail.save(frame)
            got += 1

        for packet in packets[a:b]:
            for frame in dec.decode(packet):
                check(frame)
        for frame in dec.decode(None):
            check(frame)
        if got != b - a:
            raise Fallback(f"verify: decoded {got} of the {b - a} frames of packets [{a}, {b})")
    if marks:
        base = seen[anchor] - anchor if anchor in seen else start
        wrong = [i for i, mark in sorted(seen.items()) if mark != base + i]
        if wrong:
            raise Fallback(f"verify: clip frame {wrong[0]} carries the wrong frame mark")


__all__ = ["VERIFY_AFTER_JOIN", "VERIFY_BEFORE_JOIN", "verify_windows", "verify_clip"]
