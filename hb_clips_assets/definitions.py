"""The one Definitions object: what `dagster dev`, `dg`, the daemon, the CLI and the tests load.

Its assets, checks, jobs, sensor and schedule are autoloaded from the defs
folder (``hb_clips_assets.defs``, [tool.dg.project] in pyproject.toml): every
module-level Dagster object of a module under defs/ is part of the code
location. Resources are not module-level objects, so they are bound here.
HB_EXECUTOR picks how the jobs' steps run (defs/executors.py).
"""
from pathlib import Path

from dagster import Definitions, load_from_defs_folder

from hb_clips_assets.defs.io_managers import ParquetIOManager
from hb_clips_assets.defs.jobs import clip_game_period_job, reference_job, verify_game_period_job
from hb_clips_assets.defs.resources import default_resources

__all__ = ["all_resources", "clip_game_period_job", "defs", "reference_job", "verify_game_period_job"]


def all_resources() -> dict:
    """Every resource the assets and checks use, each reading its HB_* setting when used."""
    return {**default_resources(), "table_io_manager": ParquetIOManager()}


# A plain Definitions object rather than a @definitions function: importers
# (the CLI runner, the tests, Celery workers via the run's code pointer) use
# `defs.resolve_job_def(...)` and `defs.resources` directly.
defs = Definitions.merge(
    load_from_defs_folder(path_within_project=Path(__file__).parent),
    Definitions(resources=all_resources()),
)
