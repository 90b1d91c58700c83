"""The input side of the data contract (shared/DATA_CONTRACT.md section 1).

Reading never stops at a bad row: each row becomes either an event or a
:class:`Rejection` naming the file, the line and the reason. A file that cannot
be read as a whole (binary, not UTF-8, wrong header) raises
:class:`ContractFileError`, which fails its partition.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from hb_clips_assets.domain.timecode import Timecode, TimecodeError, parse_timecode

PERIODS = ("1", "2", "3", "OT")
# How analysts' tools label periods (Sportscode "P1", "1st", a first overtime "OT1"); later
# overtimes (OT2, ...) have no period of their own in the contract and stay refused.
_PERIOD_SYNONYMS = {
    "4": "OT", "ot": "OT", "ot1": "OT", "overtime": "OT", "p4": "OT",
    "p1": "1", "p2": "2", "p3": "3", "1st": "1", "2nd": "2", "3rd": "3",
}
_GAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

METRICS_REQUIRED = ("event_id", "game_id", "period", "timecode", "event_type", "player_id", "team")
METRICS_OPTIONAL = ("opponent", "zone", "strength", "outcome", "x", "y", "detail")
SHIFTS_REQUIRED = ("player_id", "period", "start_timecode", "end_timecode")
SCHEDULE_REQUIRED = ("game_id", "date", "home", "away")
ROSTER_REQUIRED = ("player_id", "name", "team", "position")

# Largest CSV field we accept: a longer one fails the file (naming the line), like
# the csv module's own limit (128 KiB by default), which is process-wide state
# we leave alone.
_MAX_FIELD = 64 * 1024

# Widest value of the fields that become columns of the media index (its VARCHAR
# widths, core/index/models.py): a longer value is a bad row here, not a failed
# partition write on PostgreSQL later. Tag names (extra column headers) likewise.
MAX_FIELD_LENGTHS = {"event_id": 128, "event_type": 64, "player_id": 64, "team": 16, "opponent": 16, "strength": 16}
MAX_TAG_NAME_LENGTH = 64


def field_too_long(row: dict[str, str], fields) -> str | None:
    for name in fields:
        limit = MAX_FIELD_LENGTHS[name]
        value = row.get(name) or ""
        if len(value) > limit:
            return f"{name} is {len(value)} characters long; at most {limit}"
    return None


class ContractError(ValueError):
    """Input that breaks the data contract."""


class ContractFileError(ContractError):
    """A whole file that cannot be read: names the file, the line and the problem."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None):
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Rejection:
    """A row set aside: where it is and why."""

    file: str
    line: int
    reason: str
    period: str | None = None  # the row's period where it could be read
    event_id: str | None = None

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.reason}"


@dataclass(frozen=True)
class MetricEvent:
    event_id: str
    game_id: str
    period: str
    timecode: Timecode
    event_type: str
    player_id: str
    team: str
    line: int
    opponent: str | None = None
    zone: str | None = None
    strength: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # optional + extra columns


@dataclass
class MetricsFile:
    path: str
    events: list[MetricEvent]
    rejected: list[Rejection]

    def for_period(self, period: str) -> "MetricsFile":
        """Events and rejections of one period; rows whose period is unreadable go with every period."""
        return MetricsFile(
            self.path,
            [e for e in self.events if e.period == period],
            [r for r in self.rejected if r.period in (period, None)],
        )


def validate_game_id(game_id: str) -> str:
    if not isinstance(game_id, str) or not _GAME_ID.fullmatch(game_id):
        raise ContractError(
            f"invalid game_id {game_id!r}: use 1 to 64 characters of A-Z a-z 0-9 _ -"
        )
    return game_id


def normalize_period(value: str) -> str:
    text = (value or "").strip()
    text = _PERIOD_SYNONYMS.get(text.lower(), text)
    if text not in PERIODS:
        raise ContractError(f"unknown period {value!r}: expected one of 1, 2, 3, OT (P1, 1st, 4, OT1 are read too)")
    return text


