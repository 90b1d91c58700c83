"""The input side of the data contract (shared/DATA_CONTRACT.md section 1).

Reading never stops at a bad row: each row becomes either an event or a
:class:`Rejection` naming the file, the line and the reason. A file that cannot
be read as a whole (binary, an unknown encoding, wrong header) raises
:class:`ContractFileError`, which fails its partition. How a file's encoding,
delimiter and header spelling are read: :mod:`hb_clips_assets.domain.csvfile`.

Two normalizations of the metrics file keep what was written as a tag:

- ``event_type`` goes through the one vocabulary (:mod:`.vocabulary`): a spelling
  that names exactly one stored type ("DZ Exit", "Zone Exits", "Breakout") is
  stored as that type (``zone_exit``); others are snake_cased ("Puck Battle" is
  ``puck_battle``, "turnovers", which means two types, stays ``turnovers``). Where
  the vocabulary changed more than case and separators, the spelling is kept as
  the tag ``event_type_raw``.
- ``event_id`` is unique per game x period. A file that restarts its numbering
  each period (Sportscode, many tagging tools) repeats ids across periods: an id
  already used in an earlier period (1, 2, 3, OT) is stored with the period in
  front (``P2-e1``, ``P3-e1``, ``OT-e1``), the id as written kept as the tag
  ``event_id_raw``. The earliest period keeps the plain id, so adding a later
  period to the file never renames the clips already indexed. The same id twice
  in one period is still a rejected row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# The errors live with the CSV reader (the lowest module); importing them from here stays the usual way.
from hb_clips_assets.domain.csvfile import ContractError, ContractFileError, read_csv_table
from hb_clips_assets.domain.timecode import Timecode, TimecodeError, parse_timecode
from hb_clips_assets.domain.vocabulary import stored_event_type

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
    encoding: str = "UTF-8"  # what the file was read as (csvfile.decode), reported in the metadata
    delimiter: str = "comma"

    def for_period(self, period: str) -> "MetricsFile":
        """Events and rejections of one period; rows whose period is unreadable go with every period."""
        return MetricsFile(
            self.path,
            [e for e in self.events if e.period == period],
            [r for r in self.rejected if r.period in (period, None)],
            self.encoding,
            self.delimiter,
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


def _period_prefix(period: str) -> str:
    return period if period == "OT" else f"P{period}"


def read_metrics(path: Path, game_id: str) -> MetricsFile:
    """Read ``metrics/<game_id>.csv``: valid events and rejected rows."""
    validate_game_id(game_id)
    table = read_csv_table(path, METRICS_REQUIRED, METRICS_OPTIONAL)
    known = set(METRICS_REQUIRED) | {"opponent", "zone", "strength"}
    long_names = [h for h in table.header if h not in known and len(h) > MAX_TAG_NAME_LENGTH]
    if long_names:
        raise ContractFileError(
            path, f"column name {long_names[0][:80]!r}... is longer than {MAX_TAG_NAME_LENGTH} characters", 1
        )
    rejected: list[Rejection] = []
    valid: list[tuple[int, dict[str, str], str, Timecode, str | None]] = []
    seen: dict[tuple[str, str], int] = {}  # (period, event_id) -> line: ids are unique per game x period
    for line, row in table.rows:
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
        if (period, event_id) in seen:
            reject(f"duplicate event_id {event_id!r} (first on line {seen[period, event_id]})", period)
            continue
        zone = (row.get("zone") or "").upper() or None
        if zone is not None and zone not in ("O", "D", "N"):
            reject(f"unknown zone {row['zone']!r}: expected O, D or N", period)
            continue
        seen[period, event_id] = line
        valid.append((line, row, period, timecode, zone))
    events = _events(path, game_id, valid, known, seen, rejected)
    rejected.sort(key=lambda r: r.line)
    return MetricsFile(str(path), events, rejected, table.encoding, table.delimiter)


def _events(path, game_id, valid, known, ids, rejected) -> list[MetricEvent]:
    """The valid rows as events, their ids made unique per game x period (the module's rule),
    their types through the vocabulary. ``ids``: the (period, event_id) pairs of ``valid``."""
    first_period: dict[str, str] = {}  # event_id as written -> the earliest period using it
    for period, event_id in sorted(ids, key=lambda key: PERIODS.index(key[0])):
        first_period.setdefault(event_id, period)
    events: list[MetricEvent] = []
    stored: dict[str, int] = {}  # event_id as stored -> line
    for line, row, period, timecode, zone in valid:
        raw_id, tags = row["event_id"], {k: v for k, v in row.items() if k not in known and v != ""}
        event_id = raw_id if first_period[raw_id] == period else f"{_period_prefix(period)}-{raw_id}"
        problem = None
        if event_id in stored:  # only where a file's own id looks like a qualified one ("P2-e1")
            problem = (f"event_id {raw_id!r} of period {period} would be stored as {event_id!r}, the id of line "
                       f"{stored[event_id]}'s event" if event_id != raw_id else
                       f"duplicate event_id {event_id!r}: line {stored[event_id]}'s event is stored under it")
        elif len(event_id) > MAX_FIELD_LENGTHS["event_id"]:
            problem = (f"event_id with its period ({event_id[:40]!r}...) is {len(event_id)} characters long; "
                       f"at most {MAX_FIELD_LENGTHS['event_id']}")
        if problem:
            rejected.append(Rejection(str(path), line, problem, period, raw_id))
            continue
        stored[event_id] = line
        if event_id != raw_id:
            tags.setdefault("event_id_raw", raw_id)  # a column of that name in the file wins: it is data
        raw_type = row["event_type"]
        event_type = stored_event_type(raw_type) or snake_case(raw_type)
        if event_type != snake_case(raw_type):
            tags.setdefault("event_type_raw", raw_type)
        events.append(
            MetricEvent(
                event_id=event_id,
                game_id=game_id,
                period=period,
                timecode=timecode,
                event_type=event_type,
                player_id=row["player_id"],
                team=row["team"].upper(),
                line=line,
                opponent=(row.get("opponent") or "").upper() or None,
                zone=zone,
                strength=row.get("strength") or None,
                tags=tags,
            )
        )
    return events
