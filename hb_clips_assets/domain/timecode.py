"""SMPTE timecodes <-> frame indices, drop-frame aware.

A timecode *labels* a frame. Its frame index is the SMPTE frame count (with the
drop-frame numbers skipped as SMPTE 12M says) and its time in seconds is that
index divided by the video's real (rational) frame rate. So non-drop
``00:35:00:00`` in a 59.94 fps video is frame 126000 at 2102.1 s, not 2100 s.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_PATTERN = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})([:;.])([0-9]{2,3})$")  # ASCII digits only

# Real rates at which drop-frame counting exists (NTSC 29.97 and 59.94).
_DROP_FRAME_RATES = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}


class TimecodeError(ValueError):
    """A timecode that is malformed or does not exist at the given rate."""


@dataclass(frozen=True)
class Timecode:
    hours: int
    minutes: int
    seconds: int
    frames: int
    drop_frame: bool

    def __str__(self) -> str:
        sep = ";" if self.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:02d}"


def parse_timecode(text: str) -> Timecode:
    """Parse ``HH:MM:SS:FF`` (non-drop) or ``HH:MM:SS;FF`` / ``HH:MM:SS.FF`` (drop-frame).

    Only the syntax is checked here; whether the label exists depends on the
    frame rate (see :func:`timecode_to_frame`).
    """
    if not isinstance(text, str):
        raise TimecodeError(f"timecode must be text, got {type(text).__name__}")
    match = _PATTERN.match(text.strip())
    if not match:
        raise TimecodeError(
            f"malformed timecode {text!r}: expected HH:MM:SS:FF (non-drop) or HH:MM:SS;FF (drop-frame)"
        )
    hh, mm, ss, sep, ff = match.groups()
    tc = Timecode(int(hh), int(mm), int(ss), int(ff), drop_frame=sep in ";.")
    if tc.minutes > 59 or tc.seconds > 59:
        raise TimecodeError(f"timecode {text!r}: minutes and seconds must be 00-59")
    return tc


def nominal_rate(fps: Fraction) -> int:
    """The integer frame count per timecode second: 30 for 29.97, 60 for 59.94, 25 for 25."""
    fps = Fraction(fps)
    if fps <= 0:
        raise TimecodeError(f"frame rate must be positive, got {fps}")
    return round(fps)


def supports_drop_frame(fps: Fraction) -> bool:
    return Fraction(fps) in _DROP_FRAME_RATES


def _dropped_per_minute(fps: Fraction, label: object) -> int:
    try:
        return _DROP_FRAME_RATES[Fraction(fps)]
    except KeyError:
        raise TimecodeError(
            f"drop-frame timecode {label} used with a {float(fps):.3f} fps video; "
            "drop-frame exists only for 29.97 and 59.94 fps"
        ) from None


def timecode_to_frame(timecode: Timecode | str, fps: Fraction) -> int:
    """Frame index of a timecode in a video of real frame rate ``fps``."""
    tc = parse_timecode(timecode) if isinstance(timecode, str) else timecode
    rate = nominal_rate(fps)
    if tc.frames >= rate:
        raise TimecodeError(f"timecode {tc}: frames field {tc.frames} must be below the nominal rate {rate}")
    total_minutes = 60 * tc.hours + tc.minutes
    frame = (total_minutes * 60 + tc.seconds) * rate + tc.frames
    if not tc.drop_frame:
        return frame
    drop = _dropped_per_minute(fps, tc)
    if tc.minutes % 10 != 0 and tc.seconds == 0 and tc.frames < drop:
        raise TimecodeError(
            f"drop-frame timecode {tc} does not exist: frames 00-{drop - 1:02d} are skipped "
            "at the start of every minute not divisible by ten"
        )
    return frame - drop * (total_minutes - total_minutes // 10)


def frame_to_timecode(frame: int, fps: Fraction, drop_frame: bool | None = None) -> Timecode:
    """Label of frame ``frame``; drop-frame by default where the rate has it."""
    if frame < 0:
        raise TimecodeError(f"frame index must not be negative, got {frame}")
    rate = nominal_rate(fps)
    if drop_frame is None:
        drop_frame = supports_drop_frame(fps)
    if drop_frame:
        drop = _dropped_per_minute(fps, f"for frame {frame}")
        per_10min = rate * 600 - drop * 9
        per_minute = rate * 60 - drop
        tens, rem = divmod(frame, per_10min)
        # The first minute of each ten keeps all its labels; later ones skip `drop`.
        extra = 0 if rem < drop else drop * ((rem - drop) // per_minute)
        frame = frame + drop * 9 * tens + extra
    frames = frame % rate
    total_seconds = frame // rate
    hours, rem_s = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rem_s, 60)
    return Timecode(hours, minutes, seconds, frames, drop_frame)


def frame_to_seconds(frame: int, fps: Fraction) -> Fraction:
    """Exact presentation time of frame ``frame`` from the video's real rate."""
    return Fraction(frame) / Fraction(fps)
