"""Frame counts and SMPTE labels for the sample generator.

Kept apart from :mod:`hb_clips_assets.domain.timecode` on purpose: the sample
data is the input the pipeline's parser is tested against, so it is written by
an independent implementation rather than by the code under test.
"""
from __future__ import annotations

from fractions import Fraction

# Frame numbers skipped at each minute (except every tenth) in drop-frame.
DROP_FRAME = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}


def nominal_rate(fps: Fraction) -> int:
    return int(round(fps))


def label_separator(fps: Fraction) -> str:
    """``;`` for drop-frame rates, ``:`` otherwise (SMPTE convention)."""
    return ";" if fps in DROP_FRAME else ":"


def timecode_label(index: int, fps: Fraction) -> str:
    """SMPTE label of frame ``index``: drop-frame (``;``) at 29.97/59.94 fps,
    non-drop (``:``) otherwise."""
    if index < 0:
        raise ValueError("negative frame index")
    nominal = nominal_rate(fps)
    drop = DROP_FRAME.get(fps, 0)
    sep = ":"
    if drop:
        sep = ";"
        per_10min = nominal * 600 - drop * 9
        per_min = nominal * 60 - drop
        tens, rem = divmod(index, per_10min)
        index += drop * 9 * tens
        if rem > drop:
            index += drop * ((rem - drop) // per_min)
    frames = index % nominal
    seconds = (index // nominal) % 60
    minutes = (index // (nominal * 60)) % 60
    hours = index // (nominal * 3600)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{frames:02d}"


def period_frame_count(period_seconds: float, fps: Fraction) -> int:
    """Frames in a period of ``period_seconds`` (rounded to the nearest frame)."""
    return int(round(Fraction(period_seconds).limit_denominator(1_000_000) * fps))
