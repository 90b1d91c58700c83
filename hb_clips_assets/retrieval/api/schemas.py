"""The API's response models (they make the OpenAPI document the fuzz test reads).

The clip and its assets are not retyped here: :data:`ClipOut` and
:data:`AssetOut` are built from the fields of the :class:`ClipResult` and
:class:`AssetLink` dataclasses, so a field added to the clip record shows up
in the API's answers and schema without a second edit.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import BaseModel, Field, create_model

from hb_clips_assets.retrieval import AssetLink, ClipResult


def _swap(tp, nested: dict[type, type[BaseModel]]):
    """``tp`` with each dataclass of ``nested`` replaced by its model, inside dict/list/tuple too."""
    if tp in nested:
        return nested[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (dict, list, tuple) and args:
        return origin[tuple(_swap(a, nested) for a in args)]
    return tp


def model_from_dataclass(
    cls: type,
    name: str,
    *,
    nested: dict[type, type[BaseModel]] | None = None,
    derived: dict[str, tuple[Any, str]] | None = None,
) -> type[BaseModel]:
    """A pydantic model with the fields of dataclass ``cls`` (types and defaults).

    ``nested``: dataclasses used in field types -> the models that stand for them
    (so the schema names them, e.g. ``AssetOut`` rather than ``AssetLink``).
    ``derived``: values the record's ``to_dict`` adds that are not fields (a
    property), as ``{name: (type, the field it follows)}``.
    """
    hints = typing.get_type_hints(cls)  # the records use `from __future__ import annotations`: types are strings
    after: dict[str, list[tuple[str, Any]]] = {}
    for extra, (tp, follows) in (derived or {}).items():
        after.setdefault(follows, []).append((extra, tp))
    fields: dict[str, tuple[Any, Any]] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory)
        else:
            default = ...
        fields[f.name] = (_swap(hints[f.name], nested or {}), default)
        for extra, tp in after.pop(f.name, []):
            fields[extra] = (tp, ...)
    if after:
        raise TypeError(f"{name}: derived values follow fields {cls.__name__} does not have: {sorted(after)}")
    return create_model(name, __module__=__name__, **fields)


AssetOut = model_from_dataclass(AssetLink, "AssetOut")
# event_s: ClipResult's property (the event's time in the period video), listed after the
# clip's other times, where the API has always had it
ClipOut = model_from_dataclass(ClipResult, "ClipOut", nested={AssetLink: AssetOut},
                               derived={"event_s": (float, "duration_s")})


class UnderstoodOut(BaseModel):
    text: str
    meaning: str


class ParsedOut(BaseModel):
    request: str
    understood: list[UnderstoodOut]
    ignored: list[str]
    filler: list[str]
    notes: list[str]
    query: dict[str, Any]


class PageOut(BaseModel):
    total: int = Field(description="matching clips: exact when total_is_exact, else at least this many")
    total_is_exact: bool = Field(description="false: a broad match was not counted to the end (total is a lower bound)")
    limit: int
    offset: int | None = Field(description="null on a page asked for with after")
    next_offset: int | None
    next_after: str | None = Field(description="pass as after= for the next page (null: the last page)")
    games: list[str] | None = Field(description="the games the game filters (ids, dates, last N) came to; null: any")
    query: dict[str, Any]
    parsed: ParsedOut | None = Field(description="what the plain-language request q was understood as")
    items: list[ClipOut]


class CountOut(BaseModel):
    clips: int
    duration_s: float


class GameCountOut(CountOut):
    game_id: str
    date: str | None


class TypeCountOut(CountOut):
    event_type: str


class PlayerCountOut(CountOut):
    player_id: str
    name: str | None
    team: str | None


class KindBytesOut(BaseModel):
    objects: int
    bytes: int


class StatsOut(BaseModel):
    clips: int
    duration_s: float
    bytes: int
    bytes_by_kind: dict[str, KindBytesOut]
    by_game: list[GameCountOut]
    by_event_type: list[TypeCountOut]
    by_player: list[PlayerCountOut]
    query: dict[str, Any]
    parsed: ParsedOut | None


class ErrorOut(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="what is wrong (a list for malformed parameters)")


ERRORS = {401: {"model": ErrorOut, "description": "no API key, or an unknown one"},
          422: {"model": ErrorOut, "description": "a filter that cannot be applied"}}
