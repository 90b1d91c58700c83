"""SQLAlchemy models of the media index (DATA_CONTRACT.md section 3), and its
to-do list of objects to delete from the store (``pending_deletions``).

Tables live in the ``media`` schema. On PostgreSQL that is a real schema; on
the embedded SQLite default the database file is attached as ``media`` (see
``db.py``), so ``media.clips`` resolves there too.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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
        Index("ix_clips_game_period", "game_id", "period"),
        Index("ix_clips_player_event_type", "player_id", "event_type"),
        Index("ix_clips_event_type", "event_type"),
        Index("ix_clips_team", "team"),
        Index("ix_clips_opponent", "opponent"),
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


class ClipAsset(Base):
    __tablename__ = "clip_assets"

    clip_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("media.clips.clip_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # 'mp4' | 'thumbnail' | 'hls'
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
