"""One page of a search: how many clips match, which games the page spans, and its rows.

Order: games in game order (:mod:`.plan`), then within a game by (period,
event_frame, event_id, clip_id): the columns of ``ix_clips_game_order``, so
each game's share of a page is read from that index, ``LIMIT`` rows and no
more. (Periods are '1', '2', '3', 'OT', which sort byte-wise in that order.)

Counts per game come from the per-game count tables where the plan allows
(:meth:`Plan.grain`), else from the clips. A page never counts every match
of a broad search: the games are asked for their counts in page order, a
growing batch at a time, until the page is full. The total is exact when it
comes from the count tables, or when the clips are fewer than
:data:`COUNT_CAP`; past that it is a lower bound (``exact`` false).

Keyset paging: :class:`Cursor` names the last clip of a page (opaquely, with a
fingerprint of the query's filters); the next page starts right after it, in
its game, then goes on with the games that follow. Its cost does not grow
with the depth of the page, unlike ``offset``'s, which has to count the clips
before it.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import (Connection, Integer, String, any_, bindparam, case, func, literal, literal_column, null, select,
                        tuple_, union_all)
from sqlalchemy.dialects.postgresql import ARRAY

from hb_clips_assets.retrieval.plan import Plan, game_sort_key, scheduled_order
from hb_clips_assets.retrieval.query import PAGE_FIELDS, ClipQuery, QueryError
from hb_clips_assets.retrieval.references import References
from hb_clips_assets.storage.index.models import Clip, ClipAsset, ClipTag

IN_GAME_ORDER = (Clip.period, Clip.event_frame, Clip.event_id, Clip.clip_id)
# Counting the clips themselves (a filter on period, zone, strength or outcome) stops here.
COUNT_CAP = 10_000
BATCH_MAX = 2_048  # games per count query (bind parameters)


def fingerprint(query: ClipQuery) -> str:
    """What a cursor is valid for: the normalized query without its page fields."""
    filters = {k: v for k, v in query.to_dict().items() if k not in PAGE_FIELDS}
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cursor:
    """The position of one clip in the order of a search: the next page starts after it."""

    game_id: str
    period: str
    event_frame: int
    event_id: str
    clip_id: str

    @classmethod
    def of(cls, row) -> "Cursor":
        """The cursor of a clips-table row (or a :class:`ClipResult`'s fields in a dict)."""
        return cls(row["game_id"], row["period"], row["event_frame"], row["event_id"], row["clip_id"])

    def encode(self, query: ClipQuery) -> str:
        payload = [1, fingerprint(query), self.game_id, self.period, self.event_frame, self.event_id, self.clip_id]
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, query: ClipQuery) -> "Cursor":
        try:
            payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            payload = None
        if not (isinstance(payload, list) and len(payload) == 7 and payload[0] == 1
                and all(isinstance(v, str) for v in payload[1:4] + payload[5:])
                and isinstance(payload[4], int) and not isinstance(payload[4], bool)):
            raise QueryError("after is not a page cursor (use the next_after of a page as it is)")
        if payload[1] != fingerprint(query):
            raise QueryError("after is the cursor of another search (its filters or order differ)")
        return cls(*payload[2:])

    @property
    def key(self) -> tuple:
        return (self.period, self.event_frame, self.event_id, self.clip_id)


_ASSET_COLUMNS = ("kind", "object_key", "uri", "bytes", "sha256", "content_type")


@functools.cache  # one statement per dialect, built once: building it cost a page 0.3 ms
def _attachments_statement(dialect: str):
    a, t = ClipAsset.__table__.c, ClipTag.__table__.c
    if dialect == "postgresql":  # one array parameter, as in plan.one_of: the statement text never changes
        ids = bindparam("ids", type_=ARRAY(String))
        of_assets, of_tags = a.clip_id == any_(ids), t.clip_id == any_(ids)
    else:
        ids = bindparam("ids", expanding=True)
        of_assets, of_tags = a.clip_id.in_(ids), t.clip_id.in_(ids)
    assets = select(literal_column("'a'"), a.clip_id, *(a[c] for c in _ASSET_COLUMNS)).where(of_assets)
    tags = select(literal_column("'t'"), t.clip_id, t.tag, t.value, *(null() for _ in _ASSET_COLUMNS[2:])).where(of_tags)
    return union_all(assets, tags)


