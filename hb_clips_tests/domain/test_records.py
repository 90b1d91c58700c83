"""The clip record is declared once; the index and the read side follow it."""
from __future__ import annotations

import dataclasses
import typing

import pytest

from hb_clips_assets.domain.contract import MAX_FIELD_LENGTHS
from hb_clips_assets.domain.records import AssetRecord, ClipRecord, Segment
from hb_clips_assets.retrieval import ClipResult
from hb_clips_assets.storage.index.models import Clip, ClipAsset
from hb_clips_assets.storage.index.repository import clip_row

DERIVED_COLUMNS = {"fps", "start_s", "end_s", "duration_s", "created_at"}  # computed by clip_row / the database
ROWS_ELSEWHERE = {"tags", "assets"}  # media.clip_tags, media.clip_assets


def _segment(**changes) -> Segment:
    base = dict(game_id="20031", period="2", event_id="e1", event_type="zone_exit", player_id="8471214", team="WSH",
                opponent="NYR", zone="D", strength="5v5", timecode="00:10:00;02", event_frame=1000,
                start_frame=700, end_frame=1180, fps_num=60000, fps_den=1001, tags={"detail": "pass"})
    return Segment(**(base | changes))


def test_a_clip_record_is_its_segment_plus_what_cutting_adds():
    seg = _segment()
    asset = AssetRecord("mp4", "clips/20031/2/abc.mp4", "file:///store/clips/20031/2/abc.mp4", 10, "0" * 64, "video/mp4")
    record = ClipRecord.of(seg, clip_id="abc", source_uri="file:///v/2.mp4", source_sha256="f" * 64, assets=(asset,))
    assert isinstance(record, Segment)
    assert {f.name for f in dataclasses.fields(record)} - {f.name for f in dataclasses.fields(Segment)} == {
        "clip_id", "source_uri", "source_sha256", "assets"}
    assert all(getattr(record, f.name) == getattr(seg, f.name) for f in dataclasses.fields(Segment))
    assert record.frame_count == 480 and record.assets == (asset,)
    with pytest.raises(TypeError):  # what cutting adds is named, never positional
        ClipRecord(*[getattr(seg, f.name) for f in dataclasses.fields(Segment)], "abc", "u", "s")


def test_the_index_columns_are_the_record_fields():
    record_fields = {f.name for f in dataclasses.fields(ClipRecord)} - ROWS_ELSEWHERE
    columns = {c.name for c in Clip.__table__.columns}
    assert columns - DERIVED_COLUMNS == record_fields
    assert {c.name for c in ClipAsset.__table__.columns} == {f.name for f in dataclasses.fields(AssetRecord)} | {"clip_id"}
    record = ClipRecord.of(_segment(), clip_id="abc", source_uri="file:///v/2.mp4", source_sha256="f" * 64)
    row = clip_row(record)
    assert set(row) == columns - {"created_at"}
    assert row["duration_s"] == pytest.approx(480 * 1001 / 60000)


def test_the_contract_widths_are_the_index_widths():
    for name, width in MAX_FIELD_LENGTHS.items():
        assert Clip.__table__.columns[name].type.length == width, name


def test_the_read_side_result_carries_the_record_fields_by_the_same_names():
    hints = typing.get_type_hints(ClipResult)
    for f in dataclasses.fields(ClipRecord):
        if f.name in ("source_sha256", "assets"):  # the result links its assets instead; the hash stays inside
            continue
        assert f.name in hints, f.name
