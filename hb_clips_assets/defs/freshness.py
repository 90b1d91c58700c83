"""Is a partition's index up to date with its input files? Asks the Dagster
instance (the media_index asset's last materialization of the partition) and
the media index; the comparison itself is :func:`hb_clips_assets.pipeline.arrivals.freshness`.
"""
from __future__ import annotations

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus, RunsFilter

from hb_clips_assets.pipeline.arrivals import FileStat, freshness, latest_input_mtime_ns
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.metadata import CLIPS
from hb_clips_assets.defs.partitions import game_period_key

MEDIA_INDEX = AssetKey("media_index")
PENDING_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


def last_indexing(instance: DagsterInstance, game_id: str, period: str) -> tuple[float | None, int | None]:
    """(timestamp, clips recorded) of the partition's latest media_index materialization."""
    key = str(game_period_key(game_id, period))
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=MEDIA_INDEX, asset_partitions=[key]), limit=1
    ).records
    if not records:
        return None, None
    mat = records[0].asset_materialization
    clips = mat.metadata.get(CLIPS) if mat is not None else None
    return records[0].timestamp, (int(clips.value) if clips is not None else None)


def partition_freshness(
    instance: DagsterInstance, index: MediaIndex, game_id: str, period: str, video: FileStat, metrics: FileStat
) -> tuple[bool, str]:
    materialized_at, recorded = last_indexing(instance, game_id, period)
    indexed = index.count_clips(game_id, period) if materialized_at is not None else 0
    return freshness(latest_input_mtime_ns(video, metrics), materialized_at, recorded, indexed)


def pending_partitions(instance: DagsterInstance, job_name: str) -> set[tuple[str, str]]:
    """(game, period) of the job's runs that are queued or in progress."""
    runs = instance.get_runs(RunsFilter(job_name=job_name, statuses=PENDING_STATUSES))
    out = set()
    for run in runs:
        game, period = run.tags.get("dagster/partition/game"), run.tags.get("dagster/partition/period")
        if game and period:
            out.add((game, period))
    return out
