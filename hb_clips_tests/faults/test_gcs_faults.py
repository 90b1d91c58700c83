"""Fault 3 (issue 7): object-store faults against fake-gcs-server, with the
fault-injecting proxy (``servers/proxy.py``) in front of it or the server
stopped and restarted.

- A connection reset (TCP RST) in the middle of a multipart and of a resumable
  upload, and a request held longer than the client's timeout, are retried
  with backoff and the upload completes: the object is byte-identical
  (SHA-256) and has exactly one generation.
- The server is stopped in the middle of a partition's uploads and started
  again on the same port (filesystem backend, so its objects survive): the
  partition completes and equals the uninterrupted run.
- Every upload of one object fails for good: the partition fails with a
  message naming ``gs://bucket/key``, the index holds no row for that clip (no
  row at all: ``media_index`` does not run) and no row pointing at a missing
  object, every other object is whole; once the fault is gone a re-run equals
  the uninterrupted run.

The uninterrupted run (``conftest.py::reference``) uses the local store; its
object keys, sizes and SHA-256 and its index rows (asset URIs made relative)
are what a GCS run must end with. `pytest hb_clips_tests/faults/test_gcs_faults.py -s`
prints the figures.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from dagster import JobDefinition, RetryPolicy

from hb_clips_assets.storage.store import StoreError
from hb_clips_assets.storage.store import gcs as gcs_module
from hb_clips_assets.storage.store.gcs import GcsObjectStore, default_retry
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_tests.servers import unavailable
from hb_clips_tests.servers.fake_gcs import INSTALL_HINT, FakeGcsServer, fake_gcs, find_binary, gcs_bucket  # noqa: F401
from hb_clips_tests.servers.proxy import DROPPED, RESET, Fault, FaultProxy

from hb_clips_tests.faults.support import CLIP_COLUMNS, project_env, run_in_process, sql

PREFIX = "faults/v1"
KEY = "clips/20031/1/f3.mp4"
MiB = 1 << 20
EMPTY_DUMP = {"clips": [], "clip_assets": [], "clip_tags": []}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fast_retry(timeout_s: float = 10.0, seen: list | None = None):
    """The store's retry policy (its predicate) with short waits; ``seen`` collects the type of each
    error that was retried."""
    from google.api_core.retry import Retry

    base = default_retry(initial_s=0.05, maximum_s=0.5, timeout_s=timeout_s)
    if seen is None:
        return base
    return Retry(predicate=base._predicate, initial=base._initial, maximum=base._maximum,
                 multiplier=base._multiplier, timeout=base._timeout, on_error=lambda exc: seen.append(type(exc).__name__))


def uploads(proxy: FaultProxy):
    return [s for s in proxy.seen if s.path.startswith("/upload/")]


def check_stored(fake_gcs, bucket: str, data: bytes, obj, proxy: FaultProxy) -> str:
    """The object is byte-identical and exactly one generation of it was written: of every upload
    request that reached the server, one created it (the multipart POST or the last resumable PUT
    answered 200); any other was refused (412) or was a chunk (308) or the session's opening. fake-gcs-server keeps no old generations to list, so they are counted here."""
    blob = fake_gcs.client().bucket(bucket).get_blob(f"{PREFIX}/{KEY}")
    content = blob.download_as_bytes()
    assert (obj.bytes, obj.sha256) == (len(data), sha(data))
    assert sha(content) == sha(data) and blob.metadata["sha256"] == sha(data), "object not byte-identical"
    created = [u for u in uploads(proxy) if u.status in (200, 201)
               and not (u.method == "POST" and "uploadType=resumable" in u.path)]  # that one only opens a session
    assert len(created) == 1, f"expected exactly one generation written, got {created}"
    return sha(content)


# --- store level: resets and timeouts, retried and completed ---------------------------------------


