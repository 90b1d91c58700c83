"""The clip's audio. AAC is copied: the source's packets that cover the clip
plus the one before (the AAC decoder needs the previous frame's overlap),
re-stamped so that the clip's first sample is at time 0. Other codecs, or AAC
that does not cover the whole clip, are decoded and trimmed to the clip's
exact samples (encoded to AAC when muxing), as the full re-encode does.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av

from hb_clips_assets.video.cut.selection import AudioTrim
from hb_clips_assets.video.probe import VideoInfo


@dataclass
class ClipAudio:
    template: object | None  # the source's AAC stream when its packets are copied, else None
    items: list  # the AAC packets to copy, or the decoded frames to encode
    samples: int  # the clip's audio samples


def clip_audio(inp, source: VideoInfo, start: int, frames: int) -> ClipAudio:
    """The clip's audio from the first audio stream of the opened source."""
    ain = inp.streams.audio[0]
    t0 = source.pts_seconds(start)
    t1 = t0 + frames / Fraction(source.fps)
    if ain.codec_context.name == "aac":
        audio = _copy_aac(inp, ain, t0, t1)
        if audio is not None:
            return audio
    return _decode_audio(inp, ain, t0, t1)


def _copy_aac(inp, ain, t0: Fraction, t1: Fraction) -> ClipAudio | None:
    """The source's AAC packets covering the clip (and the one before), re-stamped;
    None when the audio does not cover the clip (the encoder path pads with silence)."""
    tb = Fraction(ain.time_base)
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
    return ClipAudio(ain, kept, round((t1 - t0) * ain.codec_context.sample_rate))


def _decode_audio(inp, ain, t0: Fraction, t1: Fraction) -> ClipAudio:
    """The clip's exact samples, decoded from the source (encoded when muxing)."""
    rate = ain.codec_context.sample_rate
    audio = AudioTrim(t0, round((t1 - t0) * rate), rate, ain.codec_context.layout.name)
    # A little before the start: the AAC decoder needs the previous frame's overlap.
    inp.seek(int(max(Fraction(0), t0 - Fraction(1, 5)) / ain.time_base), stream=ain, backward=True)
    for packet in inp.demux(ain):
        for frame in packet.decode():
            audio.feed(frame)
        if audio.complete:
            break
    frames = list(audio.frames())
    return ClipAudio(None, frames, sum(f.samples for f in frames))


__all__ = ["ClipAudio", "clip_audio"]
