"""Partitions: one per game (added as games arrive) times one per period."""
from dagster import DynamicPartitionsDefinition, MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from hb_clips_assets.domain.contract import PERIODS

game_partitions = DynamicPartitionsDefinition(name="game")
period_partitions = StaticPartitionsDefinition(list(PERIODS))
game_period_partitions = MultiPartitionsDefinition({"game": game_partitions, "period": period_partitions})


def game_period_key(game_id: str, period: str) -> MultiPartitionKey:
    return MultiPartitionKey({"game": game_id, "period": period})


def split_game_period(key) -> tuple[str, str]:
    """(game_id, period) of a multi-partition key."""
    dims = key.keys_by_dimension
    return dims["game"], dims["period"]
