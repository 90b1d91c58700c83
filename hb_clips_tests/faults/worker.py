"""One OS process materializing one game period through the project's job,
for the crash tests (not a test module itself).

    python -m hb_clips_tests.faults.worker GAME PERIOD OUT_JSON

Settings come from the environment as in production (HB_DATA_ROOT,
HB_STORE_URL, HB_MEDIA_DB_URL, HB_WORK_DIR, HB_CUT_WORKERS). Fault hooks, also
from the environment:

- ``HB_FAULT_STALL=index``: inside ``MediaIndex.write_partition``'s
  transaction, after the clip and tag rows are written and before the asset
  rows, touch ``$HB_FAULT_MARK`` and sleep (``HB_FAULT_SLEEP_S``, default 60 s).
- ``HB_FAULT_STALL=put``: inside ``LocalObjectStore.put_file``, after half of
  the first object is written to its temporary file, touch the mark and sleep.
- ``HB_FAULT_STALL=committed``: right after ``MediaIndex.write_partition``
  returns (its transaction committed, stale rows gone) and before the
  ``media_index`` asset deletes the stale objects it returned, touch the mark
  and sleep.
- ``HB_FAULT_STALL=stored``: inside ``LocalObjectStore.put_file``, once the
  ``HB_FAULT_AFTER_PUTS``-th object (default 8) is stored under its final
  name, touch the mark and sleep - holding a lock every ``put_file`` of the
  process takes, so the store holds exactly that many objects until it goes on.

The process stalls once (a retried step does not stall again). The parent
SIGKILLs the process while it sleeps - or, with ``HB_FAULT_RESUME=PATH``, does
something else (restarts the database) and creates PATH to let it go on.
The result (success, and the steps that failed or were retried, with their
errors) is written to OUT_JSON.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace


def install_hooks() -> None:
    stall = os.environ.get("HB_FAULT_STALL", "")
    mark = Path(os.environ.get("HB_FAULT_MARK", "/nonexistent/mark"))
    sleep_s = float(os.environ.get("HB_FAULT_SLEEP_S", "60"))
    resume = os.environ.get("HB_FAULT_RESUME")
    parked: list[bool] = []

    def park() -> None:
        if parked:  # once per process: a retry of the step runs through
            return
        parked.append(True)
        mark.touch()
        deadline = time.monotonic() + sleep_s
        while time.monotonic() < deadline:  # killed here, or let go by the resume file
            if resume and Path(resume).exists():
                return
            time.sleep(0.01)

    if stall == "index":
        from hb_clips_assets.storage.index import repository
        from hb_clips_assets.storage.index.models import ClipAsset

        real_insert = repository.MediaIndex._insert

        def _insert(self, table):
            if table is ClipAsset.__table__:
                park()  # clips and tags rows are written, uncommitted
            return real_insert(self, table)

        repository.MediaIndex._insert = _insert
    elif stall == "put":
        import shutil

        from hb_clips_assets.storage.store import local

        def copyfileobj(src, dst, length=0):
            data = src.read()
            dst.write(data[: len(data) // 2])
            dst.flush()
            park()  # half an object in its temporary file
            dst.write(data[len(data) // 2:])

        local.shutil = SimpleNamespace(**{**vars(shutil), "copyfileobj": copyfileobj})
    elif stall == "committed":
        from hb_clips_assets.storage.index import repository

        real_write = repository.MediaIndex.write_partition

        def write_partition(self, *args, **kwargs):
            result = real_write(self, *args, **kwargs)  # committed when it returns
            park()  # the stale objects it returned are not deleted yet
            return result

        repository.MediaIndex.write_partition = write_partition
    elif stall == "stored":
        import threading

        from hb_clips_assets.storage.store import local

        after = int(os.environ.get("HB_FAULT_AFTER_PUTS", "8"))
        real_put = local.LocalObjectStore.put_file
        lock, stored = threading.Lock(), [0]

        def put_file(self, key, path, content_type):
            with lock:  # the other cutting threads wait here while this one is parked
                result = real_put(self, key, path, content_type)
                stored[0] += 1
                if stored[0] == after:
                    park()  # `after` objects stored, the rest not yet
                return result

        local.LocalObjectStore.put_file = put_file
    elif stall:
        raise ValueError(f"unknown HB_FAULT_STALL={stall!r}")


def main(game: str, period: str, out_json: str) -> int:
    out: dict = {"pid": os.getpid()}
    try:
        from dagster import DagsterInstance

        from hb_clips_assets.definitions import clip_game_period_job, defs
        from hb_clips_assets.defs.partitions import game_partitions, game_period_key

        install_hooks()
        instance = DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(game_partitions.name, [game])
        result = defs.resolve_job_def(clip_game_period_job.name).execute_in_process(
            partition_key=game_period_key(game, period), instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        out["success"] = result.success
        out["retried"] = [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
        out["failed"] = [e.step_key for e in result.all_events if e.is_step_failure]
        out["errors"] = [_error_chain(e.event_specific_data.error) for e in result.all_events
                         if e.event_type_value in ("STEP_UP_FOR_RETRY", "STEP_FAILURE")
                         and getattr(e.event_specific_data, "error", None) is not None]
    except BaseException:  # noqa: BLE001 - reported to the test
        out["success"] = False
        out["exception"] = traceback.format_exc()
    Path(out_json).write_text(json.dumps(out, default=str))
    return 0 if out.get("success") else 1


def _error_chain(error) -> str:
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause or error.context
    return "\n".join(messages)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
