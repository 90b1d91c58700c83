"""Which input files are new, complete or changed: the logic behind the
arrival sensor and the back-fill schedule. Plain Python, no Dagster import.

A tick only lists folders and stats files (no hashing), so it stays fast
however many files the data root holds. A file is *complete* when its size
and mtime are the same on two consecutive ticks and, for a video, its MP4 box
structure is whole and it probes; only a file that has just become stable is
probed. A partition (game x period) is *ready* when its video and the game's
metrics file are both complete; its *input key* is a hash of both files'
identities (path, size, mtime_ns), so a replaced file gives a new key and a
new run, and the same file gives the same key however often the sensor ticks.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hb_clips_assets.domain.contract import ContractError, validate_game_id
from hb_clips_assets.domain.layout import METRICS_DIR, VIDEO_DIR, DataRoot, video_name_problem
from hb_clips_assets.video.probe import VideoError, mp4_structure_problem, probe_video

CURSOR_VERSION = 1

# Names that download tools and atomic writers use while a file is on its way.
_IN_FLIGHT_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".!sync")

NEW, OK, BAD = "new", "ok", "bad"  # file states kept in the cursor


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


def video_problem(path: Path | str) -> str | None:
    """Why the video at ``path`` is not usable yet (structure, then a probe), or None."""
    try:
        probe_video(path)
    except VideoError as exc:
        return str(exc)
    return None


def input_key(video: FileStat, metrics: FileStat) -> str:
    """A short, stable hash of the partition's input identities."""
    return hashlib.sha256(f"{video.identity}|{metrics.identity}".encode()).hexdigest()[:16]


def partition_id(game_id: str, period: str) -> str:
    return f"{game_id}|{period}"


def latest_input_mtime_ns(video: FileStat, metrics: FileStat) -> int:
    return max(video.mtime_ns, metrics.mtime_ns)


def freshness(
    inputs_mtime_ns: int,
    materialized_at: float | None,
    recorded_clips: int | None,
    indexed_clips: int,
) -> tuple[bool, str]:
    """Is a partition's index up to date with its inputs? ``(current, reason)``.

    Current means: the partition's media_index asset was materialized after
    the newest of its input files was last modified, and the index still holds
    the number of clips that materialization recorded. Cheap (no hashing): a
    file replaced by one with an *older* mtime (``cp -p``, ``rsync -t``) is not
    noticed; touch it, or re-materialize the partition.
    """
    if materialized_at is None:
        return False, "never indexed"
    if int(materialized_at * 1e9) <= inputs_mtime_ns:
        return False, "inputs changed after the last indexing"
    if recorded_clips is not None and recorded_clips != indexed_clips:
        return False, f"the index holds {indexed_clips} clips, the last indexing wrote {recorded_clips}"
    return True, "up to date"


@dataclass(frozen=True)
class ArrivalRequest:
    game_id: str
    period: str
    run_key: str
    video: FileStat
    metrics: FileStat
    reason: str


@dataclass
class ArrivalCursor:
    """The sensor's memory between ticks (kept as JSON by Dagster)."""

    files: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # rel -> (size, mtime_ns, state)
    done: dict[str, str] = field(default_factory=dict)  # "game|period" -> input key acted on
    rejected: set[str] = field(default_factory=set)  # bad names already logged

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": CURSOR_VERSION,
                "files": {k: list(v) for k, v in sorted(self.files.items())},
                "done": dict(sorted(self.done.items())),
                "rejected": sorted(self.rejected),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> "ArrivalCursor":
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
            return cls()
        return cls(
            files={k: (int(v[0]), int(v[1]), str(v[2])) for k, v in data.get("files", {}).items()},
            done={str(k): str(v) for k, v in data.get("done", {}).items()},
            rejected=set(data.get("rejected", [])),
        )


@dataclass
class ArrivalDecision:
    requests: list[ArrivalRequest]
    cursor: ArrivalCursor
    messages: list[tuple[str, str]]  # (level: "info" | "warning", text)
    probed: list[str]  # rel paths probed on this tick


PROBE_BUDGET_S = 20.0


