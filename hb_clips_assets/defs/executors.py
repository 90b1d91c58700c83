"""How a run's steps execute, chosen by the ``HB_EXECUTOR`` setting when the code
location loads (restart `dagster dev` / the code server to change it):

- ``in_process`` (default): one run = one process. A partition's steps are a
  chain, the cutting is parallel inside the clips step (HB_CUT_WORKERS threads),
  and runs in parallel are what the run queue and the ffmpeg pool limit
  (dagster.yaml); a process per step would cost more than most steps take.
- ``celery``: every step is a task on the ``HB_CELERY_QUEUE`` queue of the
  ``HB_CELERY_BROKER`` broker, executed by ``dagster-celery`` workers (see
  deploy/celery/README.md), so cutting spreads over as many machines as run a
  worker. The workers load these same definitions, so they need the same
  settings, HB_EXECUTOR included.
"""
from __future__ import annotations

from dagster import ExecutorDefinition, in_process_executor

from hb_clips_assets.settings import value

# dagster-celery publishes a step to queue Q with routing key "Q.execute_plan";
# a queue other than its built-in "dagster" is created on the fly with a direct
# exchange bound by "Q", which would drop those messages. A fanout exchange
# delivers them whatever the key.
CELERY_CONFIG_SOURCE = {"task_create_missing_queue_exchange_type": "fanout"}

CELERY_EXECUTOR_NAME = "hb_celery_executor"


def celery_executor_config() -> dict:
    """Config of ``dagster_celery.celery_executor`` from HB_CELERY_BROKER / _BACKEND / _QUEUE
    (deploy/celery/worker.yaml holds the same block for the workers)."""
    return {
        "broker": value("HB_CELERY_BROKER"),
        "backend": value("HB_CELERY_BACKEND"),
        "config_source": CELERY_CONFIG_SOURCE | {"task_default_queue": value("HB_CELERY_QUEUE")},
    }


def run_executor() -> ExecutorDefinition:
    """The executor HB_EXECUTOR names (a bad value raises SettingError naming it)."""
    if value("HB_EXECUTOR") == "celery":
        # Imported only when chosen: loading celery and kombu would slow every
        # in-process code-location load for nothing.
        from dagster_celery import celery_executor

        # A config function, not a value: the broker URL (a secret) is read when a
        # run resolves its executor config, like every other setting, and never
        # held in the definitions.
        return celery_executor.configured(
            lambda _config: celery_executor_config(), config_schema={}, name=CELERY_EXECUTOR_NAME,
            description="Each step a task on HB_CELERY_QUEUE of HB_CELERY_BROKER, run by dagster-celery workers.",
        )
    return in_process_executor
