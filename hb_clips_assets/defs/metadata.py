"""Materialization metadata shared by the assets and checks: the keys read back
elsewhere, column schemas, tables the UI renders inline, and the thumbnail preview.

Keys that some other module reads back (the checks, freshness, the CLI runner's
summary) are constants here, used by the writer and by every reader, so a
rename cannot leave a reader on the old name.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import types
import typing
from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableRecord, TableSchema
from PIL import Image
from sqlalchemy import Table

from hb_clips_assets.domain.contract import Rejection
from hb_clips_assets.pipeline.frames import arrow_schema

# Dagster's own keys: the UI shows them as the asset's row count and columns.
ROW_COUNT = "dagster/row_count"
COLUMN_SCHEMA = "dagster/column_schema"

# Read back by the checks (rejected_row_ratio), freshness and the CLI runner.
CLIPS = "clips"  # clips and media_index: clips of the partition
CLIPS_CUT = "clips_cut"
CLIPS_CACHED = "clips_cached"
CLIPS_FAILED = "clips_failed"  # clips whose cut failed in this attempt (retried or set aside)
# Clips that could not be cut, set aside like bad rows (the check clips_all_cut and the CLI read them):
CLIPS_SET_ASIDE = "clips_set_aside"  # how many
CLIPS_SET_ASIDE_TABLE = "clips_set_aside_table"  # each with its event, frames and reason
CLIPS_KEPT = "clips_kept"  # of those, events whose earlier clip stays indexed
SEGMENTS = "segments"  # event_segments: segments resolved (events and shifts)
REJECTED_ROWS = "rejected_rows"  # metrics and event_segments: rows of this period set aside
REJECTED_FIRST = "rejected_first"  # the table of those rows
# Rows with no readable period are listed in every period of the game: counted once per game by readers.
REJECTED_ROWS_WITHOUT_PERIOD = "rejected_rows_without_period"
REJECTED_SHIFT_ROWS_WITHOUT_PERIOD = "rejected_shift_rows_without_period"
PATH = "path"  # the IO manager: where the value is stored

# Tables in metadata live in the event log: the first rows show what happened, the counts say how many.
MAX_ROWS = 20
# Clips set aside are listed whole up to this many (each needs a look; more means the source is bad throughout).
SET_ASIDE_MAX_ROWS = 200

_CELL_TYPES = {str: "string", int: "int", float: "float", bool: "bool"}


# --------------------------------------------------------------------------- column schemas


def column_schema(schema: pa.Schema) -> TableSchema:
    """A Dagster TableSchema of an Arrow schema (nested types spelled as Arrow spells them)."""
    return TableSchema(columns=[TableColumn(name=f.name, type=str(f.type)) for f in schema])


def record_schema(*record_types: type | tuple[type, str]) -> TableSchema:
    """The columns of a table of records, from the dataclasses' fields: ``cls`` or ``(cls, column prefix)``."""
    parts = [arrow_schema(*(t if isinstance(t, tuple) else (t,))) for t in record_types]
    return column_schema(pa.schema([f for part in parts for f in part]))


def value_metadata(table: pa.Table) -> dict:
    """Row count and columns of an asset's value (its DataFrame as Arrow, as stored)."""
    return {ROW_COUNT: MetadataValue.int(table.num_rows), COLUMN_SCHEMA: MetadataValue.table_schema(column_schema(table.schema))}


def sql_table_schema(table: Table) -> TableSchema:
    """The columns of a database table (the media index's), with their SQL types and nullability."""
    return TableSchema(columns=[
        TableColumn(name=c.name, type=str(c.type), constraints=TableColumnConstraints(nullable=bool(c.nullable)))
        for c in table.columns
    ])


# --------------------------------------------------------------------------- tables shown in the UI


def _cell(value):
    """A value as a table cell holds it (text, number, bool, empty); sequences and maps as readable text."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def table(rows: Sequence[Mapping], columns: Sequence[tuple[str, str]], limit: int = MAX_ROWS) -> MetadataValue:
    """The first ``limit`` rows, as a table with the given (name, type) columns."""
    schema = TableSchema(columns=[TableColumn(name=name, type=kind) for name, kind in columns])
    records = [TableRecord({name: _cell(row.get(name)) for name, _ in columns}) for row in rows[:limit]]
    return MetadataValue.table(records, schema=schema)


def _cell_type(annotation) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]  # X | None: a column of X with empty cells
    return _CELL_TYPES.get(annotation, "string")  # anything else is shown as text (see _cell)


def records_table(records: Iterable, cls: type, fields: Sequence[str] | None = None) -> MetadataValue:
    """A table of dataclass records, its columns (all fields, or ``fields``) typed from the annotations."""
    hints = typing.get_type_hints(cls)
    names = list(fields) if fields is not None else [f.name for f in dataclasses.fields(cls)]
    rows = [{name: getattr(r, name) for name in names} for r in records]
    return table(rows, [(name, _cell_type(hints[name])) for name in names])


def rejections_table(rejected: list[Rejection]) -> MetadataValue:
    return records_table(rejected, Rejection, ["file", "line", "period", "event_id", "reason"])


def rejection_metadata(rejected: list[Rejection]) -> dict:
    """How many rows were set aside, and the first of them with file, line and reason."""
    return {REJECTED_ROWS: len(rejected), REJECTED_FIRST: rejections_table(rejected)}


SET_ASIDE_COLUMNS = [("event_id", "string"), ("event_type", "string"), ("start_frame", "int"), ("end_frame", "int"),
                     ("event_frame", "int"), ("reason", "string"), ("indexed_clip", "string")]


def set_aside_metadata(asides: Sequence) -> dict:
    """How many clips could not be cut, and each with its event, frames and reason (``SetAside``s of
    pipeline/cutting.py); ``indexed_clip`` names the earlier clip that stays indexed for the event."""
    rows = [{
        "event_id": a.segment.event_id, "event_type": a.segment.event_type, "start_frame": a.segment.start_frame,
        "end_frame": a.segment.end_frame, "event_frame": a.segment.event_frame, "reason": a.failure.error,
        "indexed_clip": f"kept: {a.previous.clip_id[:12]} (frames {a.previous.start_frame}-{a.previous.end_frame})"
        if a.previous else "none: not findable until it is cut",
    } for a in asides]
    return {CLIPS_SET_ASIDE: len(rows), CLIPS_KEPT: sum(a.previous is not None for a in asides),
            CLIPS_SET_ASIDE_TABLE: table(rows, SET_ASIDE_COLUMNS, limit=SET_ASIDE_MAX_ROWS)}


def thumbnail_preview(jpeg: bytes, width: int = 240) -> MetadataValue:
    """A small inline JPEG, so the UI shows what was cut without leaving the page.

    Markdown with a data URI: Dagster has no image metadata type, and its Markdown renders one inline.
    """
    image = Image.open(io.BytesIO(jpeg))
    image.thumbnail((width, width))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=70)
    return MetadataValue.md(f"![thumbnail](data:image/jpeg;base64,{base64.b64encode(buf.getvalue()).decode()})")
