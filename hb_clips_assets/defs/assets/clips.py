"""Frame-accurate MP4 clips and JPEG thumbnails in the object store."""
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from hb_clips_assets.domain.records import Segment
from hb_clips_assets.pipeline.cutting import kept_outcome, produce_clips, set_aside
from hb_clips_assets.pipeline.frames import SOURCE_PREFIX, SourceVideo, column_record, records_from_frame, records_to_frame
from hb_clips_assets.domain.records import ClipRecord
from hb_clips_assets.storage.store import StoreError
from hb_clips_assets.pipeline.objects import ObjectHashes
from hb_clips_assets.pipeline.sources import SourceCatalog
from hb_clips_assets.settings import or_setting
from hb_clips_assets.defs.failures import TRANSIENT_RETRIES, input_errors_fail_cleanly, retries_left
from hb_clips_assets.defs.metadata import (
    CLIPS,
    CLIPS_CACHED,
    CLIPS_CUT,
    CLIPS_FAILED,
    COLUMN_SCHEMA,
    record_schema,
    set_aside_metadata,
    table,
    thumbnail_preview,
)
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import ClipSettingsResource, MediaIndexResource, ObjectStoreResource


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"ffmpeg", "mp4"},
    pool="ffmpeg",  # decoding and x264: at most the pool's limit (CPU cores) at once across all runs
    retry_policy=TRANSIENT_RETRIES,
    metadata={COLUMN_SCHEMA: record_schema(ClipRecord)},
    description="One H.264 MP4 (+faststart, AAC where the source has audio) and one JPEG thumbnail per segment; "
    "content-hash cached: clips already stored with the recorded hash are not cut again. A clip that cannot be cut "
    "is set aside (clips_set_aside, with its event, frames and reason; check clips_all_cut fails) and the others "
    "are indexed; an event's earlier indexed clip stays.",
)
def clips(
    context: AssetExecutionContext,
    event_segments: pd.DataFrame,
    object_store: ObjectStoreResource,
    media_index: MediaIndexResource,
    clip_settings: ClipSettingsResource,
):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        segments = records_from_frame(event_segments, Segment)
        resolved = column_record(event_segments, SourceVideo, SOURCE_PREFIX)
        if resolved is None:
            # No segment, so no video named and nothing to cut: an empty table (media_index then
            # empties the partition, as the segments say).
            context.log.info(f"game {game_id} period {period}: no segments, nothing to cut")
            yield Output(records_to_frame([], ClipRecord), metadata=_clips_metadata([], [], [], clip_settings.cutter_name))
            return
        video_path = Path(resolved.path)
        # The probe and hash event_segments took, remembered (pipeline/sources.py): read again only
        # if the file's identity (inode, size, mtime, ctime) changed since.
        catalog = SourceCatalog(or_setting(clip_settings.work_dir, "HB_WORK_DIR"))
        known = catalog.know(video_path)
        source = known.info
        source_timing = {"probe_seconds": round(known.probe_seconds, 3), "hash_seconds": round(known.hash_seconds, 3)}
        if known.sha256 != resolved.sha256:
            raise Failure(
                f"{video_path} changed after its segments were resolved; re-materialize event_segments first",
                allow_retries=False,
            )
        store = object_store.get_store()
        index = media_index.get_index()
        work_dir = or_setting(clip_settings.work_dir, "HB_WORK_DIR")
        hashes = ObjectHashes(store, work_dir, f"{game_id}-{period}")
        context.log.info(f"cutting {len(segments)} clips of {video_path} with {clip_settings.cut_workers} workers")
        outcomes, failures = produce_clips(
            segments, source, resolved.sha256, store, index,
            clip_settings.encode_settings(), clip_settings.cut_workers, context.log.info,
            scratch_dir=clip_settings.scratch_dir(), object_hashes=hashes,
        )
        hashes.save()
        cut = [o for o in outcomes if not o.cached]
        # A stat, not a hash: a write, truncate, replace or touch changes the ctime (sources.py); only
        # then is the file hashed again, and only different bytes discard the cuts.
        if not catalog.unchanged(known) and _rehash(catalog, video_path, source_timing) != resolved.sha256:
            # Replaced while we cut: some clips may come from the new file under the old file's ids.
            for outcome in cut:
                for stored in outcome.record.assets:
                    store.delete(stored.object_key)
            raise Failure(
                f"{video_path} changed while its clips were being cut; the {len(cut)} clips cut in this run were "
                "discarded: run the partition again to cut the new file",
                allow_retries=False,
            )
        transient = [f for f in failures if f.transient]
        if transient and retries_left(context):
            # The machine, not the clips: store what was cut (a retry finds it stored) and let the policy retry.
            yield Output(records_to_frame([o.record for o in outcomes], ClipRecord),
                         metadata=_clips_metadata(outcomes, failures, [], clip_settings.cutter_name))
            raise Failure(
                f"{len(transient)} of {len(segments)} clips of game {game_id} period {period} failed (transient, "
                "retried): " + "; ".join(f"event {f.segment.event_id} ({f.frames}): {f.error}" for f in transient[:5]),
            )
        if context.retry_number:
            failures = [replace(f, error=f"{f.error} (still failing after {context.retry_number} retries)")
                        if f.transient else f for f in failures]
        asides = set_aside(failures, index)
        for aside in asides:
            context.log.warning(
                f"set aside event {aside.segment.event_id!r} ({aside.failure.frames}): {aside.failure.error}; "
                + (f"its earlier clip {aside.previous.clip_id[:12]} stays indexed" if aside.previous
                   else "not findable until it is cut")
            )
        outcomes = _in_segment_order(outcomes + [kept_outcome(a) for a in asides if a.previous], segments)
        records = [o.record for o in outcomes]
        metadata = _clips_metadata(outcomes, failures, asides, clip_settings.cutter_name) | source_timing
        if records:
            thumb = next(a for a in records[0].assets if a.kind == "thumbnail")
            try:
                metadata["thumbnail_preview"] = thumbnail_preview(store.get_bytes(thumb.object_key))
            except StoreError as exc:
                # Decoration only: every object is stored and verified. A read failing past the store's
                # retries must not fail the partition (media_index would not run): say why it is missing.
                context.log.warning(f"thumbnail preview left out: {exc}")
                metadata["thumbnail_preview_error"] = str(exc)
        yield Output(records_to_frame(records, ClipRecord), metadata=metadata)


