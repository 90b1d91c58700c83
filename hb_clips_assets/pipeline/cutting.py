"""Turn a period's segments into stored clips: cache check, parallel cuts,
uploads, and what happens to a clip that cannot be cut. Plain Python; the
Dagster asset only wraps it and reports.

A clip that fails is one of three things (:func:`transient_error`,
:class:`ClipFailure`): the store refusing a write (the partition stops: every
further cut would be lost), trouble of the machine (an I/O error of the
scratch disk, too many open files: worth a retry of the step), or a clip that
cannot be cut (its frames do not decode, the encoder refuses them, the cutter
raises): retrying cannot help, so it is set aside like a bad row
(:func:`set_aside`) and the period's other clips are stored and indexed.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import av
from hb_clips_assets.domain.identity import clip_id, clip_object_key, thumbnail_object_key
from hb_clips_assets.domain.records import AssetRecord, ClipRecord, Segment
from hb_clips_assets.pipeline.objects import ObjectHashes
from hb_clips_assets.pipeline.renditions import HLS_KINDS, hls_enabled, hls_keys, rendition_from_stored, store_rendition
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.video.scratch import scratch_folder, sweep_scratch
from hb_clips_assets.storage.store.base import ObjectStore, StoreError
from hb_clips_assets.video.cut import CutError, EncodeSettings, SmartCutResult, cut_clip, smart_cut_clip
from hb_clips_assets.video.probe import VideoError, VideoInfo

MP4 = "video/mp4"
JPEG = "image/jpeg"


@dataclass(frozen=True)
class ClipOutcome:
    record: ClipRecord
    cached: bool  # True: objects already stored with the recorded hash, nothing cut
    seconds: float
    # how it was cut: "smart" (head/tail re-encoded, body copied), "full", "cached", or "kept": this cut
    # failed and the clip the index holds for the event stays (see set_aside)
    path: str = "cached"
    reason: str | None = None  # why a full re-encode was used
    copied_frames: int = 0
    # of ``seconds``: packaging the HLS rendition, and putting the objects in the store (copy, fsync, hash)
    hls_seconds: float = 0.0
    store_seconds: float = 0.0


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
    error: str  # the reason, readable: names the file and the problem (the frames are the segment's)
    transient: bool = False  # trouble of the machine, not of the clip: worth retrying the step

    @property
    def frames(self) -> str:
        s = self.segment
        return f"frames {s.start_frame}-{s.end_frame}, event frame {s.event_frame}"


# OSErrors that name a path that is wrong (missing, a folder, not writable): retrying cannot fix them.
PATH_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


def transient_error(exc: BaseException) -> bool:
    """Whether ``exc`` is trouble of the machine that a retry may not meet again: an I/O error (a
    full or flaky scratch disk, too many open files), a lost connection, a timeout, memory.

    Not transient: whatever FFmpeg says about the data (PyAV raises its decoder's and encoder's
    errors as FFmpegError, some of them OSError subclasses), a wrong path, and every other error
    (a cutter refusing a range, a bug): those fail the same way every time.
    """
    if isinstance(exc, (ConnectionError, TimeoutError, MemoryError)):
        return True
    if isinstance(exc, av.error.FFmpegError):
        return False
    return isinstance(exc, OSError) and not isinstance(exc, PATH_ERRORS)


def failure_reason(exc: BaseException, source: VideoInfo) -> str:
    """One line naming the file and the problem; FFmpeg's errno and C function names left out."""
    if isinstance(exc, av.error.ExternalError):  # x264 refusing its input: no detail but in its own log
        return (f"{source.path}: the encoder refused the {source.width}x{source.height} {source.pix_fmt} frames "
                f"({exc.strerror or exc}); libx264 needs an even width and height")
    if isinstance(exc, av.error.FFmpegError):
        where = f" in {exc.filename}" if isinstance(exc.filename, str) and exc.filename.endswith("()") else ""
        return f"{source.path}: FFmpeg refused the clip's frames: {exc.strerror or exc}{where}"
    text = " ".join(str(exc).split())
    if isinstance(exc, (CutError, VideoError)):
        return text  # these already name the file and the frame
    return f"{source.path}: {type(exc).__name__}: {text}"


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


