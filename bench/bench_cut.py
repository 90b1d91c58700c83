"""Cutter speed against the naive approach, interleaved in the same run.

Naive = the FFmpeg CLI: input seek to the exact presentation time of the start
frame + libx264 ultrafast CRF 20 + AAC + faststart for the whole clip. The
cutter = hb_clips_assets.core.video.cut.cut_clip (PyAV decode from the keyframe
before the start, frame selection by timestamp, libx264 ultrafast CRF 20).

    .venv/bin/python bench/bench_cut.py [--seconds 300] [--height 720] [--clips 10] [--smart]

--smart adds hb_clips_assets.core.video.smartcut.smart_cut_clip (re-encoded
head/tail, copied body, output decoded and verified) as a third column, run
interleaved with the other two on the same starts.

Prints per-clip seconds, the medians, the ratio and clips per minute, and
checks every clip of both methods for frame accuracy (decoded frame marks).
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hb_clips_assets.core.video.cut import cut_clip  # noqa: E402
from hb_clips_assets.core.video.probe import probe_video  # noqa: E402
from hb_clips_assets.core.video.smartcut import smart_cut_clip  # noqa: E402
from hb_clips_assets.core.video.synth import ffmpeg_exe, write_marked_video  # noqa: E402
from hb_clips_tests.media_checks import decode_clip  # noqa: E402

FPS = Fraction(60000, 1001)


def naive_cut(source, start: int, end: int, out: Path) -> None:
    t = source.pts_seconds(start)
    cmd = [
        ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{float(t):.6f}", "-i", source.path,
        "-frames:v", str(end - start), "-t", f"{float((end - start) / FPS):.6f}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart", str(out),
    ]
    subprocess.run(cmd, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="source length (default 300)")
    parser.add_argument("--height", type=int, default=720, choices=[720, 1080])
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--clip-seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2, help="parallel cuts for the throughput figure")
    parser.add_argument("--source", type=Path, help="reuse this source instead of generating one")
    parser.add_argument("--smart", action="store_true", help="add the smart cutter as a third column")
    parser.add_argument("--verify", default="joins", choices=["joins", "full", "none"], help="smart cutter output check")
    args = parser.parse_args()
    width = args.height * 16 // 9
    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        tmp = Path(tmp)
        src = args.source
        if src is None:
            src = tmp / "source.mp4"
            t0 = time.monotonic()
            print(f"generating {args.seconds:.0f} s {width}x{args.height} @ 59.94 source ...", flush=True)
            write_marked_video(src, round(args.seconds * FPS), FPS, width, args.height)
            print(f"  done in {time.monotonic() - t0:.1f} s")
        source = probe_video(src)
        length = round(args.clip_seconds * FPS)
        rng = random.Random(7)
        starts = [rng.randrange(0, source.frame_count - length) for _ in range(args.clips)]
        ours, naive, smart, paths = [], [], [], []
        exact = {"cutter": 0, "naive": 0, "smart": 0}
        print(f"{'start':>7} {'cutter s':>9} {'naive s':>8}" + (f" {'smart s':>8} path" if args.smart else ""))
        for i, start in enumerate(starts):
            end = start + length
            t0 = time.monotonic()
            result = cut_clip(source, start, end, start + length // 2, tmp / f"c{i}")
            ours.append(time.monotonic() - t0)
            t0 = time.monotonic()
            naive_out = tmp / f"n{i}.mp4"
            naive_cut(source, start, end, naive_out)
            naive.append(time.monotonic() - t0)
            exact["cutter"] += decode_clip(result.mp4_path).marks == list(range(start, end))
            exact["naive"] += decode_clip(naive_out).marks == list(range(start, end))
            line = f"{start:>7} {ours[-1]:>9.3f} {naive[-1]:>8.3f}"
            if args.smart:
                t0 = time.monotonic()
                sres = smart_cut_clip(source, start, end, start + length // 2, tmp / f"s{i}", verify=args.verify)
                smart.append(time.monotonic() - t0)
                paths.append(sres.path)
                exact["smart"] += decode_clip(sres.mp4_path).marks == list(range(start, end))
                line += f" {smart[-1]:>8.3f} {sres.path}" + (f" ({sres.reason})" if sres.reason else "")
            print(line, flush=True)
        m_ours, m_naive = statistics.median(ours), statistics.median(naive)
        print(f"\nmedian seconds per {args.clip_seconds:.0f} s clip at {width}x{args.height}: "
              f"cutter {m_ours:.3f}, naive {m_naive:.3f}; speed-up {m_naive / m_ours:.2f}x")
        if args.smart:
            m_smart = statistics.median(smart)
            print(f"smart {m_smart:.3f}: {m_naive / m_smart:.2f}x the naive, {m_ours / m_smart:.2f}x the cutter; "
                  f"paths: {paths.count('smart')} smart, {paths.count('full')} full")
        print(f"frame-exact: cutter {exact['cutter']}/{len(starts)}, naive {exact['naive']}/{len(starts)}"
              + (f", smart {exact['smart']}/{len(starts)}" if args.smart else ""))

        def throughput(cut, **kw):
            t0 = time.monotonic()
            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(lambda se: cut(source, se[1], se[1] + length, se[1], tmp / f"p{se[0]}", **kw), enumerate(starts)))
            return 60 * len(starts) / (time.monotonic() - t0)

        line = f"throughput with {args.workers} workers: cutter {throughput(cut_clip):.1f} clips/min"
        if args.smart:
            line += f", smart {throughput(smart_cut_clip, verify=args.verify):.1f} clips/min"
        print(line)
        print(f"one worker, from the medians: cutter {60 / m_ours:.1f}, naive {60 / m_naive:.1f}"
              + (f", smart {60 / statistics.median(smart):.1f}" if args.smart else "") + " clips/min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
