"""media.pending_deletions: objects the index no longer names, still to delete from the store.

``write_partition`` queues the objects of the clips it removes in its own
transaction; the ``media_index`` asset deletes them from the store after the
commit and then takes them off the list. A process killed in between leaves
the list behind for the next run of the partition (before this table, the
keys were only in memory and such objects stayed in the store for good).

Revision ID: 0002_pending_deletions
Revises: 0001_media_schema
Create Date: 2026-11-27
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_pending_deletions"
down_revision: Union[str, Sequence[str], None] = "0001_media_schema"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCHEMA = "media"


def upgrade() -> None:
    op.create_table(
        "pending_deletions",
        sa.Column("object_key", sa.Text(), nullable=False),
        # the partition whose write queued the key, and whose next run deletes it
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=2), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("object_key"),
        schema=SCHEMA,
    )
    op.create_index("ix_pending_deletions_game_period", "pending_deletions", ["game_id", "period"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_pending_deletions_game_period", table_name="pending_deletions", schema=SCHEMA)
    op.drop_table("pending_deletions", schema=SCHEMA)
