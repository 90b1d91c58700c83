"""Synthetic marked videos: every frame carries its index (framemark), so
frame accuracy can be checked by decoding. Used by sample data, tests and the
benchmark. Frames are built as numpy planes and piped to the FFmpeg binary that
ships in the ``imageio-ffmpeg`` wheel.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from hb_clips_assets.video.framemark import draw_frame_mark


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def simple_renderer(width: int, height: int) -> Callable[[int], bytes]:
    """Yuv420p frames: a textured background, a moving block and the frame mark."""
    yy, xx = np.mgrid[0:height, 0:width]
    background = ((xx // 4 + yy // 8) % 64 + 80).astype(np.uint8)
    chroma = np.full(width * height // 2, 128, np.uint8).tobytes()
    size = max(8, height // 8)

    def render(index: int) -> bytes:
        y = background.copy()
        x = (index * 7) % max(1, width - size)
        y[height // 2 : height // 2 + size, x : x + size] = 30
        draw_frame_mark(y, index)
        return y.tobytes() + chroma

    return render


def write_marked_video(
    path: Path,
    frame_count: int,
    fps: Fraction = Fraction(60000, 1001),
    width: int = 320,
    height: int = 180,
    *,
    audio: bool = True,
    gop: int | None = None,
    bframes: int = 3,
    open_gop: bool = False,
    preset: str = "superfast",
    crf: int = 23,
    render: Callable[[int], bytes] | None = None,
    audio_wav: Path | None = None,
) -> Path:
    """Write an H.264 (High) MP4 of ``frame_count`` marked frames, atomically.

    ``gop`` defaults to 2 s; keyframes are placed every ``gop`` frames exactly
    (no scene-cut keyframes). Audio, when asked for, is AAC 48 kHz stereo:
    ``audio_wav`` if given, else a 440 Hz tone with the video's exact duration.
    """
    fps = Fraction(fps)
    gop = gop or round(2 * fps)
    render = render or simple_renderer(width, height)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.mp4", dir=path.parent)
    os.close(fd)
    rate = f"{fps.numerator}/{fps.denominator}"
    duration = f"{float(frame_count / fps):.6f}"
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", rate, "-i", "pipe:0",
    ]
    if audio:
        cmd += ["-i", str(audio_wav)] if audio_wav else ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}"]
        cmd += ["-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"]
    x264 = f"bframes={bframes}:keyint={gop}:min-keyint={gop}:scenecut=0" + (":open-gop=1" if open_gop else "")
    cmd += [
        "-c:v", "libx264", "-profile:v", "high", "-preset", preset, "-crf", str(crf), "-x264-params", x264,
        "-pix_fmt", "yuv420p",
        # FFmpeg 9 ignores -colorspace & co. when the frames say "unspecified"; tag the frames instead.
        "-vf", "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709",
        "-movflags", "+faststart", "-f", "mp4", tmp,
    ]
    try:
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
            try:
                for i in range(frame_count):
                    proc.stdin.write(render(i))
                proc.stdin.close()
            except BrokenPipeError:
                pass
            rc = proc.wait()
            if rc != 0:
                log.seek(0)
                raise RuntimeError(f"ffmpeg failed (exit {rc}) writing {path}: {log.read().decode(errors='replace')[-2000:]}")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
