"""``write_sample_data``: the whole sample data root, CSVs then period videos.

Paths come from :class:`hb_clips_assets.domain.layout.DataRoot`, the one place
that builds them, so the sample always matches what the pipeline reads. Small
files are written to a temporary name and renamed into place, as the videos
are, so an interrupted run never leaves a half-written file behind.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from hb_clips_assets.domain.layout import DataRoot
from hb_clips_assets.sample.events import (
    METRICS_HEADER,
    SAMPLE_PERIODS,
    SHIFTS_HEADER,
    BadRow,
    metrics_rows,
    shift_rows,
)
from hb_clips_assets.sample.league import (
    ROSTER,
    ROSTER_HEADER,
    SCHEDULE_HEADER,
    VIDEO_GAMES,
    roster_rows,
    schedule_rows,
)
from hb_clips_assets.sample.render import FrameRenderer
from hb_clips_assets.sample.timecode import period_frame_count
from hb_clips_assets.sample.video import write_period_video

# `make demo` regenerates unless this marker says a previous run finished.
COMPLETE_MARKER = ".sample-data-complete"


@dataclass
class SampleSummary:
    """What :func:`write_sample_data` wrote."""

    root: Path
    games: list[str]  # the video games written (metrics, shifts, videos)
    width: int
    height: int
    fps: Fraction
    period_seconds: float
    frame_count: int  # frames in each period video
    gop: int  # keyframe interval in frames
    schedule: Path
    roster: Path
    metrics: dict[str, Path] = field(default_factory=dict)
    shifts: dict[str, Path] = field(default_factory=dict)
    videos: dict[tuple[str, str], Path] = field(default_factory=dict)  # (game, period)
    valid_events: dict[str, int] = field(default_factory=dict)  # per game
    bad_rows: dict[str, list[BadRow]] = field(default_factory=dict)  # per game
    elapsed_s: float = 0.0

    @property
    def files(self) -> list[Path]:
        return [
            self.schedule, self.roster, *self.metrics.values(),
            *self.shifts.values(), *self.videos.values(),
        ]


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_sample_data(
    root: Path,
    *,
    period_seconds: float = 120.0,
    width: int = 1280,
    height: int = 720,
    fps: Fraction = Fraction(60000, 1001),
    games: list[str] | None = None,
    progress: Callable[[str], None] = print,
) -> SampleSummary:
    """Write a sample data root under ``root`` and say what was written.

    ``schedule.csv`` and ``roster.csv`` are always written in full; metrics,
    shifts and videos only for ``games`` (default: both video games, 20031 and
    20038). Every period video is ``round(period_seconds * fps)`` frames long;
    event timecodes are scaled to it, and the "past the end" bad row lies 10 s
    after the last frame.
    """
    t0 = time.monotonic()
    layout = DataRoot(root)
    fps = Fraction(fps)
    if fps.denominator > 1_000_000:
        fps = fps.limit_denominator(1_000_000)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    selected = list(VIDEO_GAMES) if games is None else [str(g) for g in games]
    unknown = [g for g in selected if g not in VIDEO_GAMES]
    if unknown:
        raise ValueError(f"unknown sample game(s) {unknown}; choose from {sorted(VIDEO_GAMES)}")
    frame_count = period_frame_count(period_seconds, fps)
    if frame_count < 2:
        raise ValueError(f"period_seconds={period_seconds} gives {frame_count} frame(s); need at least 2")
    gop = int(round(2 * fps))

    def done(path: Path, what: str) -> None:
        progress(f"wrote {path} ({what}) [{time.monotonic() - t0:.1f} s]")

    layout.path.mkdir(parents=True, exist_ok=True)
    schedule = schedule_rows()
    write_text_atomic(layout.schedule, csv_text(SCHEDULE_HEADER, schedule))
    done(layout.schedule, f"{len(schedule)} games")
    write_text_atomic(layout.roster, csv_text(ROSTER_HEADER, roster_rows()))
    done(layout.roster, f"{len(ROSTER)} players")

    summary = SampleSummary(
        root=layout.path, games=selected, width=width, height=height, fps=fps,
        period_seconds=period_seconds, frame_count=frame_count, gop=gop,
        schedule=layout.schedule, roster=layout.roster,
    )
    for game_id in selected:
        _date, home, away = VIDEO_GAMES[game_id]
        rows, bad, n_valid = metrics_rows(game_id, home, away, fps, frame_count)
        mpath = layout.metrics(game_id)
        write_text_atomic(mpath, csv_text(METRICS_HEADER, rows))
        summary.metrics[game_id] = mpath
        summary.valid_events[game_id] = n_valid
        summary.bad_rows[game_id] = bad
        done(mpath, f"{n_valid} valid events, {len(bad)} bad rows")
        srows = shift_rows(game_id, home, away, fps, frame_count, period_seconds)
        spath = layout.shifts(game_id)
        write_text_atomic(spath, csv_text(SHIFTS_HEADER, srows))
        summary.shifts[game_id] = spath
        done(spath, f"{len(srows)} shifts")
        for period in SAMPLE_PERIODS:
            vpath = layout.video(game_id, period)
            started = time.monotonic()
            renderer = FrameRenderer(game_id, period, home, away, width, height, fps)
            write_period_video(vpath, renderer, frame_count, fps, gop, audio_seed=int(game_id) * 10 + int(period))
            summary.videos[(game_id, period)] = vpath
            took = time.monotonic() - started
            done(vpath, f"{frame_count} frames {width}x{height} @ {float(fps):.3f} fps in {took:.1f} s, "
                        f"{frame_count / took:.0f} fps")
    write_text_atomic(layout.path / COMPLETE_MARKER, f"{summary.frame_count} frames per period\n")
    summary.elapsed_s = time.monotonic() - t0
    progress(f"sample data root {layout.path} written in {summary.elapsed_s:.1f} s")
    return summary
