"""Events, and player shifts, resolved to exact frame ranges of their period video."""
import pandas as pd
from dagster import AssetExecutionContext, MetadataValue, Output, asset

from hb_clips_assets.domain.contract import ContractError, MetricEvent, Rejection
from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame, read_roster, read_schedule
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.domain.segments import resolve_segments, resolve_shift_segments
from hb_clips_assets.domain.records import Segment
from hb_clips_assets.pipeline.frames import (
    SOURCE_PREFIX,
    SourceVideo,
    records_from_frame,
    records_to_frame,
    with_columns,
)
from hb_clips_assets.pipeline.sources import SourceCatalog
from hb_clips_assets.settings import or_setting
from hb_clips_assets.defs.assets.metrics import report_rejections
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import (
    COLUMN_SCHEMA,
    REJECTED_SHIFT_ROWS_WITHOUT_PERIOD,
    SEGMENTS,
    record_schema,
    records_table,
    rejection_metadata,
    rejections_table,
)
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import ClipSettingsResource, DataRootResource


def _opponents(schedule: pd.DataFrame | None, game_id: str) -> dict[str, str]:
    """Each team of the game -> the other, from the schedule (none when it does not list the game)."""
    games = {g.game_id: g for g in records_from_frame(schedule, ScheduledGame)} if schedule is not None else {}
    game = games.get(game_id)
    return {game.home: game.away, game.away: game.home} if game else {}


def _teams(roster: pd.DataFrame | None) -> dict[str, str] | None:
    """player_id -> team; None without a roster (no roster.csv, or not materialized yet), so a
    shift is set aside as having no roster to look up rather than as a player it does not list."""
    if roster is None or roster.empty:
        return None
    return {p.player_id: p.team for p in records_from_frame(roster, RosterPlayer)}


def _unmaterialized_fallback(context: AssetExecutionContext, name: str, frame, path, read, record_type):
    """A reference table this run does not refresh and nobody materialized yet (a sensor's first run,
    a fresh instance): read its CSV now, as materializing it would, rather than go without opponents
    or shift teams. Once materialized, the table is what the partitions read (a bad new CSV then
    fails only the reference asset, and the clips keep the last good table)."""
    if frame is not None or not path.exists():
        return frame
    context.log.warning(f"{name} has not been materialized yet: read {path} directly (materialize refresh_reference)")
    try:
        return records_to_frame(list(read(path).values()), record_type)
    except ContractError as exc:
        # A reference file degrades the clips (no opponents, no shift teams); it never blocks them.
        context.log.warning(f"{exc}; the clips go without {name} until it is fixed")
        return None


