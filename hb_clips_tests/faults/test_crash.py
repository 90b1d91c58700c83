"""Fault 1 (issue 7): the materialization process is SIGKILLed mid-partition -
while clips are being cut, while the index rows are being written, and after
the index transaction committed but before the stale objects it replaced are
deleted - and a re-run then produces exactly the index and objects of an
uninterrupted run. The kills run on the SQLite default and on PostgreSQL."""
from __future__ import annotations

import time
from pathlib import Path

from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)

from hb_clips_tests.faults.support import Child, check_consistent, project_env, run_in_process, snapshot, sql, store_objects, temp_leftovers

PG_IDLE_IN_TRANSACTION = ("select count(*) from pg_stat_activity where datname = current_database() "
                          "and state like 'idle in transaction%%' and pid <> pg_backend_pid()")
PG_ADVISORY_LOCKS = ("select count(*) from pg_locks l join pg_database d on d.oid = l.database "
                     "where l.locktype = 'advisory' and d.datname = current_database()")


def database_after_kill_ok(url: str) -> bool:
    """The killed writer left the database whole: SQLite's integrity check; on PostgreSQL, the server
    dropped the dead client's session, so no transaction stays open and no advisory lock stays held."""
    if url.startswith("sqlite"):
        return sql(url, "pragma media.integrity_check") == [("ok",)]
    deadline = time.monotonic() + 10  # the server notices the closed socket on its next read
    while sql(url, PG_IDLE_IN_TRANSACTION) != [(0,)] or sql(url, PG_ADVISORY_LOCKS) != [(0,)]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_kills_while_cutting_and_inside_the_index_transaction_then_rerun_matches_uninterrupted(
        fault_sample, reference, tmp_path):
    kill_at_each_point_then_rerun(project_env(tmp_path, fault_sample), reference, tmp_path)


def test_postgres_kills_while_cutting_and_inside_the_index_transaction_then_rerun_matches_uninterrupted(
        postgres_server, fault_sample, reference, tmp_path):  # noqa: F811
    with postgres_server.database("crash") as url:
        kill_at_each_point_then_rerun(project_env(tmp_path, fault_sample, url), reference, tmp_path)


