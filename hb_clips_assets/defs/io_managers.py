"""Parquet (pyarrow) storage of per-partition tables: <work_dir>/<asset>/<game>/<period>.parquet."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import ConfigurableIOManager, InputContext, OutputContext
from pydantic import Field

from hb_clips_assets.defs.partitions import split_game_period


class ParquetIOManager(ConfigurableIOManager):
    base_dir: str = Field(description="Folder for intermediate Parquet tables")

    def _path(self, context) -> Path:
        game, period = split_game_period(context.asset_partition_key if isinstance(context, InputContext) else context.partition_key)
        asset = "_".join(context.asset_key.path)
        return Path(self.base_dir).resolve() / asset / game / f"{period}.parquet"

    def handle_output(self, context: OutputContext, obj: pa.Table) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            pq.write_table(obj, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        context.add_output_metadata({"path": str(path), "rows": obj.num_rows})

    def load_input(self, context: InputContext) -> pa.Table:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{path}: upstream table missing; materialize {context.asset_key.to_user_string()} first")
        return pq.read_table(path)