@pytest.mark.parametrize("case", ["multipart", "resumable"])
def test_connection_reset_mid_upload_is_retried_and_completes(fake_gcs, gcs_bucket, tmp_path, case):  # noqa: F811
    """The proxy reads part of the upload's body, then closes the socket with
    SO_LINGER 0 (a TCP RST): twice for the one multipart POST (1 MiB), and for
    the second of five 2 MiB chunks of a 9 MiB resumable upload."""
    size = MiB + 4099 if case == "multipart" else 9 * MiB + 12345
    src = tmp_path / "c.mp4"
    data = os.urandom(size)
    src.write_bytes(data)
    puts = []

    def second_chunk(m, p):
        if m == "PUT" and p.startswith("/upload/"):
            puts.append(p)
            return len(puts) == 2
        return False

    fault = (Fault(lambda m, p: m == "POST" and "uploadType=multipart" in p, kind="reset", after_bytes=256 << 10, times=2)
             if case == "multipart" else Fault(second_chunk, kind="reset", after_bytes=MiB, times=1))
    retried: list[str] = []
    with FaultProxy(fake_gcs.url, [fault]) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, chunk_size=2 * MiB,
                               retry=fast_retry(seen=retried))
        obj = store.put_file(KEY, src, "video/mp4")
    ups = uploads(proxy)
    resets = [u for u in ups if u.status == RESET]
    assert fault.hits == len(resets) == (2 if case == "multipart" else 1)
    assert all(0 < u.body_bytes <= (256 << 10 if case == "multipart" else MiB) for u in resets)  # cut mid-body
    assert len(retried) >= len(resets) and all(r in ("ConnectionError",) for r in retried), retried
    if case == "multipart":
        assert [u.status for u in ups] == [RESET, RESET, 200]
    else:
        statuses = [u.status for u in ups if u.method == "PUT"]
        assert statuses == [308, RESET, 308, 308, 308, 200], statuses  # the reset chunk sent again, then the rest
    digest = check_stored(fake_gcs, gcs_bucket, data, obj, proxy)
    print(f"\nreset mid {case} upload ({size} bytes): {len(resets)} RST after "
          f"{[u.body_bytes for u in resets]} body bytes, {len(retried)} retries ({', '.join(retried)}), "
          f"object byte-identical (sha256 {digest[:12]}), 1 generation")


@pytest.mark.parametrize("case", ["multipart-late", "resumable-dropped"])
def test_request_held_past_the_client_timeout_is_retried_and_completes(fake_gcs, gcs_bucket, tmp_path, case):  # noqa: F811
    """The client's timeout is 1 s (``GcsObjectStore(timeout_s=1)``). The proxy
    holds the multipart POST 2.5 s and then forwards it anyway, so it lands
    after the retry did: its ``ifGenerationMatch=0`` makes it fail (412) and
    the object keeps one generation. In the resumable case the first chunk is
    held and the connection closed without an answer."""
    size = 300_000 if case.startswith("multipart") else 9 * MiB
    src = tmp_path / "c.mp4"
    data = os.urandom(size)
    src.write_bytes(data)
    if case == "multipart-late":
        fault = Fault(lambda m, p: m == "POST" and "uploadType=multipart" in p, kind="delay", delay_s=2.5, then="forward")
    else:
        fault = Fault(lambda m, p: m == "PUT" and p.startswith("/upload/"), kind="delay", delay_s=2.0, then="drop")
    retried: list[str] = []
    started = time.monotonic()
    with FaultProxy(fake_gcs.url, [fault]) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, chunk_size=4 * MiB,
                               retry=fast_retry(seen=retried), timeout_s=1.0)
        obj = store.put_file(KEY, src, "video/mp4")
        took = time.monotonic() - started
        held = proxy.wait_seen(lambda seen: any(s.fault == "delay" for s in seen), timeout=10)
    held = [s for s in held if s.fault == "delay"]
    assert fault.hits == 1 and len(held) == 1
    assert retried and all(r in ("ConnectionError", "ReadTimeout", "Timeout") for r in retried), retried
    assert 1.0 <= took < 2.5, f"the client should give up after its 1 s timeout, took {took:.2f} s"
    if case == "multipart-late":
        assert held[0].status == 412  # landed after the retry, refused by the generation precondition
    else:
        assert held[0].status == DROPPED
    digest = check_stored(fake_gcs, gcs_bucket, data, obj, proxy)
    print(f"\nrequest held past the 1 s timeout ({case}, {size} bytes): {len(retried)} retries ({', '.join(retried)}), "
          f"completed in {took:.2f} s; held request answered {held[0].status}; "
          f"object byte-identical (sha256 {digest[:12]}), 1 generation")


@pytest.mark.parametrize("kind", ["reset", "timeout"])
def test_a_reset_or_timeout_that_outlasts_the_retries_fails_naming_the_object(fake_gcs, gcs_bucket, payload_file, kind):  # noqa: F811
    match = lambda m, p: m == "POST" and p.startswith("/upload/")  # noqa: E731
    fault = (Fault(match, kind="reset", after_bytes=1000, times=10**6) if kind == "reset"
             else Fault(match, kind="delay", delay_s=0.6, then="drop", times=10**6))
    retried: list[str] = []
    with FaultProxy(fake_gcs.url, [fault]) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX,
                               retry=fast_retry(1.5, seen=retried), timeout_s=0.3)
        with pytest.raises(StoreError, match=f"cannot upload gs://{gcs_bucket}/{PREFIX}/{KEY}: still failing after retries") as info:
            store.put_file(KEY, payload_file, "video/mp4")
    assert fault.hits >= 3 and len(retried) >= 3
    assert fake_gcs.client().bucket(gcs_bucket).get_blob(f"{PREFIX}/{KEY}") is None
    assert not [u for u in uploads(proxy) if u.status in (200, 201, 308)]  # no byte of it reached the server
    print(f"\npersistent {kind}: {fault.hits} attempts, {len(retried)} retries, then: {str(info.value)[:160]}; 0 objects")


