"""Frame numbers from timestamps: a constant frame rate, with a few dropped frames allowed.

A capture card or an encoder that cannot keep up drops a frame now and then:
the timestamps then jump by two or three frame durations once, and are
otherwise constant. Such a period is not variable frame rate: every frame a
player shows still sits on the one frame grid, so it is accepted, and frame
numbers follow the timestamps, as players and tagging tools count them: a
dropped frame keeps its number (frame n is shown at ``start + n / fps``), and
no picture has that number. A timecode therefore names the same instant in
the analyst's tool and here; the missing numbers are reported (probe
metadata, a warning), never renumbered away.

Real variable frame rate (durations that are not a multiple of one frame
duration, a gap of more than :data:`MAX_GAP` frames, or more than
:data:`MAX_MISSING_SHARE` of the frames missing) is refused: a timecode names
no single frame there.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

MAX_GAP = 2  # frames missing in one place that still count as dropped
MAX_MISSING_SHARE = Fraction(1, 20)  # of the period's frame numbers: beyond, it is a variable rate


class FrameRateError(ValueError):
    """Timestamps that follow no constant frame rate; the message names the file."""


@dataclass(frozen=True)
class FrameGrid:
    pts: tuple[int, ...]  # one per frame number; a missing frame's is where it would have been shown
    missing: tuple[int, ...] = ()  # frame numbers no picture has (dropped frames)


def frame_grid(path: Path | str, pts: list[int], time_base: Fraction) -> FrameGrid:
    """The frame grid of the shown frames' sorted timestamps ``pts``; raises :class:`FrameRateError`
    for variable frame rate.

    Half a frame of tolerance between the regular durations lets rounded time bases
    through (59.94 in 1/90000 alternates 1501 and 1502 ticks), as it always has.
    """
    if len(pts) < 3:
        return FrameGrid(tuple(pts))
    deltas = [b - a for a, b in zip(pts, pts[1:])]
    ordered = sorted(deltas)
    median = ordered[len(ordered) // 2]
    if ordered[-1] - ordered[0] <= max(1, median // 2):
        return FrameGrid(tuple(pts))  # constant: nothing dropped
    steps = [_steps(d, median) for d in deltas]
    missing_total = sum(k - 1 for k in steps if k)
    if (not median or 0 in steps
            or missing_total > MAX_MISSING_SHARE * (len(pts) + missing_total)):
        raise FrameRateError(
            f"{path}: variable frame rate (frame durations {float(ordered[0] * time_base):.4f} to "
            f"{float(ordered[-1] * time_base):.4f} s); re-encode it at a constant rate"
        )
    grid, missing = [pts[0]], []
    for p, d, k in zip(pts, deltas, steps):
        for j in range(1, k):
            missing.append(len(grid))
            grid.append(p + round(Fraction(d * j, k)))
        grid.append(p + d)
    return FrameGrid(tuple(grid), tuple(missing))


def _steps(delta: int, median: int) -> int:
    """How many frame durations ``delta`` spans (1: the next frame; 2-3: one or two dropped);
    0 when it is no whole number of them."""
    if not median:
        return 0
    k = round(Fraction(delta, median))
    if not 1 <= k <= 1 + MAX_GAP:
        return 0
    return k if abs(delta - k * median) <= max(k, median // 4) else 0


def describe_missing(missing: tuple[int, ...], limit: int = 20) -> str:
    """``57, 121-122`` for frames 57, 121 and 122 (the first ``limit`` runs, then how many more)."""
    runs: list[list[int]] = []
    for n in missing:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:limit])
    return text + (f" and {len(runs) - limit} more gaps" if len(runs) > limit else "")