def kill_at_each_point_then_rerun(env: dict[str, str], reference: dict, tmp_path: Path) -> None:
    store = Path(env["HB_STORE_URL"])
    backend = "sqlite" if env["HB_MEDIA_DB_URL"].startswith("sqlite") else "postgresql"
    total = len(reference["objects"])  # 2 per clip (mp4 + thumbnail)
    kills = []

    # Kill 1: once the store holds 2 objects (the first clips are being cut).
    # Kill 2: a second run (resuming: stored clips are not cut again) killed at about half.
    for name, threshold in (("cutting-early", 2), ("cutting-half", total // 2)):
        with Child(env, tmp_path / "children", name) as child:
            child.wait_for(lambda: len(store_objects(store)) >= threshold, what=f"{threshold} objects in the store")
            child.kill()
        snap = check_consistent(env)
        kills.append((name, len(snap["objects"]), snap["temp"]))
        assert 0 < len(snap["objects"]) < total, f"{name}: the kill did not land mid-cutting"
        assert snap["dump"]["clips"] == [], "no index row before the index step"

    # Kill 3: inside write_partition's transaction, clip and tag rows written, asset rows not yet.
    mark = tmp_path / "children" / "in-transaction"
    with Child(env, tmp_path / "children", "index", HB_FAULT_STALL="index", HB_FAULT_MARK=str(mark)) as child:
        child.wait_for(mark.exists, what="the index transaction")
        child.kill()
    snap = check_consistent(env)
    kills.append(("index-transaction", len(snap["objects"]), snap["temp"]))
    assert snap["dump"] == {"clips": [], "clip_assets": [], "clip_tags": []}, "the killed transaction rolled back"
    assert set(snap["objects"]) == set(reference["objects"]), "every clip was cut before the index step"
    assert database_after_kill_ok(env["HB_MEDIA_DB_URL"])

    # The re-run, in this process: nothing is cut again, and the result is the uninterrupted run's.
    result, meta = run_in_process(env)
    assert result.success
    assert meta["clips"]["clips_cut"] == 0 and meta["clips"]["clips_cached"] == len(reference["dump"]["clips"])
    after = snapshot(env)
    assert after["dump"] == reference["dump"]
    assert after["objects"] == reference["objects"]  # same keys, sizes and SHA-256
    check_consistent(env)
    # No temporary file in the store but any a kill left mid-write (the next test: swept by the re-run).
    assert set(after["temp"]) <= {t for _, _, temps in kills for t in temps}
    # Cuts go to HB_WORK_DIR/scratch, never the system temp folder; the re-run swept what the kills left.
    scratch = Path(env["HB_WORK_DIR"]) / "scratch"
    assert not [p for p in (tmp_path / "children" / "tmp").iterdir() if p.name.startswith("hb-cut-")]
    assert scratch.is_dir() and list(scratch.iterdir()) == [], "scratch folders of killed cuts were swept"
    print(f"\n{backend}: kills (point, objects at kill, temp files at kill): {kills}; "
          f"clips {len(after['dump']['clips'])}, objects {len(after['objects'])}")


def test_kill_mid_object_write_leaves_no_orphan_after_rerun(fault_sample, reference, tmp_path):
    env = project_env(tmp_path, fault_sample)
    store = Path(env["HB_STORE_URL"])
    mark = tmp_path / "children" / "mid-put"
    with Child(env, tmp_path / "children", "put", HB_FAULT_STALL="put", HB_FAULT_MARK=str(mark)) as child:
        child.wait_for(mark.exists, what="half an object written")
        child.kill()
    snap = check_consistent(env)
    orphans = temp_leftovers(store)
    assert orphans and all(Path(o).name.endswith(".tmp") for o in orphans)  # the fault landed mid-write
    assert not any(n == 0 for n, _ in snap["objects"].values())

    result, _ = run_in_process(env)
    assert result.success
    after = snapshot(env)
    assert after["dump"] == reference["dump"] and after["objects"] == reference["objects"]
    assert temp_leftovers(store) == [], f"orphan temporary files left in the store after the re-run: {orphans}"


# An earlier version of the partition: other clip windows, so other frame ranges, clip ids, rows and objects.
OLD_WINDOWS = {"resources": {"clip_settings": {"config": {"pre_s": 1.0, "post_s": 1.0}}}}


def test_kill_after_the_index_commit_before_stale_objects_are_deleted_then_rerun_removes_them(
        fault_sample, reference, tmp_path):
    env = project_env(tmp_path, fault_sample)
    result, _ = run_in_process(env, run_config=OLD_WINDOWS)
    assert result.success
    old = check_consistent(env)
    assert len(old["dump"]["clips"]) == len(reference["dump"]["clips"])
    stale = set(old["objects"]) - set(reference["objects"])  # objects of clips the current windows do not make
    assert len(stale) == 4 * len({r[0] for r in old["dump"]["clips"]} - {r[0] for r in reference["dump"]["clips"]})
    assert stale

    # The run with the current windows commits its index write, then is killed before deleting stale objects.
    mark = tmp_path / "children" / "committed"
    with Child(env, tmp_path / "children", "committed", HB_FAULT_STALL="committed", HB_FAULT_MARK=str(mark)) as child:
        child.wait_for(mark.exists, what="the index commit")
        child.kill()
    killed = check_consistent(env)  # no row points at a missing object
    assert killed["dump"] == reference["dump"], "the new version is committed whole and the old rows are gone"
    assert set(killed["objects"]) == set(reference["objects"]) | set(old["objects"]), "killed before any deletion"

    result, meta = run_in_process(env)
    assert result.success
    assert meta["clips"]["clips_cut"] == 0 and meta["media_index"]["rows_inserted"] == 0
    after = check_consistent(env)
    assert after["dump"] == reference["dump"] and after["temp"] == []
    assert all(after["objects"].get(k) == v for k, v in reference["objects"].items())
    left = sorted(set(after["objects"]) - set(reference["objects"]))
    assert set(left) <= stale
    print(f"\nkilled after the index commit: {len(stale)} stale objects at the kill, rows "
          f"{len(killed['dump']['clips'])} = reference, dangling 0; after the re-run: "
          f"stale_objects_removed {meta['media_index']['stale_objects_removed']}, objects left that no row "
          f"names {len(left)}")
    assert not left, f"{len(left)} objects of the replaced version left in the store after the re-run, e.g. {left[:2]}"
