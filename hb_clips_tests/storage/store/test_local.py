"""The local-folder object store."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hb_clips_assets.storage.store import LocalObjectStore, StoredObject, StoreError, open_store, validate_key

KEY = "clips/20031/1/abc123.mp4"


def all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def payload(tmp_path) -> Path:
    src = tmp_path / "src.bin"
    # not a multiple of the copy block, includes NULs and high bytes
    src.write_bytes(bytes(range(256)) * 4099 + b"\x00tail")
    return src


@pytest.fixture
def store(tmp_path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def test_put_file_bytes_and_sha256(store, payload, tmp_path):
    data = payload.read_bytes()
    obj = store.put_file(KEY, payload, "video/mp4")
    assert isinstance(obj, StoredObject)
    assert obj.key == KEY
    assert obj.bytes == len(data)
    assert obj.sha256 == hashlib.sha256(data).hexdigest()
    assert obj.content_type == "video/mp4"
    final = tmp_path / "objects" / "clips" / "20031" / "1" / "abc123.mp4"
    assert final.read_bytes() == data
    assert obj.uri == final.resolve().as_uri()
    assert obj.uri.startswith("file:///")
    assert store.uri(KEY) == obj.uri
    assert store.get_bytes(KEY) == data
    # the source is left alone
    assert payload.read_bytes() == data


def test_stat(store, payload):
    assert store.stat(KEY) is None
    store.put_file(KEY, payload, "video/mp4")
    st = store.stat(KEY)
    data = payload.read_bytes()
    assert st is not None
    assert (st.key, st.bytes, st.sha256) == (KEY, len(data), hashlib.sha256(data).hexdigest())
    assert st.uri == store.uri(KEY)


def test_empty_file(store, tmp_path):
    src = tmp_path / "empty"
    src.write_bytes(b"")
    obj = store.put_file("thumbnails/x.jpg", src, "image/jpeg")
    assert obj.bytes == 0
    assert obj.sha256 == hashlib.sha256(b"").hexdigest()


def test_overwrite_replaces_and_leaves_no_temporaries(store, payload, tmp_path):
    store.put_file(KEY, payload, "video/mp4")
    other = tmp_path / "other.bin"
    other.write_bytes(b"second version")
    obj = store.put_file(KEY, other, "video/mp4")
    assert store.get_bytes(KEY) == b"second version"
    assert obj.bytes == len(b"second version")
    assert obj.sha256 == hashlib.sha256(b"second version").hexdigest()
    root = tmp_path / "objects"
    files = all_files(root)
    assert files == [root / KEY]
    assert not [p for p in root.rglob(".*")]
    assert oct((root / KEY).stat().st_mode & 0o777) == oct(0o644)


def test_failed_put_keeps_old_object_and_no_temporaries(store, payload, tmp_path):
    store.put_file(KEY, payload, "video/mp4")
    before = payload.read_bytes()
    with pytest.raises(StoreError):
        store.put_file(KEY, tmp_path / "missing.bin", "video/mp4")
    assert store.get_bytes(KEY) == before
    root = tmp_path / "objects"
    assert all_files(root) == [root / KEY]


def test_delete(store, payload):
    store.put_file(KEY, payload, "video/mp4")
    store.delete(KEY)
    assert store.stat(KEY) is None
    store.delete(KEY)  # idempotent
    with pytest.raises(FileNotFoundError):
        store.get_bytes(KEY)


@pytest.mark.parametrize(
    "key",
    [
        "../evil.mp4",
        "clips/../../evil.mp4",
        "clips/./x.mp4",
        "/etc/evil",
        "/abs/key",
        ".hidden",
        "clips/.hidden",
        "clips/20031/..",
        "",
        "clips//x.mp4",
        "clips/x.mp4/",
        "clips\\..\\evil",
        "clips/a b.mp4",
        "clips/x\x00.mp4",
        "clips/é.mp4",
    ],
)
def test_bad_keys_rejected_and_nothing_written(tmp_path, payload, key):
    root = tmp_path / "sandbox" / "objects"
    root.mkdir(parents=True)
    store = LocalObjectStore(root)
    before = set(all_files(tmp_path))
    with pytest.raises(StoreError, match="invalid object key"):
        validate_key(key)
    with pytest.raises(StoreError, match="invalid object key"):
        store.put_file(key, payload, "video/mp4")
    for op in (store.stat, store.get_bytes, store.delete, store.uri):
        with pytest.raises(StoreError):
            op(key)
    assert set(all_files(tmp_path)) == before
    assert not any(root.iterdir())


def test_key_with_trailing_newline_rejected(store, payload):
    with pytest.raises(StoreError):
        store.put_file("clips/x.mp4\n", payload, "video/mp4")


@pytest.mark.parametrize("key", ["a", "clips/20031/OT/0f3a.mp4", "thumbnails/G_1-x/2/id.jpg", "x/y.z/w..v"])
def test_good_keys(key):
    assert validate_key(key) == key


def test_open_store_local(tmp_path, payload):
    for url in (str(tmp_path / "a"), (tmp_path / "b").as_uri()):
        store = open_store(url)
        assert isinstance(store, LocalObjectStore)
        obj = store.put_file("k/v.bin", payload, "application/octet-stream")
        assert Path(url.removeprefix("file://"), "k", "v.bin").read_bytes() == payload.read_bytes()
        assert obj.uri == Path(url.removeprefix("file://"), "k", "v.bin").resolve().as_uri()


@pytest.mark.parametrize("url", ["s3://bucket", "gcs://bucket/prefix", "https://storage.googleapis.com/bucket"])
def test_open_store_unsupported_scheme(url):
    with pytest.raises(StoreError, match="unsupported object store URL") as info:
        open_store(url)
    assert url in str(info.value)


def test_unwritable_root(tmp_path, payload):
    root = tmp_path / "ro"
    root.mkdir()
    os.chmod(root, 0o500)
    try:
        if os.access(root, os.W_OK):
            pytest.skip("running with privileges that ignore directory permissions")
        store = LocalObjectStore(root)
        for key in ("top", "clips/20031/1/x.mp4"):
            with pytest.raises(StoreError, match="cannot write") as info:
                store.put_file(key, payload, "video/mp4")
            assert str(root) in str(info.value)
        assert list(root.iterdir()) == []
    finally:
        os.chmod(root, 0o700)


def test_unwritable_subfolder(tmp_path, payload):
    root = tmp_path / "objects"
    (root / "clips").mkdir(parents=True)
    os.chmod(root / "clips", 0o500)
    try:
        if os.access(root / "clips", os.W_OK):
            pytest.skip("running with privileges that ignore directory permissions")
        store = LocalObjectStore(root)
        with pytest.raises(StoreError, match="cannot write"):
            store.put_file("clips/x.mp4", payload, "video/mp4")
        assert list((root / "clips").iterdir()) == []
    finally:
        os.chmod(root / "clips", 0o700)


def test_root_that_is_a_file(tmp_path, payload):
    """Unwritable even for root: the store root is a regular file."""
    root = tmp_path / "not-a-folder"
    root.write_bytes(b"x")
    store = LocalObjectStore(root)
    for key in ("top", "clips/20031/1/x.mp4"):
        with pytest.raises(StoreError, match="cannot write") as info:
            store.put_file(key, payload, "video/mp4")
        assert str(root) in str(info.value)
    assert root.read_bytes() == b"x"


def test_sweep_removes_temporaries_of_dead_writers_only(tmp_path):
    import subprocess
    import sys

    store = LocalObjectStore(tmp_path)
    folder = tmp_path / "clips" / "g" / "1"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = folder / f".abc.mp4.{dead.stdout.strip()}.x1y2.tmp"
    mine = folder / f".def.mp4.{os.getpid()}.z3w4.tmp"
    old = folder / ".ghi.mp4.zz.tmp"  # no pid: only its age counts
    final = folder / "abc.mp4"
    for p in (orphan, mine, old, final):
        p.write_bytes(b"x")
    os.utime(old, (1, 1))
    assert store.sweep_temporaries("clips/g/1") == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([mine.name, final.name])
    assert store.sweep_temporaries("clips/nowhere") == 0
