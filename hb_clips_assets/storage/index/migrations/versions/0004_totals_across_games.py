"""media.clip_totals_{type,player,assets}: the per-game counts summed over every game.

A team's stats overview without a game filter sums these (its opponents x
event types: about a thousand rows) instead of its games' per-game rows,
which grow with every season kept. Every partition write adds the difference
its games made; filled here from the per-game counts of revision 0003. A
missing opponent or strength is '' (the columns are the primary key).

Revision ID: 0004_totals_across_games
Revises: 0003_query_indexes_and_stats
Create Date: 2026-12-02
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004_totals_across_games"
down_revision: Union[str, Sequence[str], None] = "0003_query_indexes_and_stats"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCHEMA = "media"
# table: (per-game table it sums, key columns, lookup column)
TOTALS = {
    "clip_totals_type": ("clip_stats_type", ["team", "opponent", "event_type", "strength"], "event_type"),
    "clip_totals_player": ("clip_stats_player", ["team", "opponent", "player_id"], "player_id"),
    "clip_totals_assets": ("clip_stats_assets", ["team", "opponent", "event_type", "kind"], "event_type"),
}
LENGTHS = {"team": 16, "opponent": 16, "event_type": 64, "strength": 16, "player_id": 64, "kind": 16}
NULLABLE = {"opponent", "strength"}  # in the per-game tables; '' in the totals


def upgrade() -> None:
    for table, (source, dims, lookup) in TOTALS.items():
        measures = ["objects", "bytes"] if "kind" in dims else ["clips", "duration_s"]
        types = {"clips": sa.Integer(), "duration_s": sa.Float(), "objects": sa.Integer(), "bytes": sa.BigInteger()}
        op.create_table(
            table,
            *(sa.Column(d, sa.String(length=LENGTHS[d]), nullable=False) for d in dims),
            *(sa.Column(m, types[m], nullable=False) for m in measures),
            sa.PrimaryKeyConstraint(*dims),
            schema=SCHEMA,
        )
        op.create_index(f"ix_{table.removeprefix('clip_')}_{lookup.removesuffix('_id')}", table, [lookup],
                        schema=SCHEMA, postgresql_include=[c for c in dims + measures if c != lookup])
        keys = ", ".join(f"coalesce({d}, '')" if d in NULLABLE else d for d in dims)
        sums = ", ".join(f"sum({m})" for m in measures)
        op.execute(f"INSERT INTO {SCHEMA}.{table} ({', '.join(dims + measures)}) "
                   f"SELECT {keys}, {sums} FROM {SCHEMA}.{source} GROUP BY {keys}")


def downgrade() -> None:
    for table in TOTALS:  # the lookup index goes with its table
        op.drop_table(table, schema=SCHEMA)
