"""Asset checks, per game x period partition, shown on each asset's Checks tab.

They run after their asset in every run of the clip job, and alone through
the ``verify_game_period`` job (or the UI's "Execute checks"). The logic is in
:mod:`hb_clips_assets.pipeline.verify`; here each check gathers its inputs and reports.
"""

import warnings
from fractions import Fraction

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetIn,
    AssetKey,
    AssetRecordsFilter,
    PreviewWarning,
    asset_check,
)

from hb_clips_assets.domain.records import Segment
from hb_clips_assets.pipeline.frames import records_from_frame
from hb_clips_assets.pipeline.renditions import HLS_KINDS, hls_enabled
from hb_clips_assets.pipeline.verify import (
    clip_stream_problem,
    coverage_problems,
    first_frame_problem,
    local_object,
    object_problems,
    rejected_ratio,
    sample_evenly,
    source_path,
)
from hb_clips_assets.domain.records import ClipRecord
from hb_clips_assets.pipeline.objects import ObjectHashes
from hb_clips_assets.pipeline.sources import SourceCatalog
from hb_clips_assets.settings import or_setting
from hb_clips_assets.video.probe import VideoError
from hb_clips_assets.defs.metadata import (
    CLIPS,
    CLIPS_KEPT,
    CLIPS_SET_ASIDE,
    CLIPS_SET_ASIDE_TABLE,
    MAX_ROWS,
    REJECTED_ROWS,
    SEGMENTS,
    SET_ASIDE_MAX_ROWS,
    table,
)
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period

# Partitioned asset checks are a preview feature in dagster 1.13: one result per
# game x period is what the UI should show, so use it and keep the log quiet.
warnings.filterwarnings("ignore", category=PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*")


def _work_dir(context) -> str:
    return or_setting(context.resources.clip_settings.work_dir, "HB_WORK_DIR")


def _result(problems: list[str], checked: int, what: str, severity=AssetCheckSeverity.ERROR, description=None,
            limit: int = MAX_ROWS, **extra) -> AssetCheckResult:
    return AssetCheckResult(
        passed=not problems,
        severity=severity,
        description=description or (f"{len(problems)} problem(s) in {checked} {what}: {problems[0]}" if problems
                                     else f"{checked} {what} checked, all good"),
        metadata={
            f"{what}_checked": checked,
            "problems": len(problems),
            "problem_list": table([{"problem": p} for p in problems], [("problem", "string")], limit=limit),
            **extra,
        },
    )


@asset_check(
    asset="media_index",
    partitions_def=game_period_partitions,
    additional_ins={"event_segments": AssetIn("event_segments")},
    required_resource_keys={"media_index"},
    description="Every valid event of the period (each resolved segment) has exactly one clip row in the index, "
    "with the segment's frame range; no row is left of an event that is no longer valid.",
)
def clip_coverage(context: AssetCheckExecutionContext, event_segments) -> AssetCheckResult:
    game_id, period = split_game_period(context.partition_key)
    segments = records_from_frame(event_segments, Segment)
    rows = context.resources.media_index.get_index().clips(game_id, period)
    problems = coverage_problems(segments, rows)
    return _result(problems, len(segments), "events", clips_indexed=len(rows))


@asset_check(
    asset="media_index",
    partitions_def=game_period_partitions,
    required_resource_keys={"media_index", "object_store", "clip_settings"},
    description="Every clip row has its MP4 and thumbnail rows (and, with HB_HLS on, its HLS playlist and "
    "fragmented MP4 rows), and every clip_assets row has its object in the store with the recorded size and SHA-256.",
)
def objects_match_index(context: AssetCheckExecutionContext) -> AssetCheckResult:
    game_id, period = split_game_period(context.partition_key)
    index = context.resources.media_index.get_index()
    clip_ids = [r["clip_id"] for r in index.clips(game_id, period)]
    assets = index.assets_of(clip_ids)
    store = context.resources.object_store.get_store()
    # Each object version hashed once (pipeline/objects.py): a file unchanged since it was hashed,
    # by its identity, is not read again; objects written by this run are (too fresh to trust).
    hashes = ObjectHashes(store, _work_dir(context), f"{game_id}-{period}")
    problems = object_problems(clip_ids, assets, hashes.stat)
    hashes.save()
    if hls_enabled():
        problems += [f"clip {cid}: no {kind} row in clip_assets" for cid in clip_ids for kind, _ in HLS_KINDS
                     if (cid, kind) not in assets]
    return _result(problems, len(assets), "objects")


@asset_check(
    asset="clips",
    partitions_def=game_period_partitions,
    required_resource_keys={"object_store"},
    description="Each stored MP4 holds exactly end_frame - start_frame frames at the source's frame rate, and "
    "lasts as long as its range (packets probed, not decoded).",
)
def clip_frame_counts(context: AssetCheckExecutionContext, clips) -> AssetCheckResult:
    records = records_from_frame(clips, ClipRecord)
    store = context.resources.object_store.get_store()
    hashes = ObjectHashes(store)
    problems = []
    for r in records:
        mp4 = next((a for a in r.assets if a.kind == "mp4"), None)
        if mp4 is None:
            problems.append(f"clip {r.clip_id} (event {r.event_id}): no MP4")
            continue
        if not hashes.exists(mp4.object_key):  # a file test: the MP4 is probed below, not hashed
            problems.append(f"clip {r.clip_id} (event {r.event_id}): {mp4.object_key} is missing")
            continue
        with local_object(store, mp4.object_key) as path:
            problem = clip_stream_problem(path, r.start_frame, r.end_frame, Fraction(r.fps_num, r.fps_den))
        if problem:
            problems.append(f"clip {r.clip_id} (event {r.event_id}): {problem}")
    return _result(problems, len(records), "clips")


@asset_check(
    asset="clips",
    partitions_def=game_period_partitions,
    required_resource_keys={"object_store", "check_settings", "clip_settings"},
    description="A sample of clips (check_settings.decode_sample, spread over the period) is decoded: the first "
    "frame must be source frame start_frame (by its frame mark where the source has them, else by comparing "
    "pixels with the source frame and its neighbours).",
)
def clip_first_frames(context: AssetCheckExecutionContext, clips) -> AssetCheckResult:
    records = sorted(records_from_frame(clips, ClipRecord), key=lambda r: (r.start_frame, r.event_id))
    sample = sample_evenly(records, context.resources.check_settings.sample_size)
    store = context.resources.object_store.get_store()
    problems = []
    if sample:
        src = source_path(sample[0].source_uri)
        try:
            # the probe event_segments took, remembered while the file is unchanged (pipeline/sources.py)
            source = SourceCatalog(_work_dir(context)).know(src).info
        except VideoError as exc:
            return _result([f"source video: {exc}"], len(sample), "clips")
        for r in sample:
            mp4 = next((a for a in r.assets if a.kind == "mp4"), None)
            if mp4 is None or not ObjectHashes(store).exists(mp4.object_key):
                problems.append(f"clip {r.clip_id} (event {r.event_id}): MP4 missing")
                continue
            with local_object(store, mp4.object_key) as path:
                problem = first_frame_problem(path, source, r.start_frame)
            if problem:
                problems.append(f"clip {r.clip_id} (event {r.event_id}): {problem}")
    return _result(problems, len(sample), "clips", clips_in_partition=len(records))


def _latest_metadata(context: AssetCheckExecutionContext, asset: str) -> dict:
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[context.partition_key]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return {}
    return {k: getattr(v, "value", v) for k, v in records[0].asset_materialization.metadata.items()}


@asset_check(
    asset="metrics",
    partitions_def=game_period_partitions,
    additional_deps=["event_segments"],
    required_resource_keys={"check_settings"},
    description="Share of the period's input rows (metric events and shifts) set aside, by metrics (contract) "
    "or event_segments (e.g. past the end of the video); warns above check_settings.rejected_ratio_warn.",
)
def rejected_row_ratio(context: AssetCheckExecutionContext) -> AssetCheckResult:
    metrics = _latest_metadata(context, "metrics")
    segments = _latest_metadata(context, "event_segments")
    # Every row read ends as a segment or set aside, in metrics or in event_segments.
    kept = int(segments.get(SEGMENTS, 0))
    rejected = int(metrics.get(REJECTED_ROWS, 0)) + int(segments.get(REJECTED_ROWS, 0))
    rows = kept + rejected
    ratio = rejected_ratio(rows, rejected)
    limit = context.resources.check_settings.warn_ratio
    passed = ratio <= limit
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.WARN,
        description=f"{rejected} of {rows} rows set aside ({ratio:.0%}; warns above {limit:.0%})",
        metadata={"rows": rows, REJECTED_ROWS: rejected, "rejected_ratio": round(ratio, 4), "warn_above": limit},
    )


