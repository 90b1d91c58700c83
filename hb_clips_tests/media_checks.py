"""Reading back what a clip really holds: decoded frame marks, audio, atoms."""
from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from hb_clips_assets.video.framemark import read_frame_mark, read_frame_mark_from_av_frame
from hb_clips_assets.sample import ffmpeg_exe


@dataclass
class DecodedClip:
    marks: list[int]
    fps: object
    video_codec: str
    audio_samples: int
    audio_rate: int | None

    @property
    def audio_seconds(self) -> float:
        return self.audio_samples / self.audio_rate if self.audio_rate else 0.0


def decode_clip(path: Path) -> DecodedClip:
    with av.open(str(path)) as container:
        vs = container.streams.video[0]
        marks = [read_frame_mark_from_av_frame(f) for f in container.decode(vs)]
        codec, fps = vs.codec_context.name, vs.average_rate
    samples, rate = 0, None
    with av.open(str(path)) as container:
        if container.streams.audio:
            a = container.streams.audio[0]
            rate = a.codec_context.sample_rate
            samples = sum(f.samples for f in container.decode(a))
    return DecodedClip(marks, fps, codec, samples, rate)


def jpeg_mark(data: bytes) -> int:
    """The frame mark of a JPEG thumbnail (its luma)."""
    image = Image.open(io.BytesIO(data)).convert("YCbCr")
    return read_frame_mark(np.asarray(image)[:, :, 0].copy())


def ffmpeg_decode_errors(path: Path) -> str:
    """What FFmpeg's CLI (an independent build, FFmpeg 9) reports when decoding the whole file."""
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    return (proc.stderr + ("" if proc.returncode == 0 else f"exit {proc.returncode}")).strip()


def top_level_atoms(path: Path) -> list[str]:
    data = Path(path).read_bytes()
    atoms, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        atoms.append(data[pos + 4 : pos + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size < 8:
            break
        pos += size
    return atoms
