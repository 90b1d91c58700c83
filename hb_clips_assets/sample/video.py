"""Marked H.264 videos: the one writer behind the sample data, the tests and the benchmark.

:func:`write_marked_video` pipes raw yuv420p frames into the static FFmpeg
binary that ships in the ``imageio-ffmpeg`` wheel (no system FFmpeg needed).
Every frame carries its index (:mod:`hb_clips_assets.video.framemark`), so
frame accuracy can be checked by decoding. By default frames come from
:func:`simple_renderer` and the audio is a 440 Hz tone; tests use that as is.

The sample's period videos (:func:`write_period_video`) go through the same
writer with the broadcast-like frames of :mod:`hb_clips_assets.sample.render`
and crowd noise with sync beeps (:func:`write_audio_wav`): H.264 High with
3 B-frames, a fixed 2 s closed GOP (keyint = min-keyint =
round(2 * fps), no scene-cut keyframes), x264 ``superfast`` CRF 23, yuv420p
BT.709 limited range, AAC stereo 48 kHz, ``+faststart``.

Every file is written to a temporary name in its folder, then renamed into place.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from hb_clips_assets.sample.render import FrameRenderer
from hb_clips_assets.sample.timecode import nominal_rate
from hb_clips_assets.video.framemark import draw_frame_mark


def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary bundled with ``imageio-ffmpeg`` (imported lazily: it looks the binary up)."""
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


def write_audio_wav(path: Path, frame_count: int, fps: Fraction, seed: int) -> None:
    """Stereo 48 kHz crowd-like noise with a 1 kHz beep at every frame whose
    index is a multiple of the nominal rate (60 at 59.94 fps), for 3 frames:
    a beep's onset says which frame it belongs to, so tests can check
    audio/video sync. Seeded, so the same seed gives the same samples."""
    rate = 48000
    n = int(round(Fraction(frame_count) / fps * rate))
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n + 64, 2)).astype(np.float32)
    # A crude low-pass (moving average) makes it rumble like a crowd.
    c = np.cumsum(noise, axis=0, dtype=np.float64)
    k = 24
    crowd = ((c[k:] - c[:-k]) / k)[:n].astype(np.float32) * 0.25
    t = np.arange(n, dtype=np.float64) / rate
    beep = np.zeros(n, dtype=np.float32)
    nominal = nominal_rate(fps)
    beep_len = int(round(3 / fps * rate))
    tone = (0.35 * np.sin(2 * np.pi * 1000.0 * t[:beep_len])).astype(np.float32)
    for k_frame in range(0, frame_count, nominal):
        s = int(round(Fraction(k_frame) / fps * rate))
        e = min(n, s + beep_len)
        beep[s:e] = tone[: e - s]
    mix = np.clip(crowd + beep[:, None], -1.0, 1.0)
    pcm = np.rint(mix * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def write_period_video(
    path: Path, renderer: FrameRenderer, frame_count: int, fps: Fraction, gop: int, audio_seed: int
) -> None:
    """One sample period video: ``renderer``'s frames with the seeded crowd audio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The WAV is scratch: next to the video (same disk) and gone once muxed.
    with tempfile.TemporaryDirectory(prefix=".audio-", dir=path.parent) as tmp:
        wav = Path(tmp) / "audio.wav"
        write_audio_wav(wav, frame_count, fps, audio_seed)
        write_marked_video(
            path, frame_count, fps, renderer.width, renderer.height, gop=gop, audio_wav=wav,
            render=lambda i: renderer.render(i).tobytes() + renderer.chroma,
        )
