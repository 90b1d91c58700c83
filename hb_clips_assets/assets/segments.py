"""Events resolved to exact frame ranges of their period video."""
from dagster import AssetExecutionContext, Output, asset

from ..core.contract import ContractError, read_schedule
from ..core.identity import source_fingerprint
from ..core.segments import resolve_segments
from ..core.tables import events_from_table, segments_to_table
from ..core.video.probe import probe_video
from ..failures import input_errors_fail_cleanly
from ..metadata import markdown_table, rejection_metadata
from ..partitions import game_period_partitions, split_game_period
from ..resources import ClipSettingsResource, DataRootResource


def _opponents(data_root: DataRootResource, game_id: str) -> dict[str, str]:
    path = data_root.schedule_path()
    if not path.exists():
        return {}
    game = read_schedule(path).get(game_id)
    return {game.home: game.away, game.away: game.home} if game else {}


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"parquet"},
    description="Each event's SMPTE timecode resolved to [start_frame, end_frame) of video/<game_id>/<period>.mp4.",
)
def event_segments(context: AssetExecutionContext, metrics, data_root: DataRootResource, clip_settings: ClipSettingsResource):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        video_path = data_root.video_path(game_id, period)
        if not video_path.exists():
            raise ContractError(f"{video_path}: period video missing for game {game_id} period {period}")
        info = probe_video(video_path)
        context.log.info(
            f"{video_path}: {info.width}x{info.height} {info.codec} at {info.fps} fps, {info.frame_count} frames, "
            f"audio={'yes' if info.has_audio else 'no'}"
        )
        source_sha256 = source_fingerprint(video_path)
        events = events_from_table(metrics)
        segments, rejected = resolve_segments(
            events, info.fps, info.frame_count, clip_settings.rules(), str(data_root.metrics_path(game_id)),
            _opponents(data_root, game_id),
        )
        for rejection in rejected:
            context.log.warning(f"rejected {rejection}")
        table = segments_to_table(segments)
        table = table.replace_schema_metadata(
            {"source_path": str(video_path), "source_sha256": source_sha256, "frame_count": str(info.frame_count)}
        )
        return Output(
            table,
            metadata={
                "segments": len(segments),
                "video": str(video_path),
                "video_sha256": source_sha256,
                "fps": f"{info.fps.numerator}/{info.fps.denominator}",
                "frame_count": info.frame_count,
                **rejection_metadata(rejected),
                "segments_table": markdown_table(
                    ["event_id", "event_type", "timecode", "event_frame", "start_frame", "end_frame"],
                    [[s.event_id, s.event_type, s.timecode, s.event_frame, s.start_frame, s.end_frame] for s in segments],
                ),
            },
        )
