"""Fault 2 (issue 7), different partitions of one game: two OS processes
materialize periods 1 and 2 of the same game at once on PostgreSQL, one store.
Their index writes meet: the first holds its transaction open (and with it the
game's advisory lock) until the test sees the second waiting on that lock;
then both go on. Both end cleanly, no deadlock, one row per clip, one object
per asset, and each period's rows are exactly an uninterrupted run's.

(Two processes on the *same* partition: ``hb_clips_tests/core/index/
test_postgres.py::test_two_processes_materialize_the_same_partition_at_once``.)"""
from __future__ import annotations

import time

from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)

from hb_clips_tests.faults.support import GAME, Child, check_consistent, project_env, run_in_process, snapshot, sql

WAITING_ON_GAME_LOCK = ("select count(*) from pg_stat_activity where datname = current_database() "
                        "and wait_event_type = 'Lock' and wait_event = 'advisory'")


def partition(dump: dict, period: str) -> dict:
    ids = {r[0] for r in dump["clips"] if r[2] == period}
    return {table: [r for r in rows if r[0] in ids] for table, rows in dump.items()}


def test_two_processes_materialize_two_periods_of_one_game_at_once(
        postgres_server, fault_sample, reference, tmp_path):  # noqa: F811
    with postgres_server.database("periods") as url:
        env = project_env(tmp_path, fault_sample, url)
        children = tmp_path / "children"
        marks = {p: children / f"in-transaction-{p}" for p in ("1", "2")}
        resumes = {p: children / f"resume-{p}" for p in ("1", "2")}
        started = time.monotonic()
        with Child(env, children, "period-1", period="1", HB_FAULT_STALL="index", HB_FAULT_MARK=str(marks["1"]),
                   HB_FAULT_RESUME=str(resumes["1"]), HB_FAULT_SLEEP_S="50") as one, \
                Child(env, children, "period-2", period="2", HB_FAULT_STALL="index", HB_FAULT_MARK=str(marks["2"]),
                      HB_FAULT_RESUME=str(resumes["2"]), HB_FAULT_SLEEP_S="50") as two:
            workers = {"1": one, "2": two}
            deadline = time.monotonic() + 60
            while not any(m.exists() for m in marks.values()):  # the first into its index transaction
                for c in workers.values():
                    assert c.proc.poll() is None, f"a worker exited early: {c.log.name}"
                assert time.monotonic() < deadline, "no worker reached its index transaction"
                time.sleep(0.005)
            first = next(p for p, m in marks.items() if m.exists())
            second = "2" if first == "1" else "1"
            # The second reaches its own write and waits on the game's lock, its transaction holding nothing else.
            workers[second].wait_for(lambda: sql(url, WAITING_ON_GAME_LOCK) == [(1,)],
                                     what="the second writer to wait on the game lock")
            assert not marks[second].exists()
            assert sql(url, "select count(*) from media.clips") == [(0,)]  # the first's rows are uncommitted
            resumes[first].touch()
            workers[second].wait_for(marks[second].exists, what="the second writer to get the lock")
            resumes[second].touch()
            outs = {p: c.result(timeout=60) for p, c in workers.items()}
        seconds = time.monotonic() - started

        assert all(o["success"] and o["retried"] == [] and o["failed"] == [] for o in outs.values()), outs
        after = check_consistent(env)
        clips = after["dump"]["clips"]
        per_period = {p: sum(r[2] == p for r in clips) for p in ("1", "2")}
        assert sql(url, "select count(*), count(distinct clip_id), count(distinct (game_id, event_id)) "
                        "from media.clips") == [(len(clips),) * 3]  # one row per clip and per event
        assert all(per_period.values()) and set(r[1] for r in clips) == {GAME}
        assert len(after["objects"]) == len(after["dump"]["clip_assets"]) == 4 * len(clips)  # one object per asset (MP4, thumbnail, HLS x2)
        assert after["temp"] == []
        assert partition(after["dump"], "1") == reference["dump"]  # period 1: exactly the uninterrupted run

        # Re-runs of both periods, one after the other, change nothing.
        for p in ("1", "2"):
            result, meta = run_in_process(env, period=p)
            assert result.success
            assert meta["clips"]["clips_cut"] == 0 and meta["media_index"]["rows_inserted"] == 0
        assert snapshot(env) == after
        print(f"\ntwo periods of game {GAME} at once on PostgreSQL: period {first} wrote first, period {second} "
              f"waited on the game lock; rows {per_period} (duplicates 0), objects {len(after['objects'])} "
              f"(= 2 x rows), retries 0, deadlocks 0; both runs {seconds:.1f} s")
