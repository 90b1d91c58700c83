"""The Dagster layer: the dg project's defs folder ([tool.dg.project] defs_module).

``hb_clips_assets.definitions`` autoloads it with ``load_from_defs_folder``: every
module under here is imported and its module-level assets, asset checks, jobs,
sensors and schedules become part of the one code location (jobs.py holds the
jobs, sensor and schedule; assets/ and checks.py the rest). The helper modules
(executors, partitions, resources, io_managers, metadata, failures, freshness,
runner, instance_config, automation_settings, sensors and schedules' factories)
bind no such object at module scope, so they add nothing by being loaded. A
module that binds a list of assets or checks imported from elsewhere would load
them a second time; reach them through their module instead (see jobs.py).

This file binds nothing either: it is loaded like every other module here.
"""
