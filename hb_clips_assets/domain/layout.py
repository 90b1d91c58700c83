"""The data root's layout (DATA_CONTRACT.md section 1): the one place that builds its paths.

    <root>/schedule.csv
    <root>/roster.csv
    <root>/metrics/<game_id>.csv
    <root>/shifts/<game_id>.csv          (optional)
    <root>/video/<game_id>/<period>.mp4

Game ids and periods are checked before they become path parts, so nothing
outside the root can be named through them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hb_clips_assets.domain.contract import PERIODS, ContractError, validate_game_id

METRICS_DIR = "metrics"
SHIFTS_DIR = "shifts"
VIDEO_DIR = "video"
SCHEDULE_FILE = "schedule.csv"
ROSTER_FILE = "roster.csv"
CSV_SUFFIX = ".csv"
VIDEO_SUFFIX = ".mp4"


def checked_period(period: str) -> str:
    if period not in PERIODS:  # never a path from anything but 1, 2, 3, OT
        raise ContractError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")
    return period


@dataclass(frozen=True)
class DataRoot:
    path: Path

    def __init__(self, path: Path | str):
        object.__setattr__(self, "path", Path(path).resolve())

    @property
    def schedule(self) -> Path:
        return self.path / SCHEDULE_FILE

    @property
    def roster(self) -> Path:
        return self.path / ROSTER_FILE

    @property
    def metrics_dir(self) -> Path:
        return self.path / METRICS_DIR

    @property
    def shifts_dir(self) -> Path:
        return self.path / SHIFTS_DIR

    @property
    def video_dir(self) -> Path:
        return self.path / VIDEO_DIR

    def metrics(self, game_id: str) -> Path:
        return self.metrics_dir / f"{validate_game_id(game_id)}{CSV_SUFFIX}"

    def shifts(self, game_id: str) -> Path:
        return self.shifts_dir / f"{validate_game_id(game_id)}{CSV_SUFFIX}"

    def game_video_dir(self, game_id: str) -> Path:
        return self.video_dir / validate_game_id(game_id)

    def video(self, game_id: str, period: str) -> Path:
        return self.game_video_dir(game_id) / f"{checked_period(period)}{VIDEO_SUFFIX}"

    def periods_with_video(self, game_id: str) -> list[str]:
        return [p for p in PERIODS if self.video(game_id, p).is_file()]

    def games(self) -> list[str]:
        """Games with a metrics file or a video folder; bad names are skipped (never partition keys)."""
        names: set[str] = set()
        candidates = [p.stem for p in self.metrics_dir.glob(f"*{CSV_SUFFIX}")] + [p.name for p in self.video_dir.glob("*")]
        for name in candidates:
            try:
                names.add(validate_game_id(name))
            except ContractError:
                continue
        return sorted(names)