def _shift_segments(
    context: AssetExecutionContext, data_root: DataRootResource, game_id: str, period: str, info,
    teams: dict[str, str] | None, opponents: dict[str, str], taken_event_ids: set[str],
) -> tuple[list[Segment], list[Rejection], list[Rejection], dict]:
    """Shift clips of the period from ``shifts/<game_id>.csv`` (optional file):
    (segments, rejected rows of this period, rejected rows with no readable period, metadata saying
    how the file was read: encoding and delimiter).

    An unreadable shifts file (a bad header, not text) gives no shift clips, with a warning and
    ``shifts_file_error`` in the metadata: the optional file degrades the period, never blocks it.
    """
    path = data_root.layout.shifts(game_id)
    if not path.exists():
        return [], [], [], {}
    try:
        parsed = read_shifts(path, game_id).for_period(period)
    except ContractError as exc:
        context.log.warning(f"{exc}; no shift clips for this period until the file is fixed")
        return [], [], [], {"shifts_file_error": str(exc)}
    kept, rejected = resolve_shift_segments(
        parsed.shifts, game_id, info.fps, info.frame_count, str(path), teams, opponents,
        reserved_event_ids=taken_event_ids,
    )
    with_period = [r for r in parsed.rejected if r.period is not None] + rejected
    without_period = [r for r in parsed.rejected if r.period is None]
    context.log.info(f"{path} ({parsed.encoding}, {parsed.delimiter}-separated): {len(kept)} shifts in period {period}, "
                     f"{len(with_period)} rows set aside")
    read_as = {"shifts_encoding": parsed.encoding, "shifts_delimiter": parsed.delimiter}
    return kept, sorted(with_period, key=lambda r: r.line), without_period, read_as


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"parquet"},
    metadata={COLUMN_SCHEMA: record_schema(Segment, (SourceVideo, SOURCE_PREFIX))},
    description="Each event's SMPTE timecode resolved to [start_frame, end_frame) of video/<game_id>/<period>.mp4, "
    "plus one segment per player shift of shifts/<game_id>.csv (event_type 'shift', the shift padded 1 s each side). "
    "Opponents come from the schedule, shift teams from the roster; each row names the video it was resolved against "
    "(source_path, source_sha256, source_frame_count).",
)
def event_segments(
    context: AssetExecutionContext,
    metrics: pd.DataFrame,
    schedule: pd.DataFrame | None,
    roster: pd.DataFrame | None,
    data_root: DataRootResource,
    clip_settings: ClipSettingsResource,
):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        video_path = data_root.layout.video(game_id, period)
        if not video_path.exists():
            raise ContractError(f"{video_path}: period video missing for game {game_id} period {period}")
        # Probe and SHA-256 once per file version (pipeline/sources.py): remembered in the work folder,
        # so the clips step, the checks and a re-run do not read the whole video again.
        known = SourceCatalog(or_setting(clip_settings.work_dir, "HB_WORK_DIR")).know(video_path)
        info = known.info
        context.log.info(
            f"{video_path}: {info.width}x{info.height} {info.codec} at {info.fps} fps, {info.frame_count} frames, "
            f"audio={'yes' if info.has_audio else 'no'}"
        )
        if info.hidden_frames or info.start_offset_frames:
            context.log.warning(
                f"{video_path}: frame 0 is the first frame a player shows: {info.hidden_frames} leading frame(s) "
                f"hidden by the file's edit list, video starting {info.start_s:.3f} s into the file "
                f"({info.start_offset_frames} frames); event timecodes count from that frame"
            )
        for note in info.notes():  # the track it chose among several, the frames the video lacks
            context.log.warning(f"{video_path}: {note}")
        source_sha256 = known.sha256
        events = records_from_frame(metrics, MetricEvent)
        schedule = _unmaterialized_fallback(context, "schedule", schedule, data_root.layout.schedule, read_schedule,
                                            ScheduledGame)
        roster = _unmaterialized_fallback(context, "roster", roster, data_root.layout.roster, read_roster, RosterPlayer)
        opponents = _opponents(schedule, game_id)
        segments, rejected = resolve_segments(
            events, info.fps, info.frame_count, clip_settings.rules(), str(data_root.layout.metrics(game_id)), opponents,
            video_timecode_start=info.timecode_start,
        )
        shifts, shift_rejected, shift_rejected_no_period, shifts_read_as = _shift_segments(
            context, data_root, game_id, period, info, _teams(roster), opponents, {s.event_id for s in segments}
        )
        segments += shifts
        rejected += shift_rejected  # counted once per game: each has its period
        # The video's identity on every row: clips cuts that file, and refuses if it changed since.
        frame = with_columns(
            records_to_frame(segments, Segment), SourceVideo(str(video_path), source_sha256, info.frame_count), SOURCE_PREFIX
        )
        return Output(
            frame,
            metadata={
                SEGMENTS: len(segments),
                "shift_segments": len(shifts),
                **shifts_read_as,
                "video": str(video_path),
                "video_sha256": source_sha256,
                "probe_seconds": round(known.probe_seconds, 3),  # 0: remembered (the file is unchanged)
                "hash_seconds": round(known.hash_seconds, 3),
                "fps": f"{info.fps.numerator}/{info.fps.denominator}",
                "frame_count": info.frame_count,
                # The presentation timeline (frame 0 = the first frame a player shows): edit-list hidden
                # frames, a late stream start, a tmcd start timecode. Frame numbers count from frame 0.
                "video_timeline": MetadataValue.json(info.timeline()),
                **rejection_metadata(rejected),
                # every rejected row (shift rows without a period too) in one CSV, summarized in one log line
                **report_rejections(context, clip_settings.work_dir, rejected + shift_rejected_no_period),
                # shift rows with no readable period are listed in every period of the game (not in rejected_rows)
                REJECTED_SHIFT_ROWS_WITHOUT_PERIOD: len(shift_rejected_no_period),
                **({"rejected_shift_rows_without_period_list": rejections_table(shift_rejected_no_period)}
                   if shift_rejected_no_period else {}),
                "segments_table": records_table(
                    segments, Segment, ["event_id", "event_type", "timecode", "event_frame", "start_frame", "end_frame"]
                ),
            },
        )
