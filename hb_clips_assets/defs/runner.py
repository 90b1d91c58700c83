"""Materialize game x period partitions through Dagster, on a persistent local
instance, so every run also shows in the Dagster UI."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hb_clips_assets.domain.contract import PERIODS, ContractError, read_metrics
from hb_clips_assets.domain.layout import DataRoot
from hb_clips_assets.defs.failures import one_line, step_failure_hint, step_failure_message
from hb_clips_assets.defs.metadata import (
    CLIPS,
    CLIPS_CACHED,
    CLIPS_CUT,
    CLIPS_SET_ASIDE,
    CLIPS_SET_ASIDE_TABLE,
    REJECTED_ROWS,
    REJECTED_ROWS_WITHOUT_PERIOD,
    REJECTED_SHIFT_ROWS_WITHOUT_PERIOD,
)

DEFAULT_DAGSTER_HOME = "./var/dagster_home"


@dataclass
class PartitionOutcome:
    game_id: str
    period: str
    success: bool
    seconds: float
    metadata: dict[str, dict] = field(default_factory=dict)  # asset name -> metadata values
    error: str | None = None  # one line per failed step: step, file, problem
    hint: str | None = None  # what to do about the failure
    failed_checks: dict[str, str] = field(default_factory=dict)  # ERROR-severity checks that failed -> description

    def value(self, asset: str, key: str, default=None):
        return self.metadata.get(asset, {}).get(key, default)

    # The figures a summary shows, read here where the metadata keys are known (defs/metadata.py).
    @property
    def clips(self) -> int:
        return self.value("clips", CLIPS, 0)

    @property
    def clips_cut(self) -> int:
        return self.value("clips", CLIPS_CUT, 0)

    @property
    def clips_cached(self) -> int:
        return self.value("clips", CLIPS_CACHED, 0)

    @property
    def clips_set_aside(self) -> int:
        """Clips that could not be cut (the partition's other clips are indexed)."""
        return self.value("clips", CLIPS_SET_ASIDE, 0)

    @property
    def set_aside(self) -> list[dict]:
        """Each clip set aside: event_id, frames, reason, indexed_clip (metadata.SET_ASIDE_COLUMNS)."""
        value = self.value("clips", CLIPS_SET_ASIDE_TABLE)
        return [dict(r.data) for r in value.records] if hasattr(value, "records") else []

    @property
    def complete(self) -> bool:
        """Succeeded with every clip cut and every ERROR-severity check passing."""
        return self.success and not self.clips_set_aside and not self.failed_checks

    @property
    def rejected_without_period(self) -> int:
        """Rows of the game with no readable period: listed in every period, so count them once per game."""
        return (self.value("metrics", REJECTED_ROWS_WITHOUT_PERIOD, 0)
                + self.value("event_segments", REJECTED_SHIFT_ROWS_WITHOUT_PERIOD, 0))

    @property
    def rejected_rows(self) -> int:
        """Rows of this period set aside, by metrics or event_segments (not those without a period)."""
        return (self.value("metrics", REJECTED_ROWS, 0) - self.value("metrics", REJECTED_ROWS_WITHOUT_PERIOD, 0)
                + self.value("event_segments", REJECTED_ROWS, 0))


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to ./var/dagster_home, seeded with the project's dagster.yaml
    (see instance_config.py)."""
    from hb_clips_assets.defs.instance_config import seed_dagster_home

    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    seed_dagster_home(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def plan_partitions(data_root: Path | DataRoot, games: list[str], warn: Callable[[str], None]) -> list[tuple[str, str]]:
    """Game x period pairs that have a period video; warns about events whose video is missing."""
    layout = data_root if isinstance(data_root, DataRoot) else DataRoot(data_root)
    found = []
    for game_id in games:
        videos = set(layout.periods_with_video(game_id))  # checks the game id before it names a path
        metrics_path = layout.metrics(game_id)
        if not metrics_path.is_file():
            warn(f"game {game_id}: no metrics file {metrics_path}; skipped")
            continue
        try:
            periods_with_events = {e.period for e in read_metrics(metrics_path, game_id).events}
        except ContractError as exc:
            periods_with_events = set()
            warn(f"game {game_id}: {exc} (its partitions will fail)")
        for period in sorted(periods_with_events - videos, key=PERIODS.index):
            warn(f"game {game_id} period {period}: events but no video {layout.video(game_id, period)}; skipped")
        found += [(game_id, p) for p in PERIODS if p in videos]
    return found


def _metadata_values(result) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return out


def _failed_checks(result) -> dict[str, str]:
    from dagster import AssetCheckSeverity

    return {e.check_name: one_line(e.description or "failed") for e in result.get_asset_check_evaluations()
            if not e.passed and e.severity == AssetCheckSeverity.ERROR}


def run_partitions(
    pairs: list[tuple[str, str]],
    log_level: str = "INFO",
    progress: Callable[[str], None] = print,
    accept_removals: bool = False,
) -> list[PartitionOutcome]:
    """Materialize each pair with the project's job; failures are collected, not raised.

    ``accept_removals``: index a version even where it removes most (or all) of a period's indexed
    clips (``media_index`` refuses that otherwise, so a bad re-export cannot empty the index).
    """
    ensure_dagster_home()
    from dagster import DagsterInstance

    from hb_clips_assets.definitions import clip_game_period_job, defs, reference_job
    from hb_clips_assets.defs.failures import short_console_logger
    from hb_clips_assets.defs.partitions import game_partitions, game_period_key

    # Dagster's console logger prints a failed step with its stack trace; ours prints one line (the
    # trace stays in the run's event log, in the UI). The summary below says what failed and what to do.
    loggers = {"console": short_console_logger}
    instance = DagsterInstance.get()
    # The clip runs read the schedule and roster tables as inputs (opponents, shift teams): refresh
    # them first from the CSVs (an absent CSV is an empty table). A bad file leaves the last good
    # tables, and the clips do without what it would have added: say so and go on.
    reference = defs.resolve_job_def(reference_job.name).with_logger_defs(loggers).execute_in_process(
        instance=instance, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    if not reference.success:
        failure = next((e for e in reference.all_events if e.is_step_failure), None)
        progress(f"warning: schedule/roster not refreshed: {step_failure_message(failure) if failure else 'failed'}")
    games = sorted({g for g, _ in pairs})
    known = set(instance.get_dynamic_partitions(game_partitions.name))
    new = [g for g in games if g not in known]
    if new:
        instance.add_dynamic_partitions(game_partitions.name, new)
        progress(f"registered game partitions: {', '.join(new)}")
    job = defs.resolve_job_def(clip_game_period_job.name).with_logger_defs(loggers)
    outcomes = []
    for i, (game_id, period) in enumerate(pairs, 1):
        progress(f"[{i}/{len(pairs)}] game {game_id} period {period}: materializing ...")
        started = time.monotonic()
        result = job.execute_in_process(
            partition_key=game_period_key(game_id, period),
            instance=instance,
            raise_on_error=False,
            run_config={
                "loggers": {"console": {"config": {"log_level": log_level}}},
                "ops": {"media_index": {"config": {"accept_removals": accept_removals}}},
            },
        )
        error = hint = None
        if not result.success:
            failures = [e for e in result.all_events if e.is_step_failure]
            error = "; ".join(f"{e.step_key}: {one_line(step_failure_message(e))}" for e in failures) or "run failed"
            hint = step_failure_hint(failures[0]) if failures else None
        outcome = PartitionOutcome(game_id, period, result.success, time.monotonic() - started, _metadata_values(result),
                                   error, hint, _failed_checks(result))
        outcomes.append(outcome)
        if not outcome.success:
            status = f"FAILED: {error}"
        elif outcome.clips_set_aside:
            status = f"ok, {outcome.clips_set_aside} clip(s) set aside"
        else:
            status = "ok" if outcome.complete else f"ok, check(s) failed: {', '.join(outcome.failed_checks)}"
        progress(
            f"[{i}/{len(pairs)}] game {game_id} period {period}: {status} "
            f"({outcome.clips} clips, {outcome.clips_cut} cut, "
            f"{outcome.seconds:.1f} s, run {result.run_id[:8]})"
        )
    return outcomes
