"""Clip rules (DATA_CONTRACT.md section 2): events become exact frame ranges."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .contract import MetricEvent, Rejection
from .timecode import TimecodeError, frame_to_seconds, timecode_to_frame

DEFAULT_PRE_S = 5.0
DEFAULT_POST_S = 3.0
SHIFT_PAD_S = 1.0


@dataclass(frozen=True)
class ClipWindow:
    pre_s: float = DEFAULT_PRE_S
    post_s: float = DEFAULT_POST_S

    def __post_init__(self):
        if self.pre_s < 0 or self.post_s < 0:
            raise ValueError(f"clip window must not be negative, got {self.pre_s} s before, {self.post_s} s after")


@dataclass(frozen=True)
class ClipRules:
    default: ClipWindow = ClipWindow()
    by_event_type: dict[str, ClipWindow] = field(default_factory=dict)

    def window_for(self, event_type: str) -> ClipWindow:
        return self.by_event_type.get(event_type, self.default)


@dataclass(frozen=True)
class Segment:
    """One event resolved to a frame range of its period video."""

    game_id: str
    period: str
    event_id: str
    event_type: str
    player_id: str
    team: str
    opponent: str | None
    zone: str | None
    strength: str | None
    timecode: str
    event_frame: int
    start_frame: int  # inclusive
    end_frame: int  # exclusive
    fps_num: int
    fps_den: int
    tags: dict[str, str]

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def start_s(self) -> float:
        return float(frame_to_seconds(self.start_frame, self.fps))

    @property
    def end_s(self) -> float:
        return float(frame_to_seconds(self.end_frame, self.fps))

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame


def frame_window(event_frame: int, window: ClipWindow, fps: Fraction, frame_count: int) -> tuple[int, int]:
    """``[start, end)`` per the contract, clamped to ``[0, frame_count]``."""
    start = event_frame - round(window.pre_s * fps)
    end = event_frame + round(window.post_s * fps)
    return max(0, start), min(frame_count, max(end, event_frame + 1))


def resolve_segments(
    events: list[MetricEvent],
    fps: Fraction,
    frame_count: int,
    rules: ClipRules,
    source_file: str,
    opponents: dict[str, str] | None = None,
) -> tuple[list[Segment], list[Rejection]]:
    """Turn a period's events into segments; events whose timecode does not
    exist at this rate, or lies past the end of the video, are set aside.

    ``opponents`` maps team -> opponent (from the schedule) for rows without one.
    """
    segments: list[Segment] = []
    rejected: list[Rejection] = []
    for event in events:
        try:
            frame = timecode_to_frame(event.timecode, fps)
        except TimecodeError as exc:
            rejected.append(Rejection(source_file, event.line, str(exc), event.period, event.event_id))
            continue
        if frame >= frame_count:
            rejected.append(
                Rejection(
                    source_file,
                    event.line,
                    f"event at {event.timecode} (frame {frame}) is past the end of the video "
                    f"({frame_count} frames, {float(frame_count / fps):.2f} s)",
                    event.period,
                    event.event_id,
                )
            )
            continue
        start, end = frame_window(frame, rules.window_for(event.event_type), fps, frame_count)
        segments.append(
            Segment(
                game_id=event.game_id,
                period=event.period,
                event_id=event.event_id,
                event_type=event.event_type,
                player_id=event.player_id,
                team=event.team,
                opponent=event.opponent or (opponents or {}).get(event.team),
                zone=event.zone,
                strength=event.strength,
                timecode=str(event.timecode),
                event_frame=frame,
                start_frame=start,
                end_frame=end,
                fps_num=fps.numerator,
                fps_den=fps.denominator,
                tags=dict(event.tags),
            )
        )
    return segments, rejected
