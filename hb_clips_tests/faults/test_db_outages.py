"""Fault 4 (issue 7), beyond the index transaction: the PostgreSQL server of
the media index goes away at other points of a run, on a private throwaway
cluster (``servers/private_postgres.py``; the shared server is never stopped).

- Restarted while clips are being cut: the ``clips`` step read the index at
  its start, so the engine's pool holds a connection the restart killed. The
  run completes with no step retry (``media_index`` gets a fresh connection:
  ``pool_pre_ping`` in ``core/index/db.py``) and equals the uninterrupted run.
- Down longer than the step retry window: ``media_index`` fails on every
  attempt (the policy's 3 retries, their 3/9/21 s waits skipped here), the run
  fails with a message naming the database problem and never the password,
  the store holds whole objects only and the index no row; once the server is
  back a re-run completes without cutting any clip again.

`pytest hb_clips_tests/faults/test_db_outages.py -s` prints the figures.
"""
from __future__ import annotations

import time

import pytest
from dagster import RetryPolicy

from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_tests.servers.private_postgres import private_postgres  # noqa: F401  (fixture)

from hb_clips_tests.faults.support import Child, check_consistent, project_env, run_in_process, snapshot, sql, store_objects

IDLE_IN_TRANSACTION = ("select count(*) from pg_stat_activity where datname = current_database() "
                       "and state like 'idle in transaction%%' and pid <> pg_backend_pid()")
OTHER_SESSIONS = ("select count(*) from pg_stat_activity where datname = current_database() "
                  "and backend_type = 'client backend' and pid <> pg_backend_pid()")
EMPTY_DUMP = {"clips": [], "clip_assets": [], "clip_tags": []}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PASSWORD = "Outage-pw-5c1e9b"  # trust authentication ignores it; it must never show in a message


def test_postgres_restarted_while_clips_are_cut_the_run_completes_without_a_retry(
        private_postgres, fault_sample, reference, tmp_path):  # noqa: F811
    """The run, in its own OS process, is held once the store has 8 of its 22 objects (every cutting thread
    waits); the server is stopped (``pg_ctl stop -m fast``), left down 1 s, started again; the run goes on."""
    url = private_postgres.create_database("faults")
    env = project_env(tmp_path, fault_sample, url)
    store = tmp_path / "store"
    total = len(reference["objects"])
    children = tmp_path / "children"
    mark, resume = children / "stored", children / "resume"
    with Child(env, children, "restart-while-cutting", HB_FAULT_STALL="stored", HB_FAULT_AFTER_PUTS="8",
               HB_FAULT_MARK=str(mark), HB_FAULT_RESUME=str(resume), HB_FAULT_SLEEP_S="50") as child:
        child.wait_for(mark.exists, what="8 objects in the store")
        stored_at_stop = len(store_objects(store))
        assert 0 < stored_at_stop < total, stored_at_stop
        # The clips step read the index at its start; that connection went back to the engine's pool.
        pooled = sql(url, OTHER_SESSIONS)[0][0]
        assert pooled >= 1, "the worker holds no connection: the restart would test nothing"
        assert sql(url, IDLE_IN_TRANSACTION) == [(0,)]
        started = time.monotonic()
        private_postgres.stop("fast")
        assert not private_postgres.is_running()
        time.sleep(1.0)
        private_postgres.start()
        down_s = time.monotonic() - started
        assert sql(url, OTHER_SESSIONS) == [(0,)], "the worker's pooled connection should be gone with the server"
        resume.touch()
        out = child.result(timeout=60)
    log = private_postgres.log.read_text(errors="replace")
    assert "received fast shutdown request" in log and log.count("database system is ready to accept connections") == 2

    # No step failed nor was retried: media_index met the dead pooled connection and replaced it.
    assert out["success"], out
    assert out["retried"] == [] and out["failed"] == [], out
    after = check_consistent(env)
    assert after["dump"] == reference["dump"] and after["objects"] == reference["objects"] and after["temp"] == []
    assert sql(url, IDLE_IN_TRANSACTION) == [(0,)]

    result, meta = run_in_process(env, QUIET)  # a re-run changes nothing
    assert result.success
    assert meta["clips"]["clips_cut"] == 0 and meta["media_index"]["rows_inserted"] == 0
    assert snapshot(env) == after
    print(f"\nrestart while cutting: {stored_at_stop} of {total} objects stored, {pooled} pooled connection(s) of "
          f"the worker killed; server down and up again in {down_s:.2f} s; step retries 0, step failures 0; "
          f"rows {len(after['dump']['clips'])} and objects {len(after['objects'])} equal to the reference; "
          f"idle in transaction 0; re-run: 0 cut, 0 inserted")