def read_attachments(conn: Connection, clip_ids: list[str]) -> dict[str, tuple[list[dict], dict[str, str]]]:
    """Each clip's (asset rows by kind, tags by name), in one statement over the primary keys of
    clip_assets and clip_tags.

    A second statement, not correlated JSON subqueries in the page's own: on PostgreSQL building
    and parsing 100 JSON values cost a page of 50 about 4 ms, this statement about 2.
    """
    found: dict[str, tuple[list[dict], dict[str, str]]] = {c: ([], {}) for c in clip_ids}
    if not clip_ids:
        return found
    rows = conn.execute(_attachments_statement(conn.dialect.name), {"ids": list(clip_ids)}).all()
    # assets before tags, each by kind or name: the order the results list them in
    for src, clip_id, name, key, uri, size, sha256, content_type in sorted(rows, key=lambda r: (r[0], r[2])):
        owner = found[clip_id]
        if src == "a":
            owner[0].append({"clip_id": clip_id, "kind": name, "object_key": key, "uri": uri, "bytes": size,
                             "sha256": sha256, "content_type": content_type})
        else:
            owner[1][name] = key
    return found


class GameCounts:
    """Matching clips per game: from the plan's per-game count table, else from the clips."""

    def __init__(self, planned: Plan):
        self.planned = planned
        self.table = planned.count_grain()
        self.conditions = list(planned.conditions)  # on the clips; narrowed to candidate games by start()

    def _grouped(self, games: list[str] | None = None):
        if self.table is not None:
            t = self.table
            stmt = select(t.c.game_id, func.sum(t.c.clips)).where(*self.planned.conditions_on(t))
            column = t.c.game_id
        else:
            stmt, column = select(Clip.game_id, func.count()).where(*self.conditions), Clip.game_id
        if games is not None:
            stmt = stmt.where(self.planned.one_of(column, games))
        return stmt.group_by(column)

    def per_game(self, conn: Connection, games: list[str] | None = None) -> dict[str, int]:
        return {g: int(n) for g, n in conn.execute(self._grouped(games)).all() if n}  # all(): one fetch, not one a row

    def start(self, conn: Connection, first: list[str]) -> tuple[int, bool, dict[str, int] | None, dict | None]:
        """(total, exact, every game's count or None, the counts of the ``first`` games or None).

        One statement where it can: every game's count when the plan keeps few games; else the
        total and the first batch's counts together. From the count tables the total is exact;
        from the clips at most COUNT_CAP are counted (the per-game counts come with it).
        """
        planned = self.planned
        if self.table is not None:
            if planned.few_games():
                known = self.per_game(conn)
                return sum(known.values()), True, known, known
            t = self.table
            total = select(literal(None).label("game_id"), func.coalesce(func.sum(t.c.clips), 0))
            both = union_all(self._grouped(first), total.where(*planned.conditions_on(t)))
            rows = conn.execute(both).all()
            return int(next(n for g, n in rows if g is None)), True, None, {g: int(n) for g, n in rows if g and n}
        part = planned.grain(part=True)
        if part is not None and planned.few_games() and planned.games is None:
            # the filters the count tables hold name the candidate games: count the clips of those only
            t = part
            games = sorted(conn.execute(select(t.c.game_id).where(*planned.conditions_on(t)).distinct()).scalars().all())
            self.conditions.append(planned.one_of(Clip.game_id, games))
        capped = select(Clip.game_id).where(*self.conditions).limit(COUNT_CAP).subquery()
        known = {g: int(n) for g, n in conn.execute(select(capped.c.game_id, func.count()).group_by(capped.c.game_id)).all()}
        total = sum(known.values())
        if total < COUNT_CAP:
            return total, True, known, known
        return total, False, None, None


def game_order(planned: Plan, refs: References) -> tuple[list[str], bool]:
    """The candidate games in page order, and whether games the schedule does not list may follow
    (found in the index: only when the plan does not restrict the games)."""
    if planned.games is not None:
        games, tail = list(planned.games), False
    else:
        games, tail = list(scheduled_order(refs)), True
    if planned.query.newest_first:
        dated = [g for g in games if refs.game_date(g) is not None]
        games = dated[::-1] + [g for g in games if refs.game_date(g) is None]
    return games, tail


@dataclass
class PageRows:
    rows: list
    total: int
    exact: bool
    more: bool  # clips follow this page


