"""Query speed at league scale: composite indexes on media.clips, and the per-game counts.

Indexes: the one-column indexes on event_type, team and opponent and the
(game_id, period) and (player_id, event_type) ones give way to composites
that answer the read side's statements from the index (see models.py for
why each): ix_clips_game_order, ix_clips_type_strength_game,
ix_clips_player_game_type, ix_clips_team_game, ix_clips_opponent_game.

Tables: media.clip_stats_{game,type,player,player_type,assets}, the clips,
seconds, objects and bytes per game and side by event type (and strength),
player, asset kind; written by every partition write in its transaction, and
filled here from the clips already indexed.

The definitions are spelled out here rather than read from models.py, so this
revision creates the same schema whatever the models become later.

Revision ID: 0003_query_indexes_and_stats
Revises: 0002_pending_deletions
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_query_indexes_and_stats"
down_revision: Union[str, Sequence[str], None] = "0002_pending_deletions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCHEMA = "media"

OLD_INDEXES = {
    "ix_clips_game_period": ["game_id", "period"],
    "ix_clips_player_event_type": ["player_id", "event_type"],
    "ix_clips_event_type": ["event_type"],
    "ix_clips_team": ["team"],
    "ix_clips_opponent": ["opponent"],
}
NEW_INDEXES = {
    "ix_clips_game_order": ["game_id", "period", "event_frame", "event_id", "clip_id"],
    "ix_clips_type_game": ["event_type", "game_id"],
    "ix_clips_player_game_type": ["player_id", "game_id", "event_type"],
    "ix_clips_team_game": ["team", "game_id"],
    "ix_clips_opponent_game": ["opponent", "game_id"],
}
SIDE = ["game_id", "team", "opponent"]
# table -> (grouping columns, lookups besides the by-game index)
STATS = {
    "clip_stats_game": (SIDE, [["team", "game_id"], ["opponent", "game_id"]]),
    "clip_stats_type": (SIDE + ["event_type", "strength"],
                        [["event_type", "game_id"], ["event_type", "strength", "game_id"], ["team", "game_id"],
                         ["opponent", "game_id"]]),
    "clip_stats_player": (SIDE + ["player_id"],
                          [["player_id", "game_id"], ["team", "game_id"], ["opponent", "game_id"]]),
    "clip_stats_player_type": (SIDE + ["player_id", "event_type"],
                               [["player_id", "event_type", "game_id"], ["event_type", "game_id"]]),
    "clip_stats_assets": (SIDE + ["event_type", "kind"],
                          [["event_type", "game_id"], ["team", "game_id"], ["opponent", "game_id"]]),
}
DIM_TYPES = {"game_id": 64, "team": 16, "opponent": 16, "event_type": 64, "strength": 16, "player_id": 64, "kind": 16}
NULLABLE = {"opponent", "strength"}


def _short(table: str) -> str:
    return table.removeprefix("clip_stats_")


def _lookup_name(table: str, cols: list[str]) -> str:
    return f"ix_stats_{_short(table)}_{'_'.join(c.removesuffix('_id') for c in cols)}"


def upgrade() -> None:
    # IF [NOT] EXISTS: a database adopted at 0001 (made by create_all, see migrate.py) has the indexes
    # of the models that made it, which may already be these.
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="clips", schema=SCHEMA, if_exists=True)
    for name, cols in NEW_INDEXES.items():
        op.create_index(name, "clips", cols, schema=SCHEMA, if_not_exists=True)
    op.create_index("ix_clips_type_strength_game", "clips", ["event_type", sa.text("lower(strength)"), "game_id"],
                    schema=SCHEMA, postgresql_include=["strength"], if_not_exists=True)
    for table, (dims, lookups) in STATS.items():
        kinds = "kind" in dims
        measure_names = ["objects", "bytes"] if kinds else ["clips", "duration_s"]
        measures = (
            [sa.Column("objects", sa.Integer(), nullable=False), sa.Column("bytes", sa.BigInteger(), nullable=False)]
            if kinds else
            [sa.Column("clips", sa.Integer(), nullable=False), sa.Column("duration_s", sa.Float(), nullable=False)]
        )
        op.create_table(
            table,
            *(sa.Column(d, sa.String(length=DIM_TYPES[d]), nullable=d in NULLABLE) for d in dims),
            *measures,
            schema=SCHEMA,
        )
        # each index carries the other columns (PostgreSQL): a sum reads the index alone
        def carried(cols: list[str]) -> list[str]:
            return [c for c in dims + measure_names if c not in cols]

        op.create_index(f"ix_stats_{_short(table)}_by_game", table, dims, schema=SCHEMA,
                        postgresql_include=carried(dims))
        for cols in lookups:
            op.create_index(_lookup_name(table, cols), table, cols, schema=SCHEMA, postgresql_include=carried(cols))
        # Count what is already indexed (the same GROUP BY every partition write runs for its games).
        # strength lower-cased, as the read side's filter compares it
        group = ", ".join({"kind": "a.kind", "strength": "lower(c.strength)"}.get(d, f"c.{d}") for d in dims)
        if kinds:
            source = (f"SELECT {group}, count(*), coalesce(sum(a.bytes), 0) FROM {SCHEMA}.clips c "
                      f"JOIN {SCHEMA}.clip_assets a ON a.clip_id = c.clip_id GROUP BY {group}")
        else:
            source = f"SELECT {group}, count(*), coalesce(sum(c.duration_s), 0.0) FROM {SCHEMA}.clips c GROUP BY {group}"
        columns = ", ".join(dims + measure_names)
        op.execute(f"INSERT INTO {SCHEMA}.{table} ({columns}) {source}")


def downgrade() -> None:
    for table in STATS:  # their indexes go with them
        op.drop_table(table, schema=SCHEMA)
    for name in ["ix_clips_type_strength_game", *NEW_INDEXES]:
        op.drop_index(name, table_name="clips", schema=SCHEMA, if_exists=True)
    for name, cols in OLD_INDEXES.items():
        op.create_index(name, "clips", cols, schema=SCHEMA, if_not_exists=True)
