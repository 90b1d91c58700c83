"""Turn a period's segments into stored clips: cache check, parallel cuts,
uploads. Plain Python; the Dagster asset only wraps it and reports.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hb_clips_assets.domain.identity import clip_id, clip_object_key, thumbnail_object_key
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.records import AssetRecord, ClipRecord
from hb_clips_assets.video.scratch import scratch_folder, sweep_scratch
from hb_clips_assets.domain.records import Segment
from hb_clips_assets.storage.store.base import ObjectStore, StoreError
from hb_clips_assets.video.cut import EncodeSettings, SmartCutResult, cut_clip, smart_cut_clip
from hb_clips_assets.video.probe import VideoInfo

MP4 = "video/mp4"
JPEG = "image/jpeg"


@dataclass(frozen=True)
class ClipOutcome:
    record: ClipRecord
    cached: bool  # True: objects already stored with the recorded hash, nothing cut
    seconds: float
    path: str = "cached"  # how it was cut: "smart" (head/tail re-encoded, body copied), "full" or "cached"
    reason: str | None = None  # why a full re-encode was used
    copied_frames: int = 0


def cut_segment(source: VideoInfo, seg: Segment, out_dir: Path, settings: EncodeSettings) -> SmartCutResult:
    """One cut with the configured cutter; the result says which path it took."""
    if settings.cutter == "smart":
        return smart_cut_clip(source, seg.start_frame, seg.end_frame, seg.event_frame, out_dir, settings)
    if settings.cutter != "full":
        raise ValueError(f"unknown cutter {settings.cutter!r}: use 'smart' or 'full'")
    r = cut_clip(source, seg.start_frame, seg.end_frame, seg.event_frame, out_dir, settings)
    return SmartCutResult(r.mp4_path, r.thumbnail_path, r.frames, r.audio_samples, r.audio_sample_rate,
                          path="full", reason="full re-encode configured", reencoded_frames=r.frames)


@dataclass(frozen=True)
class ClipFailure:
    segment: Segment
    error: str


def clip_id_for(segment: Segment, source_sha256: str, settings: EncodeSettings) -> str:
    return clip_id(
        source_sha256=source_sha256,
        start_frame=segment.start_frame,
        end_frame=segment.end_frame,
        event_frame=segment.event_frame,
        encode_fingerprint=settings.fingerprint(),
        game_id=segment.game_id,
        period=segment.period,
        event_id=segment.event_id,
    )


def _record(segment: Segment, cid: str, source: VideoInfo, source_sha256: str, assets) -> ClipRecord:
    return ClipRecord.of(segment, clip_id=cid, source_uri=Path(source.path).resolve().as_uri(),
                         source_sha256=source_sha256, assets=tuple(assets))


_KINDS = (("mp4", MP4), ("thumbnail", JPEG))


def _object_keys(seg: Segment, cid: str) -> dict[str, str]:
    return {"mp4": clip_object_key(seg.game_id, seg.period, cid),
            "thumbnail": thumbnail_object_key(seg.game_id, seg.period, cid)}


def _cached_assets(cid: str, seg: Segment, recorded: dict, store: ObjectStore) -> list[AssetRecord] | None:
    """The clip's assets if both objects exist with the size and hash the index recorded.

    A clip the index has never recorded (an earlier attempt stored it, then
    another clip of the partition failed, so the partition was never indexed)
    is taken as stored when both of its objects exist: object keys derive from
    the clip id, which hashes everything that determines the content, and the
    store writes atomically, so an existing object is a complete cut of the
    same inputs. A retry then cuts only the clips that failed.
    """
    keys = _object_keys(seg, cid)
    if not any((cid, kind) in recorded for kind in keys):
        found = []
        for kind, content_type in _KINDS:
            obj = store.stat(keys[kind])
            if obj is None:
                return None
            found.append(AssetRecord(kind, obj.key, obj.uri, obj.bytes, obj.sha256, content_type))
        return found
    found = []
    for kind, key in keys.items():
        asset = recorded.get((cid, kind))
        if asset is None or asset.object_key != key:
            return None
        obj = store.stat(key)
        if obj is None or obj.bytes != asset.bytes or obj.sha256 != asset.sha256:
            return None
        found.append(asset)
    return found


def produce_clips(
    segments: list[Segment],
    source: VideoInfo,
    source_sha256: str,
    store: ObjectStore,
    index: MediaIndex,
    settings: EncodeSettings = EncodeSettings(),
    workers: int = 2,
    progress: Callable[[str], None] = lambda _msg: None,
    scratch_dir: Path | None = None,
) -> tuple[list[ClipOutcome], list[ClipFailure]]:
    """Cut and store every segment not already stored. One failing clip does
    not stop the others: it is returned as a :class:`ClipFailure`.

    Each cut is written into its own folder under ``scratch_dir`` (the system
    temporary folder when None) before it is stored; folders a killed earlier
    process left there are removed first.
    """
    if scratch_dir is not None and (swept := sweep_scratch(scratch_dir)):
        progress(f"removed {swept} scratch folders a killed earlier process left under {scratch_dir}")
    ids = {s.event_id: clip_id_for(s, source_sha256, settings) for s in segments}
    sweep = getattr(store, "sweep_temporaries", None)
    if sweep is not None:  # what a killed earlier attempt left half-written
        for game_id, period in sorted({(s.game_id, s.period) for s in segments}):
            for prefix in (f"clips/{game_id}/{period}", f"thumbnails/{game_id}/{period}"):
                if sweep(prefix):
                    progress(f"removed temporary files a killed earlier attempt left under {prefix}")
    recorded = index.assets_of(list(ids.values()))
    outcomes: list[ClipOutcome] = []
    failures: list[ClipFailure] = []
    todo: list[Segment] = []
    for seg in segments:
        cached = _cached_assets(ids[seg.event_id], seg, recorded, store)
        if cached is None:
            todo.append(seg)
        else:
            outcomes.append(ClipOutcome(_record(seg, ids[seg.event_id], source, source_sha256, cached), True, 0.0))
    if outcomes:
        progress(f"{len(outcomes)} of {len(segments)} clips already stored with matching hashes; not cut again")

    def cut_one(seg: Segment) -> ClipOutcome:
        started = time.monotonic()
        cid = ids[seg.event_id]
        with scratch_folder(scratch_dir) as tmp:
            result = cut_segment(source, seg, tmp, settings)
            mp4 = store.put_file(clip_object_key(seg.game_id, seg.period, cid), result.mp4_path, MP4)
            jpg = store.put_file(thumbnail_object_key(seg.game_id, seg.period, cid), result.thumbnail_path, JPEG)
        assets = [
            AssetRecord("mp4", mp4.key, mp4.uri, mp4.bytes, mp4.sha256, MP4),
            AssetRecord("thumbnail", jpg.key, jpg.uri, jpg.bytes, jpg.sha256, JPEG),
        ]
        record = _record(seg, cid, source, source_sha256, assets)
        seconds = time.monotonic() - started
        return ClipOutcome(record, False, seconds, result.path, result.reason, result.copied_frames)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hb-cut") as pool:
        futures = {pool.submit(cut_one, seg): seg for seg in todo}
        for future in as_completed(futures):
            seg = futures[future]
            done += 1
            try:
                outcome = future.result()
            except StoreError:
                # The store refusing writes is not one bad clip: stop cutting (each cut
                # would be lost) and fail the partition; clips already stored stay.
                for pending in futures:
                    pending.cancel()
                raise
            except Exception as exc:  # one bad clip must not lose the partition's others
                failures.append(ClipFailure(seg, f"{type(exc).__name__}: {exc}"))
                progress(f"[{done}/{len(todo)}] event {seg.event_id!r} FAILED: {exc}")
                continue
            outcomes.append(outcome)
            how = (f"smart: {outcome.copied_frames} of {seg.end_frame - seg.start_frame} frames copied"
                   if outcome.path == "smart" else f"full re-encode: {outcome.reason}")
            progress(
                f"[{done}/{len(todo)}] cut event {seg.event_id!r} ({seg.event_type!r}) frames "
                f"{seg.start_frame}-{seg.end_frame} in {outcome.seconds:.2f} s ({how})"
            )
    order = {s.event_id: i for i, s in enumerate(segments)}
    outcomes.sort(key=lambda o: order[o.record.event_id])
    return outcomes, failures