@asset_check(
    asset="clips",
    partitions_def=game_period_partitions,
    description="Every segment of the period was cut: fails (without blocking media_index) naming each clip that "
    "could not be cut and was set aside (event, frames, reason), as the clips materialization lists them.",
)
def clips_all_cut(context: AssetCheckExecutionContext) -> AssetCheckResult:
    meta = _latest_metadata(context, "clips")
    set_aside = int(meta.get(CLIPS_SET_ASIDE, 0))
    value = meta.get(CLIPS_SET_ASIDE_TABLE)
    rows = [dict(r.data) for r in value.records] if hasattr(value, "records") else []
    problems = [
        f"event {r['event_id']} (frames {r['start_frame']}-{r['end_frame']}, event frame {r['event_frame']}): "
        f"{r['reason']}; indexed clip: {r['indexed_clip']}"
        for r in rows
    ]
    if set_aside > len(rows):
        problems.append(f"and {set_aside - len(rows)} more: see the clips materialization's log")
    indexed = int(meta.get(CLIPS, 0))
    description = None
    if set_aside:
        description = (f"{set_aside} clip(s) could not be cut and were set aside ({indexed} indexed, "
                       f"{meta.get(CLIPS_KEPT, 0)} of them earlier clips kept for a set-aside event): "
                       + "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else ""))
    return _result(problems if set_aside else [], indexed + set_aside - int(meta.get(CLIPS_KEPT, 0)), "segments",
                   description=description, limit=SET_ASIDE_MAX_ROWS, clips_set_aside=set_aside)


clip_checks = [clip_coverage, objects_match_index, clip_frame_counts, clip_first_frames, rejected_row_ratio,
               clips_all_cut]
