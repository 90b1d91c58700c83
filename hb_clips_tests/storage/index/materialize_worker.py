"""One OS process materializing one game period through the project's job, for
the concurrency tests (not a test module itself).

    python -m hb_clips_tests.storage.index.materialize_worker GAME PERIOD OUT_JSON SYNC_DIR PARTIES

Settings come from the environment exactly as in production (HB_DATA_ROOT,
HB_STORE_URL, HB_MEDIA_DB_URL, HB_WORK_DIR, HB_CUT_WORKERS). The workers meet
at two file barriers in SYNC_DIR: before the run starts, and again right
before the index write, so that both the cutting and the database writes of
the processes overlap. The outcome (success, metadata, the index write's
start and end times) goes to OUT_JSON.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path


def barrier(sync_dir: Path, name: str, parties: int, timeout: float = 90.0) -> bool:
    (sync_dir / f"{name}.{os.getpid()}").touch()
    deadline = time.monotonic() + timeout
    while len(list(sync_dir.glob(f"{name}.*"))) < parties:
        if time.monotonic() > deadline:
            return False  # a partner died: go on alone, the test sees its failure
        time.sleep(0.005)
    return True


def main(game: str, period: str, out_json: str, sync_dir: str, parties: str) -> int:
    sync, n = Path(sync_dir), int(parties)
    out: dict = {"pid": os.getpid(), "writes": []}
    try:
        from dagster import DagsterInstance

        from hb_clips_assets.storage.index.repository import MediaIndex
        from hb_clips_assets.definitions import clip_game_period_job, defs
        from hb_clips_assets.defs.partitions import game_partitions, game_period_key

        real_write = MediaIndex.write_partition

        def write_partition(self, *args, **kwargs):
            out["writes"].append({"barrier_met": barrier(sync, "write", n)})
            started = time.time()
            try:
                return real_write(self, *args, **kwargs)
            finally:
                out["writes"][-1].update(start=started, end=time.time())

        MediaIndex.write_partition = write_partition
        instance = DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(game_partitions.name, [game])
        job = defs.resolve_job_def(clip_game_period_job.name)
        out["start_barrier_met"] = barrier(sync, "start", n)
        result = job.execute_in_process(
            partition_key=game_period_key(game, period), instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        out["success"] = result.success
        out["metadata"] = {
            e.event_specific_data.materialization.asset_key.to_user_string(): {
                k: getattr(v, "value", v) for k, v in e.event_specific_data.materialization.metadata.items()
                if isinstance(getattr(v, "value", v), (int, float, str))
            }
            for e in result.get_asset_materialization_events()
        }
        out["failures"] = [str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure]
    except BaseException:  # noqa: BLE001 - reported to the test
        out["success"] = False
        out["exception"] = traceback.format_exc()
    Path(out_json).write_text(json.dumps(out, default=str))
    return 0 if out.get("success") else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
