"""The game's extracted metrics, validated, for one period."""
from dagster import AssetExecutionContext, Output, asset

from hb_clips_assets.domain.contract import read_metrics
from hb_clips_assets.pipeline.tables import events_to_table
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import rejection_metadata
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import DataRootResource


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"csv", "parquet"},
    description="Valid metric events of one game period (metrics/<game_id>.csv); bad rows set aside with file, line and reason.",
)
def metrics(context: AssetExecutionContext, data_root: DataRootResource):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        path = data_root.metrics_path(game_id)
        parsed = read_metrics(path, game_id).for_period(period)  # a unreadable file raises and fails the partition
        for rejection in parsed.rejected:
            context.log.warning(f"rejected {rejection}")
        context.log.info(f"{path}: {len(parsed.events)} valid events in period {period}, {len(parsed.rejected)} rows set aside")
        return Output(
            events_to_table(parsed.events),
            metadata={
                "source": str(path),
                "events": len(parsed.events),
                **rejection_metadata(parsed.rejected),
                # rows with no readable period are listed in every period of the game
                "rejected_rows_without_period": sum(r.period is None for r in parsed.rejected),
            },
        )
