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

from hb_clips_assets.domain.contract import PERIODS, ContractError, normalize_period, validate_game_id

METRICS_DIR = "metrics"
SHIFTS_DIR = "shifts"
VIDEO_DIR = "video"
SCHEDULE_FILE = "schedule.csv"
ROSTER_FILE = "roster.csv"
CSV_SUFFIX = ".csv"
VIDEO_SUFFIX = ".mp4"  # what a period video is called when none exists yet
# ISO-BMFF containers the probe and both cutters read; the extension's case does not matter.
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")
# Containers people have that are not read yet: said by name, never skipped silently.
_UNREAD_CONTAINERS = {".ts": "MPEG-TS", ".m2ts": "MPEG-TS", ".mts": "MPEG-TS", ".mkv": "Matroska"}


def video_name_problem(name: str) -> tuple[str | None, str | None]:
    """(period, None) for a period video's file name (``1.mp4``, ``2.MOV``, ``OT.mp4``, ``4.mp4``),
    or (None, why it is not one). One rule for the sensor, the assets and ``hb-clips run``."""
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext.lower()}" if dot else ""
    if suffix in _UNREAD_CONTAINERS:
        return None, (f"{_UNREAD_CONTAINERS[suffix]} ({suffix}) is not read yet: remux it to MP4 without "
                      f"re-encoding (ffmpeg -i {name} -c copy {stem}.mp4)")
    if suffix not in VIDEO_SUFFIXES:
        return None, f"not a period video: expected <period>.mp4 (or .mov, .m4v), one of {', '.join(PERIODS)}"
    try:
        return normalize_period(stem), None
    except ContractError:
        return None, f"period {stem!r} is not one of {', '.join(PERIODS)} (overtime is OT.mp4)"


def data_root_problem(path: Path | str) -> str | None:
    """Why ``path`` cannot be a data root (it does not exist, it is a file, it cannot be listed), or None.
    The words follow "data root <path> " in a message."""
    path = Path(path)
    try:
        if not path.exists():
            return "does not exist"
        if not path.is_dir():
            return (f"is a file, not a folder: the data root is the folder that holds {SCHEDULE_FILE}, "
                    f"{METRICS_DIR}/ and {VIDEO_DIR}/")
        next(path.iterdir(), None)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def checked_period(period: str) -> str:
    if period not in PERIODS:  # never a path from anything but 1, 2, 3, OT
        raise ContractError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")
    return period


def _csv_of(folder: Path, game_id: str) -> Path:
    """``<game_id>.csv`` in ``folder``, whatever the extension's case (``30001.CSV`` from Windows tools)."""
    exact = folder / f"{game_id}{CSV_SUFFIX}"
    if exact.is_file() or not folder.is_dir():
        return exact
    others = [p for p in folder.glob(f"{game_id}.*") if p.suffix.lower() == CSV_SUFFIX and p.is_file()]
    return others[0] if len(others) == 1 else exact


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
        return _csv_of(self.metrics_dir, validate_game_id(game_id))

    def shifts(self, game_id: str) -> Path:
        return _csv_of(self.shifts_dir, validate_game_id(game_id))

    def game_video_dir(self, game_id: str) -> Path:
        return self.video_dir / validate_game_id(game_id)

    def videos(self, game_id: str) -> dict[str, list[Path]]:
        """Period -> the files of the game's folder named as that period's video (normally one)."""
        found: dict[str, list[Path]] = {}
        folder = self.game_video_dir(game_id)
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            period, _problem = video_name_problem(path.name)
            if period is not None and path.is_file():
                found.setdefault(period, []).append(path)
        return found

    def video(self, game_id: str, period: str) -> Path:
        """The period's video: the one file named for it, else where ``<period>.mp4`` would be.

        Two files for one period (``1.mp4`` and ``1.mov``) is an error naming both."""
        checked_period(period)
        files = self.videos(game_id).get(period, [])
        if len(files) > 1:
            raise ContractError(f"{self.game_video_dir(game_id)}: {len(files)} videos for period {period} "
                                f"({', '.join(p.name for p in files)}): keep one")
        return files[0] if files else self.game_video_dir(game_id) / f"{period}{VIDEO_SUFFIX}"

    def periods_with_video(self, game_id: str) -> list[str]:
        return [p for p in PERIODS if p in self.videos(game_id)]

    def games(self) -> list[str]:
        """Games with a metrics file or a video folder; bad names are skipped (never partition keys)."""
        names: set[str] = set()
        candidates = [p.stem for p in self.metrics_dir.glob("*") if p.suffix.lower() == CSV_SUFFIX]
        candidates += [p.name for p in self.video_dir.glob("*")]
        for name in candidates:
            try:
                names.add(validate_game_id(name))
            except ContractError:
                continue
        return sorted(names)
