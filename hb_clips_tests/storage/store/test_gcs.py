"""The GCS object store against a real GCS-compatible server (fake-gcs-server).

What the server holds is read back with a separate client or over plain
HTTP, never only through the store under test.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import os
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hb_clips_assets.pipeline.cutting import produce_clips
from hb_clips_assets.domain.identity import source_fingerprint
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.records import Segment
from hb_clips_assets.storage.store import ObjectNotFound, StoredObject, StoreError, open_store
from hb_clips_assets.storage.store.gcs import IMMUTABLE_CACHE_CONTROL, GcsObjectStore, default_retry
from hb_clips_assets.storage.store.signing import SigningError, UrlSigner, verify_v4_signed_url
from hb_clips_assets.video.probe import probe_video
from hb_clips_tests.servers.proxy import Fault, FaultProxy

KEY = "clips/20031/1/abc123.mp4"
THUMB = "thumbnails/20031/1/abc123.jpg"
PREFIX = "prod/v1"
MiB = 1 << 20


def fast_retry(timeout_s: float = 10.0):
    return default_retry(initial_s=0.02, maximum_s=0.2, timeout_s=timeout_s)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def payload(tmp_path) -> Path:
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 4099 + b"\x00tail")  # ~1 MiB, odd size, NULs and high bytes
    return src


@pytest.fixture
def signer(sa_key) -> UrlSigner:
    return UrlSigner.from_service_account_info(sa_key.info, expiry_s=600)


@pytest.fixture
def store(fake_gcs, gcs_bucket, signer) -> GcsObjectStore:
    return open_store(f"gs://{gcs_bucket}/{PREFIX}", client=fake_gcs.client(), signer=signer, retry=fast_retry())


def raw_blob(fake_gcs, bucket: str, key: str):
    """The object as the server has it, through a client of its own."""
    return fake_gcs.client().bucket(bucket).get_blob(f"{PREFIX}/{key}")


def upload_requests(proxy: FaultProxy):
    return [s for s in proxy.seen if s.path.startswith("/upload/")]


def object_requests(proxy: FaultProxy):
    """Requests about objects: without the bucket-metadata GET that
    google-cloud-storage 3.x sends once per client and bucket in a background
    thread (for its OpenTelemetry attributes)."""
    return [s for s in proxy.seen if "/o/" in s.path or "/o?" in s.path]


def test_put_stat_get_delete_round_trip(store, fake_gcs, gcs_bucket, payload):
    data = payload.read_bytes()
    assert store.stat(KEY) is None
    obj = store.put_file(KEY, payload, "video/mp4")
    assert obj == StoredObject(KEY, f"gs://{gcs_bucket}/{PREFIX}/{KEY}", len(data), sha(data), "video/mp4")
    assert store.uri(KEY) == obj.uri
    assert store.stat(KEY) == obj
    assert store.get_bytes(KEY) == data
    blob = raw_blob(fake_gcs, gcs_bucket, KEY)
    assert blob.download_as_bytes() == data
    assert blob.size == len(data)
    assert blob.metadata == {"sha256": sha(data)}
    store.delete(KEY)
    assert store.stat(KEY) is None
    assert raw_blob(fake_gcs, gcs_bucket, KEY) is None
    store.delete(KEY)  # idempotent
    with pytest.raises(ObjectNotFound, match=f"gs://{gcs_bucket}/{PREFIX}/{KEY}"):
        store.get_bytes(KEY)
    with pytest.raises(FileNotFoundError):  # as the local store
        store.get_bytes(KEY)


def test_empty_object_and_bucket_root(fake_gcs, gcs_bucket, tmp_path):
    store = open_store(f"gs://{gcs_bucket}", client=fake_gcs.client(), retry=fast_retry())
    src = tmp_path / "empty.jpg"
    src.write_bytes(b"")
    obj = store.put_file("thumbnails/x.jpg", src, "image/jpeg")
    assert (obj.uri, obj.bytes, obj.sha256) == (f"gs://{gcs_bucket}/thumbnails/x.jpg", 0, sha(b""))
    assert fake_gcs.client().bucket(gcs_bucket).get_blob("thumbnails/x.jpg").size == 0
    assert store.get_bytes("thumbnails/x.jpg") == b""


def test_content_type_and_cache_headers_as_stored(store, fake_gcs, gcs_bucket, tmp_path):
    mp4, jpg = tmp_path / "c.mp4", tmp_path / "t.jpg"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(3000))
    jpg.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(500))
    store.put_file(KEY, mp4, "video/mp4")
    store.put_file(THUMB, jpg, "image/jpeg")
    for key, path, ctype in ((KEY, mp4, "video/mp4"), (THUMB, jpg, "image/jpeg")):
        blob = raw_blob(fake_gcs, gcs_bucket, key)
        assert blob.content_type == ctype
        assert blob.cache_control == IMMUTABLE_CACHE_CONTROL == "public, max-age=31536000, immutable"
        assert blob.metadata["sha256"] == sha(path.read_bytes())
        assert store.stat(key).content_type == ctype
        # and served with that type over plain HTTP
        with urllib.request.urlopen(f"{fake_gcs.url}/{gcs_bucket}/{PREFIX}/{key}") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == ctype
            assert resp.read() == path.read_bytes()


def test_small_upload_is_one_multipart_request(fake_gcs, gcs_bucket, payload):
    with FaultProxy(fake_gcs.url) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, retry=fast_retry())
        store.put_file(KEY, payload, "video/mp4")
    ups = upload_requests(proxy)
    assert [(u.method, u.status) for u in ups] == [("POST", 200)]
    assert "uploadType=multipart" in ups[0].path and "ifGenerationMatch=0" in ups[0].path


def test_upload_over_8_mib_is_resumable_in_chunks_and_verified(fake_gcs, gcs_bucket, tmp_path):
    big = tmp_path / "big.mp4"
    data = os.urandom(9 * MiB + 12345)
    big.write_bytes(data)
    with FaultProxy(fake_gcs.url) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, chunk_size=2 * MiB, retry=fast_retry())
        obj = store.put_file(KEY, big, "video/mp4")
    assert (obj.bytes, obj.sha256) == (len(data), sha(data))
    ups = upload_requests(proxy)
    assert ups[0].method == "POST" and "uploadType=resumable" in ups[0].path and "ifGenerationMatch=0" in ups[0].path
    puts = [u for u in ups if u.method == "PUT"]
    assert len(puts) == 5  # 4 chunks of 2 MiB and the rest
    assert [u.body_bytes for u in puts] == [2 * MiB] * 4 + [len(data) - 8 * MiB]
    assert [u.status for u in puts] == [308] * 4 + [200]
    blob = raw_blob(fake_gcs, gcs_bucket, KEY)
    assert blob.size == len(data)
    assert blob.metadata["sha256"] == sha(data)
    assert blob.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert sha(blob.download_as_bytes()) == sha(data)
    assert store.stat(KEY) == obj


def test_second_put_of_same_content_uploads_nothing(store, fake_gcs, gcs_bucket, payload, signer):
    first = store.put_file(KEY, payload, "video/mp4")
    before = raw_blob(fake_gcs, gcs_bucket, KEY)
    with FaultProxy(fake_gcs.url) as proxy:
        again = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, signer, retry=fast_retry())
        second = again.put_file(KEY, payload, "video/mp4")
    assert second == first
    assert upload_requests(proxy) == []
    assert [(s.method, s.status) for s in object_requests(proxy)] == [("GET", 200)]  # one metadata read
    after = raw_blob(fake_gcs, gcs_bucket, KEY)
    assert (after.generation, after.metageneration, after.updated) == (before.generation, before.metageneration, before.updated)


def test_same_content_with_other_headers_is_patched_not_uploaded(store, fake_gcs, gcs_bucket, payload):
    store.put_file(KEY, payload, "application/octet-stream")
    before = raw_blob(fake_gcs, gcs_bucket, KEY)
    store.put_file(KEY, payload, "video/mp4")
    after = raw_blob(fake_gcs, gcs_bucket, KEY)
    assert after.generation == before.generation  # same bytes: not uploaded again
    assert after.content_type == "video/mp4"
    assert after.cache_control == IMMUTABLE_CACHE_CONTROL


def test_changed_content_replaces_the_object(store, fake_gcs, gcs_bucket, payload, tmp_path):
    store.put_file(KEY, payload, "video/mp4")
    before = raw_blob(fake_gcs, gcs_bucket, KEY)
    other = tmp_path / "other.bin"
    other.write_bytes(b"second version")
    obj = store.put_file(KEY, other, "video/mp4")
    assert (obj.bytes, obj.sha256) == (14, sha(b"second version"))
    after = raw_blob(fake_gcs, gcs_bucket, KEY)
    assert after.generation != before.generation
    assert after.download_as_bytes() == b"second version"
    assert after.metadata["sha256"] == sha(b"second version")


def _other_writer(fake_gcs, bucket: str, key: str, data: bytes):
    """Write ``data`` under ``key`` the first time an upload of it passes the proxy."""
    done = []

    def hook(method, path):
        if method == "POST" and path.startswith("/upload/") and not done:
            done.append(True)
            blob = fake_gcs.client().bucket(bucket).blob(f"{PREFIX}/{key}")
            blob.metadata = {"sha256": sha(data)}
            blob.upload_from_string(data, content_type="video/mp4")

    return hook, done


def test_concurrent_writer_of_other_content_is_not_overwritten(fake_gcs, gcs_bucket, payload):
    hook, done = _other_writer(fake_gcs, gcs_bucket, KEY, b"written by someone else")
    with FaultProxy(fake_gcs.url, before_forward=hook) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, retry=fast_retry())
        with pytest.raises(StoreError, match=f"gs://{gcs_bucket}/{PREFIX}/{KEY} changed while it was being written"):
            store.put_file(KEY, payload, "video/mp4")
    assert done == [True]
    assert [u.status for u in upload_requests(proxy)] == [412]  # the generation precondition held
    assert raw_blob(fake_gcs, gcs_bucket, KEY).download_as_bytes() == b"written by someone else"


def test_concurrent_writer_of_same_content_is_fine(fake_gcs, gcs_bucket, payload):
    data = payload.read_bytes()
    hook, done = _other_writer(fake_gcs, gcs_bucket, KEY, data)
    with FaultProxy(fake_gcs.url, before_forward=hook) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, retry=fast_retry())
        obj = store.put_file(KEY, payload, "video/mp4")
    assert done == [True]
    assert (obj.bytes, obj.sha256) == (len(data), sha(data))
    assert raw_blob(fake_gcs, gcs_bucket, KEY).download_as_bytes() == data


def test_parallel_puts_of_one_object(store, fake_gcs, gcs_bucket, payload):
    results, errors = [], []
    barrier = threading.Barrier(4)

    def put():
        barrier.wait()
        try:
            results.append(store.put_file(KEY, payload, "video/mp4"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1
    assert raw_blob(fake_gcs, gcs_bucket, KEY).download_as_bytes() == payload.read_bytes()


def test_transient_errors_are_retried(fake_gcs, gcs_bucket, payload):
    data = payload.read_bytes()
    faults = [
        Fault(lambda m, p: m == "GET" and "/o/" in p and "alt=media" not in p, 503, times=1),  # metadata read
        Fault(lambda m, p: m == "POST" and "uploadType=multipart" in p, 503, times=2),  # upload
        Fault(lambda m, p: m == "GET" and "alt=media" in p, 429, times=1),  # download
    ]
    with FaultProxy(fake_gcs.url, faults) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, retry=fast_retry())
        obj = store.put_file(KEY, payload, "video/mp4")
        assert store.get_bytes(KEY) == data
    assert [f.hits for f in faults] == [1, 2, 1]
    assert [u.status for u in upload_requests(proxy)] == [503, 503, 200]
    assert (obj.bytes, obj.sha256) == (len(data), sha(data))
    assert raw_blob(fake_gcs, gcs_bucket, KEY).download_as_bytes() == data


def test_transient_error_inside_a_resumable_upload_is_retried(fake_gcs, gcs_bucket, tmp_path):
    big = tmp_path / "big.mp4"
    data = os.urandom(9 * MiB)
    big.write_bytes(data)
    fault = Fault(lambda m, p: m == "PUT" and p.startswith("/upload/"), 503, times=1)
    with FaultProxy(fake_gcs.url, [fault]) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, chunk_size=4 * MiB, retry=fast_retry())
        obj = store.put_file(KEY, big, "video/mp4")
    assert fault.hits == 1
    assert 503 in [u.status for u in upload_requests(proxy)]
    assert (obj.bytes, obj.sha256) == (len(data), sha(data))
    assert sha(raw_blob(fake_gcs, gcs_bucket, KEY).download_as_bytes()) == sha(data)


def test_persistent_failure_names_bucket_and_key(fake_gcs, gcs_bucket, payload):
    fault = Fault(lambda m, p: p.startswith("/upload/"), 503, times=10**6)
    with FaultProxy(fake_gcs.url, [fault]) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, retry=fast_retry(0.5))
        with pytest.raises(StoreError, match=f"cannot upload gs://{gcs_bucket}/{PREFIX}/{KEY}: still failing after retries"):
            store.put_file(KEY, payload, "video/mp4")
    assert fault.hits >= 3  # retried, with backoff, until the deadline
    assert len(upload_requests(proxy)) == fault.hits
    assert raw_blob(fake_gcs, gcs_bucket, KEY) is None


def test_missing_bucket_is_a_clear_error(fake_gcs, payload):
    store = GcsObjectStore(fake_gcs.client(), "hb-no-such-bucket", PREFIX, retry=fast_retry())
    with pytest.raises(StoreError, match="hb-no-such-bucket"):
        store.put_file(KEY, payload, "video/mp4")


@pytest.mark.parametrize("size,method", [(5000, "POST"), (9 * MiB, "PUT")], ids=["multipart", "resumable"])
def test_corrupted_upload_is_refused_and_leaves_no_object(fake_gcs, gcs_bucket, tmp_path, size, method):
    """One byte changed on the wire. fake-gcs-server stores what it got (real
    GCS would refuse the mismatching MD5/CRC32C sent with the metadata); the
    check after the upload catches it and removes the object."""
    src = tmp_path / "c.mp4"
    src.write_bytes(os.urandom(size // 2) + b"MARK" + os.urandom(size - size // 2 - 4))

    def flip(m, path, body):
        return body.replace(b"MARK", b"MARX", 1) if m == method and path.startswith("/upload/") else body

    with FaultProxy(fake_gcs.url, rewrite_body=flip) as proxy:
        store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, chunk_size=4 * MiB, retry=fast_retry())
        with pytest.raises(StoreError, match=f"gs://{gcs_bucket}/{PREFIX}/{KEY}") as info:
            store.put_file(KEY, src, "video/mp4")
    assert "did not verify" in str(info.value)
    assert any(s.method == method and s.status in (200, 201) for s in upload_requests(proxy))  # it did land
    assert raw_blob(fake_gcs, gcs_bucket, KEY) is None  # and was removed
    assert store.stat(KEY) is None


def test_foreign_object_without_sha256_metadata_is_hashed(store, fake_gcs, gcs_bucket):
    data = os.urandom(2000)
    fake_gcs.client().bucket(gcs_bucket).blob(f"{PREFIX}/{KEY}").upload_from_string(data, content_type="video/mp4")
    st = store.stat(KEY)
    assert (st.bytes, st.sha256) == (len(data), sha(data))


# --- signed delivery ---------------------------------------------------------------


def test_signed_url_fetched_over_http_gives_exact_bytes_and_ranges(store, fake_gcs, gcs_bucket, payload, sa_key):
    data = payload.read_bytes()
    store.put_file(KEY, payload, "video/mp4")
    url = store.signed_url(KEY, 300)
    assert url.startswith(f"{fake_gcs.url}/{gcs_bucket}/{PREFIX}/{KEY}?X-Goog-Algorithm=GOOG4-RSA-SHA256&")
    ok = verify_v4_signed_url(url, sa_key.public_pem)
    assert (ok.host, ok.path) == (f"127.0.0.1:{fake_gcs.port}", f"/{gcs_bucket}/{PREFIX}/{KEY}")
    assert (ok.expires_at - ok.signed_at).total_seconds() == 300
    with urllib.request.urlopen(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "video/mp4"
        assert resp.read() == data
    for header, want, content_range in [
        ("bytes=1000-4999", data[1000:5000], f"bytes 1000-4999/{len(data)}"),
        ("bytes=0-0", data[:1], f"bytes 0-0/{len(data)}"),
        (f"bytes={len(data) - 7}-", data[-7:], f"bytes {len(data) - 7}-{len(data) - 1}/{len(data)}"),
    ]:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": header})) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == content_range
            assert resp.read() == want
    default = verify_v4_signed_url(store.signed_url(KEY), sa_key.public_pem)
    assert (default.expires_at - default.signed_at).total_seconds() == 600  # the signer's default


def test_cdn_host_signed_url_served_by_a_bucket_bound_host(fake_gcs, gcs_bucket, payload, sa_key):
    """The emulator serves ``<bucket>.<public host>`` as a bucket-bound host: the
    CDN-style URL (no bucket in the path, host signed) is fetched from it."""
    data = payload.read_bytes()
    cdn = f"{gcs_bucket}.127.0.0.1:{fake_gcs.port}"
    signer = UrlSigner.from_service_account_info(sa_key.info, cdn_host=f"http://{cdn}")
    store = GcsObjectStore(fake_gcs.client(), gcs_bucket, PREFIX, signer, retry=fast_retry())
    store.put_file(KEY, payload, "video/mp4")
    url = store.signed_url(KEY)
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", cdn, f"/{PREFIX}/{KEY}")
    assert verify_v4_signed_url(url, sa_key.public_pem).host == cdn
    with pytest.raises(SigningError, match="bad signature"):
        verify_v4_signed_url(url.replace(cdn, f"other.127.0.0.1:{fake_gcs.port}"), sa_key.public_pem)
    conn = http.client.HTTPConnection("127.0.0.1", fake_gcs.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}", headers={"Host": cdn, "Range": "bytes=10-109"})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (206, data[10:110])
        conn.request("GET", f"{parts.path}?{parts.query}", headers={"Host": cdn})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, data)
    finally:
        conn.close()


def test_signed_url_without_a_key_is_a_clear_error(fake_gcs, gcs_bucket):
    store = GcsObjectStore(fake_gcs.client(), gcs_bucket, PREFIX)
    with pytest.raises(StoreError, match=f"no signing key.*gs://{gcs_bucket}/{PREFIX}/{KEY}|gs://{gcs_bucket}/{PREFIX}/{KEY}.*no signing key"):
        store.signed_url(KEY)


# --- settings -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["gs://", "gs://UPPER", "gs://a", "gs://bucket/../x", "gs://bucket/a b", "gs://goog-x"])
def test_bad_gs_urls(url):
    with pytest.raises(StoreError, match="invalid"):
        open_store(url, endpoint="http://127.0.0.1:9")


def test_open_store_gs_url_with_endpoint(fake_gcs, gcs_bucket, payload):
    store = open_store(f"gs://{gcs_bucket}/{PREFIX}/", endpoint=fake_gcs.url, project="p")
    assert isinstance(store, GcsObjectStore)
    assert store.uri(KEY) == f"gs://{gcs_bucket}/{PREFIX}/{KEY}"
    assert store.put_file(KEY, payload, "video/mp4").sha256 == sha(payload.read_bytes())
    with pytest.raises(StoreError, match="gs:// object stores only"):
        open_store("./var/x", endpoint=fake_gcs.url)


def test_object_store_resource_from_environment(fake_gcs, gcs_bucket, payload, sa_key, monkeypatch):
    from dagster import build_resources

    from hb_clips_assets.defs.resources import default_resources

    monkeypatch.setenv("HB_STORE_URL", f"gs://{gcs_bucket}/{PREFIX}")
    monkeypatch.setenv("HB_GCS_ENDPOINT", fake_gcs.url)
    monkeypatch.setenv("HB_SIGNING_KEY_JSON", sa_key.json_text)
    monkeypatch.setenv("HB_SIGNED_URL_EXPIRY_S", "120")
    monkeypatch.setenv("HB_CDN_HOST", "cdn.clips.example.com")
    with build_resources({"object_store": default_resources()["object_store"]}) as resources:
        resource = resources.object_store
        store = resource.get_store()
        assert isinstance(store, GcsObjectStore)
        obj = store.put_file(KEY, payload, "video/mp4")
        url = store.signed_url(KEY)
        # the key given as config (not only through the environment) is redacted in the resource's repr
        given = type(resource)(signing_key_json=sa_key.json_text)
        shown = repr(resource) + str(resource) + repr(store) + repr(given) + str(given)
    assert obj.uri == f"gs://{gcs_bucket}/{PREFIX}/{KEY}"
    assert fake_gcs.client().bucket(gcs_bucket).get_blob(f"{PREFIX}/{KEY}").size == obj.bytes
    ok = verify_v4_signed_url(url, sa_key.public_pem)
    assert (ok.host, ok.path) == ("cdn.clips.example.com", f"/{PREFIX}/{KEY}")
    assert (ok.expires_at - ok.signed_at).total_seconds() == 120
    for line in sa_key.info["private_key"].splitlines()[1:-1]:
        assert line not in shown
    assert "PRIVATE KEY" not in shown and "<redacted>" in shown


def test_production_client_uses_application_default_credentials(tmp_path, sa_key, monkeypatch):
    """No endpoint: dagster-gcp's GCSResource builds the client from ADC (here a
    key file named by GOOGLE_APPLICATION_CREDENTIALS; nothing is fetched)."""
    from google.oauth2 import service_account

    from hb_clips_assets.defs.resources import ObjectStoreResource

    key_file = tmp_path / "adc.json"
    key_file.write_text(sa_key.json_text)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    store = ObjectStoreResource(url="gs://hb-media/clips-prod", gcs_project="hb-prod").get_store()
    assert isinstance(store, GcsObjectStore)
    assert isinstance(store.client._credentials, service_account.Credentials)
    assert store.client.project == "hb-prod"
    assert store.client.api_endpoint == "https://storage.googleapis.com"
    assert store.uri(KEY) == f"gs://hb-media/clips-prod/{KEY}"
    assert store.signer is None


# --- the pipeline on GCS ------------------------------------------------------------


def test_produce_clips_stores_clips_in_gcs(fake_gcs, gcs_bucket, src_25_silent, tmp_path):
    source = probe_video(src_25_silent)
    source_sha = source_fingerprint(src_25_silent)
    segments = [
        Segment("20031", "1", f"e{i}", "shot", "p8", "MTL", "CHI", "O", "5v5", tc, event, start, end, 25, 1, {"x": str(i)})
        for i, (tc, event, start, end) in enumerate([("00:00:02:00", 50, 25, 75), ("00:00:04:00", 100, 90, 110)])
    ]
    index = MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
    store = GcsObjectStore(fake_gcs.client(), gcs_bucket, PREFIX, retry=fast_retry())
    outcomes, failures = produce_clips(segments, source, source_sha, store, index, workers=2)
    assert failures == []
    assert [o.cached for o in outcomes] == [False, False]
    bucket = fake_gcs.client().bucket(gcs_bucket)
    for o in outcomes:
        assert {a.kind for a in o.record.assets} == {"mp4", "thumbnail", "hls", "hls_fmp4"}
        for a in o.record.assets:
            assert a.uri == f"gs://{gcs_bucket}/{PREFIX}/{a.object_key}"
            blob = bucket.get_blob(f"{PREFIX}/{a.object_key}")
            content = blob.download_as_bytes()
            assert (len(content), sha(content)) == (a.bytes, a.sha256)
            assert blob.content_type == a.content_type == {"mp4": "video/mp4", "thumbnail": "image/jpeg", "hls_fmp4": "video/mp4",
                                                          "hls": "application/vnd.apple.mpegurl"}[a.kind]
            assert blob.cache_control == "public, max-age=31536000, immutable"
            assert blob.metadata["sha256"] == a.sha256
        assert outcomes[0].record.assets[0].object_key.startswith("clips/20031/1/")
    index.write_partition("20031", "1", [o.record for o in outcomes])
    generations = {b.name: b.generation for b in bucket.list_blobs()}
    assert len(generations) == 8  # two clips: MP4, thumbnail, HLS fMP4 and playlist each

    with FaultProxy(fake_gcs.url) as proxy:
        again_store = GcsObjectStore(fake_gcs.client(proxy.url), gcs_bucket, PREFIX, retry=fast_retry())
        again, failures = produce_clips(segments, source, source_sha, again_store, index, workers=2)
    assert failures == []
    assert [o.cached for o in again] == [True, True]
    assert [o.record for o in again] == [o.record for o in outcomes]
    assert upload_requests(proxy) == []
    assert {b.name: b.generation for b in bucket.list_blobs()} == generations


def test_a_missing_server_skips_here_and_fails_under_hb_require_servers(monkeypatch):
    from hb_clips_tests.servers import unavailable

    monkeypatch.delenv("HB_REQUIRE_SERVERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="start it"):
        unavailable("no server: start it")
    monkeypatch.setenv("HB_REQUIRE_SERVERS", "1")
    with pytest.raises(pytest.fail.Exception, match="no server: start it.*HB_REQUIRE_SERVERS=1"):
        unavailable("no server: start it")


def test_resource_refuses_an_expiry_over_7_days():
    from hb_clips_assets.defs.resources import ObjectStoreResource

    resource = ObjectStoreResource(url="gs://hb-media/x", gcs_endpoint="http://127.0.0.1:9", signed_url_expiry_s=8 * 24 * 3600)
    with pytest.raises(SigningError, match="7 days"):
        resource.get_store()
