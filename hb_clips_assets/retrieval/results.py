"""What a search returns: clips with their asset URLs, pages of them, and where URLs come from."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hb_clips_assets.retrieval.query import ClipQuery
from hb_clips_assets.retrieval.references import References


@dataclass(frozen=True)
class AssetLink:
    kind: str
    object_key: str
    url: str
    bytes: int
    sha256: str
    content_type: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)  # flat: asdict's deep copy costs more than a page's SQL


@dataclass(frozen=True)
class ClipResult:
    clip_id: str
    game_id: str
    game_date: str | None
    period: str
    event_id: str
    event_type: str
    player_id: str
    player_name: str | None
    team: str
    opponent: str | None
    zone: str | None
    strength: str | None
    timecode: str | None
    event_frame: int
    start_frame: int
    end_frame: int
    fps_num: int
    fps_den: int
    start_s: float
    end_s: float
    duration_s: float
    source_uri: str
    created_at: str | None
    tags: dict[str, str]
    assets: dict[str, AssetLink]

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def event_s(self) -> float:
        """The event's time in the period video, in seconds (int / int: correctly rounded, the
        float of the exact Fraction)."""
        return self.event_frame * self.fps_den / self.fps_num

    def url(self, kind: str = "mp4") -> str | None:
        asset = self.assets.get(kind)
        return asset.url if asset else None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)  # the fields in order (a page is 50 of these: no dataclasses.fields walk)
        del out["assets"]
        out["tags"] = dict(self.tags)
        out["event_s"] = round(self.event_s, 6)
        out["assets"] = {kind: a.to_dict() for kind, a in sorted(self.assets.items())}
        return out


@dataclass(frozen=True)
class ClipPage:
    items: list[ClipResult]
    # Matching clips. Exact when ``total_is_exact``; otherwise a lower bound: counting every clip of a
    # broad match on every page would cost more than the page (see retrieval.pages).
    total: int
    limit: int
    offset: int | None  # None on a page asked for with ``after`` (its position is not counted)
    query: ClipQuery
    games: tuple[str, ...] | None = None  # the games the game filters (ids, dates, last N) came to; None: any
    total_is_exact: bool = True
    next_after: str | None = None  # cursor of the next page (ClipQuery.after); None: this is the last page

    @property
    def next_offset(self) -> int | None:
        if self.offset is None:
            return None
        end = self.offset + len(self.items)
        if self.total_is_exact:
            return end if end < self.total else None
        return end if self.next_after is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "total_is_exact": self.total_is_exact,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.next_offset,
            "next_after": self.next_after,
            "games": list(self.games) if self.games is not None else None,
            "query": self.query.to_dict(),
            "items": [c.to_dict() for c in self.items],
        }


UrlFor = Callable[[str, str, str], str]  # (kind, object_key, recorded uri) -> URL


def store_url_for(store, expires_s: int | None = None) -> UrlFor:
    """URLs from an object store: its ``signed_url(key, expires_s)`` where it has
    one (a V4 signed URL on GCS), else its ``uri(key)``."""
    signed = getattr(store, "signed_url", None)

    def url_for(_kind: str, key: str, recorded_uri: str) -> str:
        if signed is not None:
            try:
                return signed(key, expires_s)
            except Exception:  # noqa: BLE001 - no signing key configured: fall back to the plain URI
                pass
        uri = getattr(store, "uri", None)
        return uri(key) if uri is not None else recorded_uri

    return url_for


def recorded_url(_kind: str, _key: str, uri: str) -> str:
    return uri


def choose_url_for(url_for: UrlFor | None, store, url_expires_s: int | None) -> UrlFor:
    """``url_for`` if given, else the store's URLs, else the URI the index recorded."""
    return url_for or (store_url_for(store, url_expires_s) if store is not None else recorded_url)


def clip_result(row, refs: References, assets: list[dict], tags: dict[str, str], url_for: UrlFor) -> ClipResult:
    """A clips-table row, its asset rows and tags -> a :class:`ClipResult` with URLs, date and player name."""
    created = row["created_at"]
    return ClipResult(
        clip_id=row["clip_id"],
        game_id=row["game_id"],
        game_date=refs.game_date(row["game_id"]),
        period=row["period"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        player_id=row["player_id"],
        player_name=refs.name_of(row["player_id"]),
        team=row["team"],
        opponent=row["opponent"],
        zone=row["zone"],
        strength=row["strength"],
        timecode=row["timecode"],
        event_frame=row["event_frame"],
        start_frame=row["start_frame"],
        end_frame=row["end_frame"],
        fps_num=row["fps_num"],
        fps_den=row["fps_den"],
        start_s=row["start_s"],
        end_s=row["end_s"],
        duration_s=row["duration_s"],
        source_uri=row["source_uri"],
        created_at=created.isoformat() if created is not None else None,
        tags=dict(tags),
        assets={
            a["kind"]: AssetLink(
                a["kind"], a["object_key"], url_for(a["kind"], a["object_key"], a["uri"]), a["bytes"], a["sha256"],
                a["content_type"],
            )
            for a in assets
        },
    )
