"""Fault 4 (issue 7): the writer's PostgreSQL connection is dropped
(``pg_terminate_backend``) in the middle of ``MediaIndex.write_partition`` -
clip and tag rows written, asset rows not yet - or the PostgreSQL server itself
is stopped and started again at that point. The transaction rolls back (no
partial rows), the failed attempt is retried by the project's retry policy on
a fresh connection, and the retry completes with the full partition.

The shared server (``postgres_server``) is never stopped: the restart tests run
against a private throwaway cluster (``private_postgres``)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from hb_clips_assets.storage.index.models import ClipAsset
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)
from hb_clips_tests.servers.private_postgres import private_postgres  # noqa: F401  (fixture)

from hb_clips_tests.faults.support import GAME, PERIOD, Child, check_consistent, project_env, run_in_process, snapshot, sql

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
        # The server's words, or the client's when the terminated backend's notice is lost in a batched
        # executemany: either way the connection was taken away mid-transaction, not a SQL error.
        assert ("terminating connection due to administrator command" in message
                or "server closed the connection unexpectedly" in message), message
        assert "OperationalError" in message, message
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


IDLE_IN_TRANSACTION = ("select count(*) from pg_stat_activity where datname = current_database() "
                       "and state like 'idle in transaction%%' and pid <> pg_backend_pid()")
SHUTDOWN_LOG = {"fast": "received fast shutdown request", "immediate": "received immediate shutdown request"}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restarted_inside_write_partition_rolls_back_and_the_run_completes(
        private_postgres, fault_sample, reference, tmp_path, mode):  # noqa: F811
    """The server is stopped (``pg_ctl stop -m fast``: sessions terminated, clean shutdown; ``-m immediate``:
    every server process killed, crash recovery at the next start) while a materialization, in its own OS
    process, holds the index transaction open; then started again, and the run goes on."""
    url = private_postgres.create_database("faults")
    env = project_env(tmp_path, fault_sample, url)
    children = tmp_path / "children"
    mark, resume = children / "in-transaction", children / "resume"
    with Child(env, children, f"restart-{mode}", HB_FAULT_STALL="index", HB_FAULT_MARK=str(mark),
               HB_FAULT_RESUME=str(resume), HB_FAULT_SLEEP_S="50") as child:
        child.wait_for(mark.exists, what="the index transaction")
        # The worker's transaction is open (clip and tag rows written, uncommitted) when the server goes.
        assert sql(url, IDLE_IN_TRANSACTION) == [(1,)]
        started = time.monotonic()
        private_postgres.stop(mode)
        assert not private_postgres.is_running()
        private_postgres.start()
        restart_s = time.monotonic() - started
        during = check_consistent(env)
        assert during["dump"] == {"clips": [], "clip_assets": [], "clip_tags": []}, "the open transaction rolled back"
        assert set(during["objects"]) == set(reference["objects"])  # every clip was cut before the index step
        resume.touch()  # the worker goes on, on a connection the server no longer has
        out = child.result(timeout=60)
    log = private_postgres.log.read_text(errors="replace")
    assert SHUTDOWN_LOG[mode] in log and log.count("database system is ready to accept connections") == 2
    if mode == "immediate":
        assert "automatic recovery in progress" in log

    # The attempt that lost its connection failed and was retried by the project's policy; the retry completed.
    assert out["success"], out
    assert out["retried"] == ["media_index"] and out["failed"] == [], out
    assert "OperationalError" in out["errors"][0], out["errors"]
    after = check_consistent(env)
    assert after["dump"] == reference["dump"] and after["objects"] == reference["objects"] and after["temp"] == []
    assert sql(url, IDLE_IN_TRANSACTION) == [(0,)]

    # A re-run changes nothing: no clip cut again, no row inserted, the same index and objects.
    result, meta = run_in_process(env)
    assert result.success
    assert meta["clips"]["clips_cut"] == 0 and meta["media_index"]["rows_inserted"] == 0
    assert snapshot(env) == after
    first_error = next(line for line in out["errors"][0].splitlines() if "OperationalError" in line)
    print(f"\nrestart ({mode}) inside the index transaction: server down and up again in {restart_s:.2f} s; "
          f"rows visible during the outage 0; retries {len(out['retried'])} ({first_error.strip()[:160]}); "
          f"rows {len(after['dump']['clips'])} (reference {len(reference['dump']['clips'])}), "
          f"objects {len(after['objects'])}, duplicates 0; re-run: 0 cut, 0 inserted")
