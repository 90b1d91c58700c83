"""A clip's MP4 repackaged for HLS: the same packets, in a fragmented MP4, plus its media playlist.

Nothing is decoded or encoded. PyAV copies every packet of the clip's video and audio into one
fragmented MP4 (``frag_keyframe``: a fragment starts at each video keyframe, so every media segment
starts with an IDR; ``delay_moov`` + ``use_editlist``: the init section keeps the clip's edit lists,
so players start the audio on the clip's exact first sample as they do with the MP4). The timestamps
keep their values; video moves to a 60 kHz timescale where that is exact (every frame rate of the
data contract), so reels of clips from different sources share one timescale.

One change to the video samples: the first sample of every fragment gets the clip's SPS and PPS
in-band, in front of its NAL units (the same parameter sets as the ``avcC``, which stays as it is). A
smart-cut clip has several parameter sets (source, head, tail); a player that keeps the first
EXT-X-MAP's ``avcC`` for a whole reel (FFmpeg's HLS reader does) then still decodes every clip. Every
other byte of every sample is the MP4's.

The output is deterministic (``+bitexact``): the same MP4 gives the same bytes, so re-packaging an
unchanged clip stores nothing new.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from hb_clips_assets.video import h264
from hb_clips_assets.video.hls.boxes import scan_fmp4
from hb_clips_assets.video.hls.playlist import Rendition, RenditionTrack, render_rendition

HLS_VERSION = 1  # bump when the packaged bytes change for the same MP4 (part of the object keys)
VIDEO_TIMESCALE = 60000
MOVFLAGS = "frag_keyframe+delay_moov+default_base_moof+skip_trailer"


class PackageError(RuntimeError):
    pass


@dataclass(frozen=True)
class PackagedClip:
    media_path: Path  # the fragmented MP4
    playlist_path: Path
    rendition: Rendition
    seconds: float


def _time_base(stream) -> Fraction:
    tb = Fraction(stream.time_base)
    if stream.type == "video":
        fps = Fraction(stream.average_rate or stream.guessed_rate or 0)
        # exact when the frame duration is a whole number of 1/60000 s ticks
        if fps and (VIDEO_TIMESCALE / fps).denominator == 1 and (tb * VIDEO_TIMESCALE).denominator == 1:
            return Fraction(1, VIDEO_TIMESCALE)
    return tb


def _rescale(value, src: Fraction, dst: Fraction):
    if value is None:
        return None
    out = value * src / dst
    if out.denominator != 1:
        raise PackageError(f"timestamp {value} x {src} is not a whole number of {dst} ticks")
    return int(out)


def _parameter_sets(stream) -> bytes:
    avcc = h264.AvcC.parse(bytes(stream.codec_context.extradata or b""))
    return b"".join(h264.length_prefixed(nal, avcc.length_size) for nal in avcc.sps + avcc.pps)


def package_clip(mp4: Path, out_dir: Path, name: str) -> PackagedClip:
    """``out_dir/<name>.mp4`` (fragmented) and ``out_dir/<name>.m3u8`` from the clip ``mp4``."""
    started = time.monotonic()
    media = Path(out_dir) / f"{name}.mp4"
    playlist = Path(out_dir) / f"{name}.m3u8"
    counts: dict[str, list] = {}
    video_frags: list[int] = []  # video ticks of each fragment, in decode order
    with av.open(str(mp4)) as inp:
        streams = [s for s in inp.streams if s.type in ("video", "audio")]
        if not streams or streams[0].type != "video" or streams[0].codec_context.name != "h264":
            raise PackageError(f"{mp4}: HLS packaging needs an H.264 clip (video first)")
        with av.open(str(media), "w", format="mp4",
                     options={"movflags": MOVFLAGS, "use_editlist": "1", "fflags": "+bitexact"}) as out:
            mapping = {}
            for s in streams:
                o = out.add_stream_from_template(s)
                o.time_base = _time_base(s)
                mapping[s.index] = (o, Fraction(s.time_base), Fraction(o.time_base), s.type)
                counts[s.type] = [0, 0]
            ps = _parameter_sets(streams[0])
            for packet in inp.demux(*streams):
                if packet.size == 0 or (packet.dts is None and packet.pts is None):
                    continue
                o, src, dst, kind = mapping[packet.stream.index]
                data = bytes(packet)
                key = packet.is_keyframe
                if kind == "video" and key:
                    data = ps + data
                    video_frags.append(0)
                elif kind == "video" and not video_frags:
                    raise PackageError(f"{mp4}: the video does not start with a keyframe")
                p = av.Packet(data)
                p.pts, p.dts = _rescale(packet.pts, src, dst), _rescale(packet.dts, src, dst)
                p.duration = _rescale(packet.duration, src, dst)
                p.time_base, p.is_keyframe, p.stream = dst, key, o
                counts[kind][0] += p.duration or 0
                counts[kind][1] += 1
                if kind == "video":
                    video_frags[-1] += p.duration or 0
                out.mux(p)
    layout = scan_fmp4(media)
    if len(layout.fragments) != len(video_frags):
        raise PackageError(f"{mp4}: {len(layout.fragments)} fragments for {len(video_frags)} video keyframes")
    video = layout.track("video")
    tracks = tuple(RenditionTrack(t.track_id, t.kind, t.timescale, t.media_time, *counts[t.kind])
                   for t in layout.tracks if t.kind in counts)
    segments = tuple((offset, size, Fraction(ticks, video.timescale))
                     for (offset, size), ticks in zip(layout.fragments, video_frags))
    rendition = Rendition(media.name, layout.init_size, segments, tracks)
    playlist.write_text(render_rendition(rendition), encoding="ascii")
    return PackagedClip(media, playlist, rendition, time.monotonic() - started)