@pytest.fixture
def payload_file(tmp_path) -> Path:
    src = tmp_path / "p.mp4"
    src.write_bytes(os.urandom(200_000))
    return src


# --- pipeline level: a real materialization of the partition on GCS -------------------------------


@pytest.fixture
def gcs_retries(monkeypatch) -> list[str]:
    """The stores the pipeline opens retry with short waits (20 s in all, not 120 s); the retried errors."""
    seen: list[str] = []
    monkeypatch.setattr(gcs_module, "default_retry", lambda *a, **k: fast_retry(k.get("timeout_s", 20.0), seen))
    return seen


@pytest.fixture
def no_step_retries(monkeypatch):
    """Dagster's step retry policy off: what completes, the store's own retries completed."""
    monkeypatch.setattr(JobDefinition, "get_retry_policy_for_handle", lambda self, handle: None)


@pytest.fixture
def quick_step_retries(monkeypatch) -> list[float]:
    """The step retry policy's 3 retries without its waits (the delays it asked for are recorded)."""
    asked: list[float] = []
    real = RetryPolicy.calculate_delay

    def calculate_delay(self, attempt_num):
        asked.append(real(self, attempt_num))
        return 0.01

    monkeypatch.setattr(RetryPolicy, "calculate_delay", calculate_delay)
    return asked


def gcs_env(base: Path, data: Path, bucket: str, endpoint: str) -> dict[str, str]:
    return {**project_env(base, data), "HB_STORE_URL": f"gs://{bucket}/{PREFIX}", "HB_GCS_ENDPOINT": endpoint}


def gcs_snapshot(env: dict[str, str], client, bucket: str) -> dict:
    """As ``support.snapshot``, with the bucket's objects (key -> size, SHA-256 of the bytes read back)."""
    url, root = env["HB_MEDIA_DB_URL"], f"gs://{bucket}/{PREFIX}/"
    dump = {
        "clips": sorted(sql(url, f"select {', '.join(CLIP_COLUMNS)} from media.clips")),
        "clip_assets": sorted((c, k, key, uri.removeprefix(root), n, h, ct) for c, k, key, uri, n, h, ct in sql(
            url, "select clip_id, kind, object_key, uri, bytes, sha256, content_type from media.clip_assets")),
        "clip_tags": sorted(sql(url, "select clip_id, tag, value from media.clip_tags")),
    }
    objects = {}
    for blob in client.list_blobs(bucket, prefix=f"{PREFIX}/"):
        content = blob.download_as_bytes()
        objects[blob.name.removeprefix(f"{PREFIX}/")] = (len(content), sha(content))
    missing = [key for _, _, key, _, n, h, _ in dump["clip_assets"] if objects.get(key) != (n, h)]
    return {"dump": dump, "objects": dict(sorted(objects.items())), "rows_for_missing_objects": missing}


def step_failures(result) -> dict[str, str]:
    return {e.step_key: step_failure_message(e) for e in result.all_events if e.is_step_failure}


def test_server_stopped_mid_partition_and_restarted_the_partition_completes(
        fault_sample, reference, tmp_path, monkeypatch, gcs_retries, no_step_retries):
    """A fake-gcs-server of this test's own (filesystem backend: what it stored
    survives the restart) is stopped (SIGTERM) when the partition's 5th object
    upload starts, and started again on the same port 1 s later. The client
    talks to it directly, so it meets refused connections while it is down."""
    binary = find_binary()
    if binary is None:
        unavailable(INSTALL_HINT)  # a skip here, a failure under HB_REQUIRE_SERVERS=1
    server = FakeGcsServer(binary, tmp_path / "fake-gcs.log", backend="filesystem", root=tmp_path / "gcs-root")
    server.start()
    try:
        bucket = server.new_bucket()
        env = gcs_env(tmp_path, fault_sample, bucket, server.url)
        real_put = GcsObjectStore.put_file
        lock, state = threading.Lock(), {"puts": 0, "stored_at_stop": None, "down_s": None}

        def restart_after(stopped_at: float) -> None:
            time.sleep(1.0)
            server.start(port=server.port)
            state["down_s"] = time.monotonic() - stopped_at

        def put_file(self, key, path, content_type):
            with lock:
                state["puts"] += 1
                stop_now = state["puts"] == 5
                if stop_now:
                    state["stored_at_stop"] = sum(1 for p in (tmp_path / "gcs-root").rglob("*") if p.is_file())
                    server.stop()
                    threading.Thread(target=restart_after, args=(time.monotonic(),), daemon=True).start()
            return real_put(self, key, path, content_type)

        monkeypatch.setattr(GcsObjectStore, "put_file", put_file)
        result, meta = run_in_process(env, QUIET)
        assert result.success, step_failures(result)
        monkeypatch.setattr(GcsObjectStore, "put_file", real_put)
        assert state["down_s"] is not None and state["down_s"] >= 1.0, "the server was not restarted"
        refused = [r for r in gcs_retries if r == "ConnectionError"]
        assert refused, f"no request met the stopped server: {gcs_retries}"
        snap = gcs_snapshot(env, server.client(), bucket)
        assert snap["rows_for_missing_objects"] == []
        assert snap["dump"] == reference["dump"]
        assert snap["objects"] == reference["objects"]  # every object there, byte-identical
    finally:
        server.stop()
    print(f"\nserver stopped at the 5th of {len(reference['objects'])} uploads "
          f"({state['stored_at_stop']} files in its root), down {state['down_s']:.2f} s, restarted on port {server.port}; "
          f"{len(gcs_retries)} store retries ({len(refused)} ConnectionError), 0 step retries; "
          f"{len(snap['dump']['clips'])} rows and {len(snap['objects'])} objects equal to the reference; "
          f"rows for missing objects 0")


