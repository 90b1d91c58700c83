"""Rows of media.clips, media.clip_assets and media.clip_tags for one game period."""
import pandas as pd
from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue, asset
from pydantic import Field

from hb_clips_assets.defs.failures import TRANSIENT_RETRIES
from hb_clips_assets.defs.metadata import CLIPS, COLUMN_SCHEMA, ROW_COUNT, sql_table_schema, table
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import DataRootResource, MediaIndexResource, ObjectStoreResource
from hb_clips_assets.pipeline.removals import plan_removals, refusal
from hb_clips_assets.settings import value
from hb_clips_assets.pipeline.frames import records_from_frame
from hb_clips_assets.storage.index.models import Clip
from hb_clips_assets.domain.records import ClipRecord

# What this asset is: the partition's rows of media.clips.
_INDEX_SCHEMA = sql_table_schema(Clip.__table__)
_ROWS_COLUMNS = [("clip_id", "string"), ("event_id", "string"), ("event_type", "string"), ("team", "string"),
                 ("opponent", "string"), ("start_s", "float"), ("duration_s", "float")]


class MediaIndexConfig(Config):
    accept_removals: bool = Field(
        default=False,
        description="Index this version even if it removes more of the period's indexed clips than "
        "HB_MAX_REMOVED_SHARE allows (or all of them); hb-clips run --accept-removals sets it",
    )


@asset(
    partitions_def=game_period_partitions,
    group_name="clips",
    kinds={"sql"},
    retry_policy=TRANSIENT_RETRIES,
    metadata={COLUMN_SCHEMA: _INDEX_SCHEMA},
    description="The partition's clips in the media index, written in one transaction with upserts; "
    "rows of clips that no longer exist (replaced video, corrected metrics) are removed with their objects "
    "(queued in media.pending_deletions in the same transaction, so a killed run's leftovers go on the next run).",
)
def media_index(context: AssetExecutionContext, config: MediaIndexConfig, clips: pd.DataFrame,
                media_index: MediaIndexResource, object_store: ObjectStoreResource, data_root: DataRootResource):
    game_id, period = split_game_period(context.partition_key)
    records = records_from_frame(clips, ClipRecord)
    index = media_index.get_index()
    # Before anything is written or deleted: a bad re-export must not take indexed clips with it.
    removals = plan_removals((r["event_id"] for r in index.clips(game_id, period)), (r.event_id for r in records))
    refused = refusal(removals, value("HB_MAX_REMOVED_SHARE"), game_id, period, data_root.layout.metrics(game_id))
    if refused and not config.accept_removals:
        raise Failure(refused, allow_retries=False,
                      metadata={"indexed_clips": len(removals.indexed), "clips_it_would_remove": len(removals.removed)})
    if refused:
        context.log.warning(f"accepted by accept_removals: {refused.split('. Nothing was removed')[0]}")
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
            CLIPS: result.clips,
            ROW_COUNT: MetadataValue.int(result.clips),
            COLUMN_SCHEMA: MetadataValue.table_schema(_INDEX_SCHEMA),
            "rows_inserted": result.inserted,
            "clips_removed": len(removals.removed),
            "removals_accepted": bool(refused),  # more removed than the guard allows, forced by accept_removals
            "stale_objects_removed": len(deleted),
            "clips_in_game": index.count_clips(game_id),
            "database": index.engine.url.render_as_string(hide_password=True),
            "rows": table(
                [{"clip_id": r["clip_id"][:12], "event_id": r["event_id"], "event_type": r["event_type"], "team": r["team"],
                  "opponent": r["opponent"], "start_s": round(r["start_s"], 3), "duration_s": round(r["duration_s"], 3)}
                 for r in index.clips(game_id, period)],
                _ROWS_COLUMNS,
            ),
        }
    )
