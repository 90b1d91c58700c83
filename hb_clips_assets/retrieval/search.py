"""Finding clips in the media index: pages in order, every match, one clip, one object.

SQLAlchemy Core over the models of :mod:`hb_clips_assets.storage.index.models`,
so the same code runs on the embedded SQLite file and on PostgreSQL. What a
query keeps is planned in :mod:`.plan`; how a page is counted, located and
read (offset or keyset cursor) is :mod:`.pages`.

Order: game date (schedule.csv; games it does not list come last, by id),
then period (1, 2, 3, OT), then the event's time in the period (its frame),
then event_id.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import select

from hb_clips_assets.domain.reference import RosterPlayer, ScheduledGame
from hb_clips_assets.retrieval.access import visibility_condition
from hb_clips_assets.retrieval.pages import Cursor, read_attachments, read_page
from hb_clips_assets.retrieval.plan import engine_of, plan
from hb_clips_assets.storage.index.db import reading
from hb_clips_assets.retrieval.query import MAX_LIMIT, ClipQuery
from hb_clips_assets.retrieval.references import References, as_references
from hb_clips_assets.retrieval.results import ClipPage, ClipResult, UrlFor, choose_url_for, clip_result
from hb_clips_assets.storage.index.models import Clip, ClipAsset

# The period codes in game order; they also sort byte-wise in this order, which the SQL order uses.
PERIOD_ORDER = {"1": 1, "2": 2, "3": 3, "OT": 4}


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
    cursor = Cursor.decode(query.after, query) if query.after is not None else None
    url_for = choose_url_for(url_for, store, url_expires_s)
    with reading(engine) as conn:
        page = read_page(conn, planned, refs, query.limit, None if cursor else query.offset, cursor)
        attached = read_attachments(conn, [r["clip_id"] for r in page.rows])
    items = [clip_result(r, refs, *attached[r["clip_id"]], url_for) for r in page.rows]
    next_after = Cursor.of(page.rows[-1]).encode(query) if page.more and page.rows else None
    return ClipPage(items, page.total, query.limit, None if cursor else query.offset, query, planned.games,
                    total_is_exact=page.exact, next_after=next_after)


def iter_clips(engine_or_index, query: ClipQuery, schedule=None, roster=None, **kwargs) -> Iterable[ClipResult]:
    """Every clip that matches ``query`` from its offset (or cursor) on, page after page, for exports."""
    query = dataclasses.replace(query, limit=MAX_LIMIT)
    while True:
        page = find_clips(engine_or_index, query, schedule, roster, **kwargs)
        yield from page.items
        if page.next_after is None:
            return
        query = dataclasses.replace(query, offset=0, after=page.next_after)


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
    with reading(engine) as conn:
        row = conn.execute(select(Clip.__table__).where(*conditions)).mappings().first()
        if row is None:
            return None
        attached = read_attachments(conn, [row["clip_id"]])
    return clip_result(row, refs, *attached[row["clip_id"]], url_for)


def asset_by_key(engine_or_index, object_key: str) -> tuple[dict, dict] | None:
    """(asset row, clip row) of the object stored under ``object_key``, or None."""
    engine = engine_of(engine_or_index)
    with reading(engine) as conn:
        asset = conn.execute(select(ClipAsset.__table__).where(ClipAsset.object_key == object_key)).mappings().first()
        if asset is None:
            return None
        clip = conn.execute(select(Clip.__table__).where(Clip.clip_id == asset["clip_id"])).mappings().first()
    return (dict(asset), dict(clip)) if clip is not None else None
