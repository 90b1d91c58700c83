"""What HLS packaging costs next to the cut it follows, interleaved in one run.

For each of --clips random 8 s windows of a generated source (H.264 High, 3 B-frames, 2 s closed
GOP, AAC 48 kHz, 59.94 fps; --height 720 by default): the smart cut (the baseline, what the pipeline
does anyway), then ``video.hls.package_clip`` on its MP4 (the PyAV remux into one fragmented MP4 and
its playlist). Prints per-clip seconds and bytes, the medians, and checks that each rendition decodes
to the clip's frames (frame marks). The last line is one summary a script can read:

    hls bench: clips N, package/cut time R, extra bytes B%

``package/cut time``: the sum of packaging seconds over the sum of cutting seconds; ``extra bytes``:
what the rendition (fMP4 + playlist) adds to the store, as a share of the MP4s' bytes.

    .venv/bin/python bench/bench_hls.py [--seconds 60] [--height 720|1080] [--clips 10] [--source FILE]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402

from hb_clips_assets.sample import write_marked_video  # noqa: E402
from hb_clips_assets.video.cut import EncodeSettings, smart_cut_clip  # noqa: E402
from hb_clips_assets.video.framemark import read_frame_mark_from_av_frame  # noqa: E402
from hb_clips_assets.video.hls import package_clip  # noqa: E402
from hb_clips_assets.video.probe import probe_video  # noqa: E402

FPS = Fraction(60000, 1001)


def marks(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [read_frame_mark_from_av_frame(f) for f in c.decode(video=0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="source length (default 60)")
    parser.add_argument("--height", type=int, default=720, choices=[360, 720, 1080])
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--clip-seconds", type=float, default=8.0)
    parser.add_argument("--source", type=Path, help="reuse this source instead of generating one")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hb-bench-hls-"))
    src = args.source
    if src is None:
        src = work / "source.mp4"
        started = time.monotonic()
        write_marked_video(src, round(args.seconds * FPS), FPS, args.height * 16 // 9, args.height)
        print(f"source: {src} ({args.height}p, {args.seconds:.0f} s) written in {time.monotonic() - started:.1f} s")
    info = probe_video(src)
    length = round(args.clip_seconds * FPS)
    rng = random.Random(args.seed)
    starts = sorted(rng.randrange(0, info.frame_count - length) for _ in range(args.clips))
    rows, exact = [], 0
    for i, start in enumerate(starts):
        out = work / f"clip{i}"
        out.mkdir()
        t0 = time.monotonic()
        cut = smart_cut_clip(info, start, start + length, start + length // 2, out, EncodeSettings())
        cut_s = time.monotonic() - t0
        packaged = package_clip(cut.mp4_path, out, "hls")
        extra = packaged.media_path.stat().st_size + packaged.playlist_path.stat().st_size
        mp4 = cut.mp4_path.stat().st_size
        ok = marks(packaged.media_path) == list(range(start, start + length))
        exact += ok
        rows.append((cut_s, packaged.seconds, mp4, extra))
        print(f"clip {i}: frames {start}-{start + length} ({cut.path}) cut {cut_s:.3f} s, package "
              f"{packaged.seconds:.3f} s, mp4 {mp4} B, hls {extra} B ({extra / mp4:.3f} of the MP4), {len(packaged.rendition.segments)} segments, frames {'exact' if ok else 'WRONG'}")
    cut_total = sum(r[0] for r in rows)
    package_total = sum(r[1] for r in rows)
    mp4_total, extra_total = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"median cut {statistics.median(r[0] for r in rows):.3f} s, median package "
          f"{statistics.median(r[1] for r in rows):.3f} s per clip; renditions frame-exact {exact}/{len(rows)}")
    print(f"hls bench: clips {len(rows)}, package/cut time {package_total / cut_total:.3f}, "
          f"extra bytes {100 * extra_total / mp4_total:.1f}%")
    return 0 if exact == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
