"""Cutter speed against the naive approach, interleaved in the same run.

Naive = the FFmpeg CLI: input seek to the exact presentation time of the start
frame + libx264 ultrafast CRF 20 + AAC + faststart for the whole clip.
Full = hb_clips_assets.video.cut.full.cut_clip (PyAV decode from the keyframe
before the start, frame selection by timestamp, the whole clip re-encoded).
Smart = hb_clips_assets.video.cut.smart.smart_cut_clip, the pipeline's
default (re-encoded head and tail, the source's packets copied between, AAC
copied, output decoded around the joins and verified).

Copy = the FFmpeg CLI's stream copy (``-ss`` before ``-i``, ``-c copy``): not
frame-exact, the floor no cutter can beat.

    .venv/bin/python bench/bench_cut.py [--seconds 300] [--height 720|1080] [--clips 10]
                                        [--gop 120] [--open-gop] [--scenecut] [--content pan|simple]
                                        [--workers 2] [--game]

The source is generated: H.264 High, 3 B-frames, a keyframe every --gop frames
(default 120, 2 s; closed GOPs, or open ones with --open-gop: only the first
I-frame is an IDR, the others recovery points), AAC 48 kHz, 59.94 fps.
The sources of issue 16: ``--gop 600`` (10 s, OBS style), ``--height 1080
--open-gop --gop 250`` (x264 open-gop=1, keyint 250), ``--height 1080 --scenecut
--gop 250`` (hard cuts between four textures every 1.5-6 s, x264 scenecut=40,
min-keyint 25, keyint 250, closed GOPs). --content pan (default) is a panning crowd-noise texture (every
pixel moves, like a broadcast camera following play: x264 works for its
bits); --content simple is the test suite's mostly static texture (cheap to
encode, so fixed costs dominate).

Prints per-clip seconds, the medians, ratios (to naive and to copy), clips per
minute with --workers cuts in parallel (threads, as the pipeline runs them), and
checks every clip of every method for frame accuracy (decoded frame marks); the
smart cut's clips also with OpenH264. The last line sums it up:
``cut bench: SOURCE smart/naive clips-per-minute R, smart/copy time C, frame-exact N/M``.

--game also times a full sample game end to end (CSV to indexed clips, the
`hb-clips run` CLI on a fresh instance and store) with HB_CUTTER=full and
HB_CUTTER=smart.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hb_clips_assets.video import h264  # noqa: E402
from hb_clips_assets.video.cut.full import cut_clip  # noqa: E402
from hb_clips_assets.video.framemark import draw_frame_mark  # noqa: E402
from hb_clips_assets.video.probe import probe_video  # noqa: E402
from hb_clips_assets.video.cut.smart import smart_cut_clip  # noqa: E402
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video  # noqa: E402
from hb_clips_tests.media_checks import decode_clip  # noqa: E402
from hb_clips_tests.video.test_smartcut import openh264_marks  # noqa: E402

FPS = Fraction(60000, 1001)


def pan_renderer(width: int, height: int, seed: int = 7):
    """Yuv420p frames of a crowd-noise texture panning left and right (about 3 px a frame)."""
    rng = np.random.default_rng(seed)
    cell = 4
    span = width + 480
    tex = rng.integers(40, 200, size=(height // cell + 1, span // cell + 1), dtype=np.uint8)
    tex = np.repeat(np.repeat(tex, cell, axis=0), cell, axis=1)[:height, :span]
    chroma = np.full(width * height // 2, 128, np.uint8).tobytes()

    def render(index: int) -> bytes:
        x = int(240 + 240 * math.sin(2 * math.pi * float(index / FPS) / 10.0))
        y = np.ascontiguousarray(tex[:, x : x + width])
        draw_frame_mark(y, index)
        return y.tobytes() + chroma

    return render


def scene_renderer(width: int, height: int, frames: int):
    """The panning texture cut between four scenes (other textures, other brightness) every
    1.5-6 s, so that x264's scene-cut detection places keyframes where the picture changes."""
    pans = [pan_renderer(width, height, seed) for seed in (7, 11, 13, 17)]
    rng = random.Random(3)
    cuts, at = [], 0
    while at < frames:
        cuts.append(at)
        at += rng.randrange(90, 360)

    def render(index: int) -> bytes:
        scene = sum(c <= index for c in cuts) - 1
        return pans[scene % len(pans)](index)

    return render


