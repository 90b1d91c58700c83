"""Fault 3 (issue 7), the reads after the uploads: a real materialization of
20031/1 on GCS (fake-gcs-server through the fault proxy, ``servers/proxy.py``)
whose reads made once every object is uploaded are answered 503 - the
``clips`` asset's thumbnail preview (``store.get_bytes``), the checks'
downloads of MP4s (``clip_frame_counts``, ``clip_first_frames``) and their
metadata reads (``store.stat``: ``objects_match_index``).

- A few 503s: the store's retries carry every read, the run succeeds, every
  check passes, index and objects equal the uninterrupted run.
- 503 for good: every check whose read outlasts the retries fails naming
  ``gs://bucket/key``; the preview is left out of the metadata with a note
  naming the object (the partition is not failed for it); the index and the
  objects are those of the uninterrupted run - a failed read changes nothing -
  and a re-run without the fault cuts nothing, inserts nothing, and passes.

The faults are armed once the partition's last upload returned, so the reads
the uploads themselves make (the existence check before each) are untouched.
`pytest hb_clips_tests/faults/test_gcs_read_faults.py -s` prints the figures.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest

from hb_clips_assets.storage.store import gcs as gcs_module
from hb_clips_assets.storage.store.gcs import GcsObjectStore
from hb_clips_tests.servers.fake_gcs import fake_gcs, gcs_bucket  # noqa: F401  (fixtures)
from hb_clips_tests.servers.proxy import Fault, FaultProxy

from hb_clips_tests.faults.support import CLIP_COLUMNS, run_in_process
from hb_clips_tests.faults.test_gcs_faults import PREFIX, QUIET, fast_retry, gcs_env, gcs_snapshot, step_failures

# What an uninterrupted run's checks give: rejected_row_ratio warns (the sample data sets rows aside on purpose).
PASSING = {"clip_coverage": True, "objects_match_index": True, "clip_frame_counts": True, "clip_first_frames": True,
           "rejected_row_ratio": False, "clips_all_cut": True}


class Armed(threading.Event):
    """Set once ``total`` uploads have returned (the partition's 22 objects): from then on every request
    is a read made after the uploads."""

    total = 0
    uploads = 0


@pytest.fixture
def armed(monkeypatch) -> Armed:
    event, lock = Armed(), threading.Lock()
    real_put = GcsObjectStore.put_file

    def put_file(self, key, path, content_type):
        stored = real_put(self, key, path, content_type)
        with lock:
            event.uploads += 1
            if event.uploads == event.total:
                event.set()
        return stored

    monkeypatch.setattr(GcsObjectStore, "put_file", put_file)
    return event


def read_faults(event: threading.Event, first_clip: str, thumb: str, times: int) -> dict[str, Fault]:
    """503 for ``times`` reads each, after the uploads: any thumbnail download (only the preview downloads
    a thumbnail), the download of the MP4 of ``first_clip`` (the checks' frame counts and first frames:
    the clip with the lowest start frame is in the decoded sample), the metadata read of one thumbnail
    (only ``objects_match_index`` stats thumbnails once they are uploaded)."""
    def after(test):
        return lambda m, p: event.is_set() and m == "GET" and test(p)

    return {
        "preview download": Fault(after(lambda p: p.startswith("/download/") and ".jpg?" in p), 503, times=times),
        "check download": Fault(after(lambda p: p.startswith("/download/") and f"%2F{first_clip}.mp4?" in p),
                                503, times=times),
        "check metadata read": Fault(after(lambda p: p.startswith("/storage/") and f"%2F{thumb}.jpg?" in p),
                                     503, times=times),
    }


def pick_objects(reference: dict) -> tuple[str, str]:
    """The clip with the lowest start frame (its MP4 is read by both frame checks) and another clip (its
    thumbnail is read by objects_match_index)."""
    rows = reference["dump"]["clips"]
    cid, start = CLIP_COLUMNS.index("clip_id"), CLIP_COLUMNS.index("start_frame")
    ordered = sorted(rows, key=lambda r: r[start])
    return ordered[0][cid], ordered[-1][cid]


def evaluations(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_reads_after_the_uploads_answered_503_a_few_times_are_retried_and_the_run_succeeds(
        fault_sample, reference, fake_gcs, gcs_bucket, tmp_path, monkeypatch, armed):  # noqa: F811
    armed.total = len(reference["objects"])
    retried: list[str] = []
    monkeypatch.setattr(gcs_module, "default_retry", lambda *a, **k: fast_retry(20.0, retried))
    first_clip, other = pick_objects(reference)
    faults = read_faults(armed, first_clip, other, times=2)
    with FaultProxy(fake_gcs.url, list(faults.values())) as proxy:
        env = gcs_env(tmp_path, fault_sample, gcs_bucket, proxy.url)
        result, meta = run_in_process(env, QUIET)
    assert result.success, step_failures(result)
    assert armed.is_set()
    assert {name: f.hits for name, f in faults.items()} == {name: 2 for name in faults}
    assert len(retried) >= 6, retried  # each 503 was retried by the store
    assert evaluations(result) == PASSING
    assert meta["clips"]["thumbnail_preview"], "the preview is there, read on the 3rd try"
    assert [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []
    snap = gcs_snapshot(env, fake_gcs.client(), gcs_bucket)
    assert snap["dump"] == reference["dump"] and snap["objects"] == reference["objects"]
    assert snap["rows_for_missing_objects"] == []
    after_uploads = [s for s in proxy.seen if s.fault == "status"]
    print("\nreads after the uploads answered 503 twice each: "
          + ", ".join(f"{name} {f.hits}" for name, f in faults.items())
          + f" ({len(after_uploads)} 503s, {len(retried)} store retries: {', '.join(sorted(set(retried)))}); "
          f"0 step retries, run succeeded, {len(evaluations(result))} checks evaluated as in an uninterrupted run, preview shown; "
          f"{len(snap['dump']['clips'])} rows and {len(snap['objects'])} objects equal to the reference")


def test_reads_after_the_uploads_failing_past_the_retries_fail_the_checks_naming_the_object_and_change_nothing(
        fault_sample, reference, fake_gcs, gcs_bucket, tmp_path, monkeypatch, armed):  # noqa: F811
    armed.total = len(reference["objects"])
    retried: list[str] = []
    monkeypatch.setattr(gcs_module, "default_retry", lambda *a, **k: fast_retry(1.5, retried))
    first_clip, other = pick_objects(reference)
    faults = read_faults(armed, first_clip, other, times=10**6)
    mp4 = f"gs://{gcs_bucket}/{PREFIX}/clips/20031/1/{first_clip}.mp4"
    jpg = f"gs://{gcs_bucket}/{PREFIX}/thumbnails/20031/1/{other}.jpg"
    copies_before = set(Path(tempfile.gettempdir()).glob("hb-check-*"))  # verify.local_object's downloads
    with FaultProxy(fake_gcs.url, list(faults.values())) as proxy:
        env = gcs_env(tmp_path, fault_sample, gcs_bucket, proxy.url)
        result, meta = run_in_process(env, QUIET)
    assert set(Path(tempfile.gettempdir()).glob("hb-check-*")) == copies_before, "a failed read left a local copy"
    assert not result.success
    failed = step_failures(result)
    # The three checks whose reads meet the fault fail, each naming the object it could not read; nothing else.
    assert set(failed) == {"clips_clip_frame_counts", "clips_clip_first_frames", "media_index_objects_match_index"}, failed
    for step in ("clips_clip_frame_counts", "clips_clip_first_frames"):
        assert f"cannot download {mp4}: still failing after retries" in failed[step], failed[step]
    assert f"cannot read metadata of {jpg}: still failing after retries" in failed["media_index_objects_match_index"]
    assert all("503" in m and "Traceback" not in m for m in failed.values()), failed
    assert all(f.hits >= 3 for f in faults.values()), {n: f.hits for n, f in faults.items()}
    # The assets themselves materialized: the preview is left out with a note naming the thumbnail.
    assert set(meta) >= {"clips", "media_index"}
    assert "thumbnail_preview" not in meta["clips"]
    note = meta["clips"]["thumbnail_preview_error"]
    assert note.startswith(f"cannot download gs://{gcs_bucket}/{PREFIX}/thumbnails/20031/1/") and "503" in note, note
    # the checks whose reads were not faulted evaluated as in an uninterrupted run
    assert evaluations(result) == {"clip_coverage": True, "rejected_row_ratio": False, "clips_all_cut": True}
    # Nothing changed by the failed reads: the index and the objects are the uninterrupted run's.
    snap = gcs_snapshot(env, fake_gcs.client(), gcs_bucket)
    assert snap["dump"] == reference["dump"] and snap["objects"] == reference["objects"]
    assert snap["rows_for_missing_objects"] == []

    armed.clear()
    armed.total = -1  # the fault is gone
    result, meta2 = run_in_process(env | {"HB_GCS_ENDPOINT": fake_gcs.url}, QUIET)
    assert result.success, step_failures(result)
    assert meta2["clips"]["clips_cut"] == 0 and meta2["media_index"]["rows_inserted"] == 0
    assert meta2["media_index"]["stale_objects_removed"] == 0
    assert evaluations(result) == PASSING
    assert gcs_snapshot(env, fake_gcs.client(), gcs_bucket) == snap
    print("\nreads after the uploads answered 503 for good (store deadline 1.5 s): "
          + ", ".join(f"{name} {f.hits}" for name, f in faults.items())
          + f" attempts; {len(failed)} checks failed: "
          + "; ".join(f"{step}: {msg.split('StoreError: ')[-1][:140]}" for step, msg in sorted(failed.items()))
          + f"; clips and media_index materialized (preview left out: {note[:110]}); "
          f"rows {len(snap['dump']['clips'])} and objects {len(snap['objects'])} equal to the reference "
          f"(0 changed, 0 removed); re-run without the fault: 0 cut, 0 inserted, 0 removed, checks as in an uninterrupted run")
