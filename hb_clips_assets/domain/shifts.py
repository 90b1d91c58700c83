"""The optional shifts file (shifts/<game_id>.csv): one row per player shift,
read like the metrics file (bad rows set aside with file, line and reason)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hb_clips_assets.domain.contract import (
    SHIFTS_REQUIRED,
    Rejection,
    field_too_long,
    row_period_and_problem,
    validate_game_id,
)
from hb_clips_assets.domain.csvfile import read_csv_table
from hb_clips_assets.domain.timecode import Timecode, TimecodeError, parse_timecode


@dataclass(frozen=True)
class ShiftRow:
    """One row of ``shifts/<game_id>.csv``: a player on the ice from ``start`` to ``end``."""

    player_id: str
    period: str
    start: Timecode
    end: Timecode
    line: int


@dataclass
class ShiftsFile:
    path: str
    shifts: list[ShiftRow]
    rejected: list[Rejection]
    encoding: str = "UTF-8"  # what the file was read as (csvfile.decode), reported in the metadata
    delimiter: str = "comma"

    def for_period(self, period: str) -> "ShiftsFile":
        """Shifts and rejections of one period; rows whose period is unreadable go with every period."""
        return ShiftsFile(
            self.path,
            [s for s in self.shifts if s.period == period],
            [r for r in self.rejected if r.period in (period, None)],
            self.encoding,
            self.delimiter,
        )


def read_shifts(path: Path, game_id: str) -> ShiftsFile:
    """Read ``shifts/<game_id>.csv``: valid shifts and rejected rows (file, line, reason).

    Only what can be checked without the video is checked here (required
    fields, period, timecode syntax, the same shift twice); whether the
    timecodes exist in the period video, and end after they start, is
    :func:`~hb_clips_assets.domain.segments.resolve_shift_segments`' job.
    """
    validate_game_id(game_id)
    table = read_csv_table(path, SHIFTS_REQUIRED)
    shifts: list[ShiftRow] = []
    rejected: list[Rejection] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in table.rows:
        def reject(reason: str, period: str | None = None) -> None:
            rejected.append(Rejection(str(path), line, reason, period))

        period, problem = row_period_and_problem(row, SHIFTS_REQUIRED)
        problem = problem or field_too_long(row, ("player_id",))
        if problem:
            reject(problem, period)
            continue
        try:
            start = parse_timecode(row["start_timecode"])
            end = parse_timecode(row["end_timecode"])
        except TimecodeError as exc:
            reject(str(exc), period)
            continue
        key = (row["player_id"], period, str(start))
        if key in seen:
            reject(
                f"duplicate shift of player {row['player_id']!r} in period {period} starting at {start} "
                f"(first on line {seen[key]})",
                period,
            )
            continue
        seen[key] = line
        shifts.append(ShiftRow(row["player_id"], period, start, end, line))
    return ShiftsFile(str(path), shifts, rejected, table.encoding, table.delimiter)
