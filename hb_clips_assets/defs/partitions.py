"""Partitions: one per game (added as games arrive) times one per period."""
from dagster import DynamicPartitionsDefinition, MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from hb_clips_assets.domain.contract import PERIODS

game_partitions = DynamicPartitionsDefinition(name="game")
period_partitions = StaticPartitionsDefinition(list(PERIODS))
game_period_partitions = MultiPartitionsDefinition({"game": game_partitions, "period": period_partitions})


def game_period_key(game_id: str, period: str) -> MultiPartitionKey:
    return MultiPartitionKey({"game": game_id, "period": period})


def split_game_period(key) -> tuple[str, str]:
    """(game_id, period) of a game x period partition key.

    The key is a MultiPartitionKey only when the run also carries the per-dimension
    tags (``dagster/partition/game``, ``.../period``), as runs from a sensor's
    RunRequest or ``execute_in_process`` do. A run launched with the single
    ``dagster/partition`` tag (the GraphQL client, ``dagster asset materialize
    --partition``) gives the plain ``"GAME|PERIOD"`` string, whose
    parts are in the dimensions' name order (game, then period).
    """
    if not isinstance(key, MultiPartitionKey):  # a MultiPartitionKey is a str too: test it first
        parts = key.split("|") if isinstance(key, str) else []
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"partition key {key!r}: expected GAME|PERIOD")
        key = game_period_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return dims["game"], dims["period"]
