"""Arrival sensor: a period video (and its game's metrics) lands in the data
root, and a run cuts and indexes that game x period. The decisions live in
:mod:`core.arrivals`; this module only asks Dagster and reports.
"""
from __future__ import annotations

import time

from dagster import RunRequest, SensorEvaluationContext, SensorResult, sensor

from hb_clips_assets.defs.automation_settings import automation_settings
from hb_clips_assets.pipeline.arrivals import ArrivalCursor, decide_arrivals, scan_data_root, video_check
from hb_clips_assets.defs.freshness import partition_freshness
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.defs.resources import DataRootResource, MediaIndexResource

ARRIVAL_SENSOR = "video_arrivals"


def build_arrival_sensor(job, name: str = ARRIVAL_SENSOR):
    settings = automation_settings()

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=settings.sensor_interval_s,
        default_status=settings.sensor_status,
        description=(
            "Watches video/<game_id>/<period>.mp4 and metrics/<game_id>.csv under the data root. A file counts "
            "once its size and mtime held still for a tick and (videos) its MP4 structure is whole (a fragmented "
            "MP4 also ends with its writer's final index, or its fragments add up to its declared duration) and it "
            "probes; a file still being written is named in the tick's log. Then the game is added as a partition and the game x period is run once per version of "
            "its inputs (run key = path, size and mtime of the video and of the metrics). Bad names are "
            "logged and skipped."
        ),
    )
    def _arrivals(context: SensorEvaluationContext, data_root: DataRootResource, media_index: MediaIndexResource):
        started = time.monotonic()
        scan = scan_data_root(data_root.root)
        cursor = ArrivalCursor.from_json(context.cursor)

        def is_current(game_id, period, video, metrics):
            return partition_freshness(context.instance, media_index.get_index(), game_id, period, video, metrics)

        decision = decide_arrivals(scan, cursor, video_check, is_current)
        for level, text in decision.messages:
            getattr(context.log, level)(text)
        requests = [
            RunRequest(
                run_key=r.run_key,
                partition_key=game_period_key(r.game_id, r.period),
                tags={"hb/trigger": "arrival", "hb/reason": r.reason, "hb/video": r.video.identity,
                      "hb/metrics": r.metrics.identity},
            )
            for r in decision.requests
        ]
        new_games = sorted({r.game_id for r in decision.requests} - set(context.instance.get_dynamic_partitions(game_partitions.name)))
        settling = sum(1 for v in decision.cursor.files.values() if v[2] == "new")
        summary = (
            f"{len(scan.videos)} videos, {len(scan.metrics)} metrics files, {settling} settling, "
            f"{len(decision.probed)} probed, {len(requests)} runs requested, new games: {', '.join(new_games) or 'none'} "
            f"({time.monotonic() - started:.2f} s)"
        )
        context.log.info(summary)
        return SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[game_partitions.build_add_request(new_games)] if new_games else None,
            cursor=decision.cursor.to_json(),
            skip_reason=None if requests else f"nothing new: {summary}",
        )

    return _arrivals