def snake_case(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")


def read_csv_rows(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line number, row)`` pairs of a contract CSV.

    The line number is where the record starts, so quoted newlines do not shift it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192]:
        raise ContractFileError(path, "not a CSV file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContractFileError(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", line) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ContractFileError(path, f"unreadable header: {exc}", 1) from None
    if header and max(map(len, header)) > _MAX_FIELD:
        raise ContractFileError(path, f"unreadable header: field larger than field limit ({_MAX_FIELD})", 1)
    if not header or not any(h.strip() for h in header):
        raise ContractFileError(path, "empty file: expected a header line", 1)
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise ContractFileError(
            path, f"header lacks required column(s) {', '.join(missing)}; found {', '.join(header)}", 1
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise ContractFileError(path, f"duplicated column(s) {', '.join(duplicated)} in header", 1)
    rows: list[tuple[int, dict[str, str]]] = []
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ContractFileError(path, f"broken CSV: {exc}", start) from None
        if values and max(map(len, values)) > _MAX_FIELD:
            raise ContractFileError(path, f"broken CSV: field larger than field limit ({_MAX_FIELD})", start)
        if values and any(v.strip() for v in values):
            if any("\x00" in v for v in values):
                rows.append((start, {"__error__": "a field contains a NUL byte"}))
            elif len(values) != len(header):
                rows.append((start, {"__error__": f"{len(values)} fields, header has {len(header)}"}))
            else:
                rows.append((start, {k: v.strip() for k, v in zip(header, values)}))
        start = reader.line_num + 1
    return header, rows


def row_period_and_problem(row: dict[str, str], required: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The row's period where readable, and why the row is unusable (unreadable,
    bad period, missing required fields), or None when it may go on."""
    if "__error__" in row:
        return None, row["__error__"]
    empty = [c for c in required if not row.get(c)]
    try:
        period = normalize_period(row.get("period", ""))
    except ContractError as exc:
        if "period" not in empty:
            return None, str(exc)
        period = None
    if empty:
        return period, f"missing required field(s) {', '.join(empty)}"
    return period, None


def read_metrics(path: Path, game_id: str) -> MetricsFile:
    """Read ``metrics/<game_id>.csv``: valid events and rejected rows."""
    validate_game_id(game_id)
    header, rows = read_csv_rows(path, METRICS_REQUIRED)
    known = set(METRICS_REQUIRED) | {"opponent", "zone", "strength"}
    long_names = [h for h in header if h not in known and len(h) > MAX_TAG_NAME_LENGTH]
    if long_names:
        raise ContractFileError(
            path, f"column name {long_names[0][:80]!r}... is longer than {MAX_TAG_NAME_LENGTH} characters", 1
        )
    events: list[MetricEvent] = []
    rejected: list[Rejection] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        def reject(reason: str, period: str | None = None) -> None:
            rejected.append(Rejection(str(path), line, reason, period, row.get("event_id") or None))

        period, problem = row_period_and_problem(row, METRICS_REQUIRED)
        problem = problem or field_too_long(row, ("event_id", "event_type", "player_id", "team", "opponent", "strength"))
        if problem:
            reject(problem, period)
            continue
        if row["game_id"] != game_id:
            reject(f"game_id {row['game_id']!r} does not match the file's game {game_id!r}", period)
            continue
        try:
            timecode = parse_timecode(row["timecode"])
        except TimecodeError as exc:
            reject(str(exc), period)
            continue
        event_id = row["event_id"]
        if event_id in seen:
            reject(f"duplicate event_id {event_id!r} (first on line {seen[event_id]})", period)
            continue
        zone = (row.get("zone") or "").upper() or None
        if zone is not None and zone not in ("O", "D", "N"):
            reject(f"unknown zone {row['zone']!r}: expected O, D or N", period)
            continue
        seen[event_id] = line
        events.append(
            MetricEvent(
                event_id=event_id,
                game_id=game_id,
                period=period,
                timecode=timecode,
                event_type=snake_case(row["event_type"]),
                player_id=row["player_id"],
                team=row["team"].upper(),
                line=line,
                opponent=(row.get("opponent") or "").upper() or None,
                zone=zone,
                strength=row.get("strength") or None,
                tags={k: v for k, v in row.items() if k not in known and v != ""},
            )
        )
    return MetricsFile(str(path), events, rejected)