def _rehash(catalog: SourceCatalog, video_path: Path, timing: dict) -> str | None:
    """The file's SHA-256 now (its identity changed during the cut); None if it is gone."""
    try:
        again = catalog.know(video_path, probe=False)
    except OSError:
        return None
    timing["hash_seconds"] = round(timing["hash_seconds"] + again.hash_seconds, 3)
    return again.sha256


def _in_segment_order(outcomes: list, segments: list[Segment]) -> list:
    order = {s.event_id: i for i, s in enumerate(segments)}
    return sorted(outcomes, key=lambda o: order.get(o.record.event_id, len(order)))


def _clips_metadata(outcomes: list, failures: list, asides: list, cutter: str) -> dict:
    """Counts of the partition's clips (cut, cached, kept, failed, set aside, by cutting path) and their tables."""
    cut = [o for o in outcomes if o.path in ("smart", "full")]
    metadata = {
        CLIPS: len(outcomes),
        CLIPS_CUT: len(cut),
        CLIPS_CACHED: sum(o.path == "cached" for o in outcomes),
        CLIPS_FAILED: len(failures),
        **set_aside_metadata(asides),
        "bytes_written": MetadataValue.int(sum(a.bytes for o in cut for a in o.record.assets)),
        "cut_seconds_total": round(sum(o.seconds for o in cut), 2),
        # of which packaging HLS (cut clips and stored clips packaged now) and storing objects
        "hls_seconds": round(sum(o.hls_seconds for o in outcomes) + sum(o.seconds for o in outcomes
                                                                          if o.path == "cached"), 2),
        "store_seconds": round(sum(o.store_seconds for o in cut), 2),
        "cutter": cutter,
        "clips_smart_cut": sum(o.path == "smart" for o in cut),
        "clips_full_reencode": sum(o.path == "full" for o in cut),
        "frames_copied": sum(o.copied_frames for o in cut),
        "clips_table": table([_table_row(o) for o in outcomes], _TABLE_COLUMNS),
    }
    fallbacks = [o for o in cut if o.path == "full"]
    if fallbacks:
        metadata["full_reencode_reasons"] = table(
            [{"event_id": o.record.event_id, "reason": o.reason or ""} for o in fallbacks], _REASON_COLUMNS
        )
    if failures:
        metadata["failures"] = table(
            [{"event_id": f.segment.event_id, "error": f.error, "transient": f.transient} for f in failures],
            _ERROR_COLUMNS,
        )
    return metadata


_TABLE_COLUMNS = [("clip_id", "string"), ("event_id", "string"), ("event_type", "string"), ("player_id", "string"),
                  ("frames", "string"), ("seconds", "float"), ("mp4_bytes", "int"), ("cut", "string")]
_REASON_COLUMNS = [("event_id", "string"), ("reason", "string")]
_ERROR_COLUMNS = [("event_id", "string"), ("error", "string"), ("transient", "bool")]


def _table_row(outcome) -> dict:
    r = outcome.record
    seconds = float(Fraction(r.end_frame - r.start_frame) * r.fps_den / r.fps_num)
    how = {"cached": "cached", "kept": "kept: earlier clip (this cut failed)",
           "smart": f"smart ({outcome.copied_frames} copied)"}.get(outcome.path, "full re-encode")
    return {
        "clip_id": r.clip_id[:12], "event_id": r.event_id, "event_type": r.event_type, "player_id": r.player_id,
        "frames": f"{r.start_frame}-{r.end_frame}", "seconds": round(seconds, 2),
        "mp4_bytes": next((a.bytes for a in r.assets if a.kind == "mp4"), None), "cut": how,
    }
