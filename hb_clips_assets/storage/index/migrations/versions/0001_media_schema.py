"""The media schema: clips, clip_assets, clip_tags (DATA_CONTRACT.md section 3).

The same tables ``Base.metadata.create_all`` made before migrations existed;
databases created that way are stamped with this revision (see migrate.py).

Revision ID: 0001_media_schema
Revises:
Create Date: 2026-11-25
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001_media_schema"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCHEMA = "media"


def upgrade() -> None:
    op.create_table(
        "clips",
        sa.Column("clip_id", sa.String(length=64), nullable=False),
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=2), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=16), nullable=False),
        sa.Column("opponent", sa.String(length=16), nullable=True),
        sa.Column("zone", sa.String(length=1), nullable=True),
        sa.Column("strength", sa.String(length=16), nullable=True),
        sa.Column("timecode", sa.String(length=16), nullable=True),
        sa.Column("event_frame", sa.Integer(), nullable=False),
        sa.Column("start_frame", sa.Integer(), nullable=False),
        sa.Column("end_frame", sa.Integer(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("fps_num", sa.Integer(), nullable=False),
        sa.Column("fps_den", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("source_uri", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("clip_id"),
        # event_id is unique within a game: one clip per event.
        sa.UniqueConstraint("game_id", "event_id", name="uq_clips_game_event"),
        schema=SCHEMA,
    )
    # The ways clips are looked up.
    op.create_index("ix_clips_player_event_type", "clips", ["player_id", "event_type"], schema=SCHEMA)
    op.create_index("ix_clips_game_period", "clips", ["game_id", "period"], schema=SCHEMA)
    op.create_index("ix_clips_event_type", "clips", ["event_type"], schema=SCHEMA)
    op.create_index("ix_clips_team", "clips", ["team"], schema=SCHEMA)
    op.create_index("ix_clips_opponent", "clips", ["opponent"], schema=SCHEMA)
    op.create_index("ix_clips_created_at", "clips", ["created_at"], schema=SCHEMA)
    op.create_table(
        "clip_assets",
        sa.Column("clip_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),  # 'mp4' | 'thumbnail' | 'hls'
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], [f"{SCHEMA}.clips.clip_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("clip_id", "kind"),
        schema=SCHEMA,
    )
    op.create_table(
        "clip_tags",
        sa.Column("clip_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], [f"{SCHEMA}.clips.clip_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("clip_id", "tag"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("clip_tags", schema=SCHEMA)
    op.drop_table("clip_assets", schema=SCHEMA)
    for name in ("ix_clips_created_at", "ix_clips_opponent", "ix_clips_team", "ix_clips_event_type",
                 "ix_clips_game_period", "ix_clips_player_event_type"):
        op.drop_index(name, table_name="clips", schema=SCHEMA)
    op.drop_table("clips", schema=SCHEMA)
