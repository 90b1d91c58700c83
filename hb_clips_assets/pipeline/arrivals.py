"""Which input files are new, complete or changed: the logic behind the
arrival sensor and the back-fill schedule. Plain Python, no Dagster import.

A tick only lists folders and stats files (no hashing), so it stays fast
however many files the data root holds. A file is *complete* when its size
and mtime are the same on two consecutive ticks and, for a video, its MP4 box
structure is whole and it probes; only a file that has just become stable is
probed. A fragmented MP4 (a recorder's ``frag_keyframe`` output) is complete
only once it also ends with what its writer writes last (its ``mfra`` index, or
fragments adding up to the duration its header declares), never at a fragment
boundary alone (:mod:`hb_clips_assets.video.mp4boxes`); until then the tick
says which file is still being written, and the file is looked at again once
it has grown and held still. A partition (game x period) is *ready* when its video and the game's
metrics file are both complete; its *input key* is a hash of both files'
identities (path, size, mtime_ns), so a replaced file gives a new key and a
new run, and the same file gives the same key however often the sensor ticks.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# FileStat, Scan, scan_data_root and mp4_structure_problem are also imported from here (the sensor's vocabulary).
from hb_clips_assets.pipeline.scan import FileStat, Scan, scan_data_root  # noqa: F401
from hb_clips_assets.video.probe import VideoError, mp4_structure_problem, probe_video

CURSOR_VERSION = 1

NEW, OK, BAD = "new", "ok", "bad"  # file states kept in the cursor


def video_problem(path: Path | str) -> str | None:
    """Why the video at ``path`` is not usable yet (structure, then a probe), or None."""
    return video_check(path)[0]


def video_check(path: Path | str) -> tuple[str | None, list[str]]:
    """(why the video is not usable yet, or None; what to know about it although it is: a main video
    stream chosen among several, dropped frames)."""
    try:
        return None, probe_video(path).notes()
    except VideoError as exc:
        return str(exc), []


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
    video_problem_of: Callable[[Path], str | None | tuple[str | None, list[str]]] = video_check,
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
            problem, notes = problem if isinstance(problem, tuple) else (problem, [])
            probed.append(f.rel)
            state = OK if problem is None else BAD
            if problem is not None:
                messages.append(("warning", f"not cutting {f.rel} yet: {problem}"))
            messages += [("warning", f"{f.rel}: {note}") for note in notes]
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