def test_an_upload_failing_past_the_retries_fails_the_partition_then_a_rerun_completes(
        fault_sample, reference, fake_gcs, gcs_bucket, tmp_path, gcs_retries, quick_step_retries):  # noqa: F811
    """Every upload of one clip's MP4 is answered 503 (the proxy matches its
    object name in the upload's body): the store retries it with backoff until
    its deadline (1.5 s here), then the partition fails naming
    ``gs://bucket/key``. No index row, every stored object whole. Without the
    fault, a re-run equals the uninterrupted run."""
    key = sorted(k for k in reference["objects"] if k.endswith(".mp4"))[0]
    name = f"{PREFIX}/{key}"
    fault = Fault(lambda m, p: m == "POST" and p.startswith("/upload/"), 503, times=10**6, body_contains=name.encode())
    gcs_retries.clear()

    with pytest.MonkeyPatch.context() as mp, FaultProxy(fake_gcs.url, [fault]) as proxy:
        mp.setattr(gcs_module, "default_retry", lambda *a, **k: fast_retry(1.5, gcs_retries))
        env = gcs_env(tmp_path, fault_sample, gcs_bucket, proxy.url)
        result, _ = run_in_process(env, QUIET)
        assert not result.success
        failed = step_failures(result)
        step_retries = [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
        executed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert set(failed) == {"clips"} and "media_index" not in executed, failed
    message = failed["clips"]
    assert f"gs://{gcs_bucket}/{name}" in message and "still failing after retries" in message, message
    # The store's retries are the retries: a StoreError is final for the step (failures.py lists it with
    # the input errors, Failure(allow_retries=False)); were the step policy to apply, its 3 retries (waits
    # skipped here) would each meet the same fault.
    assert step_retries in ([], ["clips"] * 3), step_retries
    assert fault.hits >= 3 * (1 + len(step_retries))  # every attempt of the step retried the upload
    snap = gcs_snapshot(env, fake_gcs.client(), gcs_bucket)
    assert snap["dump"] == EMPTY_DUMP and snap["rows_for_missing_objects"] == []
    assert key not in snap["objects"]
    # The objects that are there are whole: byte-identical to the uninterrupted run's. (The store refusing
    # a write stops the partition's cutting - cutting.py - so the clips not yet cut are not there.)
    assert snap["objects"] and all(reference["objects"][k] == v for k, v in snap["objects"].items())

    result, meta = run_in_process(env | {"HB_GCS_ENDPOINT": fake_gcs.url}, QUIET)  # the fault is gone
    assert result.success, step_failures(result)
    after = gcs_snapshot(env, fake_gcs.client(), gcs_bucket)
    assert after["dump"] == reference["dump"] and after["objects"] == reference["objects"]
    assert after["rows_for_missing_objects"] == []
    print(f"\none object failing for good: {fault.hits} uploads of gs://{gcs_bucket}/{name} answered 503 over "
          f"{1 + len(step_retries)} step attempt(s) ({len(gcs_retries)} store retries in all); failed with: {message[:300]}; "
          f"rows 0, rows for missing objects 0, {len(snap['objects'])} of {len(reference['objects'])} objects stored, "
          f"all byte-identical; re-run without the fault: {meta['clips']['clips_cut']} cut, "
          f"{meta['clips']['clips_cached']} cached, {len(after['dump']['clips'])} rows and {len(after['objects'])} objects "
          f"equal to the reference")
