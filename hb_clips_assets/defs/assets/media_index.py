"""Rows of media.clips, media.clip_assets and media.clip_tags for one game period."""
from dagster import AssetExecutionContext, MaterializeResult, asset

from hb_clips_assets.pipeline.tables import records_from_table
from hb_clips_assets.defs.failures import TRANSIENT_RETRIES
from hb_clips_assets.defs.metadata import markdown_table
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import MediaIndexResource, ObjectStoreResource


@asset(
    partitions_def=game_period_partitions,
    group_name="clips",
    kinds={"sql"},
    retry_policy=TRANSIENT_RETRIES,
    description="The partition's clips in the media index, written in one transaction with upserts; "
    "rows of clips that no longer exist (replaced video, corrected metrics) are removed with their objects "
    "(queued in media.pending_deletions in the same transaction, so a killed run's leftovers go on the next run).",
)
def media_index(context: AssetExecutionContext, clips, media_index: MediaIndexResource, object_store: ObjectStoreResource):
    game_id, period = split_game_period(context.partition_key)
    records = records_from_table(clips)
    index = media_index.get_index()
    result = index.write_partition(game_id, period, records)  # also queues the stale objects' keys
    store = object_store.get_store()
    # After the commit, so a kill never leaves a row naming a missing object. The keys come from
    # media.pending_deletions, not only from this write: a run killed here left its keys there.
    pending = index.pending_deletions(game_id, period)
    deleted: list[str] = []
    try:
        for key in pending:
            store.delete(key)  # a key already gone is fine (the store's delete ignores it)
            deleted.append(key)
    finally:
        index.mark_deleted(deleted)  # what a failed delete left stays queued for the next run
    leftovers = len(set(deleted) - set(result.removed_object_keys))
    context.log.info(
        f"media index: {result.clips} clips for game {game_id} period {period} "
        f"({result.inserted} new, {len(deleted)} stale objects removed"
        + (f", {leftovers} of them left by an earlier run" if leftovers else "") + ")"
    )
    return MaterializeResult(
        metadata={
            "clips": result.clips,
            "rows_inserted": result.inserted,
            "stale_objects_removed": len(deleted),
            "clips_in_game": index.count_clips(game_id),
            "database": index.engine.url.render_as_string(hide_password=True),
            "rows": markdown_table(
                ["clip_id", "event_id", "event_type", "team", "opponent", "start_s", "duration_s"],
                [
                    [r["clip_id"][:12], r["event_id"], r["event_type"], r["team"], r["opponent"],
                     f"{r['start_s']:.3f}", f"{r['duration_s']:.3f}"]
                    for r in index.clips(game_id, period)
                ],
            ),
        }
    )
