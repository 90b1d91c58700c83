"""The jobs, and the sensor and schedule that launch the clip job.

Everything here is at module scope because the defs folder is autoloaded
(``load_from_defs_folder``): a job, sensor or schedule is part of the code
location by being a module-level object of a module under defs/. The sensor
and schedule are built here, not in sensors.py/schedules.py, because they
target the job defined here (those modules hold the factories).
"""
import warnings

from dagster import AssetSelection, define_asset_job

# The asset and check lists are reached through their modules: a list bound
# here at module scope would be autoloaded again as this module's assets.
from hb_clips_assets.defs import assets, checks
from hb_clips_assets.defs.executors import run_executor
from hb_clips_assets.defs.partitions import game_period_partitions
from hb_clips_assets.defs.schedules import build_backfill_schedule
from hb_clips_assets.defs.sensors import build_arrival_sensor

# One executor for every job (HB_EXECUTOR, see executors.py): a run's steps all
# go the same way, and a Celery worker that loads the definitions sees the same jobs.
_executor = run_executor()

clip_game_period_job = define_asset_job(
    "clip_game_period",
    selection=AssetSelection.assets(*assets.clip_assets),  # with the assets' checks
    executor_def=_executor,
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
        selection=AssetSelection.checks(*checks.clip_checks),
        partitions_def=game_period_partitions,
        executor_def=_executor,
        description="Run only the asset checks of one game period (nothing is cut or written).",
    )

reference_job = define_asset_job(
    "refresh_reference",
    selection=AssetSelection.assets(*assets.reference_assets),
    executor_def=_executor,
    description="Re-read and validate schedule.csv and roster.csv.",
)

arrival_sensor = build_arrival_sensor(clip_game_period_job)
backfill_schedule = build_backfill_schedule(clip_game_period_job)
