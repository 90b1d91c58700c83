"""Parquet (pyarrow) storage of the assets' DataFrames.

    <work_dir>/<asset>/<game>/<period>.parquet   a game x period partition (metrics, event_segments, clips)
    <work_dir>/<asset>.parquet                   an unpartitioned asset (the reference tables schedule, roster)

Columns keep their Arrow types (maps, lists of structs: see pipeline/frames.py);
nothing rides in the Parquet schema's metadata.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from dagster import ConfigurableIOManager, InputContext, OutputContext
from pydantic import Field

from hb_clips_assets.defs.metadata import PATH, value_metadata
from hb_clips_assets.defs.partitions import split_game_period
from hb_clips_assets.pipeline.frames import frame_to_table, table_to_frame
from hb_clips_assets.settings import or_setting


class ParquetIOManager(ConfigurableIOManager):
    base_dir: str = Field(default="", description="Folder for intermediate Parquet tables (empty: HB_WORK_DIR)")

    def _path(self, context: InputContext | OutputContext) -> Path:
        base = Path(or_setting(self.base_dir, "HB_WORK_DIR")).resolve()
        asset = "_".join(context.asset_key.path)
        if not context.has_asset_partitions:
            return base / f"{asset}.parquet"
        game, period = split_game_period(context.asset_partition_key if isinstance(context, InputContext) else context.partition_key)
        return base / asset / game / f"{period}.parquet"

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}")
        table = frame_to_table(obj)
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: a reader never sees half a file,
        # and a failed write leaves the previous value.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        context.add_output_metadata({PATH: str(path), **value_metadata(table)})

    def load_input(self, context: InputContext) -> pd.DataFrame | None:
        path = self._path(context)
        if path.exists():
            return table_to_frame(pq.read_table(path))
        name = context.asset_key.to_user_string()
        if context.has_asset_partitions:
            raise FileNotFoundError(f"{path}: upstream table missing; materialize {name} first")
        # An unpartitioned upstream is a reference table (schedule, roster) that a partition's
        # run does not refresh: never materialized, it is None and the asset reading it says
        # what it goes without, as it did when the CSV was absent.
        context.log.warning(f"{name} has not been materialized yet ({path} missing): materialize it (refresh_reference)")
        return None
