"""The game's extracted metrics, validated, for one period."""
from dagster import AssetExecutionContext, Output, asset

from hb_clips_assets.domain.contract import MetricEvent, read_metrics
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import COLUMN_SCHEMA, REJECTED_ROWS_WITHOUT_PERIOD, record_schema, rejection_metadata
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import DataRootResource
from hb_clips_assets.pipeline.frames import records_to_frame


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"csv", "parquet"},
    metadata={COLUMN_SCHEMA: record_schema(MetricEvent)},
    description="Valid metric events of one game period (metrics/<game_id>.csv); bad rows set aside with file, line and reason.",
)
def metrics(context: AssetExecutionContext, data_root: DataRootResource):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        path = data_root.layout.metrics(game_id)
        parsed = read_metrics(path, game_id).for_period(period)  # a unreadable file raises and fails the partition
        for rejection in parsed.rejected:
            context.log.warning(f"rejected {rejection}")
        context.log.info(f"{path}: {len(parsed.events)} valid events in period {period}, {len(parsed.rejected)} rows set aside")
        return Output(
            records_to_frame(parsed.events, MetricEvent),
            metadata={
                "source": str(path),
                "events": len(parsed.events),
                **rejection_metadata(parsed.rejected),
                # rows with no readable period are listed in every period of the game
                REJECTED_ROWS_WITHOUT_PERIOD: sum(r.period is None for r in parsed.rejected),
            },
        )
