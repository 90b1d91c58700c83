"""What the pipeline tests share: the resources of a private pipeline (data root,
store, index, work folder), the assets a partition run materializes, and readers
of a run's metadata."""
from __future__ import annotations

from pathlib import Path

from dagster import materialize

from hb_clips_assets.defs.assets import clip_assets, reference_assets
from hb_clips_assets.defs.io_managers import ParquetIOManager
from hb_clips_assets.defs.partitions import game_period_key
from hb_clips_assets.defs.resources import (
    ClipSettingsResource,
    DataRootResource,
    MediaIndexResource,
    ObjectStoreResource,
)

# A partition's run, with the reference tables event_segments reads (schedule, roster) refreshed in it.
pipeline_assets = [*reference_assets, *clip_assets]


def pipeline_resources(data_root: Path | str, work_dir: Path | str, store_url: Path | str, db_url: str,
                       **clip_settings) -> dict:
    """The resources the clip assets need, every path given (nothing falls back to ./var or HB_*).

    ``clip_settings``: ClipSettingsResource fields (default 2 workers; scratch under ``work_dir``).
    """
    return {
        "data_root": DataRootResource(path=str(data_root)),
        "object_store": ObjectStoreResource(url=str(store_url)),
        "media_index": MediaIndexResource(url=db_url),
        "clip_settings": ClipSettingsResource(**({"workers": 2, "work_dir": str(work_dir)} | clip_settings)),
        "table_io_manager": ParquetIOManager(base_dir=str(work_dir)),
    }


def materialized_metadata(result) -> dict[str, dict]:
    """Asset name -> its metadata values in a run (the last materialization of each)."""
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return meta


def run_partition(game_id: str, period: str, instance, resources: dict, assets=None, run_config=None):
    """Materialize one game x period (with the reference tables): (result, metadata by asset)."""
    result = materialize(
        pipeline_assets if assets is None else assets, partition_key=game_period_key(game_id, period),
        instance=instance, resources=resources, raise_on_error=False, run_config=run_config,
    )
    return result, materialized_metadata(result)


def table_rows(value) -> list[dict]:
    """The rows of a table metadata value, as dicts."""
    return [dict(record.data) for record in value.records]