def _cached_assets(cid: str, seg: Segment, recorded: dict, store: ObjectStore, kinds=_KINDS,
                   keys: dict[str, str] | None = None, stat=None) -> list[AssetRecord] | None:
    """The clip's assets of ``kinds`` (MP4 and thumbnail; or the HLS rendition's two) if all of
    their objects exist with the size and hash the index recorded.

    A clip the index has never recorded (an earlier attempt stored it, then
    another clip of the partition failed, so the partition was never indexed)
    is taken as stored when both of its objects exist: object keys derive from
    the clip id, which hashes everything that determines the content, and the
    store writes atomically, so an existing object is a complete cut of the
    same inputs. A retry then cuts only the clips that failed.
    """
    keys = keys or _object_keys(seg, cid)
    stat = stat or store.stat
    if not any((cid, kind) in recorded for kind in keys):
        found = []
        for kind, content_type in kinds:
            obj = stat(keys[kind])
            if obj is None:
                return None
            found.append(AssetRecord(kind, obj.key, obj.uri, obj.bytes, obj.sha256, content_type))
        return found
    found = []
    for kind, key in keys.items():
        asset = recorded.get((cid, kind))
        if asset is None or asset.object_key != key:
            return None
        obj = stat(key)
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
    hls: bool | None = None,
    object_hashes: ObjectHashes | None = None,
) -> tuple[list[ClipOutcome], list[ClipFailure]]:
    """Cut and store every segment not already stored. One failing clip does
    not stop the others: it is returned as a :class:`ClipFailure`.

    ``hls`` (default: the setting ``HB_HLS``, on): every clip also gets its HLS rendition
    (:mod:`.renditions`); a clip already stored without one is packaged from its stored MP4, not cut.

    Each cut is written into its own folder under ``scratch_dir`` (the system
    temporary folder when None) before it is stored; folders a killed earlier
    process left there are removed first.

    ``object_hashes``: the cache check asks it (:mod:`.objects`: hashes remembered while an
    object's file is unchanged) instead of hashing every stored object again.
    """
    if scratch_dir is not None and (swept := sweep_scratch(scratch_dir)):
        progress(f"removed {swept} scratch folders a killed earlier process left under {scratch_dir}")
    ids = {s.event_id: clip_id_for(s, source_sha256, settings) for s in segments}
    sweep = getattr(store, "sweep_temporaries", None)
    if sweep is not None:  # what a killed earlier attempt left half-written
        for game_id, period in sorted({(s.game_id, s.period) for s in segments}):
            for prefix in (f"clips/{game_id}/{period}", f"thumbnails/{game_id}/{period}", f"hls/{game_id}/{period}"):
                if sweep(prefix):
                    progress(f"removed temporary files a killed earlier attempt left under {prefix}")
    recorded = index.assets_of(list(ids.values()))
    outcomes: list[ClipOutcome] = []
    failures: list[ClipFailure] = []
    todo: list[Segment] = []
    to_package: list[tuple[Segment, list[AssetRecord]]] = []
    hls = hls_enabled(hls)
    for seg in segments:
        cid = ids[seg.event_id]
        stat = object_hashes.stat if object_hashes is not None else store.stat
        cached = _cached_assets(cid, seg, recorded, store, stat=stat)
        rendition = (_cached_assets(cid, seg, recorded, store, HLS_KINDS, hls_keys(seg, cid), stat)
                     if cached and hls else [])
        if cached is None:
            todo.append(seg)
        elif rendition is None:
            to_package.append((seg, cached))
        else:
            outcomes.append(ClipOutcome(_record(seg, cid, source, source_sha256, cached + rendition), True, 0.0))
    if outcomes or to_package:
        progress(f"{len(outcomes) + len(to_package)} of {len(segments)} clips already stored with matching hashes; "
                 f"not cut again ({len(to_package)} of them get their HLS rendition now)")

    def package_one(seg: Segment, cached: list[AssetRecord]) -> ClipOutcome:
        cid = ids[seg.event_id]
        mp4_key = next(a.object_key for a in cached if a.kind == "mp4")
        with scratch_folder(scratch_dir) as tmp:
            rendition, seconds = rendition_from_stored(mp4_key, seg, cid, store, tmp)
        return ClipOutcome(_record(seg, cid, source, source_sha256, cached + rendition), True, seconds)

    def cut_one(seg: Segment) -> ClipOutcome:
        started = time.monotonic()
        cid = ids[seg.event_id]
        with scratch_folder(scratch_dir) as tmp:
            result = cut_segment(source, seg, tmp, settings)
            stored = time.monotonic()
            mp4 = store.put_file(clip_object_key(seg.game_id, seg.period, cid), result.mp4_path, MP4)
            jpg = store.put_file(thumbnail_object_key(seg.game_id, seg.period, cid), result.thumbnail_path, JPEG)
            rendition, hls_s = store_rendition(result.mp4_path, seg, cid, store, tmp) if hls else ([], 0.0)
            store_s = time.monotonic() - stored - hls_s
        assets = [
            AssetRecord("mp4", mp4.key, mp4.uri, mp4.bytes, mp4.sha256, MP4),
            AssetRecord("thumbnail", jpg.key, jpg.uri, jpg.bytes, jpg.sha256, JPEG),
            *rendition,
        ]
        record = _record(seg, cid, source, source_sha256, assets)
        seconds = time.monotonic() - started
        return ClipOutcome(record, False, seconds, result.path, result.reason, result.copied_frames, hls_s, store_s)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hb-cut") as pool:
        futures = {pool.submit(cut_one, seg): seg for seg in todo}
        futures |= {pool.submit(package_one, seg, cached): seg for seg, cached in to_package}
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
                failure = ClipFailure(seg, failure_reason(exc, source), transient_error(exc))
                failures.append(failure)
                progress(f"[{done}/{len(futures)}] event {seg.event_id!r} ({failure.frames}) FAILED"
                         f"{' (transient)' if failure.transient else ''}: {failure.error}")
                continue
            outcomes.append(outcome)
            if outcome.cached:
                progress(f"[{done}/{len(futures)}] packaged HLS of event {seg.event_id!r} in {outcome.seconds:.2f} s")
                continue
            how = (f"smart: {outcome.copied_frames} of {seg.end_frame - seg.start_frame} frames copied"
                   if outcome.path == "smart" else f"full re-encode: {outcome.reason}")
            progress(
                f"[{done}/{len(futures)}] cut event {seg.event_id!r} ({seg.event_type!r}) frames "
                f"{seg.start_frame}-{seg.end_frame} in {outcome.seconds:.2f} s ({how})"
            )
    order = {s.event_id: i for i, s in enumerate(segments)}
    outcomes.sort(key=lambda o: order[o.record.event_id])
    return outcomes, failures


from hb_clips_assets.pipeline.setaside import SetAside, indexed_records, kept_outcome, set_aside  # noqa: E402,F401
