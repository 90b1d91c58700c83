"""The smart cut's entry point and the order of its stages (see the package
docstring for why it is correct): plan the body, re-encode the head and the
tail, take the audio, write the MP4, read it back; on any doubt, the full
re-encode (:func:`hb_clips_assets.video.cut.full.cut_clip`) instead.
"""
from __future__ import annotations

import logging
from pathlib import Path

import av

from hb_clips_assets.video import h264
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.cut.smart.audio import clip_audio
from hb_clips_assets.video.cut.smart.encode import encode_range, encode_tail
from hb_clips_assets.video.cut.smart.mux import add_parameter_sets, decode_order, write_mp4
from hb_clips_assets.video.cut.smart.packets import Fallback, SourceStream
from hb_clips_assets.video.cut.smart.plan import first_splice, plan_body, read_packets, tail_source, unsupported
from hb_clips_assets.video.cut.smart.recovery import splice_at_recovery_point
from hb_clips_assets.video.cut.smart.thumbnail import Thumbnail
from hb_clips_assets.video.cut.smart.verify import VERIFY_BEFORE_JOIN, verify_clip, verify_windows
from hb_clips_assets.video.cut.types import (
    CutError, EncodeSettings, SmartCutResult, check_cut_range, new_output_paths,
)
from hb_clips_assets.video.probe import VideoInfo

log = logging.getLogger(__name__)


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
    """Like :func:`hb_clips_assets.video.cut.full.cut_clip` (same files, same
    guarantees), faster where the source has an IDR frame inside the clip.

    ``verify``: ``"joins"`` (default) decodes the output around both joins (the
    head and the first copied packets; the last copied GOP and the tail) and
    checks every picture's timestamp and frame mark; ``"full"`` decodes the
    whole output; ``"none"`` trusts the construction. Any mismatch: full re-encode."""
    check_cut_range(source, start_frame, end_frame, event_frame)
    if verify not in ("joins", "full", "none"):
        raise ValueError(f"verify must be 'joins', 'full' or 'none', not {verify!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reason = unsupported(source, settings)
    if reason is None:
        mp4_path, jpg_path = new_output_paths(out_dir)
        try:
            job = SmartCut(source, start_frame, end_frame, event_frame, mp4_path, jpg_path, settings)
            job.run(verify)
            return SmartCutResult(
                mp4_path, jpg_path, job.frames, job.audio_samples,
                source.audio_sample_rate if job.audio_samples else None,
                path="full" if job.whole else "smart", copied_frames=job.copied,
                reencoded_frames=job.frames - job.copied, reason=job.whole_reason(),
            )
        except Fallback as exc:
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


class SmartCut:
    """One smart cut: runs the stages in order and keeps what the result reports."""

    def __init__(self, source, start, end, event, mp4_path, jpg_path, settings):
        self.source, self.start, self.end, self.event = source, start, end, event
        self.mp4_path, self.jpg_path, self.settings = mp4_path, jpg_path, settings
        self.frames = end - start
        self.copied = 0
        self.body_first = 0
        self.audio_samples = 0
        self.thumbnail = Thumbnail(jpg_path, settings.thumbnail_quality, event)
        self.whole = False  # no random access point inside the clip: all of it re-encoded
        self.splice_refused: str | None = None  # why a recovery point inside was not spliced at

    def run(self, verify: str) -> None:
        src, settings, start, end = self.source, self.settings, self.start, self.end
        # a non-UTF-8 track name must not fail the cut; the probe chose the main video stream
        with av.open(src.path, metadata_errors="replace") as inp:
            vin = inp.streams[src.stream_index]
            stream = SourceStream(src, vin.codec_context.extradata, vin.time_base, vin.codec_context)
            avcc = h264.AvcC.parse(bytes(stream.extradata or b""))
            if avcc.length_size != 4:
                raise Fallback(f"NAL length size {avcc.length_size}")
            pkts = read_packets(inp, vin, src, start, end)
            seq, pos = self._splice_point(pkts, avcc)
            free = [i for i in range(32) if i not in avcc.used_ids()]
            head = tail = None
            body = []
            if pos is None:
                # No random access point inside: the whole clip re-encoded, from one decode.
                self.whole = True
                head = encode_range(stream, settings, pkts, start, end, free[0], self.thumbnail)
            else:
                plan = plan_body(seq, start, end, pos)
                self.copied = plan.x - plan.k
                self.body_first = plan.k - start  # clip frame of the copied IDR
                if plan.k > start:
                    # The head's source: up to R's leading pictures (decoded after R).
                    stop = next((i for i in range(pos + 1, len(pkts)) if pkts[i].index > plan.k), len(pkts))
                    head = encode_range(stream, settings, pkts[:stop] if pkts is not seq else pkts[: plan.body_from],
                                        start, plan.k, free[0], self.thumbnail,
                                        idr_at=max(0, plan.k - start - VERIFY_BEFORE_JOIN))
                if plan.x < end:
                    tail = encode_tail(stream, settings, tail_source(pkts, seq, plan, self.event), plan.x, end, free[1],
                                       avcc.sps[0], self.thumbnail)
                body = seq[plan.body_from : plan.body_to]
            order = decode_order(head, body, tail, start, self.frames)
            add_parameter_sets(avcc, head, tail)
            audio = clip_audio(inp, src, start, self.frames) if src.has_audio else None
            if audio is not None:
                self.audio_samples = audio.samples
            with av.open(str(self.mp4_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                self._mux(out, vin, avcc.build(), order, audio)
        windows = verify_windows(verify, self.frames, head, tail, whole=self.whole)
        verify_clip(self.mp4_path, windows, src, start, self.frames, self.thumbnail, anchor=self.body_first)
        if not self.thumbnail.done:  # an event in the body, after the tail's decode began
            self.thumbnail.from_packets(stream, pkts, since=start + self.body_first)

    def _splice_point(self, pkts, avcc):
        """(the packets to copy from, the position of the body's first packet or None): at the
        first random access point inside the clip; a recovery point is rewritten to start with
        an IDR (``recovery.py``), or, where that is refused, the first IDR inside is used."""
        pos = first_splice(pkts, self.start, self.end)
        if pos is None or pkts[pos].idr:
            return pkts, pos
        try:
            return pkts[:pos] + splice_at_recovery_point(pkts[pos:], avcc, end=self.end), pos
        except Fallback as exc:
            self.splice_refused = str(exc)
            log.info("%s [%d, %d): %s", self.source.path, self.start, self.end, exc)
            return pkts, next((i for i, p in enumerate(pkts) if p.idr and self.start <= p.index < self.end), None)

    def whole_reason(self) -> str | None:
        if not self.whole:
            return None
        why = "no IDR frame or recovery point inside the clip"
        return f"{why} ({self.splice_refused})" if self.splice_refused else why

    def _mux(self, out, vin, avcc: bytes, order, audio) -> None:
        # A method, not a direct call of write_mp4, so that a test can break the
        # written clip (swap packets) and prove that verification falls back.
        write_mp4(out, vin, avcc, order, audio, self.settings, self.source.fps)


__all__ = ["SmartCut", "smart_cut_clip"]
