"""Records <-> pandas DataFrames, the values handed between assets (as Parquet).

One pair of functions for every record type: the columns and their Arrow types
come from the dataclass's fields and annotations, so a field added to or
renamed in a record changes its table with no code here. Columns are
pyarrow-backed (``pd.ArrowDtype``) so nested values keep real types through
pandas and Parquet: a ``dict[str, str]`` is a ``map<string, string>``, a tuple
of records a ``list<struct<...>>``, a nested record a ``struct``; nothing is
JSON text.
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

T = TypeVar("T")

_SCALARS: dict[type, pa.DataType] = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


@dataclass(frozen=True)
class SourceVideo:
    """The period video segments were resolved against: clips cuts that file, or refuses if it changed."""

    path: str
    sha256: str
    frame_count: int


SOURCE_PREFIX = "source_"  # SourceVideo's fields as event_segments columns: source_path, source_sha256, ...


def _optional(annotation) -> tuple[Any, bool]:
    """(the type inside ``X | None``, whether None was allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # The records' modules use `from __future__ import annotations`: field.type is text, resolve it.
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def arrow_type(annotation) -> pa.DataType:
    """The Arrow type of a field annotation; a type with no faithful mapping raises (never a silent str())."""
    annotation, _ = _optional(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if dataclasses.is_dataclass(annotation):
        return pa.struct([pa.field(name, arrow_type(hint)) for name, hint in _hints(annotation).items()])
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return pa.map_(arrow_type(args[0]), arrow_type(args[1]))
    if origin is list and len(args) == 1:
        return pa.list_(arrow_type(args[0]))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return pa.list_(arrow_type(args[0]))
    raise TypeError(f"no Arrow type for field annotation {annotation!r}")


@functools.cache
def arrow_schema(cls: type, prefix: str = "") -> pa.Schema:
    """Columns of ``cls``'s table: one per field, in field order."""
    return pa.schema([pa.field(prefix + name, arrow_type(hint)) for name, hint in _hints(cls).items()])


def _encode(value):
    """A field value as pyarrow takes it (records become dicts of their fields)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value, annotation):
    """A value from ``Table.to_pylist`` as the field's annotation says (maps come as pairs, lists as lists)."""
    annotation, _ = _optional(annotation)
    if value is None:
        return None
    if dataclasses.is_dataclass(annotation):
        return annotation(**{name: _decode(value.get(name), hint) for name, hint in _hints(annotation).items()})
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict:
        pairs = value.items() if isinstance(value, dict) else value
        return {_decode(k, args[0]): _decode(v, args[1]) for k, v in pairs}
    if origin in (list, tuple):
        items = [_decode(v, args[0]) for v in value]
        return tuple(items) if origin is tuple else items
    return value


def _frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def records_to_frame(records: typing.Iterable, cls: type) -> pd.DataFrame:
    """One row per record, one typed column per field of ``cls`` (typed even with no rows)."""
    schema = arrow_schema(cls)
    rows = [{f.name: _encode(getattr(r, f.name)) for f in dataclasses.fields(cls)} for r in records]
    return _frame(pa.Table.from_pylist(rows, schema=schema))


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow, its column types kept; no pandas index, no schema metadata."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    return _frame(table.replace_schema_metadata(None))


def records_from_frame(frame: pd.DataFrame, cls: type[T]) -> list[T]:
    """The records of a frame written by :func:`records_to_frame`; columns that are not fields of
    ``cls`` are ignored (event_segments' source columns), a missing field column raises."""
    hints = _hints(cls)
    missing = [name for name in hints if name not in frame.columns]
    if missing:
        raise KeyError(f"{cls.__name__} table lacks column(s) {', '.join(missing)}")
    rows = frame_to_table(frame[list(hints)]).to_pylist()
    return [cls(**{name: _decode(row[name], hint) for name, hint in hints.items()}) for row in rows]


def with_columns(frame: pd.DataFrame, record, prefix: str) -> pd.DataFrame:
    """``frame`` plus one column per field of ``record``, named ``prefix + field``, holding its value on every row."""
    table = frame_to_table(frame)
    schema = arrow_schema(type(record), prefix)
    taken = set(table.column_names) & set(schema.names)
    if taken:  # two columns of one name: the second would be unreadable
        raise ValueError(f"column(s) {', '.join(sorted(taken))} already in the table")
    for field in schema:
        value = _encode(getattr(record, field.name.removeprefix(prefix)))
        table = table.append_column(field, pa.array([value] * table.num_rows, field.type))
    return table_to_frame(table)


def column_record(frame: pd.DataFrame, cls: type[T], prefix: str) -> T | None:
    """The one value of the ``prefix + field`` columns :func:`with_columns` added; None for a frame
    with no rows. Rows that disagree raise: they would come from different records."""
    names = [prefix + name for name in _hints(cls)]
    if frame.empty:
        return None
    sub = frame[names].drop_duplicates()
    if len(sub) != 1:
        raise ValueError(f"columns {', '.join(names)} hold {len(sub)} different values; expected one")
    (row,) = frame_to_table(sub).to_pylist()
    return cls(**{name: _decode(row[prefix + name], hint) for name, hint in _hints(cls).items()})
