"""The game's extracted metrics, validated, for one period."""
from pathlib import Path

from dagster import AssetExecutionContext, MetadataValue, Output, asset

from hb_clips_assets.domain.contract import MetricEvent, Rejection, read_metrics
from hb_clips_assets.domain.csvfile import summarize_rejections, write_rejections
from hb_clips_assets.defs.failures import input_errors_fail_cleanly
from hb_clips_assets.defs.metadata import COLUMN_SCHEMA, REJECTED_ROWS_WITHOUT_PERIOD, record_schema, rejection_metadata
from hb_clips_assets.defs.partitions import game_period_partitions, split_game_period
from hb_clips_assets.defs.resources import ClipSettingsResource, DataRootResource
from hb_clips_assets.pipeline.frames import records_to_frame
from hb_clips_assets.settings import or_setting

REJECTED_ROWS_FILE = "rejected_rows_file"  # metadata: the CSV of every row set aside (the table shows the first)


def report_rejections(context: AssetExecutionContext, work_dir: str, rejected: list[Rejection]) -> dict:
    """Log the partition's rejected rows as one line (count and the first few), write all of them to
    ``<work>/rejected/<asset>/<game>/<period>.csv``, and return the metadata naming that file (the
    count and the table of the first rows are :func:`rejection_metadata`'s).

    One log event per row took 17 minutes for 100,000 bad rows, and buried the rest of the run's log.
    Without rejected rows, a file left by an earlier run of the partition is removed: the file is
    always this materialization's.
    """
    game_id, period = split_game_period(context.partition_key)
    asset_name = "_".join(context.asset_key.path)
    path = Path(or_setting(work_dir, "HB_WORK_DIR")).resolve() / "rejected" / asset_name / game_id / f"{period}.csv"
    if not rejected:
        path.unlink(missing_ok=True)
        return {}
    write_rejections(path, rejected)
    context.log.warning(f"{summarize_rejections(rejected)}; all of them in {path}")
    return {REJECTED_ROWS_FILE: MetadataValue.path(str(path))}


@asset(
    partitions_def=game_period_partitions,
    io_manager_key="table_io_manager",
    group_name="clips",
    kinds={"csv", "parquet"},
    metadata={COLUMN_SCHEMA: record_schema(MetricEvent)},
    description="Valid metric events of one game period (metrics/<game_id>.csv, read as UTF-8, UTF-16 or Windows-1252, "
    "comma, semicolon or tab separated); bad rows set aside with file, line and reason, all of them in "
    "<work>/rejected/metrics/<game>/<period>.csv.",
)
def metrics(context: AssetExecutionContext, data_root: DataRootResource, clip_settings: ClipSettingsResource):
    with input_errors_fail_cleanly():
        game_id, period = split_game_period(context.partition_key)
        path = data_root.layout.metrics(game_id)
        parsed = read_metrics(path, game_id).for_period(period)  # a unreadable file raises and fails the partition
        context.log.info(
            f"{path} ({parsed.encoding}, {parsed.delimiter}-separated): {len(parsed.events)} valid events in period "
            f"{period}, {len(parsed.rejected)} rows set aside"
        )
        return Output(
            records_to_frame(parsed.events, MetricEvent),
            metadata={
                "source": str(path),
                "encoding": parsed.encoding,
                "delimiter": parsed.delimiter,
                "events": len(parsed.events),
                **rejection_metadata(parsed.rejected),
                **report_rejections(context, clip_settings.work_dir, parsed.rejected),
                # rows with no readable period are listed in every period of the game
                REJECTED_ROWS_WITHOUT_PERIOD: sum(r.period is None for r in parsed.rejected),
            },
        )
