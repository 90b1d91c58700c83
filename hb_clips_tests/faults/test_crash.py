"""Fault 1 (issue 7): the materialization process is SIGKILLed mid-partition -
while clips are being cut, and while the index rows are being written - and a
re-run then produces exactly the index and objects of an uninterrupted run."""
from __future__ import annotations

from pathlib import Path


from .support import Child, check_consistent, project_env, run_in_process, snapshot, sql, store_objects, temp_leftovers


def test_kills_while_cutting_and_inside_the_index_transaction_then_rerun_matches_uninterrupted(
        fault_sample, reference, tmp_path):
    env = project_env(tmp_path, fault_sample)
    store = Path(env["HB_STORE_URL"])
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
    assert sql(env["HB_MEDIA_DB_URL"], "pragma media.integrity_check") == [("ok",)]

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
    print(f"\nkills (point, objects at kill, temp files at kill): {kills}; "
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
