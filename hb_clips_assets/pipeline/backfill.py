"""Which game x period partitions the daily back-fill runs. Plain Python, no Dagster import.

The games are those of ``schedule.csv`` dated ``days_back`` days before the
scheduled execution (1 = the previous day), in the schedule's timezone. A
partition is run when its video and metrics exist, its video is a whole MP4,
its index is not current (see :func:`core.arrivals.freshness`) and no run of it
is already queued or in progress.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from hb_clips_assets.pipeline.arrivals import FileStat, Scan, input_key, mp4_structure_problem, ready_partitions
from hb_clips_assets.domain.reference import ScheduledGame


def target_dates(scheduled: datetime | None, timezone: str, days_back: int) -> list[str]:
    """ISO dates of the ``days_back`` days before ``scheduled`` (a naive time is taken in ``timezone``)."""
    zone = ZoneInfo(timezone)
    if scheduled is None:
        scheduled = datetime.now(zone)
    scheduled = scheduled.replace(tzinfo=zone) if scheduled.tzinfo is None else scheduled.astimezone(zone)
    return [(scheduled.date() - timedelta(days=d)).isoformat() for d in range(days_back, 0, -1)]


@dataclass(frozen=True)
class BackfillRun:
    game_id: str
    period: str
    run_key: str
    reason: str
    video: FileStat
    metrics: FileStat


@dataclass
class BackfillPlan:
    dates: list[str]
    games: list[str]
    runs: list[BackfillRun] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def skip_reason(self) -> str:
        if not self.games:
            return f"no game in schedule.csv on {', '.join(self.dates)}"
        parts = [f"{len(self.games)} game(s) on {', '.join(self.dates)} ({', '.join(self.games)})"]
        if self.current:
            parts.append(f"{len(self.current)} partition(s) already current")
        if self.pending:
            parts.append(f"{len(self.pending)} already queued or running")
        if self.waiting:
            parts.append(f"{len(self.waiting)} missing inputs: " + "; ".join(self.waiting[:5]))
        return "nothing to back-fill: " + ", ".join(parts)


def plan_backfill(
    schedule: dict[str, ScheduledGame],
    dates: list[str],
    scan: Scan,
    is_current: Callable[[str, str, FileStat, FileStat], tuple[bool, str]],
    pending: set[tuple[str, str]],
    tick: str,
    video_problem_of: Callable = mp4_structure_problem,
) -> BackfillPlan:
    """``scan`` should cover the plan's games; ``tick`` (the scheduled date) goes into the
    run keys, so a partition that failed is tried again on the next day's tick."""
    games = sorted(g.game_id for g in schedule.values() if g.date in dates)
    plan = BackfillPlan(dates, games)
    ready, waiting = ready_partitions(scan, video_problem_of)
    plan.waiting = [f"game {g} period {p}: {why}" for g, p, why in waiting if g in games]
    with_video = {g for g, _p in scan.videos}
    plan.waiting += [f"game {g}: no period video" for g in games if g not in with_video]
    for game_id, period, video, metrics in ready:
        if game_id not in games:
            continue
        label = f"{game_id}|{period}"
        if (game_id, period) in pending:
            plan.pending.append(label)
            continue
        current, why = is_current(game_id, period, video, metrics)
        if current:
            plan.current.append(label)
            continue
        key = input_key(video, metrics)
        plan.runs.append(BackfillRun(game_id, period, f"backfill|{tick}|{label}|{key}", why, video, metrics))
    return plan
