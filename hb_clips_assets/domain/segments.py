"""Clip rules (DATA_CONTRACT.md section 2): events become exact frame ranges."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from hb_clips_assets.domain.contract import MetricEvent, Rejection
from hb_clips_assets.domain.shifts import ShiftRow
from hb_clips_assets.domain.records import Segment
from hb_clips_assets.domain.timecode import TimecodeError, parse_timecode, timecode_to_frame

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


def frame_window(event_frame: int, window: ClipWindow, fps: Fraction, frame_count: int) -> tuple[int, int]:
    """``[start, end)`` per the contract, clamped to ``[0, frame_count]``."""
    start = event_frame - round(window.pre_s * fps)
    end = event_frame + round(window.post_s * fps)
    return max(0, start), min(frame_count, max(end, event_frame + 1))


def _origin_frame(timecode: str | None, fps: Fraction) -> int:
    """Frame number of a video's start timecode at its rate; 0 when it has none or it does not parse."""
    if not timecode:
        return 0
    try:
        return timecode_to_frame(parse_timecode(timecode), fps)
    except (TimecodeError, ValueError):
        return 0


def resolve_segments(
    events: list[MetricEvent],
    fps: Fraction,
    frame_count: int,
    rules: ClipRules,
    source_file: str,
    opponents: dict[str, str] | None = None,
    video_timecode_start: str | None = None,
) -> tuple[list[Segment], list[Rejection]]:
    """Turn a period's events into segments; events whose timecode does not
    exist at this rate, or lies past the end of the video, are set aside.

    ``opponents`` maps team -> opponent (from the schedule) for rows without one.
    ``video_timecode_start``: the video's own start timecode (a ``tmcd`` track, e.g.
    ``01:00:00;00``). Timecodes count from the video's frame 0; one that would lie past
    the end but falls inside the video on its own timecode (at or after that start) is
    read on the video's timecode: an analyst who tagged against the burnt-in clock.
    """
    origin = _origin_frame(video_timecode_start, fps)
    segments: list[Segment] = []
    rejected: list[Rejection] = []
    for event in events:
        try:
            frame = timecode_to_frame(event.timecode, fps)
        except TimecodeError as exc:
            rejected.append(Rejection(source_file, event.line, str(exc), event.period, event.event_id))
            continue
        if frame >= frame_count and origin and origin <= frame < origin + frame_count:
            frame -= origin
        if frame >= frame_count:
            on_clock = (f"; the video's own timecode runs from {video_timecode_start}, and this one is not inside "
                        "it either" if origin else "")
            rejected.append(
                Rejection(
                    source_file,
                    event.line,
                    f"event at {event.timecode} (frame {frame}) is past the end of the video "
                    f"({frame_count} frames, {float(frame_count / fps):.2f} s){on_clock}",
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


SHIFT_EVENT_TYPE = "shift"


def shift_event_id(period: str, player_id: str, start_frame: int) -> str:
    """Deterministic id of a shift clip, unique within the game.

    The period is part of it: shifts of one player start at frame 0 of
    several periods (the opening faceoff), and ``event_id`` is unique per game.
    """
    return f"shift-{period}-{player_id}-{start_frame}"


def resolve_shift_segments(
    shifts: list[ShiftRow],
    game_id: str,
    fps: Fraction,
    frame_count: int,
    source_file: str,
    teams: dict[str, str] | None,
    opponents: dict[str, str] | None = None,
    pad_s: float = SHIFT_PAD_S,
    reserved_event_ids: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[Segment], list[Rejection]]:
    """One segment per shift (DATA_CONTRACT.md section 2): the shift padded
    ``pad_s`` on each side, clamped to ``[0, frame_count]``.

    A shift covers frames ``[start, end)`` (the end timecode is the frame at
    which the player is off), so the clip is ``[start - pad, end + pad)``.
    The event frame (the thumbnail) is the shift's first frame.

    ``teams`` maps player_id -> team (from roster.csv: the shifts file has no
    team column); a shift of a player it does not know is set aside, as is a
    shift whose timecodes do not exist at this rate, that starts past the end
    of the video, or that does not end after it starts. A shift running past
    the end of the video is clamped to it. A shift whose id is in
    ``reserved_event_ids`` (a metrics row of the game already uses it) is set
    aside too: ``event_id`` is unique within a game.
    """
    if pad_s < 0:
        raise ValueError(f"shift padding must not be negative, got {pad_s}")
    pad = round(pad_s * fps)
    segments: list[Segment] = []
    rejected: list[Rejection] = []
    for shift in shifts:
        def reject(reason: str) -> None:
            rejected.append(Rejection(source_file, shift.line, reason, shift.period))

        try:
            start = timecode_to_frame(shift.start, fps)
            end = timecode_to_frame(shift.end, fps)
        except TimecodeError as exc:
            reject(str(exc))
            continue
        if start >= frame_count:
            reject(
                f"shift starting at {shift.start} (frame {start}) is past the end of the video "
                f"({frame_count} frames, {float(frame_count / fps):.2f} s)"
            )
            continue
        if end <= start:
            reject(f"shift ends at {shift.end} (frame {end}), not after it starts at {shift.start} (frame {start})")
            continue
        team = (teams or {}).get(shift.player_id)
        if team is None:
            reject(
                f"player_id {shift.player_id!r} is not in roster.csv, so the shift's team is unknown"
                if teams is not None else "no roster.csv to look up the team of the shift's player"
            )
            continue
        event_id = shift_event_id(shift.period, shift.player_id, start)
        if event_id in reserved_event_ids:
            reject(f"shift id {event_id!r} is already an event_id of the game's metrics")
            continue
        segments.append(
            Segment(
                game_id=game_id,
                period=shift.period,
                event_id=event_id,
                event_type=SHIFT_EVENT_TYPE,
                player_id=shift.player_id,
                team=team,
                opponent=(opponents or {}).get(team),
                zone=None,
                strength=None,
                timecode=str(shift.start),
                event_frame=start,
                start_frame=max(0, start - pad),
                end_frame=min(frame_count, end + pad),
                fps_num=fps.numerator,
                fps_den=fps.denominator,
                tags={
                    "shift_end_timecode": str(shift.end),
                    "shift_start_frame": str(start),
                    "shift_end_frame": str(min(end, frame_count)),
                },
            )
        )
    return segments, rejected
