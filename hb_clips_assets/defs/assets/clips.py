"""Frame-accurate MP4 clips and JPEG thumbnails in the object store."""
from fractions import Fraction
from pathlib import Path

from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from hb_clips_assets.pipeline.cutting import produce_clips
from hb_clips_assets.domain.identity import source_fingerprint
from hb_clips_assets.storage.store import StoreError
from hb_clips_assets.pipeline.tables import records_to_table, segments_from_table
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.defs.failures import TRANSIENT_RETRIES, input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import markdown_table, thumbnail_preview
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import ClipSettingsResource, MediaIndexResource, ObjectStoreResource


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"ffmpeg", "mp4"},
    pool="ffmpeg",  # decoding and x264: at most the pool's limit (CPU cores) at once across all runs
    retry_policy=TRANSIENT_RETRIES,
    description="One H.264 MP4 (+faststart, AAC where the source has audio) and one JPEG thumbnail per segment; "
    "content-hash cached: clips already stored with the recorded hash are not cut again.",
)
def clips(
    context: AssetExecutionContext,
    event_segments,
    object_store: ObjectStoreResource,
    media_index: MediaIndexResource,
    clip_settings: ClipSettingsResource,
):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        meta = {k.decode(): v.decode() for k, v in (event_segments.schema.metadata or {}).items()}
        video_path = Path(meta["source_path"])
        segments = segments_from_table(event_segments)
        source = probe_video(video_path)
        if source_fingerprint(video_path) != meta["source_sha256"]:
            raise Failure(
                f"{video_path} changed after its segments were resolved; re-materialize event_segments first",
                allow_retries=False,
            )
        store = object_store.get_store()
        context.log.info(f"cutting {len(segments)} clips of {video_path} with {clip_settings.workers} workers")
        outcomes, failures = produce_clips(
            segments, source, meta["source_sha256"], store, media_index.get_index(),
            clip_settings.encode_settings(), clip_settings.workers, context.log.info,
            scratch_dir=clip_settings.scratch_dir(),
        )
        cut = [o for o in outcomes if not o.cached]
        if source_fingerprint(video_path) != meta["source_sha256"]:
            # Replaced while we cut: some clips may come from the new file under the old file's ids.
            for outcome in cut:
                for stored in outcome.record.assets:
                    store.delete(stored.object_key)
            raise Failure(
                f"{video_path} changed while its clips were being cut; the {len(cut)} clips cut in this run were "
                "discarded: run the partition again to cut the new file",
                allow_retries=False,
            )
        records = [o.record for o in outcomes]
        bytes_written = sum(a.bytes for o in cut for a in o.record.assets)
        metadata = {
            "clips": len(records),
            "clips_cut": len(cut),
            "clips_cached": len(outcomes) - len(cut),
            "clips_failed": len(failures),
            "bytes_written": MetadataValue.int(bytes_written),
            "cut_seconds_total": round(sum(o.seconds for o in cut), 2),
            "cutter": clip_settings.cutter,
            "clips_smart_cut": sum(o.path == "smart" for o in cut),
            "clips_full_reencode": sum(o.path == "full" for o in cut),
            "frames_copied": sum(o.copied_frames for o in cut),
            "clips_table": markdown_table(
                ["clip_id", "event_id", "event_type", "player", "frames", "seconds", "mp4 bytes", "cut"],
                [_table_row(o) for o in outcomes],
            ),
        }
        fallbacks = [o for o in cut if o.path == "full"]
        if fallbacks:
            metadata["full_reencode_reasons"] = markdown_table(
                ["event_id", "reason"], [[o.record.event_id, o.reason or ""] for o in fallbacks[:50]]
            )
        if records:
            thumb = next(a for a in records[0].assets if a.kind == "thumbnail")
            try:
                metadata["thumbnail_preview"] = thumbnail_preview(store.get_bytes(thumb.object_key))
            except StoreError as exc:
                # Decoration only: every object is stored and verified. A read failing past the store's
                # retries must not fail the partition (media_index would not run): say why it is missing.
                context.log.warning(f"thumbnail preview left out: {exc}")
                metadata["thumbnail_preview_error"] = str(exc)
        if failures:
            metadata["failures"] = markdown_table(["event_id", "error"], [[f.segment.event_id, f.error] for f in failures])
        yield Output(records_to_table(records), metadata=metadata)
        if failures:
            raise Failure(
                f"{len(failures)} of {len(segments)} clips of game {game_id} period {period} failed: "
                + "; ".join(f"event {f.segment.event_id}: {f.error}" for f in failures[:5]),
            )


def _table_row(outcome) -> list:
    r = outcome.record
    seconds = float(Fraction(r.end_frame - r.start_frame) * r.fps_den / r.fps_num)
    mp4_bytes = next((a.bytes for a in r.assets if a.kind == "mp4"), "")
    if outcome.cached:
        how = "cached"
    elif outcome.path == "smart":
        how = f"smart ({outcome.copied_frames} copied)"
    else:
        how = "full re-encode"
    return [r.clip_id[:12], r.event_id, r.event_type, r.player_id, f"{r.start_frame}-{r.end_frame}",
            f"{seconds:.2f}", mp4_bytes, how]
