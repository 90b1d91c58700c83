"""Shared helpers of the automation tests (sensor, schedule, checks, daemon, Celery)."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from dagster import DagsterInstance

from hb_clips_assets.defs.partitions import game_period_key

# Faster dequeues than the default 5 s (the run queue is the daemon's); the rest is the project's dagster.yaml.
FAST_DEQUEUE_YAML = """
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""
SCHEDULE_CSV = "game_id,date,home,away\n20031,2026-11-18,MTL,CHI\n20038,2026-11-20,WSH,NYR\n"
METRICS_CSV = (
    "event_id,game_id,period,timecode,event_type,player_id,team\n"
    "e1,{game},1,00:00:00;30,shot,8480018,MTL\n"
)


def place(src: Path, dst: Path, mtime_ns: int | None = None) -> Path:
    """Copy ``src`` to ``dst`` the way an uploader that renames would (atomic), optionally setting mtime."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    if mtime_ns is not None:
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, dst)
    return dst


def write_metrics(root: Path, game: str, mtime_ns: int | None = None) -> Path:
    path = root / "metrics" / f"{game}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(METRICS_CSV.format(game=game))
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def partition_tags(game: str, period: str) -> dict[str, str]:
    """Run tags of a game x period partition (to run a checks-only job, whose
    execute_in_process refuses a partition_key when no asset is selected)."""
    key = game_period_key(game, period)
    return {"dagster/partition": str(key), "dagster/partition/game": game, "dagster/partition/period": period}


def session_pids(sid: int) -> list[int]:
    """Processes whose session id is ``sid`` (everything a start_new_session child started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def start_session(args: list[str], log: Path, env: dict, cwd: Path) -> subprocess.Popen:
    """Start ``args`` as the leader of a new session (and process group), output to ``log``.
    SIGINT is at its default in the child whatever the parent did with it."""
    fh = open(log, "wb")

    def reset_signals():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    try:
        return subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True, preexec_fn=reset_signals)
    finally:
        fh.close()


def stop_session(proc: subprocess.Popen, grace_s: float = 20.0) -> list[int]:
    """Stop the session ``proc`` leads: SIGTERM to its process group, then SIGKILL to
    whatever of the session is left. Returns the pids still alive afterwards (none expected)."""
    sid = proc.pid
    try:
        os.killpg(sid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        proc.poll()
        if not session_pids(sid):
            break
        time.sleep(0.2)
    for pid in session_pids(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.2)
    return session_pids(sid)


@contextlib.contextmanager
def sigterm_raises():
    """While the block runs, SIGTERM (a CI timeout, `timeout`) raises SystemExit in the main
    thread, so the test's finally blocks still stop the processes it started."""

    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def log_tail(path: Path, chars: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def run_failure_messages(instance: DagsterInstance, run_id: str) -> str:
    """The error lines of a run's event log, for assertion messages."""
    lines = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and (event.is_step_failure or event.is_run_failure or event.event_type_value == "ENGINE_EVENT"):
            lines.append(f"{event.event_type_value} {event.step_key or ''}: {record.message}")
    return "\n".join(lines[-20:])
