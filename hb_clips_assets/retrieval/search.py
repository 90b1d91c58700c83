"""Finding clips in the media index: pages in order, every match, one clip, one object.

SQLAlchemy Core over the models of :mod:`hb_clips_assets.storage.index.models`,
so the same code runs on the embedded SQLite file and on PostgreSQL. What a
query keeps is planned in :mod:`.plan`; this module orders and pages.

Order: game date (schedule.csv; games it does not list come last, by id),
then period (1, 2, 3, OT), then the event's time in the period (its frame),
then event_id. Pages are cut in SQL: one grouped count per game finds the
games a page spans, then only those games' rows are read, so a page costs
the same on page 1 and page 1000 and needs no per-row date lookup.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import case, func, select

from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame
from hb_clips_assets.retrieval.access import visibility_condition
from hb_clips_assets.retrieval.plan import engine_of, game_sort_key, plan
from hb_clips_assets.retrieval.query import MAX_LIMIT, ClipQuery
from hb_clips_assets.retrieval.references import References, as_references
from hb_clips_assets.retrieval.results import ClipPage, ClipResult, UrlFor, choose_url_for, clip_result
from hb_clips_assets.storage.index.models import Clip, ClipAsset, ClipTag

PERIOD_ORDER = {"1": 1, "2": 2, "3": 3, "OT": 4}


def _ordered_games(counts: dict[str, int], refs: References, newest_first: bool) -> list[str]:
    games = sorted(counts, key=lambda g: game_sort_key(g, refs))
    if newest_first:
        dated = [g for g in games if refs.game_date(g) is not None]
        games = dated[::-1] + [g for g in games if refs.game_date(g) is None]
    return games


def _assets_and_tags(conn, clip_ids: list[str]) -> tuple[dict[str, list[dict]], dict[str, dict[str, str]]]:
    assets: dict[str, list[dict]] = {}
    tags: dict[str, dict[str, str]] = {}
    if not clip_ids:
        return assets, tags
    for row in conn.execute(
        select(ClipAsset.__table__).where(ClipAsset.clip_id.in_(clip_ids)).order_by(ClipAsset.clip_id, ClipAsset.kind)
    ).mappings():
        assets.setdefault(row["clip_id"], []).append(dict(row))
    for row in conn.execute(
        select(ClipTag.__table__).where(ClipTag.clip_id.in_(clip_ids)).order_by(ClipTag.clip_id, ClipTag.tag)
    ).mappings():
        tags.setdefault(row["clip_id"], {})[row["tag"]] = row["value"]
    return assets, tags


def _row_order(games: list[str]):
    rank = {g: i for i, g in enumerate(games)}
    order = []
    if len(games) > 1:
        order.append(case(rank, value=Clip.game_id, else_=len(games)))
    order += [
        case(PERIOD_ORDER, value=Clip.period, else_=len(PERIOD_ORDER) + 1),
        Clip.period,
        Clip.event_frame,
        Clip.event_id,
        Clip.clip_id,
    ]
    return order


def _page_games(games: list[str], counts: dict[str, int], offset: int, limit: int) -> tuple[list[str], int]:
    """The games the page [offset, offset + limit) spans, and how many rows of the first one it skips."""
    page_games: list[str] = []
    skip = 0
    position = 0
    for game in games:
        n = counts[game]
        if position + n > offset and position < offset + limit:
            if not page_games:
                skip = offset - position
            page_games.append(game)
        position += n
        if position >= offset + limit:
            break
    return page_games, skip


def find_clips(
    engine_or_index,
    query: ClipQuery,
    schedule: dict[str, ScheduledGame] | References | None = None,
    roster: dict[str, RosterPlayer] | None = None,
    *,
    store=None,
    url_expires_s: int | None = None,
    url_for: UrlFor | None = None,
    visible_teams: Collection[str] | None = None,
    as_of: dt.date | None = None,
) -> ClipPage:
    """One page of the clips that match ``query``, in order, with their asset URLs.

    ``schedule``/``roster``: dicts from :func:`read_schedule`/:func:`read_roster`,
    or one :class:`References`. URLs come from ``url_for`` if given, else from
    ``store`` (see :func:`store_url_for`), else the URI the index recorded.
    ``visible_teams``: only clips of these teams' games (None: all).
    """
    refs = as_references(schedule, roster)
    engine = engine_of(engine_or_index)
    planned = plan(engine, query, refs, visible_teams, as_of)
    query = planned.query
    url_for = choose_url_for(url_for, store, url_expires_s)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(Clip.game_id, func.count()).where(*planned.conditions).group_by(Clip.game_id)).all()
        )
        total = sum(counts.values())
        games = _ordered_games(counts, refs, query.newest_first)
        page_games, skip = _page_games(games, counts, query.offset, query.limit)
        rows = []
        if page_games:
            stmt = (
                select(Clip.__table__)
                .where(*planned.conditions, Clip.game_id.in_(page_games))
                .order_by(*_row_order(page_games))
                .offset(skip)
                .limit(query.limit)
            )
            rows = conn.execute(stmt).mappings().all()
        assets, tags = _assets_and_tags(conn, [r["clip_id"] for r in rows])
    items = [clip_result(r, refs, assets.get(r["clip_id"], []), tags.get(r["clip_id"], {}), url_for) for r in rows]
    return ClipPage(items, total, query.limit, query.offset, query, planned.games)


def iter_clips(engine_or_index, query: ClipQuery, schedule=None, roster=None, **kwargs) -> Iterable[ClipResult]:
    """Every clip that matches ``query`` from its offset on (page after page), for exports."""
    page_size = MAX_LIMIT
    offset = query.offset
    while True:
        page = find_clips(
            engine_or_index, dataclasses.replace(query, offset=offset, limit=page_size), schedule, roster, **kwargs
        )
        yield from page.items
        if page.next_offset is None or not page.items:
            return
        offset = page.next_offset


def get_clip(
    engine_or_index,
    clip_id: str,
    schedule: dict[str, ScheduledGame] | References | None = None,
    roster: dict[str, RosterPlayer] | None = None,
    *,
    store=None,
    url_expires_s: int | None = None,
    url_for: UrlFor | None = None,
    visible_teams: Collection[str] | None = None,
) -> ClipResult | None:
    """One clip with its tags and asset URLs; None if there is none (or the caller may not see it)."""
    refs = as_references(schedule, roster)
    engine = engine_of(engine_or_index)
    url_for = choose_url_for(url_for, store, url_expires_s)
    conditions = [Clip.clip_id == clip_id]
    visible = visibility_condition(visible_teams, refs)
    if visible is not None:
        conditions.append(visible)
    with engine.connect() as conn:
        row = conn.execute(select(Clip.__table__).where(*conditions)).mappings().first()
        if row is None:
            return None
        assets, tags = _assets_and_tags(conn, [clip_id])
    return clip_result(row, refs, assets.get(clip_id, []), tags.get(clip_id, {}), url_for)


def asset_by_key(engine_or_index, object_key: str) -> tuple[dict, dict] | None:
    """(asset row, clip row) of the object stored under ``object_key``, or None."""
    engine = engine_of(engine_or_index)
    with engine.connect() as conn:
        asset = conn.execute(select(ClipAsset.__table__).where(ClipAsset.object_key == object_key)).mappings().first()
        if asset is None:
            return None
        clip = conn.execute(select(Clip.__table__).where(Clip.clip_id == asset["clip_id"])).mappings().first()
    return (dict(asset), dict(clip)) if clip is not None else None
