"""SQLAlchemy models of the media index (DATA_CONTRACT.md section 3), its
to-do list of objects to delete from the store (``pending_deletions``), and
the counts kept per game for the read side (``clip_stats_*``, see
:mod:`.aggregates`).

Tables live in the ``media`` schema. On PostgreSQL that is a real schema; on
the embedded SQLite default the database file is attached as ``media`` (see
``db.py``), so ``media.clips`` resolves there too.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "media"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class Clip(Base):
    __tablename__ = "clips"
    __table_args__ = (
        # event_id is unique within a game: one clip per event.
        UniqueConstraint("game_id", "event_id", name="uq_clips_game_event"),
        # Chosen from the plans of the read side's statements (bench/bench_query.py prints them).
        # A page is read game by game in the order of a game's clips (period: '1' < '2' < '3' < 'OT'
        # byte-wise): this index hands them over in that order, so a page reads its rows and no more.
        # It also serves a game or period of a game (the partition write's reads).
        Index("ix_clips_game_order", "game_id", "period", "event_frame", "event_id", "clip_id"),
        # (ix_clips_type_strength_game, an expression index, is declared after the class.)
        # Event type x game: one type's clips of the games a page spans (a few a game).
        Index("ix_clips_type_game", "event_type", "game_id"),
        # Player x game x event type: one player's clips of a game, with or without a type.
        Index("ix_clips_player_game_type", "player_id", "game_id", "event_type"),
        # Team / opponent x game (dates and "last N games" are game lists): also the legs of the
        # team-key visibility rule (team OR opponent OR game).
        Index("ix_clips_team_game", "team", "game_id"),
        Index("ix_clips_opponent_game", "opponent", "game_id"),
        Index("ix_clips_created_at", "created_at"),
    )

    clip_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    game_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(2))
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    player_id: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(16))
    opponent: Mapped[str | None] = mapped_column(String(16))
    zone: Mapped[str | None] = mapped_column(String(1))
    strength: Mapped[str | None] = mapped_column(String(16))
    timecode: Mapped[str | None] = mapped_column(String(16))
    event_frame: Mapped[int] = mapped_column(Integer)
    start_frame: Mapped[int] = mapped_column(Integer)
    end_frame: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    fps_num: Mapped[int] = mapped_column(Integer)
    fps_den: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    source_uri: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


# Event type x strength: strength is matched without case, so the index holds lower(strength); the
# INCLUDE lets PostgreSQL count from the index alone (without it the planner cannot tell that the
# expression index covers the query). SQLite has no INCLUDE and ignores it.
Index("ix_clips_type_strength_game", Clip.event_type, func.lower(Clip.strength), Clip.game_id,
      postgresql_include=["strength"])


class ClipAsset(Base):
    __tablename__ = "clip_assets"

    clip_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("media.clips.clip_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # 'mp4' | 'thumbnail' | 'hls' (playlist) | 'hls_fmp4' (the media it addresses)
    object_key: Mapped[str] = mapped_column(Text)
    uri: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))


class ClipTag(Base):
    __tablename__ = "clip_tags"

    clip_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("media.clips.clip_id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PendingDeletion(Base):
    """An object the index no longer names, still to be deleted from the store.

    ``write_partition`` queues the objects of the clips it removes in its own
    transaction, so a process killed after the commit and before the store
    deletes leaves the to-do list behind, and the next run of the partition
    (``game_id``, ``period``: the write that queued the key) deletes them. A key
    that a clip names again (content-addressed ids) is taken off the list by
    the write that names it.
    """

    __tablename__ = "pending_deletions"
    __table_args__ = (Index("ix_pending_deletions_game_period", "game_id", "period"),)

    object_key: Mapped[str] = mapped_column(Text, primary_key=True)
    game_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(2))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


# --------------------------------------------------------------------------- counts kept per game
#
# Each table holds, per game and side (team, opponent) and the grain's other columns, how many clips
# there are and their seconds (bytes and objects per asset kind for clip_stats_assets). The partition
# write recomputes the rows of the games it touched from media.clips in its own transaction
# (aggregates.refresh_games), so they always equal a GROUP BY over media.clips. The read side counts
# and sums them instead of the clips: a team's overview reads its games x event types (a few thousand
# rows a season), not its clips. Every grain keeps game_id, team and opponent, the columns of the
# game filters (ids, dates, last N games) and of a team key's visibility.

SIDE = ("game_id", "team", "opponent")
AGGREGATE_GRAINS: dict[str, tuple[str, ...]] = {
    "clip_stats_game": SIDE,
    # strength lower-cased, as the filter compares it: power play / penalty kill counts come from here
    "clip_stats_type": SIDE + ("event_type", "strength"),
    "clip_stats_player": SIDE + ("player_id",),
    "clip_stats_player_type": SIDE + ("player_id", "event_type"),
    "clip_stats_assets": SIDE + ("event_type", "kind"),
}
_DIM_TYPES = {"game_id": String(64), "team": String(16), "opponent": String(16), "event_type": String(64),
              "strength": String(16), "player_id": String(64), "kind": String(16)}
_NULLABLE = {"opponent", "strength"}
# The lookups besides game_id (which every refresh deletes by): the column a filter names first.
# Each index carries the table's other columns (INCLUDE, PostgreSQL) so a sum reads the index alone;
# SQLite has no INCLUDE and reads the rows (its sizes are a club's, not a league's).
_LOOKUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "clip_stats_game": (("team", "game_id"), ("opponent", "game_id")),
    # event type x strength: the power-play / penalty-kill counts read their rows only
    "clip_stats_type": (("event_type", "game_id"), ("event_type", "strength", "game_id"), ("team", "game_id"),
                        ("opponent", "game_id")),
    "clip_stats_player": (("player_id", "game_id"), ("team", "game_id"), ("opponent", "game_id")),
    "clip_stats_player_type": (("player_id", "event_type", "game_id"), ("event_type", "game_id")),
    "clip_stats_assets": (("event_type", "game_id"), ("team", "game_id"), ("opponent", "game_id")),
}


def measures_of(dims: tuple[str, ...]) -> tuple[str, ...]:
    return ("objects", "bytes") if "kind" in dims else ("clips", "duration_s")


def _aggregate_table(name: str, dims: tuple[str, ...]) -> Table:
    measures = measures_of(dims)
    types = {"clips": Integer, "duration_s": Float, "objects": Integer, "bytes": BigInteger}
    short = name.removeprefix("clip_stats_")
    keys = [dims] + list(_LOOKUPS[name])
    names = [f"ix_stats_{short}_by_game"] + [
        f"ix_stats_{short}_{'_'.join(c.removesuffix('_id') for c in cols)}" for cols in _LOOKUPS[name]]
    indexes = [
        Index(ix, *cols, postgresql_include=[c for c in dims + measures if c not in cols])
        for ix, cols in zip(names, keys)
    ]
    # No primary key: opponent and strength may be NULL; rows are only ever replaced a whole game at a time.
    return Table(
        name, Base.metadata,
        *(Column(d, _DIM_TYPES[d], nullable=d in _NULLABLE) for d in dims),
        *(Column(m, types[m], nullable=False) for m in measures),
        *indexes,
    )


AGGREGATES: dict[str, Table] = {name: _aggregate_table(name, dims) for name, dims in AGGREGATE_GRAINS.items()}


# --------------------------------------------------------------------------- totals across games
#
# The per-game counts summed over every game (no game_id): a team's overview reads its opponents x
# event types (a thousand rows), the same at one season or five. The partition write adds the
# difference its games made to their per-game rows (aggregates.refresh_games), in key order, in its
# transaction. Only for searches without a game filter or a team key (whose visibility is by game).
# A missing opponent or strength is '' here: the columns are the primary key the upsert needs.

TOTAL_GRAINS: dict[str, tuple[str, tuple[str, ...]]] = {  # name: (per-game table it sums, columns)
    "clip_totals_type": ("clip_stats_type", ("team", "opponent", "event_type", "strength")),
    "clip_totals_player": ("clip_stats_player", ("team", "opponent", "player_id")),
    "clip_totals_assets": ("clip_stats_assets", ("team", "opponent", "event_type", "kind")),
}
_TOTAL_LOOKUPS = {"clip_totals_type": ("event_type",), "clip_totals_player": ("player_id",),
                  "clip_totals_assets": ("event_type",)}


def _total_table(name: str, dims: tuple[str, ...]) -> Table:
    measures = measures_of(dims)
    types = {"clips": Integer, "duration_s": Float, "objects": Integer, "bytes": BigInteger}
    lookup = _TOTAL_LOOKUPS[name]
    return Table(
        name, Base.metadata,
        *(Column(d, _DIM_TYPES[d], primary_key=True) for d in dims),
        *(Column(m, types[m], nullable=False) for m in measures),
        Index(f"ix_{name.removeprefix('clip_')}_{lookup[0].removesuffix('_id')}", *lookup,
              postgresql_include=[c for c in dims + measures if c not in lookup]),
    )


TOTALS: dict[str, Table] = {name: _total_table(name, dims) for name, (_src, dims) in TOTAL_GRAINS.items()}
