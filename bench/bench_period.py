"""A full period end to end: `hb-clips run` from the video's arrival to the indexed clips.

    .venv/bin/python bench/bench_period.py [--minutes 35] [--events 70] [--rounds 1]
                                           [--baseline WORKTREE] [--hls-baseline]

The period is generated once and cached under ``var/bench/period-<minutes>m/`` (never in tests):
a data root as the README lays it out (schedule.csv, roster.csv, metrics/20038.csv with about
``--events`` events of period 1, video/20038/1.mp4). The video is 1280x720 at 59.94 fps, H.264
High with 3 B-frames and a 2 s closed GOP, AAC 48 kHz stereo, moving test pattern plus temporal
noise (about 6 Mbit/s, like the issue's 1.65 GB for 35 minutes). To keep generation short on a
loaded machine, 1/18 of the period is encoded (superfast) and the 18 copies are joined by packet
copy (each starts with an IDR), then the audio is muxed over the whole length: the file is one
continuous timeline of ``round(minutes * 60 * 59.94)`` frames.

Each round runs ``hb-clips run --quiet`` as a child process on a fresh store, index, work folder
and Dagster instance (the first run: every clip cut), then again on the same ones (the re-run:
nothing to cut). Measured per run: wall time (the process, Python start and Dagster import
included), peak RSS (the child's maximum resident set: the run is one process, PyAV in it),
Dagster's step times (from the run's step stats: metrics, event_segments, clips, media_index and
each check) and what the clips step reports (probe, source hash, cut, HLS, store seconds).

``--baseline WORKTREE`` alternates each run with the same run of the code in WORKTREE (a
``git worktree`` of the commit before, sharing this venv); ``--hls-baseline`` alternates with
HB_HLS=0. The last line sums it up:
``period bench: clips N, wall S s, cut 0 on re-run: yes|no``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FPS = Fraction(60000, 1001)
PIECES = 18  # the period is PIECES packet-copied copies of one encoded piece
GAME = "20038"


def _ffmpeg() -> str:
    from hb_clips_assets.sample import ffmpeg_exe

    return ffmpeg_exe()


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        raise SystemExit(f"ffmpeg failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")


def write_video(path: Path, frames: int) -> None:
    ff = _ffmpeg()
    rate = f"{FPS.numerator}/{FPS.denominator}"
    gop = round(2 * FPS)
    with tempfile.TemporaryDirectory(prefix=".gen-", dir=path.parent) as tmp:
        piece = Path(tmp) / "piece.mp4"
        per_piece = -(-frames // PIECES)
        # noise=alls=8:allf=t: every frame differs; 6 Mbit/s as a broadcast feed (and the 1.65 GB)
        _run([ff, "-hide_banner", "-y", "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r={rate},noise=alls=8:allf=t",
              "-frames:v", str(per_piece), "-c:v", "libx264", "-profile:v", "high", "-preset", "superfast",
              "-b:v", "6M", "-maxrate", "7M", "-bufsize", "12M", "-pix_fmt", "yuv420p",
              "-x264-params", f"bframes=3:keyint={gop}:min-keyint={gop}:scenecut=0", str(piece)])
        listing = Path(tmp) / "list.txt"
        listing.write_text("".join(f"file '{piece}'\n" for _ in range(PIECES)))
        joined = Path(tmp) / "joined.mp4"
        _run([ff, "-hide_banner", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-frames:v", str(frames),
              "-c", "copy", str(joined)])
        seconds = f"{float(frames / FPS):.6f}"
        part = path.with_name(f".{path.name}.part.mp4")
        _run([ff, "-hide_banner", "-y", "-i", str(joined), "-f", "lavfi", "-i",
              f"anoisesrc=color=pink:amplitude=0.1:sample_rate=48000:duration={seconds}",
              "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", "-ac", "2",
              "-t", seconds, "-movflags", "+faststart", str(part)])
        os.replace(part, path)


def write_metrics(root: Path, frame_count: int, events: int) -> int:
    """metrics/20038.csv with about ``events`` valid events in period 1 (the sample's rows and bad rows)."""
    import hb_clips_assets.sample.events as sample_events
    from hb_clips_assets.sample.league import VIDEO_GAMES
    from hb_clips_assets.sample.writer import METRICS_HEADER, csv_text, write_text_atomic

    _date, home, away = VIDEO_GAMES[GAME]
    saved = sample_events._VALID_EVENTS_PER_PERIOD
    sample_events._VALID_EVENTS_PER_PERIOD = events
    try:
        rows, _bad, _valid = sample_events.metrics_rows(GAME, home, away, FPS, frame_count)
    finally:
        sample_events._VALID_EVENTS_PER_PERIOD = saved
    period = METRICS_HEADER.index("period")
    mine = [r for r in rows if r[period] == "1"]
    path = root / "metrics" / f"{GAME}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = csv_text(METRICS_HEADER, mine)
    if not path.is_file() or path.read_text() != text:  # unchanged inputs stay untouched (a run may be reading them)
        write_text_atomic(path, text)
    return len(mine)


def ensure_period(minutes: float, events: int) -> Path:
    """The cached data root for ``minutes`` (generated when missing)."""
    from hb_clips_assets.sample.league import roster_rows, schedule_rows
    from hb_clips_assets.sample.writer import ROSTER_HEADER, SCHEDULE_HEADER, csv_text, write_text_atomic

    root = ROOT / "var" / "bench" / f"period-{minutes:g}m-{events}e"
    video = root / "video" / GAME / "1.mp4"
    frames = round(Fraction(minutes * 60).limit_denominator(1000) * FPS)
    if not video.is_file():
        video.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        print(f"generating {minutes:g} min period ({frames} frames) under {root} ...", flush=True)
        write_video(video, frames)
        print(f"generated {video} ({video.stat().st_size / 1e9:.2f} GB) in {time.monotonic() - started:.0f} s",
              flush=True)
    for name, text in (("schedule.csv", csv_text(SCHEDULE_HEADER, schedule_rows())),
                       ("roster.csv", csv_text(ROSTER_HEADER, roster_rows()))):
        if not (root / name).is_file() or (root / name).read_text() != text:
            write_text_atomic(root / name, text)
    n = write_metrics(root, frames, events)
    print(f"data root {root}: {n} metric rows of period 1, {frames} frames, "
          f"{video.stat().st_size / 1e9:.2f} GB", flush=True)
    return root


# The child: one `hb-clips run`, then what the instance recorded about it, as JSON on the last line.
CHILD = r"""
import json, sys, time
t0 = time.monotonic()
from hb_clips_assets.cli.main import main
rc = main(["run", "--data-root", sys.argv[1], "--quiet"])
wall_run = time.monotonic() - t0
from dagster import DagsterInstance
inst = DagsterInstance.get()
runs = [r for r in inst.get_runs() if r.job_name == "clip_game_period"]
out = {"rc": rc, "in_process_s": wall_run, "steps": {}, "clips": {}}
if runs:
    run = runs[0]
    for s in inst.get_run_step_stats(run.run_id):
        if s.start_time and s.end_time:
            out["steps"][s.step_key] = s.end_time - s.start_time
    stats = inst.get_run_stats(run.run_id)
    out["run_s"] = (stats.end_time or 0) - (stats.launch_time or stats.start_time or 0)
    for rec in inst.get_records_for_run(run.run_id).records:
        e = rec.event_log_entry.dagster_event
        if e is not None and e.is_step_materialization:
            m = e.step_materialization_data.materialization
            if m.asset_key.to_user_string() == "clips":
                out["clips"] = {k: getattr(v, "value", None) for k, v in m.metadata.items()
                                if isinstance(getattr(v, "value", None), (int, float, str))}
print(json.dumps(out))
"""


def run_once(code_root: Path, data_root: Path, state: Path, env_extra: dict[str, str]) -> dict:
    env = dict(os.environ, HB_STORE_URL=str(state / "store"), HB_MEDIA_DB_URL=f"sqlite:///{state / 'media.db'}",
               HB_WORK_DIR=str(state / "work"), DAGSTER_HOME=str(state / "dagster_home"),
               PYTHONPATH=str(code_root), **env_extra)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_root)], cwd=code_root, env=env,
                                stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: peak RSS, CPU seconds
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        out_text, err_text = out.read(), err.read()
    try:
        result = json.loads(out_text.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"run failed ({proc.returncode}):\n{out_text[-3000:]}\n{err_text[-3000:]}")
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["wall_s"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: KiB; the run is one process (PyAV in it)
    return result


def summarize(label: str, r: dict) -> dict:
    steps = r["steps"]
    c = r["clips"]
    row = {
        "wall": r["wall_s"],
        "dagster run": r.get("run_s", 0.0),
        "outside run (start, import, reference job)": r["wall_s"] - r.get("run_s", 0.0),
        "metrics": steps.get("metrics", 0.0),
        "event_segments": steps.get("event_segments", 0.0),
        "clips step": steps.get("clips", 0.0),
        "  probe": float(c.get("probe_seconds", float("nan"))),
        "  source hash": float(c.get("hash_seconds", float("nan"))),
        "  cut (sum over workers)": float(c.get("cut_seconds_total", float("nan"))),
        "  HLS (sum)": float(c.get("hls_seconds", float("nan"))),
        "  store (sum)": float(c.get("store_seconds", float("nan"))),
        "media_index": steps.get("media_index", 0.0),
        "checks": sum(v for k, v in steps.items() if k not in ("metrics", "event_segments", "clips", "media_index")),
        "clips": int(c.get("clips", 0)),
        "cut": int(c.get("clips_cut", 0)),
        "CPU s (user+sys)": r["cpu_s"],
        "cores busy (CPU / wall)": r["cpu_s"] / r["wall_s"],
        "peak RSS MB": r["peak_rss_mb"],
    }
    print(f"  {label}: wall {row['wall']:.1f} s, clips {row['clips']}, cut {row['cut']}, "
          f"clips step {row['clips step']:.1f} s, {row['cores busy (CPU / wall)']:.2f} cores, peak RSS {row['peak RSS MB']:.0f} MB; steps "
          + ", ".join(f"{k} {v:.2f}" for k, v in sorted(steps.items())), flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=35.0)
    ap.add_argument("--events", type=int, default=70)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--code", type=Path, default=ROOT, help="the code to time (a worktree; default: this one)")
    ap.add_argument("--baseline", type=Path, help="a git worktree of the code to compare with, run alternately")
    ap.add_argument("--hls-baseline", action="store_true", help="alternate with HB_HLS=0")
    ap.add_argument("--generate-only", action="store_true")
    args = ap.parse_args()
    data_root = ensure_period(args.minutes, args.events)
    if args.generate_only:
        return 0
    variants = [("this", args.code.resolve(), {})]
    if args.baseline:
        variants.append(("baseline", args.baseline.resolve(), {}))
    if args.hls_baseline:
        variants.append(("HB_HLS=0", ROOT, {"HB_HLS": "0"}))
    rows: dict[str, list[tuple[dict, dict]]] = {name: [] for name, _, _ in variants}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs")
    for rnd in range(args.rounds):
        order = variants if rnd % 2 == 0 else list(reversed(variants))
        for name, code, env in order:
            with tempfile.TemporaryDirectory(prefix="hb-period-", dir=ROOT / "var" / "bench") as state:
                print(f"round {rnd + 1}, {name}:", flush=True)
                first = summarize("first run", run_once(code, data_root, Path(state), env))
                again = summarize("re-run", run_once(code, data_root, Path(state), env))
                rows[name].append((first, again))
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    names = [n for n, _, _ in variants]
    keys = list(rows[names[0]][0][0])
    header = "| stage (median s) | " + " | ".join(f"{n} first | {n} re-run" for n in names) + " |"
    print(header + "\n|" + "---|" * (1 + 2 * len(names)))
    for k in keys:
        cells = []
        for n in names:
            for i in (0, 1):
                vals = [pair[i][k] for pair in rows[n]]
                cells.append(f"{statistics.median(vals):.2f}" if k not in ("clips", "cut") else str(int(vals[0])))
        print(f"| {k} | " + " | ".join(cells) + " |")
    first, again = rows["this"][-1]
    if args.minutes != 35:
        scale = 35 / args.minutes
        print(f"EXTRAPOLATION (not measured): the same run on 35 minutes would hash and probe {scale:.1f}x the "
              f"bytes: about {first['wall'] + (scale - 1) * (first['  probe'] + first['  source hash'] + first['event_segments']):.1f} s first run")
    print(f"period bench: clips {first['clips']}, wall {statistics.median(p[0]['wall'] for p in rows['this']):.1f} s, "
          f"cut 0 on re-run: {'yes' if again['cut'] == 0 and again['clips'] == first['clips'] else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