def write_scenecut_source(path: Path, frames: int, width: int, height: int, gop: int) -> None:
    """Like the sample videos (H.264 High, 3 B-frames, AAC, marked frames), but with x264's
    own keyframe placement: scene cuts (scenecut=40, min-keyint 25), keyint ``gop``, closed GOPs."""
    duration = f"{float(frames / FPS):.6f}"
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
           "-s", f"{width}x{height}", "-framerate", f"{FPS.numerator}/{FPS.denominator}", "-i", "pipe:0",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}",
           "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
           "-c:v", "libx264", "-profile:v", "high", "-preset", "superfast", "-crf", "23",
           "-x264-params", f"bframes=3:keyint={gop}:min-keyint=25:scenecut=40", "-pix_fmt", "yuv420p",
           "-vf", "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709",
           "-movflags", "+faststart", "-f", "mp4", str(path)]
    render = scene_renderer(width, height, frames)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for i in range(frames):
        proc.stdin.write(render(i))
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit(f"ffmpeg failed writing {path}")


def keyframe_summary(path: Path, frames: int) -> str:
    """How many IDRs and recovery points (open-GOP I-frames) the source holds."""
    idr = rap = 0
    with av.open(str(path)) as c:
        for p in c.demux(c.streams.video[0]):
            if p.size and p.is_keyframe:
                data = bytes(p)
                idr += h264.is_idr(data)
                rap += not h264.is_idr(data) and h264.is_recovery_point(data)
    return f"{frames} frames, {idr} IDRs, {rap} recovery points (mean distance {frames / max(1, idr + rap):.0f} frames)"


def naive_cut(source, start: int, end: int, out: Path) -> None:
    t = source.pts_seconds(start)
    cmd = [
        ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{float(t):.6f}", "-i", source.path,
        "-frames:v", str(end - start), "-t", f"{float((end - start) / FPS):.6f}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart", str(out),
    ]
    subprocess.run(cmd, check=True)


def copy_cut(source, start: int, end: int, out: Path) -> None:
    t = source.pts_seconds(start)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{float(t):.6f}", "-i", source.path, "-t",
                    f"{float((end - start) / FPS):.6f}", "-c", "copy", "-movflags", "+faststart", str(out)], check=True)


def frame_exact(path: Path, start: int, end: int) -> bool:
    try:
        return decode_clip(path).marks == list(range(start, end))
    except ValueError:  # a frame without a readable mark
        return False


