"""The one Definitions object: what `dagster dev`, the CLI and the tests load."""
from dagster import AssetSelection, Definitions, define_asset_job

from .assets import clip_assets
from .io_managers import ParquetIOManager
from .resources import default_resources, setting

clip_game_period_job = define_asset_job(
    "clip_game_period",
    selection=AssetSelection.assets(*clip_assets),
    description="Validate metrics, resolve segments, cut clips and index them for one game period.",
)

defs = Definitions(
    assets=clip_assets,
    jobs=[clip_game_period_job],
    resources={**default_resources(), "table_io_manager": ParquetIOManager(base_dir=setting("HB_WORK_DIR"))},
)
