"""Arrow tables of events, segments and clip records (the Parquet handed between assets)."""
from __future__ import annotations

import dataclasses
import json

import pyarrow as pa

from hb_clips_assets.domain.contract import MetricEvent
from hb_clips_assets.storage.index.repository import AssetRecord, ClipRecord
from hb_clips_assets.domain.segments import Segment
from hb_clips_assets.domain.timecode import parse_timecode


def _to_table(items, cls, encode) -> pa.Table:
    names = [f.name for f in dataclasses.fields(cls)]
    rows = [encode({n: getattr(item, n) for n in names}) for item in items]
    if rows:
        return pa.Table.from_pylist(rows)
    return pa.table({n: pa.array([], pa.string()) for n in names})


def events_to_table(events: list[MetricEvent]) -> pa.Table:
    return _to_table(events, MetricEvent, lambda r: r | {"timecode": str(r["timecode"]), "tags": json.dumps(r["tags"])})


def events_from_table(table: pa.Table) -> list[MetricEvent]:
    return [
        MetricEvent(**(r | {"timecode": parse_timecode(r["timecode"]), "tags": json.loads(r["tags"])}))
        for r in table.to_pylist()
    ]


def segments_to_table(segments: list[Segment]) -> pa.Table:
    return _to_table(segments, Segment, lambda r: r | {"tags": json.dumps(r["tags"])})


def segments_from_table(table: pa.Table) -> list[Segment]:
    return [Segment(**(r | {"tags": json.loads(r["tags"])})) for r in table.to_pylist()]


def records_to_table(records: list[ClipRecord]) -> pa.Table:
    return _to_table(
        records,
        ClipRecord,
        lambda r: r | {"tags": json.dumps(r["tags"]), "assets": json.dumps([dataclasses.asdict(a) for a in r["assets"]])},
    )


def records_from_table(table: pa.Table) -> list[ClipRecord]:
    return [
        ClipRecord(
            **(r | {"tags": json.loads(r["tags"]), "assets": tuple(AssetRecord(**a) for a in json.loads(r["assets"]))})
        )
        for r in table.to_pylist()
    ]
