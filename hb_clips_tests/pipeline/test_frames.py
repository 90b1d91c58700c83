"""Records <-> DataFrames: every record type round-trips through a typed frame and
Parquet, nested values as Arrow types (never JSON text), columns from the fields."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hb_clips_assets.domain.contract import MetricEvent, Rejection
from hb_clips_assets.domain.records import AssetRecord, ClipRecord, Segment
from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame
from hb_clips_assets.domain.timecode import parse_timecode
from hb_clips_assets.pipeline.frames import (
    SOURCE_PREFIX,
    SourceVideo,
    arrow_schema,
    column_record,
    frame_to_table,
    records_from_frame,
    records_to_frame,
    table_to_frame,
    with_columns,
)

EVENT = MetricEvent("e1", "G1", "2", parse_timecode("00:01:02;03"), "shot", "8480018", "MTL", 7,
                    opponent=None, zone="O", strength="5v5", tags={"shot_type": "wrist", "detail": "=cmd|' /C calc'!A0"})
SEGMENT = Segment("G1", "2", "e1", "shot", "8480018", "MTL", "CHI", "O", None, "00:01:02;03", 3700, 3400, 3880,
                  60000, 1001, {"shot_type": "wrist"})
CLIP = ClipRecord.of(
    SEGMENT, clip_id="c" * 64, source_uri="file:///data/video/G1/2.mp4", source_sha256="f" * 64,
    assets=(AssetRecord("mp4", "clips/G1/2/c.mp4", "file:///s/c.mp4", 123456, "a" * 64, "video/mp4"),
            AssetRecord("thumbnail", "thumbnails/G1/2/c.jpg", "file:///s/c.jpg", 2345, "b" * 64, "image/jpeg")),
)
RECORDS = [
    (MetricEvent, [EVENT]),
    (Segment, [SEGMENT]),
    (ClipRecord, [CLIP]),
    (ScheduledGame, [ScheduledGame("G1", "2026-01-02", "MTL", "CHI")]),
    (RosterPlayer, [RosterPlayer("8480018", "Nick Suzuki", "MTL", "C", ("Suzy", "Nick")), RosterPlayer("1", "A", "CHI", "D")]),
    (Rejection, [Rejection("f.csv", 3, "bad", "1", "e9"), Rejection("f.csv", 4, "worse")]),
]


@pytest.mark.parametrize("cls,records", RECORDS, ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_every_record_type_round_trips_through_a_frame_and_parquet(cls, records, tmp_path):
    frame = records_to_frame(records, cls)
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(records)
    assert list(frame.columns) == list(arrow_schema(cls).names)
    assert all(isinstance(t, pd.ArrowDtype) for t in frame.dtypes)
    assert records_from_frame(frame, cls) == records
    pq.write_table(frame_to_table(frame), tmp_path / "t.parquet")
    stored = pq.read_table(tmp_path / "t.parquet")
    assert not stored.schema.metadata  # no side data, not even pandas'
    assert records_from_frame(table_to_frame(stored), cls) == records


def test_nested_values_are_arrow_types_not_json_text():
    schema = frame_to_table(records_to_frame([CLIP], ClipRecord)).schema
    assert schema.field("tags").type == pa.map_(pa.string(), pa.string())
    assets = schema.field("assets").type
    assert pa.types.is_list(assets) and pa.types.is_struct(assets.value_type)
    assert [f.name for f in assets.value_type] == ["kind", "object_key", "uri", "bytes", "sha256", "content_type"]
    assert assets.value_type.field("bytes").type == pa.int64()
    timecode = frame_to_table(records_to_frame([EVENT], MetricEvent)).schema.field("timecode").type
    assert [f.name for f in timecode] == ["hours", "minutes", "seconds", "frames", "drop_frame"]
    assert frame_to_table(records_to_frame([], RosterPlayer)).schema.field("aliases").type == pa.list_(pa.string())


def test_an_empty_frame_still_has_its_typed_columns():
    frame = records_to_frame([], Segment)
    assert len(frame) == 0 and list(frame.columns) == list(arrow_schema(Segment).names)
    assert frame_to_table(frame).schema.field("event_frame").type == pa.int64()
    assert records_from_frame(frame, Segment) == []


def test_a_field_added_to_a_record_is_a_column_with_no_code_change():
    @dataclass(frozen=True)
    class Grown:
        name: str
        count: int
        ratio: float | None = None
        labels: dict[str, str] = field(default_factory=dict)
        parts: tuple[AssetRecord, ...] = ()
        seen: list[bool] = field(default_factory=list)

    records = [Grown("a", 1, 0.5, {"k": "v"}, CLIP.assets, [True, False]), Grown("b", 2)]
    frame = records_to_frame(records, Grown)
    assert list(frame.columns) == ["name", "count", "ratio", "labels", "parts", "seen"]
    assert records_from_frame(frame, Grown) == records


def test_a_field_type_with_no_faithful_column_type_is_refused():
    @dataclass
    class Odd:
        value: set[str]

    with pytest.raises(TypeError, match="no Arrow type"):
        records_to_frame([Odd({"a"})], Odd)


def test_a_frame_missing_a_field_column_is_refused():
    frame = records_to_frame([SEGMENT], Segment).drop(columns=["tags"])
    with pytest.raises(KeyError, match="tags"):
        records_from_frame(frame, Segment)


def test_the_source_video_rides_as_columns_on_every_row():
    source = SourceVideo("/data/video/G1/2.mp4", "f" * 64, 7200)
    frame = with_columns(records_to_frame([SEGMENT, SEGMENT], Segment), source, SOURCE_PREFIX)
    assert list(frame.columns)[-3:] == ["source_path", "source_sha256", "source_frame_count"]
    assert frame["source_frame_count"].tolist() == [7200, 7200]
    assert column_record(frame, SourceVideo, SOURCE_PREFIX) == source
    assert records_from_frame(frame, Segment) == [SEGMENT, SEGMENT]  # the extra columns are not fields
    assert column_record(with_columns(records_to_frame([], Segment), source, SOURCE_PREFIX), SourceVideo, SOURCE_PREFIX) is None
    with pytest.raises(ValueError, match="already in the table"):
        with_columns(frame, source, SOURCE_PREFIX)
    mixed = pd.concat([frame, with_columns(records_to_frame([SEGMENT], Segment), SourceVideo("/x", "e" * 64, 1), SOURCE_PREFIX)])
    with pytest.raises(ValueError, match="2 different values"):
        column_record(mixed, SourceVideo, SOURCE_PREFIX)