@pytest.fixture
def quick_step_retries(monkeypatch) -> list[float]:
    """The step retry policy's 3 retries without their waits (the delays it asked for are recorded)."""
    asked: list[float] = []
    real = RetryPolicy.calculate_delay

    def calculate_delay(self, attempt_num):
        asked.append(real(self, attempt_num))
        return 0.01

    monkeypatch.setattr(RetryPolicy, "calculate_delay", calculate_delay)
    return asked


def error_chain(error) -> str:
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause or error.context
    return "\n".join(messages)


def test_postgres_down_longer_than_the_step_retries_fails_clearly_then_a_rerun_completes_without_cutting(
        private_postgres, fault_sample, reference, tmp_path, monkeypatch, quick_step_retries):  # noqa: F811
    """The server is stopped when ``media_index`` starts (``clips`` has stored every object) and stays down
    until the run has given up: every attempt of the step meets it down."""
    url = private_postgres.create_database("faults").replace("//postgres@", f"//postgres:{PASSWORD}@")
    env = project_env(tmp_path, fault_sample, url)
    real_write = MediaIndex.write_partition
    state = {"calls": 0, "stopped_at": None}

    def write_partition(self, *args, **kwargs):
        state["calls"] += 1
        if state["stopped_at"] is None:  # the first attempt of media_index: the server goes
            private_postgres.stop("fast")
            state["stopped_at"] = time.monotonic()
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(MediaIndex, "write_partition", write_partition)
    result, meta = run_in_process(env, QUIET)
    outage_s = time.monotonic() - state["stopped_at"]
    monkeypatch.setattr(MediaIndex, "write_partition", real_write)
    assert not private_postgres.is_running()

    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in retries] == ["media_index"] * 3, [e.step_key for e in retries]
    assert [e.step_key for e in failures] == ["media_index"]
    # The first attempt reached the write (and stopped the server there); its 3 retries, all while the server
    # was down, failed one step earlier, reading the period's indexed clips for the removal guard.
    assert state["calls"] == 1
    # The waits before the 3 retries: 3, 9, 21 s (+-3 s each), the window the outage outlasted. (Dagster also
    # works out a 4th delay when the last attempt fails, with no retry left to wait for.)
    asked = quick_step_retries[:3]
    assert len(asked) == 3 and sum(asked) >= 24, quick_step_retries
    # What `hb-clips run` prints for the partition (runner.py: "<step>: <reason>").
    cli_message = f"{failures[0].step_key}: {step_failure_message(failures[0])}"
    assert "OperationalError" in cli_message and "Connection refused" in cli_message, cli_message
    assert f"127.0.0.1\", port {private_postgres.port}" in cli_message, cli_message
    assert "Traceback" not in cli_message and 'File "' not in cli_message, cli_message
    every_error = "\n".join(error_chain(e.event_specific_data.error) for e in retries + failures)
    every_error += "\n" + "\n".join(str(e.message) for e in result.all_events)
    assert PASSWORD not in every_error, "the database password leaked into an error or event"
    assert meta["clips"]["clips_cut"] == len(reference["dump"]["clips"]) and "media_index" not in meta

    private_postgres.start()
    down = snapshot(env)
    assert down["dump"] == EMPTY_DUMP, "no row of the failed step"
    assert down["objects"] == reference["objects"] and down["temp"] == []  # whole objects, as the reference's
    assert sql(url, IDLE_IN_TRANSACTION) == [(0,)]

    result, meta = run_in_process(env, QUIET)  # the server is back
    assert result.success, [step_failure_message(e) for e in result.all_events if e.is_step_failure]
    assert meta["clips"]["clips_cut"] == 0 and meta["clips"]["clips_cached"] == len(reference["dump"]["clips"])
    assert meta["media_index"]["rows_inserted"] == len(reference["dump"]["clips"])
    after = check_consistent(env)
    assert after["dump"] == reference["dump"] and after["objects"] == reference["objects"] and after["temp"] == []
    assert sql(url, IDLE_IN_TRANSACTION) == [(0,)]
    first_line = cli_message.splitlines()[0]
    print(f"\noutage longer than the step retries: media_index attempts {state['calls']} (1 + {len(retries)} retries; "
          f"waits asked {', '.join(f'{d:.1f}' for d in asked)} s = {sum(asked):.0f} s, skipped here), all 4 while the server "
          f"was down ({outage_s:.1f} s with the waits skipped, restarted only after the run gave up); the run failed with: {first_line[:200]!r}; password shown 0 times; "
          f"rows 0, objects {len(down['objects'])} of {len(reference['objects'])}, all byte-identical to the reference, "
          f"temporary files 0; re-run after the restart: {meta['clips']['clips_cut']} cut, "
          f"{meta['clips']['clips_cached']} cached, {meta['media_index']['rows_inserted']} inserted, "
          f"rows and objects equal to the reference")
