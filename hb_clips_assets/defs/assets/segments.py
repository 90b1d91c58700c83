"""Events, and player shifts, resolved to exact frame ranges of their period video."""
from dagster import AssetExecutionContext, Output, asset

from hb_clips_assets.domain.contract import ContractError, Rejection, read_roster, read_schedule, read_shifts, validate_game_id
from hb_clips_assets.domain.identity import source_fingerprint
from hb_clips_assets.domain.segments import Segment, resolve_segments, resolve_shift_segments
from hb_clips_assets.pipeline.tables import events_from_table, segments_to_table
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import markdown_table, rejection_metadata
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import ClipSettingsResource, DataRootResource


def _opponents(data_root: DataRootResource, game_id: str) -> dict[str, str]:
    path = data_root.schedule_path()
    if not path.exists():
        return {}
    game = read_schedule(path).get(game_id)
    return {game.home: game.away, game.away: game.home} if game else {}


def _shift_segments(
    context: AssetExecutionContext, data_root: DataRootResource, game_id: str, period: str, info,
    opponents: dict[str, str], taken_event_ids: set[str],
) -> tuple[list[Segment], list[Rejection], list[Rejection]]:
    """Shift clips of the period from ``shifts/<game_id>.csv`` (optional file):
    (segments, rejected rows of this period, rejected rows with no readable period).

    An unreadable shifts file raises (it fails the partition, naming the file).
    """
    path = data_root.root / "shifts" / f"{validate_game_id(game_id)}.csv"
    if not path.exists():
        return [], [], []
    parsed = read_shifts(path, game_id).for_period(period)
    roster_path = data_root.root / "roster.csv"
    teams = {p.player_id: p.team for p in read_roster(roster_path).values()} if roster_path.exists() else None
    kept, rejected = resolve_shift_segments(
        parsed.shifts, game_id, info.fps, info.frame_count, str(path), teams, opponents,
        reserved_event_ids=taken_event_ids,
    )
    with_period = [r for r in parsed.rejected if r.period is not None] + rejected
    without_period = [r for r in parsed.rejected if r.period is None]
    context.log.info(f"{path}: {len(kept)} shifts in period {period}, {len(with_period)} rows set aside")
    return kept, sorted(with_period, key=lambda r: r.line), without_period


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"parquet"},
    description="Each event's SMPTE timecode resolved to [start_frame, end_frame) of video/<game_id>/<period>.mp4, "
    "plus one segment per player shift of shifts/<game_id>.csv (event_type 'shift', the shift padded 1 s each side).",
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
        opponents = _opponents(data_root, game_id)
        segments, rejected = resolve_segments(
            events, info.fps, info.frame_count, clip_settings.rules(), str(data_root.metrics_path(game_id)), opponents,
        )
        shifts, shift_rejected, shift_rejected_no_period = _shift_segments(
            context, data_root, game_id, period, info, opponents, {s.event_id for s in segments}
        )
        segments += shifts
        rejected += shift_rejected  # counted once per game: each has its period
        for rejection in rejected + shift_rejected_no_period:
            context.log.warning(f"rejected {rejection}")
        table = segments_to_table(segments)
        table = table.replace_schema_metadata(
            {"source_path": str(video_path), "source_sha256": source_sha256, "frame_count": str(info.frame_count)}
        )
        return Output(
            table,
            metadata={
                "segments": len(segments),
                "shift_segments": len(shifts),
                "video": str(video_path),
                "video_sha256": source_sha256,
                "fps": f"{info.fps.numerator}/{info.fps.denominator}",
                "frame_count": info.frame_count,
                **rejection_metadata(rejected),
                # shift rows with no readable period are listed in every period of the game (not in rejected_rows)
                "rejected_shift_rows_without_period": len(shift_rejected_no_period),
                **({"rejected_shift_rows_without_period_list": rejection_metadata(shift_rejected_no_period)["rejected_first"]}
                   if shift_rejected_no_period else {}),
                "segments_table": markdown_table(
                    ["event_id", "event_type", "timecode", "event_frame", "start_frame", "end_frame"],
                    [[s.event_id, s.event_type, s.timecode, s.event_frame, s.start_frame, s.end_frame] for s in segments],
                ),
            },
        )