def bench_cuts(args, tmp: Path) -> None:
    width = args.height * 16 // 9
    src = args.source
    if src is None:
        src = tmp / "source.mp4"
        t0 = time.monotonic()
        print(f"generating a {args.seconds:.0f} s {width}x{args.height} 59.94 fps source ({args.content}) ...", flush=True)
        if args.scenecut:
            write_scenecut_source(src, round(args.seconds * FPS), width, args.height, args.gop)
        else:
            render = pan_renderer(width, args.height) if args.content == "pan" else None
            write_marked_video(src, round(args.seconds * FPS), FPS, width, args.height, render=render, gop=args.gop,
                               open_gop=args.open_gop)
        print(f"  done in {time.monotonic() - t0:.1f} s, {src.stat().st_size / 1e6:.1f} MB")
    source = probe_video(src)
    print("  " + keyframe_summary(src, source.frame_count))
    length = round(args.clip_seconds * FPS)
    rng = random.Random(7)
    starts = [rng.randrange(0, source.frame_count - length) for _ in range(args.clips)]
    methods = {
        "naive": lambda s, out: naive_cut(source, s, s + length, out / "n.mp4") or out / "n.mp4",
        "full": lambda s, out: cut_clip(source, s, s + length, s + length // 2, out).mp4_path,
        "smart": lambda s, out: smart_cut_clip(source, s, s + length, s + length // 2, out),
        "copy": lambda s, out: copy_cut(source, s, s + length, out / "c.mp4") or out / "c.mp4",
    }
    times = {m: [] for m in methods}
    exact = {m: 0 for m in methods}
    paths = []
    oh264 = both = 0
    print(f"\n{'start':>7} {'naive s':>8} {'full s':>8} {'smart s':>8} {'copy s':>8}  smart path")
    for i, start in enumerate(starts):
        line = f"{start:>7}"
        for name, cut in methods.items():  # interleaved: each method on the same start, back to back
            out = tmp / f"{name}{i}"
            out.mkdir()
            t0 = time.monotonic()
            result = cut(start, out)
            times[name].append(time.monotonic() - t0)
            if name == "smart":
                paths.append(result.path)
                note = f"{result.path}, {result.copied_frames} of {length} frames copied" + (
                    f" ({result.reason})" if result.reason else "")
                result = result.mp4_path
                oh = openh264_marks(result, source.width, source.height) == list(range(start, start + length))
                oh264 += oh
            ok = frame_exact(result, start, start + length)
            exact[name] += ok
            if name == "smart":
                both += ok and oh
            line += f" {times[name][-1]:>8.3f}"
        print(line + "  " + note, flush=True)

    med = {m: statistics.median(t) for m, t in times.items()}
    print(f"\nmedian seconds per {args.clip_seconds:.0f} s clip at {width}x{args.height} ({args.content}, "
          f"{label(args)}): " + ", ".join(f"{m} {v:.3f}" for m, v in med.items()))
    print(f"smart is {med['naive'] / med['smart']:.2f}x the naive, {med['full'] / med['smart']:.2f}x the full "
          f"re-encode, {med['smart'] / med['copy']:.2f}x the stream copy's time (medians); paths: "
          f"{paths.count('smart')} smart, {paths.count('full')} full")
    print("frame-exact: " + ", ".join(f"{m} {n}/{len(starts)}" for m, n in exact.items())
          + f"; smart clips as OpenH264 decodes them: {oh264}/{len(starts)}")

    def throughput(name: str) -> float:
        cut = methods[name]

        def one(item):
            i, s = item
            out = tmp / f"p-{name}{i}"
            out.mkdir()
            cut(s, out)

        t0 = time.monotonic()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(one, enumerate(starts)))
        return 60 * len(starts) / (time.monotonic() - t0)

    per_min = {m: throughput(m) for m in ("naive", "smart", "copy")}
    print(f"clips per minute with {args.workers} workers: "
          + ", ".join(f"{m} {v:.1f}" for m, v in per_min.items())
          + f"; smart/naive {per_min['smart'] / per_min['naive']:.2f}x")
    print(f"cut bench: {args.height}p59.94 {label(args)} smart/naive clips-per-minute "
          f"{per_min['smart'] / per_min['naive']:.2f}, smart/copy time {med['smart'] / med['copy']:.1f}, "
          f"frame-exact {both}/{len(starts)}")


def label(args) -> str:
    return f"{'open' if args.open_gop else 'closed'} GOP {args.gop}" + (" scene-cut" if args.scenecut else "")


def bench_game(args, tmp: Path) -> None:
    from hb_clips_assets.sample import write_sample_data

    data = tmp / "data"
    t0 = time.monotonic()
    print(f"\nwriting sample game 20031 ({args.period_seconds:.0f} s periods, 1280x720) ...", flush=True)
    write_sample_data(data, period_seconds=args.period_seconds, games=["20031"])
    print(f"  done in {time.monotonic() - t0:.1f} s")
    cli = [sys.executable, "-m", "hb_clips_assets.cli.main"]
    results = {}
    for cutter in ("full", "smart"):
        home = tmp / f"run-{cutter}"
        home.mkdir()
        env = {**os.environ, "HB_CUTTER": cutter, "HB_DATA_ROOT": str(data), "HB_STORE_URL": str(home / "store"),
               "HB_MEDIA_DB_URL": f"sqlite:///{home / 'media.db'}", "HB_WORK_DIR": str(home / "work"),
               "DAGSTER_HOME": str(home / "dagster_home"), "HB_CUT_WORKERS": str(args.workers),
               "PYTHONPATH": str(ROOT)}
        t0 = time.monotonic()
        proc = subprocess.run(cli + ["run"], cwd=home, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - t0
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            raise SystemExit(f"hb-clips run with HB_CUTTER={cutter} failed (exit {proc.returncode})")
        db = sqlite3.connect(home / "media.db")
        clips = db.execute("select count(*) from clips").fetchone()[0]
        log = (proc.stdout + proc.stderr).splitlines()
        smart = sum("cut event" in line and "(smart:" in line for line in log)
        full = sum("cut event" in line and "(full re-encode:" in line for line in log)
        results[cutter] = (seconds, clips)
        print(f"HB_CUTTER={cutter}: {clips} clips indexed in {seconds:.1f} s (CSV to index, all periods, "
              f"asset checks included; {smart} smart cuts, {full} full re-encodes)")
    (tf, nf), (ts, ns) = results["full"], results["smart"]
    print(f"end to end: smart {tf / ts:.2f}x the full re-encode ({nf} and {ns} clips)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="source length (default 300)")
    parser.add_argument("--height", type=int, default=720, choices=[720, 1080])
    parser.add_argument("--content", default="pan", choices=["pan", "simple"])
    parser.add_argument("--gop", type=int, default=120, help="keyframe interval in frames (default 120, 2 s)")
    parser.add_argument("--open-gop", action="store_true", help="open GOPs: I-frames after the first are not IDRs")
    parser.add_argument("--scenecut", action="store_true",
                        help="scene cuts in the picture and x264's keyframes at them (--gop: keyint), closed GOPs")
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--clip-seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2, help="parallel cuts (the ffmpeg pool's limit: CPU cores)")
    parser.add_argument("--source", type=Path, help="reuse this source instead of generating one")
    parser.add_argument("--game", action="store_true", help="also time a sample game end to end, full vs smart")
    parser.add_argument("--period-seconds", type=float, default=120.0, help="sample game period length (--game)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        bench_cuts(args, Path(tmp))
        if args.game:
            bench_game(args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
