"""Daily back-fill: yesterday's games (per schedule.csv) get every partition
whose clips are missing or stale run again. Planning is :mod:`core.backfill`.
"""
from __future__ import annotations

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from hb_clips_assets.defs.automation_settings import automation_settings
from hb_clips_assets.pipeline.arrivals import scan_data_root
from hb_clips_assets.pipeline.backfill import plan_backfill, target_dates
from hb_clips_assets.domain.reference import read_schedule
from hb_clips_assets.defs.freshness import partition_freshness, pending_partitions
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.defs.resources import DataRootResource, MediaIndexResource

BACKFILL_SCHEDULE = "daily_backfill"


def build_backfill_schedule(job, name: str = BACKFILL_SCHEDULE):
    settings = automation_settings()

    @schedule(
        name=name,
        job=job,
        cron_schedule=settings.backfill_cron,
        execution_timezone=settings.backfill_timezone,
        default_status=settings.backfill_status,
        description=(
            f"At '{settings.backfill_cron}' ({settings.backfill_timezone}): for the games of schedule.csv dated "
            f"{settings.backfill_days_back} day(s) before, run every game x period whose video and metrics "
            "exist and whose index is missing or older than its input files."
        ),
    )
    def _backfill(context: ScheduleEvaluationContext, data_root: DataRootResource, media_index: MediaIndexResource):
        dates = target_dates(context.scheduled_execution_time, settings.backfill_timezone, settings.backfill_days_back)
        schedule_path = data_root.layout.schedule
        if not schedule_path.is_file():
            return SkipReason(f"no schedule.csv at {schedule_path}")
        games = read_schedule(schedule_path)  # an unreadable schedule fails the tick, naming the file and line
        wanted = {g.game_id for g in games.values() if g.date in dates}
        scan = scan_data_root(data_root.root, games=wanted)
        index = media_index.get_index()
        plan = plan_backfill(
            games, dates, scan,
            lambda g, p, video, metrics: partition_freshness(context.instance, index, g, p, video, metrics),
            pending_partitions(context.instance, job.name),
            tick=dates[-1],
        )
        if not plan.runs:
            context.log.info(plan.skip_reason())
            return SkipReason(plan.skip_reason())
        # Schedules cannot return dynamic-partition requests; add the games first.
        known = set(context.instance.get_dynamic_partitions(game_partitions.name))
        new_games = sorted({r.game_id for r in plan.runs} - known)
        if new_games:
            context.instance.add_dynamic_partitions(game_partitions.name, new_games)
        context.log.info(
            f"back-filling {len(plan.runs)} partition(s) of {', '.join(plan.games)} "
            f"({len(plan.current)} current, {len(plan.pending)} pending, {len(plan.waiting)} missing inputs)"
        )
        return [
            RunRequest(
                run_key=r.run_key,
                partition_key=game_period_key(r.game_id, r.period),
                tags={"hb/trigger": "backfill", "hb/reason": r.reason, "hb/video": r.video.identity,
                      "hb/metrics": r.metrics.identity},
            )
            for r in plan.runs
        ]

    return _backfill