def decide_arrivals(
    scan: Scan,
    cursor: ArrivalCursor,
    video_problem_of: Callable[[Path], str | None] = video_problem,
    is_current: Callable[[str, str, FileStat, FileStat], tuple[bool, str]] | None = None,
    probe_budget_s: float = PROBE_BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> ArrivalDecision:
    """One sensor tick: what to run, what to remember, what to say.

    ``is_current(game_id, period, video, metrics)`` is asked only for a
    partition the cursor has never acted on (the sensor was just turned on, or
    its cursor reset), so that switching the sensor on over an up-to-date
    library requests nothing; a partition whose inputs changed since the
    cursor last acted on it is always requested.

    Probing stops once it has taken ``probe_budget_s`` in this tick (a batch of
    long videos landing at once); the videos left are probed on the next ticks.
    """
    messages: list[tuple[str, str]] = []
    probed: list[str] = []
    deferred = 0
    probe_started = clock()
    new = ArrivalCursor()
    for rel, reason in sorted(scan.rejected.items()):
        if rel not in cursor.rejected:
            messages.append(("warning", f"skipped {rel}: {reason}"))
    new.rejected = set(scan.rejected)

    states: dict[str, str] = {}
    video_rels = {v.rel for v in scan.videos.values()}
    for f in sorted(scan.files(), key=lambda s: s.rel):
        prev = cursor.files.get(f.rel)
        if prev is None or (prev[0], prev[1]) != (f.size, f.mtime_ns):
            state = NEW  # first sight, or still changing: wait for the next tick
        elif prev[2] != NEW:
            state = prev[2]
        elif f.rel in video_rels and clock() - probe_started > probe_budget_s:
            state = NEW  # stable, not probed yet: next tick
            deferred += 1
        elif f.rel in video_rels:
            problem = video_problem_of(scan.root / f.rel)
            probed.append(f.rel)
            state = OK if problem is None else BAD
            if problem is not None:
                messages.append(("warning", f"not cutting {f.rel} yet: {problem}"))
        else:
            state = OK
        states[f.rel] = state
        new.files[f.rel] = (f.size, f.mtime_ns, state)
    if deferred:
        messages.append(("info", f"probing {deferred} more complete video(s) on the next tick"))

    requests: list[ArrivalRequest] = []
    for (game_id, period), video in sorted(scan.videos.items()):
        pid = partition_id(game_id, period)
        if pid in cursor.done:  # remembered while the video exists, even while it changes
            new.done[pid] = cursor.done[pid]
        if states[video.rel] != OK:
            continue
        metrics = scan.metrics.get(game_id)
        if metrics is None:
            if video.rel in probed:
                messages.append(("info", f"{video.rel} is complete; waiting for metrics/{game_id}.csv"))
            continue
        if states[metrics.rel] != OK:
            continue
        key = input_key(video, metrics)
        new.done[pid] = key
        if cursor.done.get(pid) == key:
            continue
        if pid not in cursor.done and is_current is not None:
            current, why = is_current(game_id, period, video, metrics)
            if current:
                messages.append(("info", f"game {game_id} period {period}: {why}; no run needed"))
                continue
            reason = why
        else:
            reason = "new inputs" if pid not in cursor.done else "inputs changed"
        requests.append(ArrivalRequest(game_id, period, f"arrival|{pid}|{key}", video, metrics, reason))
    return ArrivalDecision(requests, new, messages, probed)


def ready_partitions(
    scan: Scan,
    video_problem_of: Callable[[Path], str | None] = mp4_structure_problem,
) -> tuple[list[tuple[str, str, FileStat, FileStat]], list[tuple[str, str, str]]]:
    """Partitions whose video and metrics exist and whose video is whole (for the
    back-fill schedule, which has no cursor to watch sizes settle): the ready
    ones, and (game_id, period, why) for each that is not."""
    ready, waiting = [], []
    for (game_id, period), video in sorted(scan.videos.items()):
        metrics = scan.metrics.get(game_id)
        if metrics is None:
            waiting.append((game_id, period, f"no metrics/{game_id}.csv"))
            continue
        problem = video_problem_of(scan.root / video.rel)
        if problem is not None:
            waiting.append((game_id, period, problem))
            continue
        ready.append((game_id, period, video, metrics))
    return ready, waiting
