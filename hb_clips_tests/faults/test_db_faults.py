"""Fault 4 (issue 7): the writer's PostgreSQL connection is dropped
(``pg_terminate_backend``) in the middle of ``MediaIndex.write_partition`` -
clip and tag rows written, asset rows not yet. The transaction rolls back (no
partial rows), the failed attempt is retried by the project's retry policy on
a fresh connection, and the retry completes with the full partition. The server is
never stopped: it is shared."""
from __future__ import annotations

import time

from sqlalchemy import text

from hb_clips_assets.core.index.models import ClipAsset
from hb_clips_assets.core.index.repository import MediaIndex
from hb_clips_assets.failures import step_failure_message
from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)

from .support import GAME, PERIOD, project_env, run_in_process, snapshot, sql

def error_chain(error) -> str:
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause or error.context
    return "\n".join(messages)


PARTITION_ROWS = "select count(*) from media.clips where game_id = :g and period = :p"


def test_connection_terminated_inside_write_partition_rolls_back_and_the_retry_completes(
        postgres_server, fault_sample, reference, tmp_path, monkeypatch):  # noqa: F811
    with postgres_server.database("faults") as url:
        env = project_env(tmp_path, fault_sample, url)
        writes: list[dict] = []  # one per write_partition transaction
        real_lock, real_insert = MediaIndex._lock_game, MediaIndex._insert

        def _lock_game(self, conn, game_id):
            real_lock(self, conn, game_id)  # the transaction's first statement
            writes.append({"pid": conn.execute(text("select pg_backend_pid()")).scalar_one(),
                           "committed_rows_at_start": sql(url, PARTITION_ROWS, g=GAME, p=PERIOD)[0][0]})

        def _insert(self, table):
            current = writes[-1]
            if table is ClipAsset.__table__ and len(writes) == 1:  # the first attempt only
                current["terminated"] = sql(url, "select pg_terminate_backend(:pid)", pid=current["pid"])[0][0]
            return real_insert(self, table)

        monkeypatch.setattr(MediaIndex, "_lock_game", _lock_game)
        monkeypatch.setattr(MediaIndex, "_insert", _insert)

        # The project's retry policy is on (execute_in_process always enables retries): the first
        # attempt of media_index loses its connection mid-transaction, fails, and the retry completes.
        started = time.monotonic()
        result, meta = run_in_process(env)
        seconds = time.monotonic() - started
        assert result.success, [step_failure_message(e) for e in result.all_events if e.is_step_failure]
        retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
        assert [e.step_key for e in retries] == ["media_index"]
        message = error_chain(retries[0].event_specific_data.error)  # what the failed attempt logged
        assert "terminating connection due to administrator command" in message, message
        assert len(writes) == 2 and writes[0]["terminated"] is True and "terminated" not in writes[1]
        assert writes[1]["pid"] != writes[0]["pid"]  # a fresh connection
        assert writes[1]["committed_rows_at_start"] == 0  # the killed transaction left no partial row
        assert meta["clips"]["clips_cut"] == len(reference["dump"]["clips"]) and meta["media_index"]["rows_inserted"] == len(reference["dump"]["clips"])
        after = snapshot(env)
        ids = lambda dump: [(r[0], r[1], r[2], r[3]) for r in dump["clips"]]  # noqa: E731
        assert ids(after["dump"]) == ids(reference["dump"])
        assert after["dump"]["clip_assets"] == reference["dump"]["clip_assets"]
        assert after["dump"]["clip_tags"] == reference["dump"]["clip_tags"]
        assert after["objects"] == reference["objects"] and after["temp"] == []
        stuck = sql(url, "select count(*) from pg_stat_activity where datname = current_database() "
                         "and state like 'idle in transaction%%' and pid <> pg_backend_pid()")
        assert stuck == [(0,)]
        print(f"\nwrites {writes}; retries {len(retries)}; rows {len(after['dump']['clips'])}; run {seconds:.1f} s")
