"""Rows of media.clips, media.clip_assets and media.clip_tags for one game period."""
from dagster import AssetExecutionContext, MaterializeResult, asset

from ..core.tables import records_from_table
from ..failures import TRANSIENT_RETRIES
from ..metadata import markdown_table
from ..partitions import game_period_partitions, split_game_period
from ..resources import MediaIndexResource, ObjectStoreResource


@asset(
    partitions_def=game_period_partitions,
    group_name="clips",
    kinds={"sql"},
    retry_policy=TRANSIENT_RETRIES,
    description="The partition's clips in the media index, written in one transaction with upserts; "
    "rows of clips that no longer exist (replaced video, corrected metrics) are removed with their objects.",
)
def media_index(context: AssetExecutionContext, clips, media_index: MediaIndexResource, object_store: ObjectStoreResource):
    game_id, period = split_game_period(context.partition_key)
    records = records_from_table(clips)
    index = media_index.get_index()
    result = index.write_partition(game_id, period, records)
    store = object_store.get_store()
    for key in result.removed_object_keys:  # after the commit: a crash here leaves orphans, never dangling rows
        store.delete(key)
    context.log.info(
        f"media index: {result.clips} clips for game {game_id} period {period} "
        f"({result.inserted} new, {len(result.removed_object_keys)} stale objects removed)"
    )
    return MaterializeResult(
        metadata={
            "clips": result.clips,
            "rows_inserted": result.inserted,
            "stale_objects_removed": len(result.removed_object_keys),
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
