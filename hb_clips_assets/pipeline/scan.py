"""Listing the data root: which files are period videos and metrics files, and
which names are not inputs (and why). Only lists folders and stats files, no
hashing, so a sensor tick stays fast however many files the root holds.
Plain Python, no Dagster import.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hb_clips_assets.domain.contract import ContractError, validate_game_id
from hb_clips_assets.domain.layout import METRICS_DIR, VIDEO_DIR, DataRoot, video_name_problem

# Names that download tools and atomic writers use while a file is on its way.
_IN_FLIGHT_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".!sync")

@dataclass(frozen=True)
class FileStat:
    rel: str  # path relative to the data root, with '/' separators
    size: int
    mtime_ns: int

    @property
    def identity(self) -> str:
        return f"{self.rel}:{self.size}:{self.mtime_ns}"


@dataclass
class Scan:
    """What one listing of the data root found."""

    root: Path
    videos: dict[tuple[str, str], FileStat] = field(default_factory=dict)  # (game_id, period)
    metrics: dict[str, FileStat] = field(default_factory=dict)  # game_id
    rejected: dict[str, str] = field(default_factory=dict)  # rel path -> why it is not an input

    def files(self) -> list[FileStat]:
        return [*self.videos.values(), *self.metrics.values()]


def _skip_quietly(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(_IN_FLIGHT_SUFFIXES)


def _stat(entry: os.DirEntry, rel: str) -> FileStat | None:
    try:
        st = entry.stat()
    except OSError:  # vanished between the listing and the stat
        return None
    return FileStat(rel, st.st_size, st.st_mtime_ns)


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def scan_data_root(root: Path | str, games: set[str] | None = None) -> Scan:
    """List ``video/<game_id>/<period>.mp4`` and ``metrics/<game_id>.csv`` under ``root``.

    Bad names (a game_id the contract refuses, a period other than 1, 2, 3,
    OT, a file that is not an .mp4/.csv where one is expected) are listed in
    ``rejected`` with the reason and are never inputs. Hidden files and names
    of files still being written (``.tmp``, ``.part``, ...) are skipped
    quietly. ``games`` restricts the scan to those game folders.
    """
    layout = DataRoot(root)
    scan = Scan(layout.path)
    conflicts: set[tuple[str, str]] = set()
    for entry in _entries(layout.video_dir):
        rel_dir = f"{VIDEO_DIR}/{entry.name}"
        if _skip_quietly(entry.name):
            continue
        if not entry.is_dir():
            scan.rejected[rel_dir] = "not in the video/<game_id>/<period>.mp4 layout"
            continue
        try:
            game_id = validate_game_id(entry.name)
        except ContractError as exc:
            scan.rejected[rel_dir] = str(exc)
            continue
        if games is not None and game_id not in games:
            continue
        for f in _entries(Path(entry.path)):
            rel = f"{rel_dir}/{f.name}"
            if _skip_quietly(f.name):
                continue
            period, problem = video_name_problem(f.name)
            if problem is None and not f.is_file():
                problem = "not a file"
            if problem is not None:
                scan.rejected[rel] = problem
                continue
            if (game_id, period) in conflicts or (game_id, period) in scan.videos:
                # 1.mp4 and 1.mov: the assets refuse to guess, so the sensor does too
                conflicts.add((game_id, period))
                other = scan.videos.pop((game_id, period), None)
                for name in (rel, other.rel if other else None):
                    if name:
                        scan.rejected[name] = f"more than one video for period {period} of game {game_id}: keep one"
                continue
            stat = _stat(f, rel)
            if stat is not None:
                scan.videos[(game_id, period)] = stat
    for f in _entries(layout.metrics_dir):
        rel = f"{METRICS_DIR}/{f.name}"
        if _skip_quietly(f.name):
            continue
        stem, dot, ext = f.name.rpartition(".")
        if not dot or ext.lower() != "csv" or not f.is_file():
            scan.rejected[rel] = "not a metrics file: expected metrics/<game_id>.csv"
            continue
        try:
            game_id = validate_game_id(stem)
        except ContractError as exc:
            scan.rejected[rel] = str(exc)
            continue
        if games is not None and game_id not in games:
            continue
        stat = _stat(f, rel)
        if stat is not None:
            scan.metrics[game_id] = stat
    return scan
