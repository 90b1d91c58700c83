"""The API's clip and asset models are the retrieval records' fields, not a second copy of them."""
from __future__ import annotations

import dataclasses
import typing

import pytest
from pydantic import BaseModel, ValidationError

from hb_clips_assets.retrieval import AssetLink, ClipResult
from hb_clips_assets.retrieval.api.schemas import AssetOut, ClipOut, PageOut, model_from_dataclass


def names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def test_clip_and_asset_models_have_the_records_fields():
    assert list(AssetOut.model_fields) == names(AssetLink)
    # to_dict adds the event's time; it is listed with the clip's other times
    expected = names(ClipResult)
    expected.insert(expected.index("duration_s") + 1, "event_s")
    assert list(ClipOut.model_fields) == expected
    hints = typing.get_type_hints(ClipResult)
    for name, field in ClipOut.model_fields.items():
        if name not in ("assets", "event_s"):
            assert field.annotation == hints[name], name
            assert field.is_required(), name
    assert ClipOut.model_fields["assets"].annotation == dict[str, AssetOut]


def test_the_schema_names_stay():
    schema = PageOut.model_json_schema()
    assert {"ClipOut", "AssetOut"} <= set(schema["$defs"])
    clip = schema["$defs"]["ClipOut"]
    assert clip["properties"]["assets"]["additionalProperties"] == {"$ref": "#/$defs/AssetOut"}
    assert set(clip["required"]) == set(ClipOut.model_fields)


def test_a_field_added_to_the_record_shows_up_in_the_model():
    @dataclasses.dataclass(frozen=True)
    class Rink:
        name: str

    Wider = dataclasses.make_dataclass(
        "Wider", [("rink", Rink), ("attendance", "int | None", dataclasses.field(default=None)),
                  ("labels", "list[str]", dataclasses.field(default_factory=list))], bases=(ClipResult,), frozen=True)
    RinkOut = model_from_dataclass(Rink, "RinkOut")
    model = model_from_dataclass(Wider, "WiderOut", nested={AssetLink: AssetOut, Rink: RinkOut},
                                 derived={"event_s": (float, "duration_s")})
    assert list(model.model_fields)[-3:] == ["rink", "attendance", "labels"]
    assert model.model_fields["rink"].annotation is RinkOut
    assert not model.model_fields["attendance"].is_required() and model.model_fields["labels"].get_default(
        call_default_factory=True) == []
    assert issubclass(RinkOut, BaseModel)


def test_a_real_clip_validates_and_a_missing_field_does_not():
    asset = AssetLink("mp4", "clips/1/1/ab.mp4", "http://x/ab.mp4", 10, "0" * 64, "video/mp4")
    clip = ClipResult(
        clip_id="ab" * 16, game_id="20031", game_date="2026-11-18", period="1", event_id="e1", event_type="goal",
        player_id="1", player_name=None, team="MTL", opponent="CHI", zone=None, strength=None, timecode=None,
        event_frame=60, start_frame=0, end_frame=120, fps_num=60, fps_den=1, start_s=0.0, end_s=2.0, duration_s=2.0,
        source_uri="file:///v.mp4", created_at=None, tags={"outcome": "won"}, assets={"mp4": asset},
    )
    out = ClipOut.model_validate(clip.to_dict())
    assert out.model_dump() == clip.to_dict() and out.event_s == 1.0
    broken = clip.to_dict()
    del broken["team"]
    with pytest.raises(ValidationError, match="team"):
        ClipOut.model_validate(broken)


def test_derived_values_must_follow_a_field():
    with pytest.raises(TypeError, match="no_such_field"):
        model_from_dataclass(AssetLink, "Broken", derived={"x": (int, "no_such_field")})
