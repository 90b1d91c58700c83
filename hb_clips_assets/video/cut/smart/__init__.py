"""Smart cut: re-encode only the head and the tail of a clip, copy the rest.

    head  = source frames [start, K)  re-encoded (libx264, the cutter's settings)
    body  = source frames [K, X)      compressed packets copied as they are
    tail  = source frames [X, end)    re-encoded

K is the first random access point at or after ``start``: an IDR, or an
open-GOP I-frame with an exact recovery point SEI, which ``recovery`` rewrites
as an IDR (its leading pictures dropped from the body and re-encoded in the
head, the pictures after it renumbered up to the next IDR, both picture
buffers simulated to prove every reference list names the same pictures). An IDR empties the decoder's picture
buffer, so nothing after it refers to anything before it: the body can start
there. The body is then the longest run of the source's packets, in decode
order from K, whose pictures are exactly the display frames [K, X) with
X <= end. Any decode-order run from an IDR is self-contained (a picture can only
refer to pictures decoded before it), and "exactly [K, X)" means no picture is
missing or extra. With B-frames, such runs end after every anchor picture's
mini-GOP, so the re-encoded tail is a few frames, not the rest of a GOP.
A clip with no random access point inside is re-encoded whole from the same
one decode (from the keyframe before the start, pictures nobody needs skipped),
with its AAC copied; the result says ``path="full"`` and why.

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
are decoded and encoded to AAC as :func:`hb_clips_assets.video.cut.full.cut_clip`
does.

Timestamps are rewritten: presentation time = the frame's index in the clip,
decode time = the packet's decode position minus one reorder delay for the
whole clip, so both stay monotonic across the joins.

The head has an IDR a few frames (``VERIFY_BEFORE_JOIN``) before its end, so
the output is decoded around the joins only (from there to a few packets past
the head's join, and the tail) before returning (frame count,
consecutive timestamps, frame marks when the source carries them); whenever
the source is unusual or anything does not check out, the full re-encode
(:func:`hb_clips_assets.video.cut.full.cut_clip`) is used instead and the
result says so (``path``, ``reason``).

One module per stage: ``plan`` (is the source suitable, its packets, the
body), ``recovery`` and ``slices`` (the splice at a recovery point), ``encode`` (head and tail, x264 settings, parameter-set ids),
``audio`` (AAC copy or decode), ``mux`` (decode order, ``avcC``, the MP4),
``verify`` (decode around the joins), ``thumbnail``; ``packets`` holds what
they pass each other and ``cutter`` runs them in order.
"""
from __future__ import annotations

from hb_clips_assets.video.cut.smart.cutter import smart_cut_clip
from hb_clips_assets.video.cut.types import SmartCutResult

__all__ = ["SmartCutResult", "smart_cut_clip"]
