"""Scale-out code location: the same assets, checks, sensor, schedule and
resources as :mod:`definitions`, but the ``clip_game_period`` job's steps run
on Celery workers (``dagster_celery.celery_executor``) fed by a RabbitMQ
broker, so cutting spreads over as many machines as run a worker.

Load this module *instead of* ``hb_clips_assets.definitions`` (see
deploy/celery/README.md): the sensor and schedule then launch runs whose steps
go to the ``HB_CELERY_QUEUE`` queue of the ``HB_CELERY_BROKER`` broker.
Every worker needs this package installed, the same HB_* settings (data root,
store, index URLs reachable from it) and the same DAGSTER_HOME storage (a
shared PostgreSQL instance in production; a shared folder works on one host).
"""
from dagster import AssetSelection, Definitions, define_asset_job
from dagster_celery import celery_executor

from hb_clips_assets.defs.assets import clip_assets
from hb_clips_assets.defs.automation_settings import celery_executor_config
from hb_clips_assets.defs.checks import clip_checks
from hb_clips_assets.definitions import all_resources, verify_game_period_job
from hb_clips_assets.defs.schedules import build_backfill_schedule
from hb_clips_assets.defs.sensors import build_arrival_sensor

clip_game_period_celery_job = define_asset_job(
    "clip_game_period",
    selection=AssetSelection.assets(*clip_assets),
    executor_def=celery_executor.configured(celery_executor_config(), name="hb_celery_executor"),
    description="Validate metrics, resolve segments, cut clips and index them for one game period, each step "
    "on a Celery worker.",
)

defs = Definitions(
    assets=clip_assets,
    asset_checks=clip_checks,
    jobs=[clip_game_period_celery_job, verify_game_period_job],
    sensors=[build_arrival_sensor(clip_game_period_celery_job)],
    schedules=[build_backfill_schedule(clip_game_period_celery_job)],
    resources=all_resources(),
)


def celery_clip_job():
    """The resolved job, for ``reconstructable(celery_clip_job)`` / ``execute_job`` (workers re-import it)."""
    return defs.resolve_job_def(clip_game_period_celery_job.name)
