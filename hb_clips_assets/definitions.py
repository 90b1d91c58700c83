"""The one Definitions object: what `dagster dev`, the daemon, the CLI and the tests load."""
import warnings

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from hb_clips_assets.defs.assets import clip_assets, reference_assets
from hb_clips_assets.defs.automation_settings import check_settings_from_env
from hb_clips_assets.defs.checks import clip_checks
from hb_clips_assets.defs.io_managers import ParquetIOManager
from hb_clips_assets.defs.partitions import game_period_partitions
from hb_clips_assets.defs.resources import default_resources, setting
from hb_clips_assets.defs.schedules import build_backfill_schedule
from hb_clips_assets.defs.sensors import build_arrival_sensor

# One run = one process: a partition's steps are a chain, the cutting is
# parallel inside the clips step (HB_CUT_WORKERS threads), and runs in
# parallel are what the run queue and the ffmpeg pool limit (dagster.yaml).
# Spawning a process per step would cost more than most steps take.
clip_game_period_job = define_asset_job(
    "clip_game_period",
    selection=AssetSelection.assets(*clip_assets),  # with the assets' checks
    executor_def=in_process_executor,
    description="Validate metrics, resolve segments, cut clips and index them for one game period, then run "
    "the asset checks of that partition.",
)

with warnings.catch_warnings():
    # A checks-only selection has no asset to infer partitions from; without
    # partitions_def (deprecated in 1.13 as "redundant") the launchpad would not
    # offer a game x period to pick.
    warnings.simplefilter("ignore", DeprecationWarning)
    verify_game_period_job = define_asset_job(
        "verify_game_period",
        selection=AssetSelection.checks(*clip_checks),
        partitions_def=game_period_partitions,
        executor_def=in_process_executor,
        description="Run only the asset checks of one game period (nothing is cut or written).",
    )


def all_resources() -> dict:
    return {
        **default_resources(),
        "table_io_manager": ParquetIOManager(base_dir=setting("HB_WORK_DIR")),
        "check_settings": check_settings_from_env(),
    }


reference_job = define_asset_job(
    "refresh_reference",
    selection=AssetSelection.assets(*reference_assets),
    executor_def=in_process_executor,
    description="Re-read and validate schedule.csv and roster.csv.",
)

defs = Definitions(
    assets=[*clip_assets, *reference_assets],
    asset_checks=clip_checks,
    jobs=[clip_game_period_job, verify_game_period_job, reference_job],
    sensors=[build_arrival_sensor(clip_game_period_job)],
    schedules=[build_backfill_schedule(clip_game_period_job)],
    resources=all_resources(),
)