class _Pager:
    def __init__(self, conn: Connection, planned: Plan, refs: References, cursor: Cursor | None):
        self.conn, self.planned, self.refs = conn, planned, refs
        self.counts = GameCounts(planned)
        self.order, self.tail = game_order(planned, refs)
        self.start, self.same_game = self._resume(cursor) if cursor is not None else (0, False)
        # the first batch of games asked for their counts: from the count tables a batch is one
        # cheap lookup per game; counting clips, the first games of a broad match fill a page
        size = 16 if self.counts.table is not None else 2
        self.first = self.order[self.start:self.start + size]
        self.total, self.exact, self.all_counts, self.first_counts = self.counts.start(conn, self.first)

    def _resume(self, cursor: Cursor) -> tuple[int, bool]:
        """Where the games after the cursor's start in the order; whether its game may have more."""
        try:
            return self.order.index(cursor.game_id) + 1, True
        except ValueError:
            pass
        if self.refs.game_date(cursor.game_id) is None:  # an unscheduled game: among the tail
            return len(self.order), self.tail
        # a scheduled game no longer among the candidates ("last N games" moved on): resume at the
        # first candidate after it in game order (undated games come last either way)
        key = game_sort_key(cursor.game_id, self.refs)
        newest_first = self.planned.query.newest_first
        for i, game in enumerate(self.order):
            other = game_sort_key(game, self.refs)
            if other[0] or (other < key if newest_first else other > key):
                return i, False
        return len(self.order), False

    def counted(self, start: int, tail_after: str | None) -> Iterator[tuple[str, int]]:
        """(game, matching clips) in page order from ``order[start]``, games without matches left out."""
        known = self.all_counts
        if known is not None:
            yield from ((g, known[g]) for g in self.order[start:] if known.get(g))
        else:
            size, i = len(self.first), start
            while i < len(self.order):
                batch = self.order[i:i + size]
                reuse = i == start and batch == self.first and self.first_counts is not None
                got = self.first_counts if reuse else self.counts.per_game(self.conn, batch)
                i, size = i + len(batch), min(max(size, 1) * 4, BATCH_MAX)
                yield from ((g, got[g]) for g in batch if g in got)
        if self.tail:
            rest = known if known is not None else self.counts.per_game(self.conn)
            listed = set(self.refs.schedule)
            yield from ((g, rest[g]) for g in sorted(rest) if g not in listed and (tail_after is None or g > tail_after))

    def read(self, parts: list[tuple[str, int, int]], after: Cursor | None = None, span: int | None = None) -> list:
        """The rows of (game, skip, take) parts, in page order (their assets and tags: :func:`read_attachments`).

        ``span``: how many clips match in the parts' games. When that is about a page (a few clips
        in each of many games), one statement over those games reads them all; else each game is
        one statement of the UNION, ``LIMIT take`` rows of its index range.
        """
        if span is not None and len(parts) > 1 and span <= 2 * sum(take for _g, _s, take in parts):
            games = [game for game, _skip, _take in parts]
            if self.planned.dialect == "postgresql":  # one parameter, as in plan.one_of
                rank = func.array_position(bindparam(None, games, type_=ARRAY(String)), Clip.game_id)
            else:
                rank = case({game: i for i, game in enumerate(games)}, value=Clip.game_id)
            stmt = (select(Clip.__table__)
                    .where(*self.planned.conditions, self.planned.one_of(Clip.game_id, games))
                    .order_by(rank, *IN_GAME_ORDER)
                    .offset(parts[0][1] or None).limit(sum(take for _g, _s, take in parts)))
            return self.conn.execute(stmt).mappings().all()
        selects = []
        for rank, (game, skip, take) in enumerate(parts):
            stmt = select(Clip.__table__, literal(rank, Integer).label("page_rank")).where(
                *self.planned.conditions, Clip.game_id == game)
            if after is not None:
                stmt = stmt.where(tuple_(*IN_GAME_ORDER) > tuple_(*after.key))
            selects.append(stmt.order_by(*IN_GAME_ORDER).offset(skip or None).limit(take))
        if not selects:
            return []
        if len(selects) == 1:
            return self.conn.execute(selects[0]).mappings().all()
        # SQLite takes LIMIT in a compound SELECT only inside subqueries
        both = union_all(*(select(s.subquery()) for s in selects)).subquery()
        order = [both.c.page_rank] + [both.c[c.name] for c in IN_GAME_ORDER]
        return self.conn.execute(select(both).order_by(*order)).mappings().all()

    def page(self, limit: int, offset: int | None, cursor: Cursor | None) -> PageRows:
        rows: list = []
        start, tail_after = self.start, None
        if cursor is not None:
            if self.refs.game_date(cursor.game_id) is None and start == len(self.order):
                tail_after = cursor.game_id
            if self.same_game:
                rows = self.read([(cursor.game_id, 0, limit + 1)], after=cursor)
                if len(rows) > limit:
                    return PageRows(rows[:limit], self.total, self.exact, True)
        need, skip_left = limit - len(rows), offset or 0
        parts: list[tuple[str, int, int]] = []
        more, span = False, 0
        games = self.counted(start, tail_after)
        if need == 0:  # the cursor's game filled the page exactly
            return PageRows(rows, self.total, self.exact, next(games, None) is not None)
        for game, n in games:
            if skip_left >= n:
                skip_left -= n
                continue
            take = min(n - skip_left, need)
            parts.append((game, skip_left, take))
            span += n
            need -= take
            if need == 0:
                more = n - skip_left - take > 0 or next(games, None) is not None
                break
            skip_left = 0
        rows += self.read(parts, span=span)
        return PageRows(rows, self.total, self.exact, more)


def read_page(conn: Connection, planned: Plan, refs: References, limit: int, offset: int | None,
              cursor: Cursor | None) -> PageRows:
    """The rows of one page (by ``offset``, or after ``cursor``), the total and whether more follow."""
    return _Pager(conn, planned, refs, cursor).page(limit, offset, cursor)
